//! Prefixed, typed identifiers (`mer_…`, `ep_…`, `evt_…`).
//!
//! The part after the prefix is 26 Crockford base32 characters: 48 bits of
//! milliseconds then 80 random bits, so ids sort by creation time and keyset
//! pagination on `(created_at, id)` is stable. That is a ULID in lowercase;
//! the `ulid` crate makes them (server only). Encoding and checking stay
//! here: `ulid` writes uppercase and reads either case, while ids are
//! lowercase and `parse` refuses anything else, and this part is also
//! compiled to wasm32 for the dashboard, which needs no generator.

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
prefixed_id!(
    /// One entry of the audit log.
    AuditEntryId, "aud_", "audit entry");
prefixed_id!(
    /// A change told to a merchant: an operational event and its mail.
    AlertId, "alr_", "alert");
prefixed_id!(
    /// A member of a merchant's team (a person who logs in).
    MemberId, "mem_", "member");
prefixed_id!(
    /// An invitation to join a merchant's team.
    InvitationId, "inv_", "invitation");

#[cfg(feature = "ssr")]
mod generator {
    //! Milliseconds in the high 48 bits, 80 random bits below, strictly
    //! increasing within the process: ids made later sort later, which
    //! keyset pagination and per-key delivery order rely on. That is a ULID
    //! from a monotonic generator: within one millisecond (or while the
    //! clock steps back) it adds one to the last id rather than draw new
    //! random bits.

    use std::sync::Mutex;
    use ulid::Generator;

    static GENERATOR: Mutex<Generator> = Mutex::new(Generator::new());

    pub(super) fn next() -> u128 {
        // A poisoned lock only means a panic elsewhere; the generator inside
        // is still valid.
        let mut generator = GENERATOR
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        loop {
            match generator.generate() {
                Ok(id) => return id.0,
                // The last id's 80 random bits are all ones: a later
                // millisecond starts afresh (2^-80-ish odds per id).
                Err(ulid::MonotonicError::Overflow) => std::thread::yield_now(),
            }
        }
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
