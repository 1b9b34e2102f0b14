//! New ids: milliseconds in the high 48 bits, 80 random bits below, and
//! strictly increasing within this process, so ids created later sort later
//! (keyset pagination and per-key ordering rely on it).

use chrono::{DateTime, Utc};
use rand::RngCore;
use std::sync::Mutex;

static LAST: Mutex<u128> = Mutex::new(0);

/// A fresh id value for `created_at`; wrap it with e.g. `EventId::from_u128`.
pub fn new_id(created_at: DateTime<Utc>) -> u128 {
    let millis = u128::from(u64::try_from(created_at.timestamp_millis()).unwrap_or(0));
    let mut random = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut random[6..]);
    let candidate = (millis << 80) | u128::from_be_bytes(random);
    // Within one millisecond, random bits would order ids arbitrarily: step
    // past the last id instead. A poisoned lock only means a panic elsewhere;
    // the value inside is still a valid id.
    let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let id = if candidate > *last { candidate } else { *last + 1 };
    *last = id;
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_app::model::id::EventId;

    #[test]
    fn ids_strictly_increase_even_within_a_millisecond() {
        let t = Utc::now();
        let ids: Vec<u128> = (0..1000).map(|_| new_id(t)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        let later = EventId::from_u128(new_id(t + chrono::Duration::milliseconds(5)));
        assert!(EventId::from_u128(ids[999]) < later);
    }
}
