//! The operators' console across merchants: every endpoint with how it is
//! doing, and every merchant with its counts. The REST API and the
//! dashboard both call these, so both show the same figures. Callers
//! check that the caller is an operator (`Admin` at the REST edge,
//! `as_admin` in the server functions).

use super::pagination::Page;
use super::{Endpoints, ServiceError};
use crate::store::{EndpointState, OverviewFilter, OverviewRow, Store};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use herald_app::model::id::MerchantId;
use herald_app::model::operations::{
    EndpointOrder, EndpointOverview, EndpointOverviewPage, EndpointOverviewQuery, LatestDelivery,
    MerchantSummary, OVERVIEW_PAGE_SIZE,
};

const HOUR_MS: i64 = 3_600_000;
/// The recent window the console counts over: this hour and the 23 before
/// (the rollup's hours, as `GET /api/v1/stats` counts a 24 h window).
pub const RECENT_HOURS: i64 = 24;
/// The longest text filter: a URL's length.
const MAX_FILTER_CHARS: usize = 2048;
/// The furthest page: past it an operator should filter instead.
const MAX_OFFSET: u64 = 1_000_000;

/// The operators' cross-merchant views.
#[derive(Clone, Debug)]
pub struct Operations {
    store: Store,
    /// Fills in what the store does not keep (when a failing endpoint will
    /// be disabled, the server's timeout), as every endpoint is shown.
    endpoints: Endpoints,
}

impl Operations {
    /// The views over `store`, showing endpoints as `endpoints` does.
    pub fn new(store: Store, endpoints: Endpoints) -> Self {
        Operations { store, endpoints }
    }

    /// The endpoints matching `query` in its order (failure rate first when
    /// it names none), `limit` of them after the first `offset`, each
    /// with its merchant's name, its last 24 h and its newest delivery;
    /// custom header values masked (they are the receivers' credentials).
    pub async fn endpoint_overview(
        &self,
        query: &EndpointOverviewQuery,
        offset: u64,
        limit: u32,
    ) -> Result<EndpointOverviewPage, ServiceError> {
        let filter = overview_filter(query, offset, limit, Utc::now())?;
        let (rows, total) = self.store.endpoint_overview(&filter).await?;
        Ok(EndpointOverviewPage {
            rows: rows.into_iter().map(|row| self.overview_of(row)).collect(),
            total,
            offset,
        })
    }

    /// `endpoint_overview` as a REST page: `cursor` is where the previous
    /// page ended (opaque to clients).
    pub async fn endpoint_overview_page(
        &self,
        query: &EndpointOverviewQuery,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(Page<EndpointOverview>, u64), ServiceError> {
        let offset = decode_offset(cursor)?;
        let page = self.endpoint_overview(query, offset, limit).await?;
        let shown = offset + page.rows.len() as u64;
        let next_cursor =
            (shown < page.total && !page.rows.is_empty()).then(|| encode_offset(shown));
        Ok((
            Page {
                data: page.rows,
                next_cursor,
            },
            page.total,
        ))
    }

    /// Every merchant, newest first, with its endpoints (enabled and
    /// disabled), members, and deliveries made in the last 24 h (and how
    /// many of them failed).
    pub async fn merchants(&self) -> Result<Vec<MerchantSummary>, ServiceError> {
        let merchants = self.store.list_merchants().await?;
        let mut counts = self
            .store
            .merchant_counts(first_recent_hour(Utc::now()))
            .await?;
        Ok(merchants
            .into_iter()
            .map(|merchant| {
                let c = counts.remove(&merchant.id).unwrap_or_default();
                MerchantSummary {
                    merchant,
                    endpoints_enabled: c.endpoints_enabled,
                    endpoints_disabled: c.endpoints_disabled,
                    members: c.members,
                    deliveries_24h: c.deliveries,
                    failed_24h: c.failed,
                }
            })
            .collect())
    }
}

/// Where the dashboard's page `page` (from 1; absent is the first) starts.
pub fn page_offset(page: Option<&str>) -> Result<u64, ServiceError> {
    let invalid = || ServiceError::invalid("page", "a page number from 1");
    let page: u64 = match page.map(str::trim).filter(|p| !p.is_empty()) {
        None => 1,
        Some(text) => text.parse().map_err(|_| invalid())?,
    };
    if page == 0 {
        return Err(invalid());
    }
    Ok((page - 1).saturating_mul(u64::from(OVERVIEW_PAGE_SIZE)))
}

/// The first rollup hour of the recent window at `now`.
fn first_recent_hour(now: DateTime<Utc>) -> i64 {
    now.timestamp_millis().div_euclid(HOUR_MS) - RECENT_HOURS + 1
}

/// Pure: checks the query and turns it into the store's filter.
fn overview_filter(
    query: &EndpointOverviewQuery,
    offset: u64,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<OverviewFilter, ServiceError> {
    let text = |field: &str, value: &Option<String>| -> Result<Option<String>, ServiceError> {
        match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) if v.chars().count() > MAX_FILTER_CHARS => Err(ServiceError::invalid(
                field,
                format!("at most {MAX_FILTER_CHARS} characters"),
            )),
            Some(v) => Ok(Some(v.to_lowercase())),
        }
    };
    let given = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let state = match given(&query.status).as_deref() {
        None => None,
        Some("enabled") => Some(EndpointState::Enabled),
        Some("disabled") => Some(EndpointState::Disabled),
        Some("failing") => Some(EndpointState::Failing),
        Some(other) => {
            return Err(ServiceError::invalid(
                "status",
                format!("must be `enabled`, `disabled` or `failing`, not `{other}`"),
            ))
        }
    };
    let order = match given(&query.sort) {
        None => EndpointOrder::default(),
        Some(name) => EndpointOrder::parse(&name).ok_or_else(|| {
            let names: Vec<&str> = EndpointOrder::ALL.iter().map(|o| o.as_str()).collect();
            ServiceError::invalid(
                "sort",
                format!("must be one of {}, not `{name}`", names.join(", ")),
            )
        })?,
    };
    if offset > MAX_OFFSET {
        return Err(ServiceError::invalid(
            "page",
            "too far into the list: filter it instead",
        ));
    }
    Ok(OverviewFilter {
        merchant_id: given(&query.merchant_id)
            .map(|id| MerchantId::parse(&id))
            .transpose()
            .map_err(|e| ServiceError::invalid("merchant_id", e.to_string()))?,
        merchant_name: text("merchant", &query.merchant)?,
        url: text("url", &query.url)?,
        state,
        order,
        from_hour: first_recent_hour(now),
        offset,
        limit,
    })
}

impl Operations {
    fn overview_of(&self, row: OverviewRow) -> EndpointOverview {
        EndpointOverview {
            endpoint: self.endpoints.shown(row.endpoint.with_masked_headers()),
            merchant_name: row.merchant_name,
            failed_24h: row.failed,
            finished_24h: row.finished,
            failure_rate: (row.finished > 0).then(|| row.failed as f64 / row.finished as f64),
            last_delivery: row
                .last_delivery
                .map(|(created_at, status)| LatestDelivery { created_at, status }),
        }
    }
}

/// The REST cursor of the overview: how many matches came before.
fn encode_offset(offset: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_offset(cursor: Option<&str>) -> Result<u64, ServiceError> {
    let Some(cursor) = cursor else {
        return Ok(0);
    };
    let bad = || ServiceError::invalid("cursor", "not a cursor from this API");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    text.strip_prefix("offset:")
        .and_then(|n| n.parse().ok())
        .filter(|n| *n <= MAX_OFFSET)
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> EndpointOverviewQuery {
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        };
        EndpointOverviewQuery {
            merchant: get("merchant"),
            merchant_id: get("merchant_id"),
            url: get("url"),
            status: get("status"),
            sort: get("sort"),
            page: get("page"),
        }
    }

    #[test]
    fn text_filters_are_trimmed_lowercased_and_blank_is_none() {
        let now = Utc::now();
        let filter = overview_filter(
            &query(&[
                ("merchant", "  ACME Shop "),
                ("url", ""),
                ("status", "failing"),
            ]),
            0,
            50,
            now,
        )
        .unwrap();
        assert_eq!(filter.merchant_name.as_deref(), Some("acme shop"));
        assert_eq!(filter.url, None);
        assert_eq!(filter.state, Some(EndpointState::Failing));
        assert_eq!(filter.order, EndpointOrder::FailureRate);
        assert_eq!(
            filter.from_hour,
            now.timestamp_millis().div_euclid(HOUR_MS) - 23
        );
    }

    #[test]
    fn bad_input_names_its_field() {
        for (pairs, field) in [
            (vec![("status", "broken")], "status"),
            (vec![("sort", "random")], "sort"),
            (vec![("merchant_id", "nobody")], "merchant_id"),
        ] {
            match overview_filter(&query(&pairs), 0, 50, Utc::now()) {
                Err(ServiceError::Validation { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{pairs:?}: {other:?}"),
            }
        }
        assert!(page_offset(Some("0")).is_err());
        assert!(page_offset(Some("two")).is_err());
        assert_eq!(page_offset(None).unwrap(), 0);
        assert_eq!(page_offset(Some("3")).unwrap(), 100);
    }

    #[test]
    fn cursors_carry_the_offset_and_refuse_anything_else() {
        assert_eq!(decode_offset(Some(&encode_offset(150))).unwrap(), 150);
        assert_eq!(decode_offset(None).unwrap(), 0);
        assert!(decode_offset(Some("not-a-cursor")).is_err());
        assert!(decode_offset(Some(&URL_SAFE_NO_PAD.encode("offset:x"))).is_err());
    }
}
