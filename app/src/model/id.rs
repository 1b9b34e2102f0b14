//! Prefixed, typed identifiers (`mer_…`, `ep_…`, `evt_…`).
//!
//! The part after the prefix is 26 Crockford base32 characters: 48 bits of
//! milliseconds then 80 random bits, so ids sort by creation time and keyset
//! pagination on `(created_at, id)` is stable.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string is not an id of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {kind} id (expected `{prefix}` followed by 26 characters)")]
pub struct IdError {
    kind: &'static str,
    prefix: &'static str,
    value: String,
}

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const BODY_LEN: usize = 26;

/// Encodes a 128-bit value as 26 lowercase Crockford base32 characters.
pub fn encode_base32(mut value: u128) -> String {
    let mut out = [0u8; BODY_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value & 31) as usize];
        value >>= 5;
    }
    out.iter().map(|&b| b as char).collect()
}

fn is_body(s: &str) -> bool {
    s.len() == BODY_LEN && s.bytes().all(|b| ALPHABET.contains(&b))
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// Parses an id, checking prefix and shape.
            pub fn parse(value: &str) -> Result<Self, IdError> {
                match value.strip_prefix($prefix) {
                    Some(body) if is_body(body) => Ok(Self(value.to_owned())),
                    _ => Err(IdError { kind: $kind, prefix: $prefix, value: value.to_owned() }),
                }
            }

            /// Builds an id from a 128-bit value (time in the high bits).
            pub fn from_u128(value: u128) -> Self {
                Self(format!("{}{}", $prefix, encode_base32(value)))
            }

            /// A new id, later than every id this process made before.
            #[cfg(feature = "ssr")]
            pub fn generate() -> Self {
                Self::from_u128(generator::next())
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

prefixed_id!(
    /// A merchant account.
    MerchantId, "mer_", "merchant");
prefixed_id!(
    /// A merchant's webhook endpoint.
    EndpointId, "ep_", "endpoint");
prefixed_id!(
    /// An event ingested from the platform.
    EventId, "evt_", "event");
prefixed_id!(
    /// One event headed for one destination.
    DeliveryId, "dlv_", "delivery");
prefixed_id!(
    /// One HTTP try of a delivery.
    AttemptId, "att_", "attempt");
prefixed_id!(
    /// A merchant API key (the id, not the secret key).
    ApiKeyId, "key_", "API key");

#[cfg(feature = "ssr")]
mod generator {
    //! Milliseconds in the high 48 bits, 80 random bits below, strictly
    //! increasing within the process: ids made later sort later, which
    //! keyset pagination and per-key delivery order rely on.

    use rand::RngCore;
    use std::sync::Mutex;

    static LAST: Mutex<u128> = Mutex::new(0);

    pub(super) fn next() -> u128 {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let mut random = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut random[6..]);
        let candidate = (millis << 80) | u128::from_be_bytes(random);
        // Within one millisecond random bits would order ids arbitrarily:
        // step past the last id instead. A poisoned lock only means a panic
        // elsewhere; the value inside is still valid.
        let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let id = if candidate > *last {
            candidate
        } else {
            *last + 1
        };
        *last = id;
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_sort_by_value() {
        let a = EventId::from_u128(1 << 80);
        let b = EventId::from_u128(2 << 80);
        assert!(a < b);
        assert_eq!(EventId::parse(a.as_str()), Ok(a.clone()));
        assert_eq!(a.as_str().len(), 4 + 26);
    }

    #[test]
    fn wrong_prefix_or_shape_is_refused() {
        let ep = EndpointId::from_u128(42);
        assert!(EventId::parse(ep.as_str()).is_err());
        assert!(EndpointId::parse("ep_short").is_err());
        assert!(EndpointId::parse("ep_UUUUUUUUUUUUUUUUUUUUUUUUUU").is_err());
        let err = MerchantId::parse("nope").unwrap_err().to_string();
        assert!(err.contains("merchant id"), "{err}");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn generated_ids_strictly_increase() {
        let ids: Vec<EventId> = (0..1000).map(|_| EventId::generate()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn serde_validates() {
        let bad: Result<MerchantId, _> = serde_json::from_str("\"mer_x\"");
        assert!(bad.is_err());
        let id = MerchantId::from_u128(7);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<MerchantId>(&json).unwrap(), id);
    }
}
