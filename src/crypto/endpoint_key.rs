//! An endpoint's signing key of any kind its profile may need: the
//! Standard Webhooks kinds (`whsec_` HMAC, `whsk_` Ed25519) or an RSA
//! private key (PKCS#8 PEM). The stored text says which.

use super::profile_signing::ProfileKey;
use super::rsa_key::RsaSigningKey;
use super::signing::{SigningKey, SigningSecret};

/// One stored signing key, parsed.
#[derive(Debug)]
pub enum EndpointKey {
    Standard(SigningKey),
    Rsa(RsaSigningKey),
}

impl EndpointKey {
    /// Parses a stored key (opened already); the error never shows the key.
    pub fn parse(stored: &str) -> Result<Self, String> {
        if stored.trim_start().starts_with("-----BEGIN") {
            RsaSigningKey::parse_pem(stored)
                .map(EndpointKey::Rsa)
                .map_err(|e| e.to_string())
        } else {
            SigningKey::parse(stored)
                .map(EndpointKey::Standard)
                .map_err(|e| e.to_string())
        }
    }

    /// The text to store (sealed).
    pub fn expose(&self) -> String {
        match self {
            EndpointKey::Standard(key) => key.expose(),
            EndpointKey::Rsa(key) => key.expose().to_owned(),
        }
    }

    /// The key as the profile signer takes it.
    pub fn as_profile_key(&self) -> ProfileKey<'_> {
        match self {
            EndpointKey::Standard(key) => ProfileKey::from(key),
            EndpointKey::Rsa(key) => ProfileKey::Rsa(key),
        }
    }

    /// The HMAC secret, if it is one.
    pub fn as_hmac(&self) -> Option<&SigningSecret> {
        match self {
            EndpointKey::Standard(key) => key.as_hmac(),
            EndpointKey::Rsa(_) => None,
        }
    }
}
