//! What the operators' console reads across merchants: the endpoint
//! overview (filtered, sorted and cut to a page here, so a thousand
//! merchants' endpoints never travel to the service) and each merchant's
//! counts. Recent delivery figures come from the hourly rollup
//! (`delivery_counts_hourly`, migration 0009), read a merchant at a time
//! along its primary key (merchant, hour, …), never from the deliveries.

use super::conditions::{bind_values, Conditions};
use super::endpoints::{EndpointRow, COLUMNS as ENDPOINT_COLUMNS};
use super::{from_millis, on_pool, Store, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use herald_app::model::delivery::DeliveryStatus;
use herald_app::model::endpoint::Endpoint;
use herald_app::model::id::MerchantId;
use herald_app::model::operations::EndpointOrder;
use std::collections::HashMap;

/// Which endpoints an operator is looking at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointState {
    Enabled,
    Disabled,
    /// Enabled, and every delivery since `failing_since` failed.
    Failing,
}

/// The overview's filters, order and page, checked by the service.
#[derive(Debug, Clone)]
pub struct OverviewFilter {
    pub merchant_id: Option<MerchantId>,
    /// Lowercase text the merchant's lowercased name contains.
    pub merchant_name: Option<String>,
    /// Lowercase text the lowercased URL contains.
    pub url: Option<String>,
    pub state: Option<EndpointState>,
    pub order: EndpointOrder,
    /// Rollup hours (`created_at / 3 600 000`) from this one on are counted.
    pub from_hour: i64,
    pub offset: u64,
    pub limit: u32,
}

/// One endpoint of the overview, with its figures.
#[derive(Debug, Clone)]
pub struct OverviewRow {
    pub endpoint: Endpoint,
    pub merchant_name: String,
    /// Deliveries made since `from_hour` that failed.
    pub failed: u64,
    /// Deliveries made since `from_hour` that succeeded or failed.
    pub finished: u64,
    /// The newest delivery: when it was made, and how it stands.
    pub last_delivery: Option<(DateTime<Utc>, DeliveryStatus)>,
}

/// What is counted about one merchant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MerchantCounts {
    pub endpoints_enabled: u64,
    pub endpoints_disabled: u64,
    pub members: u64,
    /// Deliveries to its endpoints made since `from_hour`.
    pub deliveries: u64,
    pub failed: u64,
}

#[derive(sqlx::FromRow)]
struct DetailRow {
    #[sqlx(flatten)]
    endpoint: EndpointRow,
    last_at: Option<i64>,
    last_status: Option<String>,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Store {
    /// A page of the endpoints matching `filter` in its order, and how many
    /// match in all.
    pub async fn endpoint_overview(
        &self,
        filter: &OverviewFilter,
    ) -> StoreResult<(Vec<OverviewRow>, u64)> {
        let contains = self.contains_function();
        let mut page = Conditions::new();
        let from_hour = page.value(filter.from_hour);
        matching(filter, contains, &mut page);
        // The newest delivery's time, only when the order needs it for
        // every match: one read of `deliveries_endpoint_created_idx` each.
        let last_at = if filter.order == EndpointOrder::LastDelivery {
            ", (SELECT MAX(d.created_at) FROM deliveries d WHERE d.endpoint_id = e.id) AS last_at"
        } else {
            ""
        };
        let limit = page.value(i64::from(filter.limit));
        let offset = page.value(i64::try_from(filter.offset).unwrap_or(i64::MAX));
        // The rollup is read from the merchants' side (CROSS JOIN keeps
        // SQLite's join order), each merchant's window a range of the
        // primary key; GROUP BY adds its live and test, hour by hour rows.
        let sql = format!(
            "WITH recent AS (\
               SELECT c.endpoint_id, \
                 CAST(SUM(CASE WHEN c.status = 'failed' THEN c.n ELSE 0 END) AS BIGINT) AS failed, \
                 CAST(SUM(CASE WHEN c.status IN ('succeeded', 'failed') THEN c.n ELSE 0 END) AS BIGINT) AS finished \
               FROM merchants rm CROSS JOIN delivery_counts_hourly c \
               WHERE c.merchant_id = rm.id AND c.hour >= {from_hour} \
               GROUP BY c.endpoint_id), \
             matching AS (\
               SELECT e.id, e.url, e.created_at, m.name AS merchant_name, \
                 COALESCE(r.failed, 0) AS failed, COALESCE(r.finished, 0) AS finished{last_at} \
               FROM endpoints e JOIN merchants m ON m.id = e.merchant_id \
               LEFT JOIN recent r ON r.endpoint_id = e.id{where_}) \
             SELECT id, merchant_name, failed, finished FROM matching \
             ORDER BY {order} LIMIT {limit} OFFSET {offset}",
            where_ = page.sql(),
            order = order_by(filter.order),
        );
        let rows: Vec<(String, String, i64, i64)> = on_pool!(self, pool => bind_values!(
                sqlx::query_as(&sql),
                page.values()
            )
            .fetch_all(pool)
            .await)?;

        let mut total = Conditions::new();
        matching(filter, contains, &mut total);
        let count_sql = format!(
            "SELECT COUNT(*) FROM endpoints e JOIN merchants m ON m.id = e.merchant_id{}",
            total.sql()
        );
        let (matched,): (i64,) = on_pool!(self, pool => bind_values!(
                sqlx::query_as(&count_sql),
                total.values()
            )
            .fetch_one(pool)
            .await)?;

        let ids: Vec<&str> = rows.iter().map(|(id, ..)| id.as_str()).collect();
        let mut details = self.endpoints_with_last_delivery(&ids).await?;
        let overview = rows
            .into_iter()
            .filter_map(|(id, merchant_name, failed, finished)| {
                // Deleted between the two reads: left out of the page.
                let (endpoint, last_delivery) = details.remove(&id)?;
                Some(OverviewRow {
                    endpoint,
                    merchant_name,
                    failed: count(failed),
                    finished: count(finished),
                    last_delivery,
                })
            })
            .collect();
        Ok((overview, count(matched)))
    }

    /// The endpoints `ids` by id, each with its newest delivery (one index
    /// read of `deliveries_endpoint_created_idx` per endpoint).
    async fn endpoints_with_last_delivery(
        &self,
        ids: &[&str],
    ) -> StoreResult<HashMap<String, (Endpoint, Option<(DateTime<Utc>, DeliveryStatus)>)>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut wanted = Conditions::new();
        let placeholders: Vec<String> = ids.iter().map(|id| wanted.value(*id)).collect();
        let columns: Vec<String> = ENDPOINT_COLUMNS
            .split(',')
            .map(|c| format!("e.{}", c.trim()))
            .collect();
        let sql = format!(
            "SELECT {}, d.created_at AS last_at, d.status AS last_status FROM endpoints e \
             LEFT JOIN deliveries d ON d.id = (SELECT d2.id FROM deliveries d2 \
                 WHERE d2.endpoint_id = e.id ORDER BY d2.created_at DESC, d2.id DESC LIMIT 1) \
             WHERE e.id IN ({})",
            columns.join(", "),
            placeholders.join(", ")
        );
        let rows: Vec<DetailRow> = on_pool!(self, pool => bind_values!(
                sqlx::query_as(&sql),
                wanted.values()
            )
            .fetch_all(pool)
            .await)?;
        let mut found = HashMap::new();
        for row in rows {
            let last = match (row.last_at, row.last_status) {
                (Some(at), Some(status)) => Some((
                    from_millis(at)?,
                    DeliveryStatus::parse(&status).ok_or_else(|| {
                        StoreError::Corrupt(format!("delivery status `{status}`"))
                    })?,
                )),
                _ => None,
            };
            let endpoint = Endpoint::try_from(row.endpoint)?;
            found.insert(endpoint.id.to_string(), (endpoint, last));
        }
        Ok(found)
    }

    /// Each merchant's counts (merchants with nothing counted are absent):
    /// endpoints, members, and deliveries made from `from_hour` on.
    pub async fn merchant_counts(
        &self,
        from_hour: i64,
    ) -> StoreResult<HashMap<MerchantId, MerchantCounts>> {
        let (endpoints, members, deliveries) = on_pool!(self, pool => {
            let endpoints: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT merchant_id, \
                   CAST(SUM(CASE WHEN disabled_at IS NULL THEN 1 ELSE 0 END) AS BIGINT), \
                   CAST(SUM(CASE WHEN disabled_at IS NULL THEN 0 ELSE 1 END) AS BIGINT) \
                 FROM endpoints GROUP BY merchant_id",
            )
            .fetch_all(pool)
            .await?;
            let members: Vec<(String, i64)> =
                sqlx::query_as("SELECT merchant_id, COUNT(*) FROM members GROUP BY merchant_id")
                    .fetch_all(pool)
                    .await?;
            // A merchant's window is a range of the rollup's primary key.
            let deliveries: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT c.merchant_id, CAST(SUM(c.n) AS BIGINT), \
                   CAST(SUM(CASE WHEN c.status = 'failed' THEN c.n ELSE 0 END) AS BIGINT) \
                 FROM merchants m CROSS JOIN delivery_counts_hourly c \
                 WHERE c.merchant_id = m.id AND c.hour >= $1 GROUP BY c.merchant_id",
            )
            .bind(from_hour)
            .fetch_all(pool)
            .await?;
            Ok::<_, sqlx::Error>((endpoints, members, deliveries))
        })?;
        let mut counts: HashMap<MerchantId, MerchantCounts> = HashMap::new();
        for (id, enabled, disabled) in endpoints {
            let c = counts_of(&mut counts, &id)?;
            c.endpoints_enabled = count(enabled);
            c.endpoints_disabled = count(disabled);
        }
        for (id, n) in members {
            counts_of(&mut counts, &id)?.members = count(n);
        }
        for (id, all, failed) in deliveries {
            let c = counts_of(&mut counts, &id)?;
            c.deliveries = count(all);
            c.failed = count(failed);
        }
        Ok(counts)
    }

    /// `instr` / `strpos`: where text occurs in other text, 0 if nowhere
    /// (a plain search, so `%` and `_` in what an operator types are text).
    fn contains_function(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "instr",
            Store::Postgres(_) => "strpos",
        }
    }
}

/// The counts of the merchant stored as `id`.
fn counts_of<'a>(
    counts: &'a mut HashMap<MerchantId, MerchantCounts>,
    id: &str,
) -> StoreResult<&'a mut MerchantCounts> {
    let id = MerchantId::parse(id)
        .map_err(|e| StoreError::Corrupt(format!("merchant id `{id}`: {e}")))?;
    Ok(counts.entry(id).or_default())
}

/// The overview's conditions on `endpoints e` joined with `merchants m`.
fn matching(filter: &OverviewFilter, contains: &str, conditions: &mut Conditions) {
    conditions.when(filter.merchant_id.as_ref().map(MerchantId::as_str), |p| {
        format!("e.merchant_id = {p}")
    });
    conditions.when(filter.merchant_name.as_deref(), |p| {
        format!("{contains}(LOWER(m.name), {p}) > 0")
    });
    conditions.when(filter.url.as_deref(), |p| {
        format!("{contains}(LOWER(e.url), {p}) > 0")
    });
    match filter.state {
        None => {}
        Some(EndpointState::Enabled) => conditions.push("e.disabled_at IS NULL"),
        Some(EndpointState::Disabled) => conditions.push("e.disabled_at IS NOT NULL"),
        Some(EndpointState::Failing) => {
            conditions.push("e.disabled_at IS NULL AND e.failing_since IS NOT NULL")
        }
    }
}

/// The order over the `matching` columns; ties end on the id, so pages
/// never overlap.
fn order_by(order: EndpointOrder) -> &'static str {
    match order {
        EndpointOrder::FailureRate => {
            "CASE WHEN finished = 0 THEN 1 ELSE 0 END, \
             failed * 1.0 / (CASE WHEN finished = 0 THEN 1 ELSE finished END) DESC, \
             failed DESC, LOWER(merchant_name), url, id"
        }
        EndpointOrder::LastDelivery => {
            "CASE WHEN last_at IS NULL THEN 1 ELSE 0 END, last_at DESC, id DESC"
        }
        EndpointOrder::Merchant => "LOWER(merchant_name), merchant_name, url, id",
        EndpointOrder::Url => "LOWER(url), url, LOWER(merchant_name), id",
        EndpointOrder::Newest => "created_at DESC, id DESC",
    }
}
