//! Recover: sending an endpoint the merchant's events it never got a
//! delivery for (ingested while it was disabled, or before it existed).
//! Replay (in `deliveries`) sends again what an endpoint already had;
//! recover sends what it never had.

use super::deliveries::{Deliveries, MAX_RETRY_BATCH};
use super::endpoints::EndpointPatch;
use super::ServiceError;
use crate::store::{MissedEvent, MissedQuery};
use chrono::{DateTime, Utc};
use herald_app::model::endpoint::{Endpoint, Missed};
use herald_app::model::event_filter::filter_matches;
use herald_app::model::id::{EndpointId, MerchantId};
use herald_app::model::member::Permission;

/// Events read per round trip while looking for what an endpoint missed.
const MISSED_PAGE: u32 = 1000;

/// What a recover does: count only, or queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoverMode {
    /// Count what would be sent; change nothing.
    DryRun,
    /// Queue the deliveries.
    Send,
}

impl RecoverMode {
    /// `DryRun` when asked for one (the API's and the form's `dry_run`).
    pub fn dry_run(dry_run: bool) -> Self {
        if dry_run {
            RecoverMode::DryRun
        } else {
            RecoverMode::Send
        }
    }
}

impl Deliveries {
    /// Gives one of the merchant's endpoints a delivery of each of the
    /// merchant's events created in `[since, until)` (until: now) that
    /// match its filter and mode and that it has none of, oldest first, at
    /// most `MAX_RETRY_BATCH` per call (a larger backlog takes more calls;
    /// each finds only what is still missing). Returns how many were queued,
    /// or with `DryRun` how many would be. Running it again sends nothing
    /// twice.
    pub async fn recover(
        &self,
        merchant: &MerchantId,
        endpoint: &EndpointId,
        since: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        mode: RecoverMode,
    ) -> Result<u64, ServiceError> {
        let endpoint = self.endpoints.get(merchant, endpoint).await?;
        let now = Utc::now();
        let until = until.unwrap_or(now);
        if until <= since {
            return Err(ServiceError::invalid("until", "must be later than `since`"));
        }
        if mode == RecoverMode::DryRun {
            return Ok(self.missed(&endpoint, since, until).await?.len() as u64);
        }
        // Counting is a read; sending is a change.
        super::access::require(Permission::Change)?;
        if !endpoint.enabled {
            return Err(ServiceError::Conflict(
                "The endpoint is disabled; enable it before recovering what it missed.".into(),
            ));
        }
        self.replays.check(merchant)?;
        let missed = self.missed(&endpoint, since, until).await?;
        let queued = self
            .store
            .insert_recovered_deliveries(merchant, &endpoint.id, &missed, now)
            .await?;
        if queued > 0 {
            self.wakeup.wake();
        }
        Ok(queued)
    }

    /// Enables one of the merchant's endpoints and says what it missed
    /// while it was disabled (for the dashboard's offer to send it), if
    /// anything.
    pub async fn enable_endpoint(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
    ) -> Result<(Endpoint, Option<Missed>), ServiceError> {
        super::access::require(Permission::Change)?;
        let before = self.endpoints.get(merchant, id).await?;
        let endpoint = self
            .endpoints
            .update(
                merchant,
                id,
                EndpointPatch {
                    enabled: Some(true),
                    ..EndpointPatch::default()
                },
            )
            .await?;
        let Some(since) = before.disabled_at.filter(|_| !before.enabled) else {
            return Ok((endpoint, None));
        };
        let count = self.missed(&endpoint, since, Utc::now()).await?.len() as u64;
        Ok((endpoint, (count > 0).then_some(Missed { count, since })))
    }

    /// What `endpoint` missed in `[since, until)`, oldest first, at most
    /// `MAX_RETRY_BATCH`. The type filter (with its wildcards) is applied
    /// here, as at ingest, page by page.
    async fn missed(
        &self,
        endpoint: &Endpoint,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<MissedEvent>, ServiceError> {
        let mut query = MissedQuery {
            merchant: endpoint.merchant_id.clone(),
            endpoint: endpoint.id.clone(),
            live_mode: endpoint.mode.takes(true),
            since,
            until,
            after: None,
            limit: MISSED_PAGE,
        };
        let mut missed = Vec::new();
        loop {
            let page = self.store.missed_events(&query).await?;
            let last_page = page.len() < MISSED_PAGE as usize;
            query.after = page.last().map(|e| (e.created_at, e.id.clone()));
            missed.extend(
                page.into_iter()
                    .filter(|e| filter_matches(&endpoint.event_types, &e.event_type)),
            );
            if missed.len() >= MAX_RETRY_BATCH as usize {
                missed.truncate(MAX_RETRY_BATCH as usize);
                return Ok(missed);
            }
            if last_page {
                return Ok(missed);
            }
        }
    }
}
