//! Signing secrets at rest: sealed with `HERALD_SECRET_KEY` before they reach
//! the database, opened only where a request is signed or a merchant reveals
//! one.
//!
//! A stored secret is either plain (`whsec_…`, as written when no key is
//! configured) or sealed: `sealed:v1:<key id>:<base64(nonce ‖ ciphertext)>`
//! with ChaCha20-Poly1305. The key id (8 hex digits of the key's SHA-256)
//! picks the key among the current and previous ones, so the key can be
//! rotated while old values are still in the database. The associated data
//! is the row the secret belongs to (`endpoint:ep_…`, `merchant:mer_…`): a
//! sealed value copied onto another row does not open.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

const SEALED_PREFIX: &str = "sealed:v1:";
const NONCE_LEN: usize = 12;
const KEY_LEN: usize = 32;

/// Why a secret-key setting or a stored secret was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// The configured key is not base64 of 32 bytes.
    #[error("a secret key must be standard base64 of 32 random bytes (`openssl rand -base64 32`)")]
    BadKey,
    /// A sealed value names a key this process was not given.
    #[error("the secret was sealed with key {0}, which is neither HERALD_SECRET_KEY nor in HERALD_SECRET_KEY_PREVIOUS")]
    UnknownKey(String),
    /// A sealed value does not open: corrupted, or moved to another row.
    #[error("a sealed secret does not open with its key (corrupted, or not this row's)")]
    Corrupt,
}

/// One key, known by the id stored beside what it sealed.
struct SealingKey {
    id: String,
    cipher: ChaCha20Poly1305,
}

impl SealingKey {
    fn from_base64(text: &str) -> Result<Self, SealError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| SealError::BadKey)?;
        if bytes.len() != KEY_LEN {
            return Err(SealError::BadKey);
        }
        let digest = Sha256::digest(&bytes);
        let id = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        Ok(SealingKey {
            id,
            cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
        })
    }
}

/// Seals and opens stored signing secrets; cheap to clone. Without a key it
/// stores secrets as they are (and still opens values sealed by a previous
/// key it was given, so a key can be retired).
#[derive(Clone, Default)]
pub struct SecretBox {
    keys: Arc<Keys>,
}

#[derive(Default)]
struct Keys {
    current: Option<SealingKey>,
    previous: Vec<SealingKey>,
}

impl SecretBox {
    /// No key: secrets are stored as they are.
    pub fn plain() -> Self {
        SecretBox::default()
    }

    /// Seals with `current` (base64 of 32 bytes) and also opens what any of
    /// `previous` sealed.
    pub fn new(current: Option<&str>, previous: &[&str]) -> Result<Self, SealError> {
        let current = current.map(SealingKey::from_base64).transpose()?;
        let previous = previous
            .iter()
            .map(|key| SealingKey::from_base64(key))
            .collect::<Result<_, _>>()?;
        Ok(SecretBox {
            keys: Arc::new(Keys { current, previous }),
        })
    }

    /// Whether new secrets are sealed.
    pub fn seals(&self) -> bool {
        self.keys.current.is_some()
    }

    /// What to store for `secret`, which belongs to `row`.
    pub fn seal(&self, secret: &str, row: &str) -> String {
        let Some(key) = &self.keys.current else {
            return secret.to_owned();
        };
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: row.as_bytes(),
        };
        // Encryption with a valid key and nonce cannot fail for inputs this
        // small (the limit is 256 GiB); a failure would be a library bug.
        let Ok(ciphertext) = key.cipher.encrypt(&nonce, payload) else {
            unreachable!("ChaCha20-Poly1305 encrypts any message under 256 GiB");
        };
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        format!("{SEALED_PREFIX}{}:{}", key.id, STANDARD.encode(sealed))
    }

    /// The secret behind a stored value of `row`.
    pub fn open(&self, stored: &str, row: &str) -> Result<String, SealError> {
        let Some(rest) = stored.strip_prefix(SEALED_PREFIX) else {
            return Ok(stored.to_owned());
        };
        let (id, sealed) = rest.split_once(':').ok_or(SealError::Corrupt)?;
        let key = self
            .keys
            .current
            .iter()
            .chain(&self.keys.previous)
            .find(|key| key.id == id)
            .ok_or_else(|| SealError::UnknownKey(id.to_owned()))?;
        let sealed = STANDARD.decode(sealed).map_err(|_| SealError::Corrupt)?;
        if sealed.len() <= NONCE_LEN {
            return Err(SealError::Corrupt);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad: row.as_bytes(),
        };
        let plain = key
            .cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| SealError::Corrupt)?;
        String::from_utf8(plain).map_err(|_| SealError::Corrupt)
    }

    /// Whether a stored value is already as `seal` would write it now (sealed
    /// with the current key, or plain when there is none): what
    /// `herald admin reseal-secrets` skips.
    pub fn is_current(&self, stored: &str) -> bool {
        match (&self.keys.current, stored.strip_prefix(SEALED_PREFIX)) {
            (Some(key), Some(rest)) => rest.split_once(':').is_some_and(|(id, _)| id == key.id),
            (None, None) => true,
            _ => false,
        }
    }

    /// The stored value re-sealed with the current key (or opened to plain
    /// text when the current key was removed).
    pub fn reseal(&self, stored: &str, row: &str) -> Result<String, SealError> {
        Ok(self.seal(&self.open(stored, row)?, row))
    }
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretBox")
            .field("current", &self.keys.current.as_ref().map(|k| &k.id))
            .field(
                "previous",
                &self.keys.previous.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The row a secret belongs to, as the associated data of its seal.
pub fn endpoint_row(id: &str) -> String {
    format!("endpoint:{id}")
}

/// The row a merchant's callback secret belongs to.
pub fn merchant_row(id: &str) -> String {
    format!("merchant:{id}")
}

/// What one custom header value of an endpoint is bound to: the endpoint and
/// the header's name, so a sealed value moved to another header (one the
/// receiver echoes back, say) or another endpoint does not open.
pub fn endpoint_header_row(endpoint_id: &str, name: &str) -> String {
    format!(
        "endpoint:{endpoint_id}:header:{}",
        name.to_ascii_lowercase()
    )
}

/// An endpoint's custom headers as stored: the names readable, each value
/// sealed on its own (plain when no key is configured, or from before one was).
impl SecretBox {
    /// What to store for an endpoint's custom headers.
    pub fn seal_headers(
        &self,
        endpoint_id: &str,
        headers: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        headers
            .iter()
            .map(|(name, value)| {
                let sealed = self.seal(value, &endpoint_header_row(endpoint_id, name));
                (name.clone(), sealed)
            })
            .collect()
    }

    /// The custom headers behind their stored values.
    pub fn open_headers(
        &self,
        endpoint_id: &str,
        stored: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, SealError> {
        stored
            .iter()
            .map(|(name, value)| {
                let plain = self.open(value, &endpoint_header_row(endpoint_id, name))?;
                Ok((name.clone(), plain))
            })
            .collect()
    }

    /// Whether every stored header value is as `seal_headers` would write it now.
    pub fn headers_are_current(&self, stored: &BTreeMap<String, String>) -> bool {
        stored.values().all(|value| self.is_current(value))
    }

    /// The stored headers re-sealed with the current key (or opened to plain
    /// text when the key was removed).
    pub fn reseal_headers(
        &self,
        endpoint_id: &str,
        stored: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, SealError> {
        Ok(self.seal_headers(endpoint_id, &self.open_headers(endpoint_id, stored)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const KEY_B: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn without_a_key_secrets_are_stored_as_they_are() {
        let plain = SecretBox::plain();
        assert_eq!(plain.seal(SECRET, "endpoint:ep_1"), SECRET);
        assert_eq!(plain.open(SECRET, "endpoint:ep_1").unwrap(), SECRET);
        assert!(plain.is_current(SECRET));
    }

    #[test]
    fn a_sealed_secret_hides_the_secret_and_opens_only_on_its_row() {
        let sealer = SecretBox::new(Some(KEY_A), &[]).unwrap();
        let sealed = sealer.seal(SECRET, "endpoint:ep_1");
        assert!(sealed.starts_with("sealed:v1:"));
        assert!(!sealed.contains("MfKQ9r8GKYqrTwjUPD8IL"));
        assert_ne!(
            sealed,
            sealer.seal(SECRET, "endpoint:ep_1"),
            "nonce is random"
        );
        assert_eq!(sealer.open(&sealed, "endpoint:ep_1").unwrap(), SECRET);
        assert_eq!(
            sealer.open(&sealed, "endpoint:ep_2"),
            Err(SealError::Corrupt),
            "moved to another row"
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(sealer.open(&tampered, "endpoint:ep_1").is_err());
    }

    #[test]
    fn plain_values_from_before_the_key_still_open() {
        let sealer = SecretBox::new(Some(KEY_A), &[]).unwrap();
        assert_eq!(sealer.open(SECRET, "endpoint:ep_1").unwrap(), SECRET);
        assert!(!sealer.is_current(SECRET));
    }

    #[test]
    fn key_rotation_opens_old_values_and_reseals_them_with_the_new_key() {
        let old = SecretBox::new(Some(KEY_A), &[]).unwrap();
        let sealed_by_a = old.seal(SECRET, "endpoint:ep_1");
        let rotated = SecretBox::new(Some(KEY_B), &[KEY_A]).unwrap();
        assert!(!rotated.is_current(&sealed_by_a));
        let resealed = rotated.reseal(&sealed_by_a, "endpoint:ep_1").unwrap();
        assert!(rotated.is_current(&resealed));
        let only_b = SecretBox::new(Some(KEY_B), &[]).unwrap();
        assert_eq!(only_b.open(&resealed, "endpoint:ep_1").unwrap(), SECRET);
        assert!(matches!(
            only_b.open(&sealed_by_a, "endpoint:ep_1"),
            Err(SealError::UnknownKey(_))
        ));
    }

    #[test]
    fn removing_the_key_opens_values_back_to_plain() {
        let sealed = SecretBox::new(Some(KEY_A), &[])
            .unwrap()
            .seal(SECRET, "merchant:mer_1");
        let retiring = SecretBox::new(None, &[KEY_A]).unwrap();
        assert_eq!(retiring.reseal(&sealed, "merchant:mer_1").unwrap(), SECRET);
    }

    #[test]
    fn header_values_are_sealed_one_by_one_and_bound_to_their_name() {
        let sealer = SecretBox::new(Some(KEY_A), &[]).unwrap();
        let headers = BTreeMap::from([
            ("Authorization".to_owned(), "Bearer rcv_secret".to_owned()),
            ("X-Tenant".to_owned(), "acme".to_owned()),
        ]);
        let stored = sealer.seal_headers("ep_1", &headers);
        assert_eq!(
            stored.keys().collect::<Vec<_>>(),
            headers.keys().collect::<Vec<_>>(),
            "the names stay readable"
        );
        assert!(stored.values().all(|v| v.starts_with("sealed:v1:")));
        assert!(!format!("{stored:?}").contains("rcv_secret"));
        assert!(sealer.headers_are_current(&stored));
        assert_eq!(sealer.open_headers("ep_1", &stored).unwrap(), headers);
        assert!(
            sealer.open_headers("ep_2", &stored).is_err(),
            "another endpoint"
        );
        // A value moved under another name does not open.
        let swapped = BTreeMap::from([("X-Tenant".to_owned(), stored["Authorization"].clone())]);
        assert_eq!(
            sealer.open_headers("ep_1", &swapped),
            Err(SealError::Corrupt)
        );
        // Plain values from before the key still open, and are not current.
        assert!(!sealer.headers_are_current(&headers));
        assert_eq!(sealer.open_headers("ep_1", &headers).unwrap(), headers);
        let resealed = sealer.reseal_headers("ep_1", &headers).unwrap();
        assert!(sealer.headers_are_current(&resealed));
        assert_eq!(sealer.open_headers("ep_1", &resealed).unwrap(), headers);
    }

    #[test]
    fn a_bad_key_is_refused() {
        assert_eq!(
            SecretBox::new(Some("c2hvcnQ="), &[]).unwrap_err(),
            SealError::BadKey
        );
        assert_eq!(
            SecretBox::new(Some("not base64!"), &[]).unwrap_err(),
            SealError::BadKey
        );
    }

    #[test]
    fn debug_shows_key_ids_only() {
        let sealer = SecretBox::new(Some(KEY_A), &[KEY_B]).unwrap();
        let shown = format!("{sealer:?}");
        assert!(!shown.contains(KEY_A) && !shown.contains(KEY_B));
    }
}
