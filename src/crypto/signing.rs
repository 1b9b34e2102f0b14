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

/// An endpoint's HMAC key. `Debug` never prints it, and there is no
/// `PartialEq`, so secrets are never compared in variable time.
#[derive(Clone)]
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

    /// Parses `whsec_<standard base64>` of a 24- to 64-byte key.
    pub fn parse(s: &str) -> Result<Self, SecretError> {
        let key = decode_prefixed(s, SECRET_PREFIX)?;
        if !(MIN_KEY_LEN..=MAX_KEY_LEN).contains(&key.len()) {
            return Err(SecretError::BadLength(key.len()));
        }
        Ok(SigningSecret { key })
    }

    /// The `whsec_…` text (padded), to store or to show to its merchant.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.key))
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
fn signed_content(msg_id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
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

    /// Parses a stored key of either scheme.
    pub fn parse(s: &str) -> Result<Self, SecretError> {
        if s.trim_start().starts_with(ED25519_SECRET_PREFIX) {
            Ed25519Key::parse(s).map(SigningKey::Ed25519)
        } else {
            SigningSecret::parse(s).map(SigningKey::Hmac)
        }
    }

    /// The text to store.
    pub fn expose(&self) -> String {
        match self {
            SigningKey::Hmac(secret) => secret.expose(),
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
mod tests {
    use super::*;

    // The example in the Standard Webhooks specification.
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TS: i64 = 1614265330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    // Key bytes 0..32; signatures computed independently with Python's hmac.
    const BYTES_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const ENVELOPE: &str =
        r#"{"id":"evt_1","type":"payin.succeeded","data":{"amount":"12.50","note":"café"}}"#;
    const ENVELOPE_SIGNATURE: &str = "v1,vyLFYt10GGhZwrQqHJB/Ig2O391CzItZBPmPvBf7D/k=";
    const EMPTY_SIGNATURE: &str = "v1,hPGSFV2ro91a8eWT1tl8cxjs6G66TT61lHTvjDHNIvY=";

    fn secret(s: &str) -> SigningSecret {
        SigningSecret::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn matches_the_specification_example() {
        let spec = secret(SPEC_SECRET);
        assert_eq!(sign(&spec, SPEC_ID, SPEC_TS, SPEC_BODY), SPEC_SIGNATURE);
        assert!(verify(&spec, SPEC_ID, SPEC_TS, SPEC_BODY, SPEC_SIGNATURE));
        assert_eq!(spec.expose(), SPEC_SECRET);
    }

    #[test]
    fn matches_independent_vectors() {
        let key = secret(BYTES_SECRET);
        assert_eq!(
            sign(&key, "evt_1", 1723732200, ENVELOPE.as_bytes()),
            ENVELOPE_SIGNATURE
        );
        assert_eq!(sign(&key, "evt_1", -1, b""), EMPTY_SIGNATURE);
        // Padding is optional on input, always written on output.
        let unpadded = secret(BYTES_SECRET.trim_end_matches('='));
        assert_eq!(unpadded.expose(), BYTES_SECRET);
        assert_eq!(sign(&unpadded, "evt_1", -1, b""), EMPTY_SIGNATURE);
    }

    #[test]
    fn the_legacy_signature_is_the_hex_hmac_of_the_body_keyed_by_the_secret_text() {
        // Computed independently: Python's
        // hmac.new(b"whsec_MfKQ…", b'{"test": 2432232314}', sha256).hexdigest()
        assert_eq!(
            legacy_signature(&secret(SPEC_SECRET), SPEC_BODY),
            "sha256=80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c"
        );
    }

    #[test]
    fn verify_refuses_any_change() {
        let spec = secret(SPEC_SECRET);
        let ok = |id: &str, ts: i64, body: &[u8], header: &str| verify(&spec, id, ts, body, header);
        assert!(!ok(SPEC_ID, SPEC_TS + 1, SPEC_BODY, SPEC_SIGNATURE));
        assert!(!ok("msg_other", SPEC_TS, SPEC_BODY, SPEC_SIGNATURE));
        assert!(!ok(
            SPEC_ID,
            SPEC_TS,
            br#"{"test": 2432232315}"#,
            SPEC_SIGNATURE
        ));
        assert!(!ok(
            SPEC_ID,
            SPEC_TS,
            SPEC_BODY,
            &SPEC_SIGNATURE.replace("v1,", "v2,")
        ));
        assert!(!ok(SPEC_ID, SPEC_TS, SPEC_BODY, &SPEC_SIGNATURE[..20]));
        assert!(!ok(SPEC_ID, SPEC_TS, SPEC_BODY, "v1,not base64!"));
        assert!(!ok(SPEC_ID, SPEC_TS, SPEC_BODY, ""));
        assert!(!verify(
            &secret(BYTES_SECRET),
            SPEC_ID,
            SPEC_TS,
            SPEC_BODY,
            SPEC_SIGNATURE
        ));
        // Other versions and junk around a good signature are skipped.
        let mixed = format!("v1a,abc  {SPEC_SIGNATURE} v2,xyz");
        assert!(ok(SPEC_ID, SPEC_TS, SPEC_BODY, &mixed));
    }

    #[test]
    fn both_secrets_sign_during_rotation() {
        let old = SigningKey::Hmac(secret(SPEC_SECRET));
        let new = SigningKey::Hmac(secret(BYTES_SECRET));
        let header = signature_header(&[&new, &old], SPEC_ID, SPEC_TS, SPEC_BODY);
        let expected = format!("{} {SPEC_SIGNATURE}", new.sign(SPEC_ID, SPEC_TS, SPEC_BODY));
        assert_eq!(header, expected, "current first, space-separated");
        for each in [SPEC_SECRET, BYTES_SECRET] {
            assert!(verify(&secret(each), SPEC_ID, SPEC_TS, SPEC_BODY, &header));
        }
        let stranger = SigningSecret::generate();
        assert!(!verify(&stranger, SPEC_ID, SPEC_TS, SPEC_BODY, &header));
        assert_eq!(
            signature_header(&[&old], SPEC_ID, SPEC_TS, SPEC_BODY),
            SPEC_SIGNATURE
        );
        assert_eq!(signature_header(&[], SPEC_ID, SPEC_TS, SPEC_BODY), "");
    }

    // RFC 8032, section 7.1, TEST 2: the seed, its public key, and the
    // signature of the one-byte message 0x72.
    const RFC8032_SEED: &str = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
    const RFC8032_PUBLIC: &str = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
    const RFC8032_SIGNATURE: &str = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
                                     085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

    fn unhex(hex: &str) -> Vec<u8> {
        let hex: String = hex.split_whitespace().collect();
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn ed25519_matches_rfc_8032() {
        let seed = unhex(RFC8032_SEED);
        let key = SigningKey::parse(&format!("whsk_{}", STANDARD.encode(&seed))).expect("whsk_");
        let SigningKey::Ed25519(key) = key else {
            panic!("whsk_ parses as Ed25519")
        };
        assert_eq!(
            key.public_key(),
            format!("whpk_{}", STANDARD.encode(unhex(RFC8032_PUBLIC)))
        );
        // The RFC signs the bare message; Standard Webhooks signs
        // `{id}.{timestamp}.{body}`. Sign the RFC's message through the same
        // key pair to check the primitive, then the framed one through the API.
        assert_eq!(
            key.pair.sign(&[0x72]).as_ref(),
            unhex(RFC8032_SIGNATURE).as_slice()
        );
        let header = SigningKey::Ed25519(key).sign(SPEC_ID, SPEC_TS, SPEC_BODY);
        assert!(header.starts_with("v1a,"), "{header}");
        let public = format!("whpk_{}", STANDARD.encode(unhex(RFC8032_PUBLIC)));
        assert!(verify_ed25519(
            &public, SPEC_ID, SPEC_TS, SPEC_BODY, &header
        ));
        assert!(!verify_ed25519(
            &public,
            SPEC_ID,
            SPEC_TS + 1,
            SPEC_BODY,
            &header
        ));
        assert!(!verify_ed25519(&public, SPEC_ID, SPEC_TS, b"{}", &header));
        // An HMAC signature next to it is skipped, not mistaken for one.
        let mixed = format!("{SPEC_SIGNATURE} {header}");
        assert!(verify_ed25519(&public, SPEC_ID, SPEC_TS, SPEC_BODY, &mixed));
        assert!(!verify_ed25519(
            &public,
            SPEC_ID,
            SPEC_TS,
            SPEC_BODY,
            SPEC_SIGNATURE
        ));
    }

    #[test]
    fn ed25519_keys_round_trip_and_a_scheme_change_signs_with_both() {
        let ed = SigningKey::generate(SignatureScheme::Ed25519);
        let exposed = ed.expose();
        assert!(exposed.starts_with("whsk_"), "{exposed}");
        let again = SigningKey::parse(&exposed).expect("reparse");
        assert_eq!(again.expose(), exposed);
        let hmac = SigningKey::Hmac(secret(SPEC_SECRET));
        let header = signature_header(&[&ed, &hmac], SPEC_ID, SPEC_TS, SPEC_BODY);
        let SigningKey::Ed25519(ed_key) = &ed else {
            panic!("generated Ed25519")
        };
        assert!(verify_ed25519(
            &ed_key.public_key(),
            SPEC_ID,
            SPEC_TS,
            SPEC_BODY,
            &header
        ));
        assert!(verify(
            &secret(SPEC_SECRET),
            SPEC_ID,
            SPEC_TS,
            SPEC_BODY,
            &header
        ));
        assert!(format!("{ed:?}").contains("[redacted]"));
        assert!(!format!("{ed:?}").contains(&exposed[5..15]));
        for bad in ["whsk_", "whsk_***", "whsk_c2hvcnQ="] {
            assert!(SigningKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn generated_secrets_round_trip_and_differ() {
        let a = SigningSecret::generate();
        let b = SigningSecret::generate();
        assert_eq!(a.key.len(), NEW_KEY_LEN);
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with(SECRET_PREFIX));
        assert_eq!(secret(&a.expose()).expose(), a.expose());
        let tag = sign(&a, "evt_1", 1, b"{}");
        assert!(verify(&secret(&a.expose()), "evt_1", 1, b"{}", &tag));
    }

    #[test]
    fn refuses_malformed_secrets() {
        for (text, want) in [
            (
                "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                SecretError::MissingPrefix,
            ),
            (
                "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                SecretError::MissingPrefix,
            ),
            ("", SecretError::MissingPrefix),
            ("whsec_***", SecretError::NotBase64),
            (
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-_",
                SecretError::NotBase64,
            ),
            (
                "whsec_MfKQ9r8G KYqrTwjUPD8ILPZIo2LaLaSw",
                SecretError::NotBase64,
            ),
            ("whsec_", SecretError::BadLength(0)),
            ("whsec_c2hvcnQ=", SecretError::BadLength(5)),
        ] {
            assert_eq!(
                SigningSecret::parse(text).map(|s| s.expose()),
                Err(want),
                "{text}"
            );
        }
        // Keys of 0, 1, 2, ... bytes: 24 and 64 are the inclusive bounds.
        let key_of = |len: u8| format!("whsec_{}", STANDARD.encode((0..len).collect::<Vec<_>>()));
        for (len, ok) in [(23, false), (24, true), (32, true), (64, true), (65, false)] {
            let parsed = SigningSecret::parse(&key_of(len)).map(|s| s.key.len());
            let want = if ok {
                Ok(len.into())
            } else {
                Err(SecretError::BadLength(len.into()))
            };
            assert_eq!(parsed, want, "{len} bytes");
        }
        // Surrounding whitespace (a pasted secret) is forgiven.
        assert!(SigningSecret::parse(&format!(" {} \n", key_of(24))).is_ok());
    }

    #[test]
    fn debug_and_errors_do_not_leak() {
        let s = secret(SPEC_SECRET);
        for shown in [
            format!("{s:?}"),
            format!("{s:#?}"),
            format!("{:?}", Some(&s)),
        ] {
            assert!(shown.contains("SigningSecret([redacted])"), "{shown}");
            assert!(!shown.contains("MfKQ9r8G"), "{shown}");
            assert!(!shown.contains("49, 242"), "{shown}"); // the first key bytes
        }
        match SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La!!Sw") {
            Err(e) => assert!(!e.to_string().contains("MfKQ9r8G"), "{e}"),
            Ok(s) => panic!("parsed {s:?}"),
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use standardwebhooks::Webhook;

        fn headers(id: &str, timestamp: i64, signature: &str) -> http::HeaderMap {
            let mut headers = http::HeaderMap::new();
            for (name, value) in [
                ("webhook-id", id.to_owned()),
                ("webhook-timestamp", timestamp.to_string()),
                ("webhook-signature", signature.to_owned()),
            ] {
                headers.insert(name, value.parse().expect("header value"));
            }
            headers
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// Any key Herald accepts, any body, any id: the independent
            /// Standard Webhooks implementation verifies what we sign, and
            /// refuses it once one byte of the body changes. Bodies are any
            /// text (Herald sends JSON; that verifier takes UTF-8 only).
            #[test]
            fn an_independent_verifier_accepts_every_signature(
                key in proptest::collection::vec(any::<u8>(), MIN_KEY_LEN..=MAX_KEY_LEN),
                text in any::<String>(),
                id in "[A-Za-z0-9_]{1,64}",
                skew in -240i64..240,
                flip in any::<proptest::sample::Index>(),
            ) {
                let body = text.into_bytes();
                let secret = SigningSecret { key };
                // The verifier refuses timestamps more than 5 minutes away from now.
                let timestamp = chrono::Utc::now().timestamp() + skew;
                let header = signature_header(&[&SigningKey::Hmac(secret.clone())], &id, timestamp, &body);
                let verifier = Webhook::new(&secret.expose()).expect("whsec secret");
                let sent = headers(&id, timestamp, &header);
                prop_assert!(verifier.verify(&body, &sent).is_ok(), "{}", header);
                prop_assert!(verify(&secret, &id, timestamp, &body, &header));

                if !body.is_empty() {
                    let mut changed = body.clone();
                    changed[flip.index(body.len())] ^= 0x01;
                    prop_assert!(verifier.verify(&changed, &sent).is_err());
                    prop_assert!(!verify(&secret, &id, timestamp, &changed, &header));
                }
            }

            /// During a rotation both secrets sign; each verifies on its own.
            #[test]
            fn each_secret_of_a_rotation_verifies(
                old in proptest::collection::vec(any::<u8>(), 32..=32),
                new in proptest::collection::vec(any::<u8>(), 32..=32),
                text in any::<String>(),
            ) {
                let body = text.into_bytes();
                let (old, new) = (SigningSecret { key: old }, SigningSecret { key: new });
                let timestamp = chrono::Utc::now().timestamp();
                let keys = [SigningKey::Hmac(new.clone()), SigningKey::Hmac(old.clone())];
                let header = signature_header(&[&keys[0], &keys[1]], "evt_1", timestamp, &body);
                let sent = headers("evt_1", timestamp, &header);
                for secret in [&new, &old] {
                    let verifier = Webhook::new(&secret.expose()).expect("whsec secret");
                    prop_assert!(verifier.verify(&body, &sent).is_ok());
                }
            }

            /// Parsing never panics, and what parses prints back to itself.
            #[test]
            fn secret_parsing_round_trips(text in ".{0,100}") {
                if let Ok(secret) = SigningSecret::parse(&text) {
                    let again = SigningSecret::parse(&secret.expose()).expect("reparse");
                    prop_assert_eq!(again.key, secret.key);
                }
            }
        }
    }
}
