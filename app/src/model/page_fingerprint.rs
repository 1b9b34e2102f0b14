//! A short digest of what a self-refreshing list shows, computed alike in
//! the browser (from the page it holds) and on the server (from the page as
//! it is now). An open list asks every few seconds whether its digest still
//! matches, a few bytes each way, and fetches the page only when it does
//! not: a list left open for an hour moved ~45 MB when it re-fetched the
//! whole page each time.
//!
//! FNV-1a over explicit bytes, not `std::hash`: `Hash` feeds `usize`
//! lengths, 4 bytes in WASM and 8 on the server, so the two sides would
//! never agree.

use super::dashboard::DeliveryPage;
use super::event::Delivery;

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 64 bits.
#[derive(Debug, Clone, Copy)]
struct Digest(u64);

impl Digest {
    fn new() -> Self {
        Digest(OFFSET)
    }

    fn bytes(mut self, bytes: &[u8]) -> Self {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(PRIME);
        }
        // A separator, so ("ab", "c") and ("a", "bc") differ.
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(PRIME);
        self
    }

    fn number(self, number: i64) -> Self {
        self.bytes(&number.to_le_bytes())
    }

    fn delivery(self, d: &Delivery) -> Self {
        let millis =
            |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or(-1, |t| t.timestamp_millis());
        self.bytes(d.id.as_str().as_bytes())
            .bytes(d.url.as_bytes())
            .bytes(d.status.as_str().as_bytes())
            .number(i64::from(d.attempt_count))
            .number(d.last_status_code.map_or(-1, i64::from))
            .number(millis(d.last_attempt_at))
            .number(millis(d.next_attempt_at))
    }
}

impl DeliveryPage {
    /// What changes when a row is added, removed, attempted or settles.
    pub fn fingerprint(&self) -> String {
        let digest = self
            .items
            .iter()
            .fold(Digest::new(), Digest::delivery)
            .bytes(self.next_cursor.as_deref().unwrap_or("").as_bytes());
        format!("{:016x}", digest.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::delivery::DeliveryStatus;
    use crate::model::id::{DeliveryId, EventId, MerchantId};
    use chrono::{TimeZone, Utc};

    fn delivery(n: u128) -> Delivery {
        Delivery {
            id: DeliveryId::from_u128(n),
            event_id: EventId::from_u128(n),
            merchant_id: MerchantId::from_u128(1),
            endpoint_id: None,
            url: "https://example.com/hook".into(),
            event_type: "payin.succeeded".into(),
            live_mode: true,
            tags: vec![],
            status: DeliveryStatus::Pending,
            attempt_count: 0,
            next_attempt_at: None,
            last_attempt_at: None,
            last_status_code: None,
            created_at: Utc.timestamp_opt(1_700_000_000, 0).single().expect("time"),
            succeeded_at: None,
            failed_at: None,
        }
    }

    #[test]
    fn a_page_changes_its_fingerprint_when_a_row_does() {
        let page = DeliveryPage {
            items: vec![delivery(7)],
            next_cursor: None,
        };
        let same = page.clone();
        assert_eq!(page.fingerprint(), same.fingerprint());
        assert_eq!(page.fingerprint().len(), 16);

        let mut attempted = page.clone();
        attempted.items[0].attempt_count = 1;
        attempted.items[0].last_status_code = Some(503);
        assert_ne!(page.fingerprint(), attempted.fingerprint());

        let mut settled = attempted.clone();
        settled.items[0].status = DeliveryStatus::Succeeded;
        assert_ne!(attempted.fingerprint(), settled.fingerprint());

        let mut longer = page.clone();
        longer.items.insert(0, delivery(8));
        assert_ne!(page.fingerprint(), longer.fingerprint());

        let empty = DeliveryPage {
            items: vec![],
            next_cursor: None,
        };
        assert_ne!(page.fingerprint(), empty.fingerprint());
    }
}
