//! How the engine runs: its limits, schedule, timeouts and egress.

use super::http::Egress;
use super::retry::RetrySchedule;
use super::ssrf::AddressPolicy;
use crate::crypto::secret_box::SecretBox;
use crate::metrics::Metrics;
use std::time::Duration;

/// Deliveries in flight at once in one process, unless configured.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub schedule: RetrySchedule,
    pub request_timeout: Duration,
    pub policy: AddressPolicy,
    /// Deliveries in flight at once, across all endpoints.
    pub max_in_flight: usize,
    /// Deliveries in flight at once for one endpoint.
    pub per_endpoint: usize,
    /// Deliveries in flight at once for one merchant: its share of
    /// `max_in_flight` (see `MerchantShares`).
    pub per_merchant: usize,
    /// An endpoint whose deliveries all failed for this long is disabled.
    pub auto_disable_after: Duration,
    /// The merchant is told (`herald.endpoint.failing`) once an endpoint's
    /// deliveries have all failed for this long.
    pub failing_alert_after: Duration,
    /// Where recorded attempts are counted for `/metrics`.
    pub metrics: Metrics,
    /// Opens the signing secrets the store hands over sealed.
    pub secrets: SecretBox,
    /// The source address and proxy deliveries leave through.
    pub egress: Egress,
}

impl EngineConfig {
    /// The defaults, with the given schedule, timeout and policy.
    pub fn new(schedule: RetrySchedule, request_timeout: Duration, policy: AddressPolicy) -> Self {
        EngineConfig {
            schedule,
            request_timeout,
            policy,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            per_endpoint: 4,
            per_merchant: DEFAULT_MAX_IN_FLIGHT / 4,
            auto_disable_after: Duration::from_secs(5 * 24 * 3600),
            failing_alert_after: Duration::from_secs(3600),
            metrics: Metrics::default(),
            secrets: SecretBox::plain(),
            egress: Egress::default(),
        }
    }
}
