//! Ids as they arrive in a URL or a server function's arguments. A
//! malformed id answers exactly like an absent one ("endpoint not found"),
//! so probing ids tells nothing; `NOUN` is the word both use.

use super::id::{ApiKeyId, DeliveryId, EndpointId, EventId, InvitationId, MemberId, MerchantId};

/// An id kind with the noun its "not found" names.
pub trait NamedId: Sized {
    /// What the id names, as in "endpoint not found".
    const NOUN: &'static str;

    /// The id, if `text` is one of this kind.
    fn read(text: &str) -> Option<Self>;
}

macro_rules! named_id {
    ($($id:ty => $noun:literal),* $(,)?) => {$(
        impl NamedId for $id {
            const NOUN: &'static str = $noun;

            fn read(text: &str) -> Option<Self> {
                <$id>::parse(text).ok()
            }
        }
    )*};
}

named_id!(
    ApiKeyId => "API key",
    DeliveryId => "delivery",
    EndpointId => "endpoint",
    EventId => "event",
    InvitationId => "invitation",
    MemberId => "member",
    MerchantId => "merchant",
);
