//! RSA signing keys for delivery profiles that sign with RSA-SHA256
//! (RSASSA-PKCS1-v1_5, Java's `SHA256withRSA`; seed 004). Signing is ring's
//! `RsaKeyPair`, which is constant-time and blinded. The `rsa` crate only
//! generates keys and converts encodings: its own private-key operations are
//! not constant-time (RUSTSEC-2023-0071), so they are never called here.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::signature::{RsaKeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use std::fmt;

/// Smallest modulus accepted, generated or imported (NIST's floor, and ring's).
pub const MIN_RSA_BITS: usize = 2048;
/// Largest modulus accepted: ring signs with keys up to this size.
pub const MAX_RSA_BITS: usize = 4096;
/// Modulus of a newly generated key.
pub const NEW_RSA_BITS: usize = 2048;

/// Why a key cannot be used (never echoes the key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RsaKeyError {
    /// Not PEM of an unencrypted RSA private key.
    #[error("expected a PEM private key: `BEGIN PRIVATE KEY` (PKCS#8) or `BEGIN RSA PRIVATE KEY` (PKCS#1)")]
    NotPem,
    /// An encrypted PKCS#8 key: Herald needs it in the clear to seal it itself.
    #[error("the key is encrypted; export it unencrypted (Herald seals it at rest)")]
    Encrypted,
    /// PEM, but not a well-formed RSA private key.
    #[error("the PEM does not hold a valid RSA private key")]
    Malformed,
    /// A modulus outside what Herald signs with.
    #[error("the key has {0} bits; {MIN_RSA_BITS} to {MAX_RSA_BITS} are accepted")]
    BadSize(usize),
    /// ring refused the key (e.g. an unusual public exponent).
    #[error("the key cannot sign: {0}")]
    Rejected(String),
    /// The generator failed (the OS random source).
    #[error("could not generate an RSA key")]
    Generation,
}

/// Why a signature could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("RSA signing failed")]
pub struct RsaSignError;

/// An endpoint's RSA private key. It never leaves Herald except sealed;
/// merchants get the public key, as PEM or as base64 DER.
pub struct RsaSigningKey {
    pair: RsaKeyPair,
    /// PKCS#8 PEM: what is stored (sealed).
    private_pem: String,
    /// SubjectPublicKeyInfo DER: what Java's `X509EncodedKeySpec` takes.
    public_der: Vec<u8>,
    public_pem: String,
    bits: usize,
}

impl RsaSigningKey {
    /// A new key of `NEW_RSA_BITS` from the OS generator.
    pub fn generate() -> Result<Self, RsaKeyError> {
        let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, NEW_RSA_BITS)
            .map_err(|_| RsaKeyError::Generation)?;
        Self::from_private(&key)
    }

    /// Parses an unencrypted RSA private key in PEM, PKCS#8 or PKCS#1, of
    /// `MIN_RSA_BITS` to `MAX_RSA_BITS` bits (a pasted key's surrounding
    /// whitespace forgiven).
    pub fn parse_pem(pem: &str) -> Result<Self, RsaKeyError> {
        let pem = pem.trim();
        let key = if pem.starts_with("-----BEGIN PRIVATE KEY-----") {
            RsaPrivateKey::from_pkcs8_pem(pem).map_err(|_| RsaKeyError::Malformed)?
        } else if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
            RsaPrivateKey::from_pkcs1_pem(pem).map_err(|_| RsaKeyError::Malformed)?
        } else if pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(RsaKeyError::Encrypted);
        } else {
            return Err(RsaKeyError::NotPem);
        };
        Self::from_private(&key)
    }

    fn from_private(key: &RsaPrivateKey) -> Result<Self, RsaKeyError> {
        let bits = key.n().bits();
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(RsaKeyError::BadSize(bits));
        }
        let der = key.to_pkcs8_der().map_err(|_| RsaKeyError::Malformed)?;
        let pair = RsaKeyPair::from_pkcs8(der.as_bytes())
            .map_err(|e| RsaKeyError::Rejected(e.to_string()))?;
        let private_pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| RsaKeyError::Malformed)?
            .to_string();
        let public = key.to_public_key();
        let public_der = public
            .to_public_key_der()
            .map_err(|_| RsaKeyError::Malformed)?
            .as_bytes()
            .to_vec();
        let public_pem = public
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| RsaKeyError::Malformed)?;
        Ok(RsaSigningKey {
            pair,
            private_pem,
            public_der,
            public_pem,
            bits,
        })
    }

    /// The PKCS#8 PEM, to store (sealed when a secret key is configured).
    pub fn expose(&self) -> &str {
        &self.private_pem
    }

    /// The public key as `BEGIN PUBLIC KEY` PEM (SubjectPublicKeyInfo).
    pub fn public_key_pem(&self) -> &str {
        &self.public_pem
    }

    /// The public key as base64 of its SubjectPublicKeyInfo DER, the form
    /// Java's `X509EncodedKeySpec` and most dashboards take.
    pub fn public_key_base64(&self) -> String {
        STANDARD.encode(&self.public_der)
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// RSASSA-PKCS1-v1_5 SHA-256 signature of `message` (ring, constant-time).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, RsaSignError> {
        let rng = ring::rand::SystemRandom::new();
        let mut signature = vec![0u8; self.pair.public().modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
            .map_err(|_| RsaSignError)?;
        Ok(signature)
    }
}

impl fmt::Debug for RsaSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaSigningKey({} bits, [redacted])", self.bits)
    }
}

/// Whether `signature` is a valid SHA256withRSA signature of `message` under
/// a `BEGIN PUBLIC KEY` PEM or base64 SPKI DER public key. The merchant's
/// side of the exchange, for tests and the docs' examples.
pub fn verify_rsa_sha256(public_key: &str, message: &[u8], signature: &[u8]) -> bool {
    let public_key = public_key.trim();
    let parsed = if public_key.starts_with("-----BEGIN PUBLIC KEY-----") {
        RsaPublicKey::from_public_key_pem(public_key).ok()
    } else {
        STANDARD
            .decode(public_key)
            .ok()
            .and_then(|der| RsaPublicKey::from_public_key_der(&der).ok())
    };
    let Some(pkcs1) = parsed.and_then(|key| key.to_pkcs1_der().ok()) else {
        return false;
    };
    ring::signature::UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pkcs1.as_bytes())
        .verify(message, signature)
        .is_ok()
}

#[cfg(test)]
#[path = "rsa_key_tests.rs"]
mod tests;
