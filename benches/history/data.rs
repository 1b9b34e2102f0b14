//! What the history is made of, without a database: merchants with skewed
//! volumes, their endpoints, and each event's rows (the event, its tags, one
//! delivery per endpoint, their attempts), made in time order. Seeded, so
//! two fills of the same size hold the same shapes.

use crate::payload;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use herald_app::model::id::{AttemptId, DeliveryId, EndpointId, EventId, MerchantId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;
/// History spans this many days back from the fill (under Herald's 30 d
/// default retention, so a server started on it deletes nothing).
pub const HISTORY_DAYS: i64 = 29;
/// The big merchant's share of all events (the rest follow a Zipf-like curve).
const BIG_SHARE: f64 = 0.05;
/// Exponent of the Zipf-like curve of the other merchants' volumes.
const ZIPF_EXPONENT: f64 = 0.8;
/// Share of events sent in test mode (`live_mode = false`).
const TEST_MODE_SHARE: f64 = 0.10;
/// Share of deliveries that failed for good; the rest succeeded. None is
/// left pending: the engine must have nothing to send during the bench.
const FAILED_SHARE: f64 = 0.05;

/// Event types and how common they are: names from Herald's shipped catalog
/// (checked against it by `check_types`); the last one is the rare type.
pub const EVENT_TYPES: &[(&str, f64)] = &[
    ("payin.succeeded", 30.0),
    ("payment.succeeded", 15.0),
    ("payout.succeeded", 10.0),
    ("payout.processing", 8.0),
    ("payin.failed", 6.0),
    ("customer.created", 6.0),
    ("refund.initiated", 4.0),
    ("refund.completed", 4.0),
    ("transfer.completed", 4.0),
    ("payment.failed", 3.0),
    ("wallet.balance_updated", 3.0),
    ("payout.failed", 2.0),
    ("fraud.transaction_blocked", 0.2),
];

/// A merchant of the fill.
#[derive(Debug, Clone)]
pub struct Merchant {
    pub id: MerchantId,
    /// Its share of all events.
    pub weight: f64,
    pub endpoints: Vec<EndpointId>,
}

/// One `endpoints` row.
#[derive(Debug, Clone)]
pub struct EndpointRow {
    pub id: EndpointId,
    pub merchant_id: MerchantId,
    pub url: String,
    /// `whsec_…` as stored without HERALD_SECRET_KEY (plain).
    pub secret: String,
}

/// One `events` row.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: String,
    pub merchant_id: String,
    pub event_type: &'static str,
    pub payload: String,
    pub idempotency_key: Option<String>,
    pub live_mode: bool,
    pub created_at: i64,
    /// JSON array text, as `events.tags` holds it.
    pub tags: String,
}

/// One `event_tags` row.
#[derive(Debug, Clone)]
pub struct TagRow {
    pub merchant_id: String,
    pub tag: String,
    pub created_at: i64,
    pub event_id: String,
}

/// One `deliveries` row, final (succeeded or failed).
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub merchant_id: String,
    pub endpoint_id: String,
    pub event_type: &'static str,
    pub status: &'static str,
    pub attempt_count: i64,
    pub last_attempt_at: i64,
    pub last_status_code: i64,
    pub last_error_kind: Option<&'static str>,
    pub succeeded_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub created_at: i64,
}

/// One `attempts` row.
#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub id: String,
    pub delivery_id: String,
    pub attempt_number: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    pub request_headers: String,
    pub status_code: i64,
    pub response_headers: String,
    pub response_body: String,
    pub error_kind: Option<&'static str>,
}

/// The rows of a run of consecutive events.
#[derive(Debug, Default)]
pub struct Batch {
    pub events: Vec<EventRow>,
    pub tags: Vec<TagRow>,
    pub deliveries: Vec<DeliveryRow>,
    pub attempts: Vec<AttemptRow>,
}

impl Batch {
    /// Rows of every table in this batch.
    pub fn rows(&self) -> usize {
        self.events.len() + self.tags.len() + self.deliveries.len() + self.attempts.len()
    }
}

/// An id of a kind whose time part is `ms`: ids sort like their rows'
/// times, as the ids Herald makes do.
fn id_at<T>(rng: &mut StdRng, ms: i64, from_u128: fn(u128) -> T) -> T {
    let random: u128 = rng.gen::<u128>() & ((1u128 << 80) - 1);
    from_u128(((ms.max(0) as u128) << 80) | random)
}

/// The merchants of the fill: `big` first (5 % of the events), then
/// `count - 1` others whose shares fall off as 1/rank^0.8; each with 2 or 3
/// endpoints (the big one 3).
pub fn merchants(big: MerchantId, count: usize, rng: &mut StdRng) -> Vec<Merchant> {
    let others = count.saturating_sub(1);
    let zipf: Vec<f64> = (1..=others)
        .map(|rank| 1.0 / (rank as f64).powf(ZIPF_EXPONENT))
        .collect();
    let total: f64 = zipf.iter().sum();
    let big_share = if others == 0 { 1.0 } else { BIG_SHARE };
    let mut out = Vec::with_capacity(count);
    out.push(Merchant {
        id: big,
        weight: big_share,
        endpoints: (0..3).map(|_| EndpointId::generate()).collect(),
    });
    for weight in zipf {
        let endpoints = rng.gen_range(2..=3);
        out.push(Merchant {
            id: MerchantId::generate(),
            weight: (1.0 - BIG_SHARE) * weight / total,
            endpoints: (0..endpoints).map(|_| EndpointId::generate()).collect(),
        });
    }
    out
}

/// The `endpoints` rows of `merchants`, on a loopback port nobody listens
/// on (the discard port): no delivery is ever due, so none is sent there.
pub fn endpoint_rows(merchants: &[Merchant], rng: &mut StdRng) -> Vec<EndpointRow> {
    let mut rows = Vec::new();
    for (index, merchant) in merchants.iter().enumerate() {
        for (n, id) in merchant.endpoints.iter().enumerate() {
            let key: [u8; 32] = rng.gen();
            rows.push(EndpointRow {
                id: id.clone(),
                merchant_id: merchant.id.clone(),
                url: format!("http://127.0.0.1:9/merchant-{index}/hooks/{n}"),
                secret: format!("whsec_{}", STANDARD.encode(key)),
            });
        }
    }
    rows
}

/// Makes `total` events over the last `HISTORY_DAYS` days, oldest first,
/// handing them out in batches of `batch_size`.
pub struct Generator {
    rng: StdRng,
    merchants: Vec<Merchant>,
    /// Running sum of the merchants' weights, for picking one.
    cumulative: Vec<f64>,
    type_cumulative: Vec<f64>,
    /// Events made so far per merchant (numbers its references).
    made: Vec<u64>,
    total: u64,
    next: u64,
    start_ms: i64,
    span_ms: i64,
    now_ms: i64,
}

impl Generator {
    /// A generator of `total` events among `merchants`, ending a minute
    /// before `now_ms` (so every attempt is in the past).
    pub fn new(merchants: Vec<Merchant>, total: u64, now_ms: i64, seed: u64) -> Generator {
        let cumulative = running_sum(merchants.iter().map(|m| m.weight));
        let type_cumulative = running_sum(EVENT_TYPES.iter().map(|(_, w)| *w));
        let made = vec![0; merchants.len()];
        let end = now_ms - MINUTE_MS;
        let start_ms = end - HISTORY_DAYS * DAY_MS;
        Generator {
            rng: StdRng::seed_from_u64(seed),
            merchants,
            cumulative,
            type_cumulative,
            made,
            total,
            next: 0,
            start_ms,
            span_ms: end - start_ms,
            now_ms,
        }
    }

    /// The next `size` events with everything that hangs off them; `None`
    /// once all were made.
    pub fn batch(&mut self, size: usize) -> Option<Batch> {
        if self.next >= self.total {
            return None;
        }
        let mut batch = Batch::default();
        let end = (self.next + size as u64).min(self.total);
        for n in self.next..end {
            self.event(n, &mut batch);
        }
        self.next = end;
        Some(batch)
    }

    /// Event number `n` (in time order) and its tags, deliveries and attempts.
    fn event(&mut self, n: u64, batch: &mut Batch) {
        // Uniform over the span, in order: each event in its own slot.
        let slot = self.span_ms as f64 / self.total as f64;
        let created_at = self.start_ms + (n as f64 * slot + self.rng.gen::<f64>() * slot) as i64;
        let m = pick(&self.cumulative, self.rng.gen::<f64>());
        let t = pick(&self.type_cumulative, self.rng.gen::<f64>());
        let event_type = EVENT_TYPES[t].0;
        let k = self.made[m];
        self.made[m] += 1;
        let merchant = self.merchants[m].id.to_string();
        let id = id_at(&mut self.rng, created_at, EventId::from_u128).to_string();
        let tags = self.tags(m, k);
        for tag in &tags {
            batch.tags.push(TagRow {
                merchant_id: merchant.clone(),
                tag: tag.clone(),
                created_at,
                event_id: id.clone(),
            });
        }
        let idempotency_key = self
            .rng
            .gen_bool(0.5)
            .then(|| payload::uuid_like(&mut self.rng));
        let live_mode = !self.rng.gen_bool(TEST_MODE_SHARE);
        let payload = payload::payload(&mut self.rng, event_type, &tags[0], created_at);
        for e in 0..self.merchants[m].endpoints.len() {
            let endpoint = self.merchants[m].endpoints[e].to_string();
            self.delivery(&id, &merchant, endpoint, event_type, created_at, batch);
        }
        batch.events.push(EventRow {
            id,
            merchant_id: merchant,
            event_type,
            payload,
            idempotency_key,
            live_mode,
            created_at,
            tags: serde_json::to_string(&tags).expect("tags as JSON"),
        });
    }

    /// 1 to 3 tags: a payment reference (two events per payment), often a
    /// customer (who comes back), sometimes an order.
    fn tags(&mut self, m: usize, k: u64) -> Vec<String> {
        let mut tags = vec![format!("pay_{m:04}{:07}", k / 2)];
        if self.rng.gen_bool(0.7) {
            let customers = (self.expected(m) / 20).max(10);
            tags.push(format!("cus_{m:04}_{}", self.rng.gen_range(0..customers)));
        }
        if self.rng.gen_bool(0.15) {
            tags.push(format!("order:ord_{m}_{k}"));
        }
        tags
    }

    /// Roughly how many events merchant `m` gets in this fill.
    fn expected(&self, m: usize) -> u64 {
        (self.merchants[m].weight * self.total as f64) as u64
    }

    /// One delivery to `endpoint`, final, with its attempts: succeeded at
    /// the first attempt, or failed after 2 or 3 (failures only for events
    /// old enough that their retries are in the past).
    fn delivery(
        &mut self,
        event_id: &str,
        merchant: &str,
        endpoint: String,
        event_type: &'static str,
        created_at: i64,
        batch: &mut Batch,
    ) {
        let failed = created_at < self.now_ms - 30 * MINUTE_MS && self.rng.gen_bool(FAILED_SHARE);
        let id = id_at(&mut self.rng, created_at, DeliveryId::from_u128).to_string();
        let attempts = if failed { self.rng.gen_range(2..=3) } else { 1 };
        // Herald's default schedule: at once, 5 s later, 5 min later.
        let offsets: [i64; 3] = [0, 5_000, 300_000];
        let mut last = (0, 0, 0);
        for (number, offset) in offsets.iter().enumerate().take(attempts) {
            let started_at = created_at + offset + self.rng.gen_range(5..200);
            let duration_ms = self.rng.gen_range(20..=800);
            let status_code = if failed {
                [500, 502, 503][self.rng.gen_range(0..3)]
            } else {
                200
            };
            batch.attempts.push(self.attempt(
                &id,
                event_id,
                event_type,
                number as i64 + 1,
                started_at,
                duration_ms,
                status_code,
            ));
            last = (started_at, duration_ms, status_code);
        }
        let (last_at, last_duration, last_code) = last;
        let finished = last_at + last_duration;
        batch.deliveries.push(DeliveryRow {
            id,
            event_id: event_id.to_owned(),
            merchant_id: merchant.to_owned(),
            endpoint_id: endpoint,
            event_type,
            status: if failed { "failed" } else { "succeeded" },
            attempt_count: attempts as i64,
            last_attempt_at: last_at,
            last_status_code: last_code,
            last_error_kind: failed.then_some("status"),
            succeeded_at: (!failed).then_some(finished),
            failed_at: failed.then_some(finished),
            created_at,
        });
    }

    /// One attempt row, with headers as Herald records them.
    #[allow(clippy::too_many_arguments)]
    fn attempt(
        &mut self,
        delivery_id: &str,
        event_id: &str,
        event_type: &str,
        number: i64,
        started_at: i64,
        duration_ms: i64,
        status_code: i64,
    ) -> AttemptRow {
        let signature: [u8; 32] = self.rng.gen();
        let request_headers = json!({
            "content-type": "application/json",
            "user-agent": "Herald-Webhooks/0.1.0",
            "webhook-id": event_id,
            "webhook-timestamp": (started_at / 1000).to_string(),
            "webhook-signature": format!("v1,{}", STANDARD.encode(signature)),
            "herald-event-type": event_type,
            "herald-delivery-id": delivery_id,
            "herald-attempt": number.to_string(),
        })
        .to_string();
        let ok = status_code < 300;
        let response_headers = json!({
            "content-type": if ok { "application/json" } else { "text/html" },
            "server": "nginx",
            "content-length": if ok { "17" } else { "22" },
        })
        .to_string();
        AttemptRow {
            id: id_at(&mut self.rng, started_at, AttemptId::from_u128).to_string(),
            delivery_id: delivery_id.to_owned(),
            attempt_number: number,
            started_at,
            duration_ms,
            request_headers,
            status_code,
            response_headers,
            response_body: if ok {
                r#"{"received":true}"#.to_owned()
            } else {
                format!("{status_code} upstream error")
            },
            error_kind: (!ok).then_some("status"),
        }
    }
}

/// Running totals of `weights`, normalised to end at 1.
fn running_sum(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut sum = 0.0;
    let mut out: Vec<f64> = weights
        .map(|w| {
            sum += w;
            sum
        })
        .collect();
    for v in &mut out {
        *v /= sum;
    }
    out
}

/// The index whose running total first reaches `u` (in [0, 1)).
fn pick(cumulative: &[f64], u: f64) -> usize {
    cumulative
        .partition_point(|&c| c < u)
        .min(cumulative.len() - 1)
}

/// Panics unless every type the fill uses is in Herald's shipped catalog
/// (`herald migrate` leaves the catalog empty; `serve` seeds it from this list).
pub fn check_types() {
    let catalog = herald::service::catalog::seed_entries().expect("Herald's event catalog");
    for (name, _) in EVENT_TYPES {
        assert!(
            catalog.iter().any(|entry| entry.name == *name),
            "{name} is not in Herald's event catalog"
        );
    }
}

/// The fill's random source, from a fixed seed.
pub fn seeded(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}
