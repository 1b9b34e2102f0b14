//! Whose data an operation may touch. A merchant sees only its own; an
//! operator (the platform token, or an admin's session) sees every
//! merchant's. Spelled out so the decision is never an `Option` left `None`.

use super::id::MerchantId;

/// Whose data an operation may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One merchant's own data, nobody else's.
    Merchant(MerchantId),
    /// Every merchant's data.
    Operator,
}

impl Scope {
    /// The merchant the data must belong to; `None` for an operator.
    pub fn merchant(&self) -> Option<&MerchantId> {
        match self {
            Scope::Merchant(id) => Some(id),
            Scope::Operator => None,
        }
    }
}
