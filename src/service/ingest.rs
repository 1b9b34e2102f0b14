//! Ingest: validate an event from the platform, store it with its
//! deliveries, hand them to the engine. Requests are written in group
//! commits: a writer task takes whatever arrived while the previous batch
//! committed and writes it in one transaction, so each accepted event is
//! durable before its 202 without paying one fsync each. The deliveries the
//! engine has room for are written leased to it and start at the commit
//! (`Handoff`); the rest wake the dispatcher to claim them.

use super::destination::UrlRules;
use super::ServiceError;
use crate::crypto::secret_box::{merchant_row, SecretBox};
use crate::crypto::signing::SigningSecret;
use crate::engine::{Handoff, Wakeup};
/// What ingesting an event did: created, or a duplicate of an earlier one.
pub use crate::store::Ingested;
use crate::store::{IngestRefusal, LeaseOffer, NewEvent, Store};
use chrono::Utc;
use herald_app::model::alert::is_herald_type;
use herald_app::model::event::{is_valid_tag, MAX_TAGS, MAX_TAG_LEN};
use herald_app::model::event_filter::filter_matches;
use herald_app::model::id::{EventId, MerchantId};
use tokio::sync::{mpsc, oneshot};

/// Largest `data` accepted, serialized.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
const MAX_KEY_LEN: usize = 255;
const MAX_BATCH: usize = 256;

/// An event as the platform sends it.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    pub merchant_id: String,
    pub event_type: String,
    pub data: serde_json::Value,
    pub idempotency_key: Option<String>,
    pub callback_url: Option<String>,
    pub ordering_key: Option<String>,
    pub live_mode: bool,
    /// Deliver only to this endpoint (test events from the dashboard or API).
    pub only_endpoint: Option<herald_app::model::id::EndpointId>,
    /// Set by Herald alone (`service::alerts`): an operational event about
    /// this endpoint, never delivered to it.
    pub about_endpoint: Option<herald_app::model::id::EndpointId>,
    /// References to search by; checked here.
    pub tags: Vec<String>,
    /// The object before the change; a JSON object when given.
    pub previous_data: Option<serde_json::Value>,
}

type Reply = oneshot::Sender<Result<Ingested, ServiceError>>;

/// The ingest service; cheap to clone.
#[derive(Clone)]
pub struct Ingestor {
    store: Store,
    rules: UrlRules,
    queue: mpsc::Sender<(NewEvent, Reply)>,
    /// Seals the merchant's callback secret before it is stored.
    secrets: SecretBox,
}

impl Ingestor {
    /// Starts the group-commit writer.
    pub fn start(
        store: Store,
        rules: UrlRules,
        wake: Wakeup,
        handoff: Handoff,
        secrets: SecretBox,
    ) -> Ingestor {
        let (queue, pending) = mpsc::channel(4096);
        tokio::spawn(write_batches(store.clone(), pending, wake, handoff));
        Ingestor {
            store,
            rules,
            queue,
            secrets,
        }
    }

    /// Validates and stores one event; `Created` or `Duplicate` (same idempotency key).
    pub async fn ingest(&self, request: IngestRequest) -> Result<Ingested, ServiceError> {
        let event = self.validate(request).await?;
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((event, reply))
            .await
            .map_err(|_| ServiceError::Internal("ingest writer stopped".into()))?;
        answer
            .await
            .map_err(|_| ServiceError::Internal("ingest writer dropped a request".into()))?
    }

    async fn validate(&self, request: IngestRequest) -> Result<NewEvent, ServiceError> {
        let merchant_id = MerchantId::parse(request.merchant_id.trim())
            .map_err(|_| ServiceError::NotFound("merchant"))?;
        if is_herald_type(&request.event_type)
            && request.about_endpoint.is_none()
            && request.only_endpoint.is_none()
        {
            return Err(ServiceError::invalid(
                "type",
                format!(
                    "`{}` is one of Herald's own operational events, sent by Herald about the \
                     merchant's endpoints; to try a receiver with one, send it as a test to one \
                     endpoint (POST /api/v1/endpoints/{{id}}/test)",
                    request.event_type
                ),
            ));
        }
        if !request.data.is_object() {
            return Err(ServiceError::invalid("data", "must be a JSON object"));
        }
        let payload = request.data.to_string();
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(ServiceError::TooLarge(format!(
                "data is {} bytes; the limit is {MAX_PAYLOAD_BYTES}",
                payload.len()
            )));
        }
        let previous_data = match &request.previous_data {
            None | Some(serde_json::Value::Null) => None,
            Some(value) if !value.is_object() => {
                return Err(ServiceError::invalid(
                    "previous_data",
                    "must be a JSON object (the state before the change)",
                ))
            }
            Some(value) => Some(value.to_string()),
        };
        // One limit for what the platform sends about one event.
        let sent = payload.len() + previous_data.as_ref().map_or(0, String::len);
        if sent > MAX_PAYLOAD_BYTES {
            return Err(ServiceError::TooLarge(format!(
                "data and previous_data are {sent} bytes together; the limit is {MAX_PAYLOAD_BYTES}"
            )));
        }
        for (field, value) in [
            ("idempotency_key", &request.idempotency_key),
            ("ordering_key", &request.ordering_key),
        ] {
            if let Some(value) = value {
                if value.is_empty() || value.len() > MAX_KEY_LEN {
                    return Err(ServiceError::invalid(
                        field,
                        format!("must be 1 to {MAX_KEY_LEN} characters"),
                    ));
                }
            }
        }
        let tags = check_tags(request.tags)?;
        let callback_url = match &request.callback_url {
            Some(url) => Some(self.rules.check("callback_url", url)?),
            None => None,
        };
        // The merchant and the event type are checked by the writer, once
        // per batch (`IngestRefusal`). A callback secret made here for a
        // merchant id that turns out unknown changes no row.
        if callback_url.is_some() {
            self.store
                .ensure_callback_secret(
                    &merchant_id,
                    &self.secrets.seal(
                        &SigningSecret::generate().expose(),
                        &merchant_row(merchant_id.as_str()),
                    ),
                )
                .await?;
        }
        Ok(NewEvent {
            id: EventId::generate(),
            merchant_id,
            event_type: request.event_type,
            payload,
            idempotency_key: request.idempotency_key,
            callback_url,
            ordering_key: request.ordering_key,
            live_mode: request.live_mode,
            created_at: Utc::now(),
            only_endpoint: request.only_endpoint,
            about_endpoint: request.about_endpoint,
            tags,
            previous_data,
        })
    }
}

async fn write_batches(
    store: Store,
    mut pending: mpsc::Receiver<(NewEvent, Reply)>,
    wake: Wakeup,
    handoff: Handoff,
) {
    // The events and their callers side by side, so the store reads the
    // events in place (no copy of each payload per batch).
    let mut events: Vec<NewEvent> = Vec::with_capacity(MAX_BATCH);
    let mut replies: Vec<Reply> = Vec::with_capacity(MAX_BATCH);
    while let Some((event, reply)) = pending.recv().await {
        events.push(event);
        replies.push(reply);
        while events.len() < MAX_BATCH {
            match pending.try_recv() {
                Ok((event, reply)) => {
                    events.push(event);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        let mut batch = handoff.offer();
        let stored = match batch.as_mut() {
            Some(batch) => {
                let (owner, lease_until) = (batch.owner().to_owned(), batch.lease_until());
                let mut take = |merchant: &_, endpoint: &_| batch.take(merchant, endpoint);
                let offer = LeaseOffer {
                    owner: &owner,
                    lease_until,
                    take: &mut take,
                };
                store.ingest(&events, filter_matches, Some(offer)).await
            }
            None => store.ingest(&events, filter_matches, None).await,
        };
        match stored {
            Ok(stored) => {
                // Started before the callers hear back, so a 202 never
                // precedes its event's own hand-off.
                if let Some(batch) = batch {
                    batch.start(stored.leased);
                }
                if stored.unleased > 0 {
                    wake.wake();
                }
                for ((event, reply), result) in
                    events.iter().zip(replies.drain(..)).zip(stored.answers)
                {
                    let _ =
                        reply.send(result.map_err(|refusal| refused(refusal, &event.event_type)));
                }
            }
            Err(e) if !e.is_transient() && events.len() > 1 => {
                // Something in the batch the database refuses, and would
                // refuse again: one event must not cost the others their
                // 202, whoever sent them. Write each on its own (without
                // the hand-off: its room was given back with `batch`).
                tracing::warn!(error = %e, events = events.len(), "ingest batch refused; writing its events one by one");
                drop(batch);
                for (event, reply) in events.iter().zip(replies.drain(..)) {
                    let answer = match store
                        .ingest(std::slice::from_ref(event), filter_matches, None)
                        .await
                    {
                        Ok(stored) => {
                            if stored.unleased > 0 {
                                wake.wake();
                            }
                            match stored.answers.into_iter().next() {
                                Some(result) => {
                                    result.map_err(|refusal| refused(refusal, &event.event_type))
                                }
                                None => Err(ServiceError::Internal(
                                    "ingest stored no answer for an event".into(),
                                )),
                            }
                        }
                        Err(e) => Err(failed(&e)),
                    };
                    let _ = reply.send(answer);
                }
            }
            Err(e) => {
                // Nothing of the batch was stored (the room taken for it is
                // given back with `batch`): each caller gets the error (503
                // when the database is gone), never a 202.
                tracing::error!(error = %e, events = events.len(), "ingest batch failed");
                for reply in replies.drain(..) {
                    let _ = reply.send(Err(failed(&e)));
                }
            }
        }
        events.clear();
    }
}

/// An event's tags: at most `MAX_TAGS`, each a valid tag; repeats dropped
/// (the first one kept in place).
fn check_tags(tags: Vec<String>) -> Result<Vec<String>, ServiceError> {
    let mut kept: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        if !is_valid_tag(&tag) {
            let shown: String = tag.chars().take(40).collect();
            return Err(ServiceError::invalid(
                "tags",
                format!(
                    "`{shown}` is not a tag: 1 to {MAX_TAG_LEN} letters, digits and _.:@/- each"
                ),
            ));
        }
        if !kept.contains(&tag) {
            kept.push(tag);
        }
    }
    if kept.len() > MAX_TAGS {
        return Err(ServiceError::invalid(
            "tags",
            format!("{} tags; at most {MAX_TAGS} per event", kept.len()),
        ));
    }
    Ok(kept)
}

/// The answer to an event whose batch could not be written: 503 while the
/// database is unreachable, 500 otherwise.
fn failed(e: &crate::store::StoreError) -> ServiceError {
    if matches!(e, crate::store::StoreError::Database(_)) {
        ServiceError::Unavailable(e.to_string())
    } else {
        ServiceError::Internal(e.to_string())
    }
}

/// The answer to an event the writer refused.
fn refused(refusal: IngestRefusal, event_type: &str) -> ServiceError {
    match refusal {
        IngestRefusal::UnknownMerchant => ServiceError::NotFound("merchant"),
        IngestRefusal::UnknownType => {
            ServiceError::invalid("type", format!("unknown event type `{event_type}`"))
        }
        IngestRefusal::ArchivedType => {
            ServiceError::invalid("type", format!("event type `{event_type}` is archived"))
        }
    }
}
