//! Standard Webhooks signing: `v1,` + base64 of HMAC-SHA256 over
//! `{msg_id}.{timestamp}.{body}`, keyed with the secret's decoded bytes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "whsec_";
const MIN_KEY_LEN: usize = 24;
const MAX_KEY_LEN: usize = 64;
/// Bytes in a newly generated secret.
pub const NEW_KEY_LEN: usize = 32;

/// Why a secret string is not a signing secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a signing secret starts with `whsec_`")]
    MissingPrefix,
    #[error("the secret after `whsec_` is not valid base64")]
    NotBase64,
    #[error("the secret must decode to {MIN_KEY_LEN}..={MAX_KEY_LEN} bytes, not {0}")]
    BadLength(usize),
}

/// An endpoint's HMAC key. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret {
    key: Vec<u8>,
}

impl SigningSecret {
    /// A new random secret of 32 bytes from the OS generator.
    pub fn generate() -> Self {
        let mut key = vec![0u8; NEW_KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut key);
        SigningSecret { key }
    }

    /// Parses `whsec_<base64>`.
    pub fn parse(s: &str) -> Result<Self, SecretError> {
        let encoded = s
            .trim()
            .strip_prefix(PREFIX)
            .ok_or(SecretError::MissingPrefix)?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::NotBase64)?;
        if !(MIN_KEY_LEN..=MAX_KEY_LEN).contains(&key.len()) {
            return Err(SecretError::BadLength(key.len()));
        }
        Ok(SigningSecret { key })
    }

    /// The `whsec_…` text, to store or show to its merchant.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.key))
    }

    fn mac(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = HmacSha256::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret([redacted])")
    }
}

/// One signature: `v1,<base64>`.
pub fn sign(secret: &SigningSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = secret.mac(msg_id, timestamp, body).finalize().into_bytes();
    format!("v1,{}", STANDARD.encode(tag))
}

/// The `webhook-signature` header: one signature per secret, space-separated,
/// current secret first (a rotated-out secret signs too during its grace period).
pub fn signature_header(
    secrets: &[&SigningSecret],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|s| sign(s, msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether any `v1,` signature in `header` was made with `secret` (constant-time compare).
pub fn verify(
    secret: &SigningSecret,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
    header: &str,
) -> bool {
    header.split_whitespace().any(|candidate| {
        let Some(encoded) = candidate.strip_prefix("v1,") else {
            return false;
        };
        let Ok(tag) = STANDARD.decode(encoded) else {
            return false;
        };
        secret
            .mac(msg_id, timestamp, body)
            .verify_slice(&tag)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example in the Standard Webhooks specification.
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TS: i64 = 1614265330;
    const SPEC_BODY: &str = r#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn matches_the_specification_example() {
        let secret = SigningSecret::parse(SPEC_SECRET).unwrap();
        assert_eq!(
            sign(&secret, SPEC_ID, SPEC_TS, SPEC_BODY.as_bytes()),
            SPEC_SIGNATURE
        );
        assert!(verify(
            &secret,
            SPEC_ID,
            SPEC_TS,
            SPEC_BODY.as_bytes(),
            SPEC_SIGNATURE
        ));
        assert!(!verify(
            &secret,
            SPEC_ID,
            SPEC_TS + 1,
            SPEC_BODY.as_bytes(),
            SPEC_SIGNATURE
        ));
        assert!(!verify(&secret, SPEC_ID, SPEC_TS, b"{}", SPEC_SIGNATURE));
    }

    #[test]
    fn both_secrets_sign_during_rotation() {
        let old = SigningSecret::generate();
        let new = SigningSecret::generate();
        let header = signature_header(&[&new, &old], "evt_1", 1, b"{}");
        assert_eq!(header.split(' ').count(), 2);
        assert!(header.starts_with(&sign(&new, "evt_1", 1, b"{}")));
        assert!(verify(&old, "evt_1", 1, b"{}", &header));
        assert!(verify(&new, "evt_1", 1, b"{}", &header));
        assert!(!verify(
            &SigningSecret::generate(),
            "evt_1",
            1,
            b"{}",
            &header
        ));
    }

    #[test]
    fn round_trips_and_refuses_malformed_secrets() {
        let secret = SigningSecret::generate();
        assert_eq!(SigningSecret::parse(&secret.expose()).unwrap(), secret);
        assert_eq!(
            SigningSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            Err(SecretError::MissingPrefix)
        );
        assert_eq!(
            SigningSecret::parse("whsec_***"),
            Err(SecretError::NotBase64)
        );
        assert_eq!(
            SigningSecret::parse("whsec_c2hvcnQ="),
            Err(SecretError::BadLength(5))
        );
        assert!(!format!("{secret:?}").contains(&secret.expose()[6..]));
    }
}
