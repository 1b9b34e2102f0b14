//! Standard Webhooks signing: `v1,` + base64 of HMAC-SHA256 over
//! `{msg_id}.{timestamp}.{body}`, keyed with the secret's decoded bytes, so
//! that receivers can verify with any Standard Webhooks library; or, for
//! endpoints that chose it, `v1a,` + base64 of an Ed25519 signature of the
//! same message, which the merchant verifies with the public key alone.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use herald_app::model::endpoint::SignatureScheme;
use herald_app::model::profile::HmacKey;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

/// The prefix every secret carries, as in the Standard Webhooks spec.
pub const SECRET_PREFIX: &str = "whsec_";
/// Shortest key accepted: the spec's lower bound, and enough for HMAC-SHA256.
pub const MIN_KEY_LEN: usize = 24;
/// Longest key accepted: the spec's upper bound (one SHA-256 block).
pub const MAX_KEY_LEN: usize = 64;
/// Bytes in a newly generated secret.
pub const NEW_KEY_LEN: usize = 32;

/// Standard alphabet; padding optional because secrets made elsewhere
/// are sometimes copied without their trailing `=`.
const SECRET_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a string is not a signing secret (never echoes the secret itself).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No `whsec_` in front.
    #[error("a signing secret starts with `whsec_`")]
    MissingPrefix,
    /// Not standard base64 after the prefix.
    #[error("the secret after `whsec_` is not valid standard base64")]
    NotBase64,
    /// Decodes to a key of the wrong size.
    #[error("the secret must decode to {MIN_KEY_LEN} to {MAX_KEY_LEN} bytes, not {0}")]
    BadLength(usize),
}

/// How a secret a merchant brought is stored when it is not a `whsec_`
/// secret as Herald writes them: this prefix and the text as given, so that
/// the stored form never reads as another kind of key.
pub const HELD_SECRET_PREFIX: &str = "whtxt_";
/// Longest secret a merchant may bring.
pub const MAX_HELD_SECRET_CHARS: usize = 256;

/// Why a secret a merchant brings is refused (never echoes it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeldSecretError {
    #[error("is empty; give the secret your receiver already holds, or leave `secret` out for a generated one")]
    Empty,
    #[error("is {0} characters long; at most {MAX_HELD_SECRET_CHARS} are accepted")]
    TooLong(usize),
    #[error("holds a line break, tab or other control character; only printable characters are accepted")]
    NotPrintable,
}

/// An endpoint's HMAC key. `Debug` never prints it, and there is no
/// `PartialEq`, so secrets are never compared in variable time.
#[derive(Clone)]
pub struct SigningSecret {
    /// The Standard Webhooks key: the bytes after `whsec_` decoded, or, for
    /// a brought secret that is not a `whsec_` one, the text's UTF-8 bytes.
    key: Vec<u8>,
    /// A secret the merchant brought, exactly as its receiver holds it,
    /// when that differs from Herald's own `whsec_` text of `key`.
    held: Option<String>,
}

impl SigningSecret {
    /// A new random secret of 32 bytes from the OS generator.
    pub fn generate() -> Self {
        let mut key = vec![0u8; NEW_KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut key);
        SigningSecret { key, held: None }
    }

    /// A secret the merchant's receiver already holds, kept exactly (only
    /// surrounding whitespace, from pasting, is dropped): any printable
    /// text of 1 to `MAX_HELD_SECRET_CHARS` characters. A `whsec_` secret
    /// (base64 of 24 to 64 bytes) keys Standard Webhooks signatures with
    /// its decoded bytes, as the specification says; any other text with
    /// its UTF-8 bytes. Profiles keyed with the text itself
    /// (`hmac_key: text`) and the legacy header use the text as given.
    pub fn held(text: &str) -> Result<Self, HeldSecretError> {
        let text = text.trim();
        let chars = text.chars().count();
        if chars == 0 {
            return Err(HeldSecretError::Empty);
        }
        if chars > MAX_HELD_SECRET_CHARS {
            return Err(HeldSecretError::TooLong(chars));
        }
        if text.chars().any(char::is_control) {
            return Err(HeldSecretError::NotPrintable);
        }
        Ok(match SigningSecret::parse(text) {
            Ok(secret) if secret.expose() == text => secret,
            Ok(secret) => SigningSecret {
                key: secret.key,
                held: Some(text.to_owned()),
            },
            Err(_) => SigningSecret {
                key: text.as_bytes().to_vec(),
                held: Some(text.to_owned()),
            },
        })
    }

    /// Parses `whsec_<standard base64>` of a 24- to 64-byte key.
    pub fn parse(s: &str) -> Result<Self, SecretError> {
        let key = decode_prefixed(s, SECRET_PREFIX)?;
        if !(MIN_KEY_LEN..=MAX_KEY_LEN).contains(&key.len()) {
            return Err(SecretError::BadLength(key.len()));
        }
        Ok(SigningSecret { key, held: None })
    }

    /// The secret as its merchant holds it, to show: the `whsec_…` text
    /// (padded), or a brought secret exactly as it was given.
    pub fn expose(&self) -> String {
        match &self.held {
            Some(text) => text.clone(),
            None => format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.key)),
        }
    }

    /// The text to store: `expose()`, with `HELD_SECRET_PREFIX` before a
    /// brought secret (which may look like any other kind of key).
    pub fn to_stored(&self) -> String {
        match &self.held {
            Some(text) => format!("{HELD_SECRET_PREFIX}{text}"),
            None => self.expose(),
        }
    }

    /// HMAC-SHA256 of `message`, keyed as a delivery profile says: with the
    /// decoded bytes (Standard Webhooks) or with the `whsec_…` text as the
    /// merchant copies it (receivers written as `createHmac('sha256', secret)`).
    pub fn hmac_sha256(&self, key: HmacKey, message: &[u8]) -> Vec<u8> {
        let text;
        let key_bytes: &[u8] = match key {
            HmacKey::Decoded => &self.key,
            HmacKey::Text => {
                text = self.expose();
                text.as_bytes()
            }
        };
        let mut mac = match HmacSha256::new_from_slice(key_bytes) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }

    fn mac(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        // HMAC takes keys of any length, so this branch is dead; no panic
        // path depends on input.
        let mut mac = match HmacSha256::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

/// The bytes of a `<prefix><standard base64>` key, surrounding whitespace
/// (a pasted key) forgiven.
fn decode_prefixed(s: &str, prefix: &str) -> Result<Vec<u8>, SecretError> {
    let encoded = s
        .trim()
        .strip_prefix(prefix)
        .ok_or(SecretError::MissingPrefix)?;
    SECRET_BASE64
        .decode(encoded)
        .map_err(|_| SecretError::NotBase64)
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret([redacted])")
    }
}

/// One signature: `v1,<base64(HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}"))>`.
pub fn sign(secret: &SigningSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = secret.mac(msg_id, timestamp, body).finalize().into_bytes();
    format!("v1,{}", STANDARD.encode(tag))
}

/// The `webhook-signature` header: one signature per key, space-separated,
/// current key first (a rotated-out key signs too during its grace period,
/// even when the rotation changed the scheme).
pub fn signature_header(keys: &[&SigningKey], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|key| key.sign(msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The prefix of an Ed25519 private key as Herald stores it.
pub const ED25519_SECRET_PREFIX: &str = "whsk_";
/// The prefix of an Ed25519 public key as merchants see it.
pub const ED25519_PUBLIC_PREFIX: &str = "whpk_";
/// Bytes in an Ed25519 seed (the private key) and in a public key.
const ED25519_KEY_LEN: usize = 32;

/// An endpoint's Ed25519 private key (`whsk_` + base64 of the 32-byte
/// seed). It never leaves Herald; merchants get `public_key()`.
pub struct Ed25519Key {
    seed: [u8; ED25519_KEY_LEN],
    pair: ring::signature::Ed25519KeyPair,
}

impl Ed25519Key {
    /// A new key from the OS generator.
    pub fn generate() -> Self {
        let mut seed = [0u8; ED25519_KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut seed);
        Self::from_seed(seed)
    }

    fn from_seed(seed: [u8; ED25519_KEY_LEN]) -> Self {
        // Any 32 bytes are a valid Ed25519 seed, so this cannot fail.
        let pair = match ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed) {
            Ok(pair) => pair,
            Err(_) => unreachable!("every 32-byte seed is an Ed25519 private key"),
        };
        Ed25519Key { seed, pair }
    }

    /// Parses `whsk_<standard base64 of 32 bytes>`.
    pub fn parse(s: &str) -> Result<Self, SecretError> {
        let bytes = decode_prefixed(s, ED25519_SECRET_PREFIX)?;
        let seed: [u8; ED25519_KEY_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SecretError::BadLength(bytes.len()))?;
        Ok(Self::from_seed(seed))
    }

    /// The `whsk_…` text, to store (sealed when a secret key is configured).
    pub fn expose(&self) -> String {
        format!("{ED25519_SECRET_PREFIX}{}", STANDARD.encode(self.seed))
    }

    /// The `whpk_…` public key the merchant verifies with.
    pub fn public_key(&self) -> String {
        use ring::signature::KeyPair;
        format!(
            "{ED25519_PUBLIC_PREFIX}{}",
            STANDARD.encode(self.pair.public_key().as_ref())
        )
    }

    /// The raw 64-byte Ed25519 signature of `message` (delivery profiles).
    pub fn sign_message(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }

    fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let message = signed_content(msg_id, timestamp, body);
        format!("v1a,{}", STANDARD.encode(self.pair.sign(&message).as_ref()))
    }
}

impl fmt::Debug for Ed25519Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ed25519Key([redacted])")
    }
}

/// `{msg_id}.{timestamp}.{body}`: what every scheme signs.
pub fn signed_content(msg_id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(msg_id.len() + 22 + body.len());
    message.extend_from_slice(msg_id.as_bytes());
    message.push(b'.');
    message.extend_from_slice(timestamp.to_string().as_bytes());
    message.push(b'.');
    message.extend_from_slice(body);
    message
}

/// An endpoint's signing key, of either scheme; the stored text says which
/// (`whsec_` HMAC, `whsk_` Ed25519).
#[derive(Debug)]
pub enum SigningKey {
    Hmac(SigningSecret),
    Ed25519(Ed25519Key),
}

impl SigningKey {
    /// A new key of `scheme`.
    pub fn generate(scheme: SignatureScheme) -> Self {
        match scheme {
            SignatureScheme::Hmac => SigningKey::Hmac(SigningSecret::generate()),
            SignatureScheme::Ed25519 => SigningKey::Ed25519(Ed25519Key::generate()),
        }
    }

    /// Parses a stored key of either scheme (`to_stored`'s text).
    pub fn parse(s: &str) -> Result<Self, SecretError> {
        if let Some(text) = s.strip_prefix(HELD_SECRET_PREFIX) {
            // Checked when it was brought; a stored one that no longer
            // passes is corrupt, reported without the text.
            SigningSecret::held(text)
                .map(SigningKey::Hmac)
                .map_err(|_| SecretError::MissingPrefix)
        } else if s.trim_start().starts_with(ED25519_SECRET_PREFIX) {
            Ed25519Key::parse(s).map(SigningKey::Ed25519)
        } else {
            SigningSecret::parse(s).map(SigningKey::Hmac)
        }
    }

    /// The text to store.
    pub fn expose(&self) -> String {
        match self {
            SigningKey::Hmac(secret) => secret.to_stored(),
            SigningKey::Ed25519(key) => key.expose(),
        }
    }

    /// The HMAC secret, for the legacy body signature (HMAC endpoints only).
    pub fn as_hmac(&self) -> Option<&SigningSecret> {
        match self {
            SigningKey::Hmac(secret) => Some(secret),
            SigningKey::Ed25519(_) => None,
        }
    }

    /// The public key merchants verify with (Ed25519 only).
    pub fn public_key(&self) -> Option<String> {
        match self {
            SigningKey::Hmac(_) => None,
            SigningKey::Ed25519(key) => Some(key.public_key()),
        }
    }

    /// One signature of this key: `v1,…` or `v1a,…`.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        match self {
            SigningKey::Hmac(secret) => sign(secret, msg_id, timestamp, body),
            SigningKey::Ed25519(key) => key.sign(msg_id, timestamp, body),
        }
    }
}

/// Whether any `v1a,` signature in `header` verifies with the `whpk_`
/// public key over this message. For tests and the docs' examples; the
/// merchant's side of the exchange.
pub fn verify_ed25519(
    public_key: &str,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
    header: &str,
) -> bool {
    let Some(key) = public_key
        .strip_prefix(ED25519_PUBLIC_PREFIX)
        .and_then(|encoded| STANDARD.decode(encoded).ok())
    else {
        return false;
    };
    let key = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key);
    let message = signed_content(msg_id, timestamp, body);
    header.split_whitespace().any(|candidate| {
        candidate
            .strip_prefix("v1a,")
            .and_then(|encoded| STANDARD.decode(encoded).ok())
            .is_some_and(|signature| key.verify(&message, &signature).is_ok())
    })
}

/// The opt-in legacy signature, `sha256=<hex HMAC-SHA256(secret, body)>`,
/// for receivers written for providers that sign the body alone. The key is
/// the secret's text as the merchant copies it (`whsec_…`), so their
/// existing `createHmac('sha256', secret).update(body)` code works as is.
/// It covers the body only, so it cannot refuse a replayed message; the
/// Standard Webhooks signature sent beside it can.
pub fn legacy_signature(secret: &SigningSecret, body: &[u8]) -> String {
    let key = secret.expose();
    let mut mac = match HmacSha256::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Whether any `v1,` signature in `header` was made with `secret` over this
/// message; each comparison is constant-time. Does not check the
/// timestamp's age: that is the receiver's policy, not the signature's.
pub fn verify(
    secret: &SigningSecret,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
    header: &str,
) -> bool {
    header.split_whitespace().any(|candidate| {
        // Unknown versions are skipped, as the spec asks, not treated as errors.
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
#[path = "signing_tests.rs"]
mod tests;
