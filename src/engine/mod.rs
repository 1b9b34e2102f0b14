//! The delivery engine: signing, retry policy and the destination policy.
//! The dispatcher and workers build on these pure parts.

pub mod retry;
pub mod signing;
pub mod ssrf;
