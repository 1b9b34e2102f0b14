//! Signing, sealing and payload encryption: pure functions over bytes and
//! keys, unit-tested with fixed vectors. The engine signs and encrypts what it
//! sends with them; the services and the configuration seal secrets at rest.

pub mod endpoint_key;
pub mod payload_encryption;
pub mod profile_signing;
pub mod rsa_key;
pub mod secret_box;
pub mod signing;
