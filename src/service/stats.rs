//! Delivery statistics: per endpoint and per hour over a window, counts by
//! outcome and attempt latency percentiles, from the hourly rollups the
//! store keeps (counts exact; percentiles from latency histograms, within
//! 1/32 of the exact value, see `Histogram::percentile`).

use super::ServiceError;
use crate::store::{latency_bucket_upper, HourCount, LatencyCount, Store};
use chrono::{DateTime, TimeZone, Utc};
use herald_app::model::id::{EndpointId, MerchantId};
use herald_app::model::scope::Scope;
use herald_app::model::stats::{EndpointStats, HourStats, Stats};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

const HOUR_MS: i64 = 3_600_000;
/// The longest window: a week of hours.
pub const MAX_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);
/// The longest window in hours.
const MAX_WINDOW_HOURS: u32 = (MAX_WINDOW.as_secs() / 3600) as u32;
/// The window when none is asked for: a day.
pub const DEFAULT_WINDOW_HOURS: u32 = 24;

/// The delivery statistics a merchant reads.
#[derive(Clone, Debug)]
pub struct DeliveryStats {
    store: Store,
}

impl DeliveryStats {
    /// Statistics over `store`.
    pub fn new(store: Store) -> Self {
        DeliveryStats { store }
    }

    /// The merchant's statistics over the last `hours` hours (the current
    /// hour included, at most `MAX_WINDOW`), for one endpoint or all of them;
    /// `live_mode` keeps only live (`true`) or only test-mode (`false`) events.
    pub async fn over(
        &self,
        merchant: &MerchantId,
        endpoint: Option<&EndpointId>,
        live_mode: Option<bool>,
        hours: u32,
    ) -> Result<Stats, ServiceError> {
        delivery_stats(
            &self.store,
            merchant,
            endpoint,
            live_mode,
            hours.clamp(1, MAX_WINDOW_HOURS),
            Utc::now(),
        )
        .await
    }
}

/// Reads a window such as `24h` or `7d`: whole hours, 1 h to 7 days.
pub fn parse_window(text: &str) -> Result<u32, ServiceError> {
    let invalid = || {
        ServiceError::invalid(
            "window",
            "a whole number of hours from 1h to 7d, such as 24h",
        )
    };
    let window = herald_app::model::duration::parse_duration(text).map_err(|_| invalid())?;
    if window.is_zero() || window > MAX_WINDOW || window.as_secs() % 3600 != 0 {
        return Err(invalid());
    }
    u32::try_from(window.as_secs() / 3600).map_err(|_| invalid())
}

/// `DeliveryStats::over` at `now`.
async fn delivery_stats(
    store: &Store,
    merchant: &MerchantId,
    endpoint: Option<&EndpointId>,
    live_mode: Option<bool>,
    hours: u32,
    now: DateTime<Utc>,
) -> Result<Stats, ServiceError> {
    let endpoints: Vec<EndpointId> = match endpoint {
        Some(id) => {
            store
                .endpoint(&Scope::Merchant(merchant.clone()), id)
                .await?
                .ok_or(ServiceError::NotFound("endpoint"))?;
            vec![id.clone()]
        }
        None => store
            .list_endpoints(merchant)
            .await?
            .into_iter()
            .map(|e| e.id)
            .collect(),
    };
    let last_hour = now.timestamp_millis().div_euclid(HOUR_MS);
    let first_hour = last_hour - i64::from(hours) + 1;
    let counts = store
        .delivery_counts_by_hour(merchant, endpoint, live_mode, first_hour)
        .await?;
    let latencies = store
        .attempt_latency_by_hour(merchant, endpoint, live_mode, first_hour)
        .await?;
    Ok(summarise(
        &endpoints, &counts, &latencies, first_hour, last_hour, now,
    ))
}

fn hour_start(hour: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(hour * HOUR_MS)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// Attempt durations as counts per latency bucket (keyed by the bucket's
/// lower bound, see `store::latency_bucket`). Counts are signed while rows
/// are added: retention's subtraction from an hour already folded comes as
/// a negative row beside the packed one (`Store::attempt_latency_by_hour`).
#[derive(Default, Clone)]
struct Histogram(BTreeMap<u64, i64>);

impl Histogram {
    fn add(&mut self, bucket_ms: u64, count: i64) {
        *self.0.entry(bucket_ms).or_default() += count;
    }

    /// The `q` quantile (0..=1), nearest rank: the upper bound of the
    /// bucket holding the sample of that rank. Exact below 64 ms; above,
    /// at least the sample's duration and less than 1/32 (3.125 %) more.
    /// A bucket whose rows add up below zero (which only rollups out of
    /// step could do) counts as empty.
    fn percentile(&self, q: f64) -> Option<u64> {
        let held = |n: &i64| u64::try_from(*n).unwrap_or(0);
        let total: u64 = self.0.values().map(held).sum();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (bucket, count) in &self.0 {
            seen += held(count);
            if seen >= rank {
                return Some(latency_bucket_upper(*bucket));
            }
        }
        None
    }
}

#[derive(Default)]
struct Bucket {
    succeeded: u64,
    failed: u64,
    pending: u64,
    latency: Histogram,
}

impl Bucket {
    fn add_count(&mut self, status: &str, n: u64) {
        match status {
            "succeeded" => self.succeeded += n,
            "failed" => self.failed += n,
            "pending" => self.pending += n,
            _ => {}
        }
    }

    fn into_hour(self, hour: i64) -> HourStats {
        HourStats {
            hour: hour_start(hour),
            succeeded: self.succeeded,
            failed: self.failed,
            pending: self.pending,
            p50_ms: self.latency.percentile(0.50),
            p95_ms: self.latency.percentile(0.95),
        }
    }
}

/// Pure: turns the store's rollups into per-hour and per-endpoint stats.
/// One pass over the rows: a week of a busy merchant's histograms is tens
/// of thousands of rows, so each row is added once to the three places it
/// counts in (its endpoint's hour, the merchant's hour, its endpoint's
/// whole window), never looked for again per hour.
fn summarise(
    endpoints: &[EndpointId],
    counts: &[HourCount],
    latencies: &[LatencyCount],
    first_hour: i64,
    last_hour: i64,
    now: DateTime<Utc>,
) -> Stats {
    let hours = usize::try_from(last_hour - first_hour + 1).unwrap_or(0);
    let slot = |hour: i64| -> Option<usize> {
        (first_hour..=last_hour)
            .contains(&hour)
            .then(|| usize::try_from(hour - first_hour).ok())
            .flatten()
    };
    let new_hours = || -> Vec<Bucket> { (0..hours).map(|_| Bucket::default()).collect() };
    let index: HashMap<&str, usize> = endpoints
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    // The merchant's hours, then each endpoint's hours and whole window.
    let mut overall = new_hours();
    let mut per_endpoint: Vec<(Vec<Bucket>, Histogram)> = endpoints
        .iter()
        .map(|_| (new_hours(), Histogram::default()))
        .collect();
    for c in counts {
        let Some(h) = slot(c.hour) else { continue };
        overall[h].add_count(&c.status, c.count);
        if let Some(&e) = index.get(c.endpoint_id.as_str()) {
            per_endpoint[e].0[h].add_count(&c.status, c.count);
        }
    }
    for l in latencies {
        let Some(h) = slot(l.hour) else { continue };
        overall[h].latency.add(l.bucket_ms, l.count);
        if let Some(&e) = index.get(l.endpoint_id.as_str()) {
            let (hours, all) = &mut per_endpoint[e];
            hours[h].latency.add(l.bucket_ms, l.count);
            all.add(l.bucket_ms, l.count);
        }
    }
    let into_hours = |buckets: Vec<Bucket>| -> Vec<HourStats> {
        buckets
            .into_iter()
            .zip(first_hour..)
            .map(|(bucket, hour)| bucket.into_hour(hour))
            .collect()
    };
    let endpoint_stats = endpoints
        .iter()
        .zip(per_endpoint)
        .map(|(id, (buckets, all))| {
            let hours = into_hours(buckets);
            let succeeded: u64 = hours.iter().map(|h| h.succeeded).sum();
            let failed: u64 = hours.iter().map(|h| h.failed).sum();
            let pending: u64 = hours.iter().map(|h| h.pending).sum();
            let finished = succeeded + failed;
            EndpointStats {
                endpoint_id: id.clone(),
                succeeded,
                failed,
                pending,
                success_rate: (finished > 0).then(|| succeeded as f64 / finished as f64),
                p50_ms: all.percentile(0.50),
                p95_ms: all.percentile(0.95),
                hours,
            }
        })
        .collect();
    Stats {
        window_hours: u32::try_from(hours).unwrap_or(0),
        from: hour_start(first_hour),
        to: now,
        hours: into_hours(overall),
        endpoints: endpoint_stats,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::latency_bucket;

    #[test]
    fn windows_are_whole_hours_up_to_a_week() {
        assert_eq!(parse_window("24h").unwrap(), 24);
        assert_eq!(parse_window("7d").unwrap(), 168);
        assert_eq!(parse_window("1h").unwrap(), 1);
        for bad in ["0h", "8d", "90m", "soon", ""] {
            assert!(parse_window(bad).is_err(), "{bad}");
        }
    }

    fn histogram_of(durations: impl IntoIterator<Item = u64>) -> Histogram {
        let mut histogram = Histogram::default();
        for ms in durations {
            histogram.add(latency_bucket(ms), 1);
        }
        histogram
    }

    #[test]
    fn percentiles_use_the_nearest_rank_exactly_below_64_ms() {
        let values = histogram_of(1..=60);
        assert_eq!(values.percentile(0.5), Some(30));
        assert_eq!(values.percentile(0.95), Some(57));
        assert_eq!(histogram_of([7]).percentile(0.95), Some(7));
        assert_eq!(Histogram::default().percentile(0.5), None);
    }

    #[test]
    fn percentiles_are_within_a_32nd_above_the_exact_value() {
        // 1..=1000 ms: the exact p50 is 500, p95 is 950.
        let values = histogram_of(1..=1000);
        let p50 = values.percentile(0.5).expect("p50");
        let p95 = values.percentile(0.95).expect("p95");
        assert!((500..=515).contains(&p50), "{p50}");
        assert!((950..=979).contains(&p95), "{p95}");
        // The bucket of 950 is 944..=959.
        assert_eq!(p95, 959);
    }

    #[test]
    fn counts_land_in_their_hour_and_endpoint() {
        let ep = EndpointId::from_u128(1);
        let other = EndpointId::from_u128(2);
        let count = |e: &EndpointId, hour, status: &str, count| HourCount {
            endpoint_id: e.to_string(),
            hour,
            status: status.into(),
            count,
        };
        let counts = vec![
            count(&ep, 10, "succeeded", 3),
            count(&ep, 10, "failed", 1),
            count(&ep, 11, "pending", 2),
            count(&other, 11, "succeeded", 5),
            count(&ep, 5, "succeeded", 100), // before the window
        ];
        let durations: Vec<LatencyCount> = [10, 20, 30, 40]
            .into_iter()
            .map(|ms| LatencyCount {
                endpoint_id: ep.to_string(),
                hour: 10,
                bucket_ms: latency_bucket(ms),
                count: 1,
            })
            .collect();
        let stats = summarise(
            &[ep.clone(), other],
            &counts,
            &durations,
            10,
            11,
            Utc::now(),
        );
        assert_eq!(stats.window_hours, 2);
        assert_eq!(stats.hours[0].succeeded, 3);
        assert_eq!(stats.hours[1].succeeded, 5);
        assert_eq!(stats.hours[1].pending, 2);
        let first = &stats.endpoints[0];
        assert_eq!((first.succeeded, first.failed, first.pending), (3, 1, 2));
        assert_eq!(first.success_rate, Some(0.75));
        assert_eq!(first.p95_ms, Some(40));
        assert_eq!(first.hours[0].p50_ms, Some(20));
        assert_eq!(stats.endpoints[1].success_rate, Some(1.0));
        assert_eq!(stats.endpoints[1].p95_ms, None);
    }

    #[test]
    fn a_subtraction_from_a_folded_hour_nets_out() {
        // A packed hour of 10, 20, 30 and 90 ms, then retention's
        // subtraction of the 90 ms attempt as a row of its own.
        let ep = EndpointId::from_u128(1);
        let latency = |ms: u64, count| LatencyCount {
            endpoint_id: ep.to_string(),
            hour: 3,
            bucket_ms: latency_bucket(ms),
            count,
        };
        let mut rows: Vec<LatencyCount> = [10, 20, 30, 90].map(|ms| latency(ms, 1)).into();
        let before = summarise(std::slice::from_ref(&ep), &[], &rows, 3, 3, Utc::now());
        assert_eq!(
            before.endpoints[0].p95_ms,
            Some(latency_bucket_upper(latency_bucket(90)))
        );
        rows.push(latency(90, -1));
        let after = summarise(std::slice::from_ref(&ep), &[], &rows, 3, 3, Utc::now());
        assert_eq!(after.endpoints[0].p95_ms, Some(30));
        assert_eq!(after.hours[0].p50_ms, Some(20));
        rows.extend([10, 20, 30].map(|ms| latency(ms, -1)));
        let emptied = summarise(std::slice::from_ref(&ep), &[], &rows, 3, 3, Utc::now());
        assert_eq!(emptied.endpoints[0].p95_ms, None);
    }

    #[test]
    fn an_hours_live_and_test_rows_add_up() {
        // The store returns an hour's live and test-mode rows apart.
        let ep = EndpointId::from_u128(1);
        let counts: Vec<HourCount> = [("succeeded", 3), ("succeeded", 2), ("failed", 1)]
            .into_iter()
            .map(|(status, count)| HourCount {
                endpoint_id: ep.to_string(),
                hour: 7,
                status: status.into(),
                count,
            })
            .collect();
        let latency = |ms: u64, count| LatencyCount {
            endpoint_id: ep.to_string(),
            hour: 7,
            bucket_ms: latency_bucket(ms),
            count,
        };
        // 10 ms twice (live and test), 90 ms once.
        let latencies = vec![latency(10, 1), latency(10, 1), latency(90, 1)];
        let stats = summarise(
            std::slice::from_ref(&ep),
            &counts,
            &latencies,
            7,
            7,
            Utc::now(),
        );
        assert_eq!((stats.hours[0].succeeded, stats.hours[0].failed), (5, 1));
        let only = &stats.endpoints[0];
        assert_eq!(only.success_rate, Some(5.0 / 6.0));
        assert_eq!(only.p50_ms, Some(10), "two of three attempts took 10 ms");
        assert_eq!(
            only.hours[0].p95_ms,
            Some(latency_bucket_upper(latency_bucket(90)))
        );
    }
}
