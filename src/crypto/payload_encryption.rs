//! Optional payload encryption, for merchants whose receivers were written
//! for providers that send `{"data": "<AES-256-CBC>"}`: the envelope is
//! encrypted with the endpoint's 32-byte key, a fresh random IV each time,
//! PKCS#7 padding, and sent as `{"data":"<base64>","iv":"<base64>"}`.
//!
//! CBC is not authenticated on its own; here the Standard Webhooks signature
//! covers the encrypted body, so a receiver that verifies before it
//! decrypts never feeds tampered ciphertext to its decryptor.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;
use std::fmt;

type Aes256CbcEncryptor = cbc::Encryptor<aes::Aes256>;

/// Bytes in an AES-256 key.
const KEY_LEN: usize = 32;
/// Bytes in an AES block, and so in the IV.
const IV_LEN: usize = 16;

/// Why a stored text is not an encryption key (never echoes the key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncryptionKeyError {
    #[error("an encryption key is standard base64 of 32 bytes")]
    Malformed,
}

/// An endpoint's AES-256 key, shown to its merchant as standard base64.
/// `Debug` never prints it.
#[derive(Clone)]
pub struct EncryptionKey {
    key: [u8; KEY_LEN],
}

impl EncryptionKey {
    /// A new random key from the OS generator.
    pub fn generate() -> Self {
        let mut key = [0u8; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut key);
        EncryptionKey { key }
    }

    /// Parses standard base64 of 32 bytes.
    pub fn parse(s: &str) -> Result<Self, EncryptionKeyError> {
        let bytes = STANDARD
            .decode(s.trim())
            .map_err(|_| EncryptionKeyError::Malformed)?;
        let key = bytes
            .as_slice()
            .try_into()
            .map_err(|_| EncryptionKeyError::Malformed)?;
        Ok(EncryptionKey { key })
    }

    /// The base64 text, to store (sealed) and to show to its merchant.
    pub fn expose(&self) -> String {
        STANDARD.encode(self.key)
    }

    /// The body sent in place of `plaintext`, with a new random IV.
    pub fn encrypt_body(&self, plaintext: &[u8]) -> String {
        let mut iv = [0u8; IV_LEN];
        rand::rngs::OsRng.fill_bytes(&mut iv);
        self.encrypt_body_with_iv(plaintext, iv)
    }

    fn encrypt_body_with_iv(&self, plaintext: &[u8], iv: [u8; IV_LEN]) -> String {
        let ciphertext = Aes256CbcEncryptor::new(&self.key.into(), &iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(plaintext);
        format!(
            r#"{{"data":"{}","iv":"{}"}}"#,
            STANDARD.encode(ciphertext),
            STANDARD.encode(iv)
        )
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of_bytes() -> EncryptionKey {
        let bytes: Vec<u8> = (0..32).collect();
        EncryptionKey::parse(&STANDARD.encode(bytes)).expect("32 bytes")
    }

    #[test]
    fn matches_an_independent_vector() {
        // Computed independently with the openssl command line:
        //   printf '{"id":"evt_1"}' | openssl enc -aes-256-cbc -nosalt -base64 \
        //     -K 000102…1e1f (the key bytes 0..32) -iv 0f0e0d0c0b0a09080706050403020100
        let iv: [u8; 16] = core::array::from_fn(|i| 15 - i as u8);
        let body = key_of_bytes().encrypt_body_with_iv(br#"{"id":"evt_1"}"#, iv);
        assert_eq!(
            body,
            r#"{"data":"RTrUAzWWmEcf7WZuWY2wUA==","iv":"Dw4NDAsKCQgHBgUEAwIBAA=="}"#
        );
    }

    #[test]
    fn each_body_has_its_own_iv_and_is_valid_json() {
        let key = key_of_bytes();
        let a = key.encrypt_body(b"{}");
        let b = key.encrypt_body(b"{}");
        assert_ne!(a, b, "a fresh IV each time");
        let parsed: serde_json::Value = serde_json::from_str(&a).expect("JSON");
        let iv = STANDARD
            .decode(parsed["iv"].as_str().expect("iv"))
            .expect("base64");
        assert_eq!(iv.len(), IV_LEN);
        let data = STANDARD
            .decode(parsed["data"].as_str().expect("data"))
            .expect("base64");
        assert_eq!(data.len(), 16, "2 bytes pad to one block");
    }

    #[test]
    fn keys_round_trip_and_refuse_other_lengths() {
        let key = EncryptionKey::generate();
        assert_eq!(
            EncryptionKey::parse(&key.expose()).expect("parse").expose(),
            key.expose()
        );
        for bad in ["", "not base64!", "c2hvcnQ=", &STANDARD.encode([0u8; 31])] {
            assert_eq!(
                EncryptionKey::parse(bad).map(|k| k.expose()),
                Err(EncryptionKeyError::Malformed)
            );
        }
        assert_eq!(format!("{key:?}"), "EncryptionKey([redacted])");
    }
}
