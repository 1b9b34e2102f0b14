//! Fixtures in `fixtures/` are test-only keys made with
//! `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048` (and 1024
//! for the refusal), `openssl rsa -traditional` for the PKCS#1 form and
//! `openssl pkey -pubout` for the public key. They sign nothing real.

use super::*;

const PKCS8: &str = include_str!("fixtures/rsa2048_pkcs8.pem");
const PKCS1: &str = include_str!("fixtures/rsa2048_pkcs1.pem");
const PUBLIC: &str = include_str!("fixtures/rsa2048_public.pem");
const SMALL: &str = include_str!("fixtures/rsa1024_pkcs8.pem");

fn fixture() -> RsaSigningKey {
    RsaSigningKey::parse_pem(PKCS8).unwrap_or_else(|e| panic!("fixture: {e}"))
}

#[test]
fn pkcs8_and_pkcs1_pem_are_the_same_key_and_export_openssl_s_public_key() {
    let from_pkcs8 = fixture();
    let from_pkcs1 = RsaSigningKey::parse_pem(PKCS1).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_pkcs8.bits(), 2048);
    assert_eq!(from_pkcs8.public_key_pem(), from_pkcs1.public_key_pem());
    assert_eq!(from_pkcs8.public_key_pem().trim(), PUBLIC.trim());
    // The base64 form is the PEM's body on one line (SPKI DER).
    let body: String = PUBLIC.lines().filter(|l| !l.starts_with("-----")).collect();
    assert_eq!(from_pkcs8.public_key_base64(), body);
    // Stored as PKCS#8 PEM, which parses back to the same key.
    assert!(from_pkcs1
        .expose()
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    let again = RsaSigningKey::parse_pem(from_pkcs1.expose()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.public_key_base64(), from_pkcs8.public_key_base64());
}

#[test]
fn pkcs1_v1_5_signatures_are_deterministic_and_verify() {
    let key = fixture();
    let message = b"pur_123456789|paid|brand_123456789";
    let signature = key.sign(message).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(signature.len(), 256);
    assert_eq!(key.sign(message).ok(), Some(signature.clone()));
    assert!(verify_rsa_sha256(PUBLIC, message, &signature));
    assert!(verify_rsa_sha256(
        &key.public_key_base64(),
        message,
        &signature
    ));
    assert!(!verify_rsa_sha256(
        PUBLIC,
        b"pur_123456789|failed|brand_123456789",
        &signature
    ));
    assert!(!verify_rsa_sha256("not a key", message, &signature));
}

#[test]
fn openssl_verifies_the_signature_when_it_is_installed() {
    let key = fixture();
    let message = b"pur_123456789|paid|brand_123456789";
    let signature = key.sign(message).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = |name: &str| dir.path().join(name);
    let written = std::fs::write(path("pub.pem"), PUBLIC)
        .and(std::fs::write(path("msg"), message))
        .and(std::fs::write(path("sig"), &signature));
    written.unwrap_or_else(|e| panic!("{e}"));
    let run = std::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(path("pub.pem"))
        .arg("-signature")
        .arg(path("sig"))
        .arg(path("msg"))
        .output();
    match run {
        Err(e) => println!("skipped: openssl is not runnable here ({e})"),
        Ok(out) => assert!(
            out.status.success(),
            "openssl refused: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

#[test]
fn generated_keys_have_2048_bits_and_sign_verifiably() {
    let key = RsaSigningKey::generate().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(key.bits(), NEW_RSA_BITS);
    let signature = key.sign(b"x").unwrap_or_else(|e| panic!("{e}"));
    assert!(verify_rsa_sha256(key.public_key_pem(), b"x", &signature));
    let again = RsaSigningKey::parse_pem(key.expose()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.public_key_pem(), key.public_key_pem());
}

#[test]
fn small_encrypted_and_foreign_keys_are_refused_without_echoing_them() {
    assert_eq!(
        RsaSigningKey::parse_pem(SMALL).err(),
        Some(RsaKeyError::BadSize(1024))
    );
    assert_eq!(
        RsaSigningKey::parse_pem(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----"
        )
        .err(),
        Some(RsaKeyError::Encrypted)
    );
    assert_eq!(
        RsaSigningKey::parse_pem("whsec_abc").err(),
        Some(RsaKeyError::NotPem)
    );
    let garbled = PKCS8.replace("MII", "MIJ");
    assert_eq!(
        RsaSigningKey::parse_pem(&garbled).err(),
        Some(RsaKeyError::Malformed)
    );
    assert_eq!(
        format!("{:?}", fixture()),
        "RsaSigningKey(2048 bits, [redacted])"
    );
}
