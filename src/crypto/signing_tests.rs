//! Fixed vectors (the Standard Webhooks spec, RFC 8032) and properties
//! checked against the independent `standardwebhooks` crate.

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
            let secret = SigningSecret { key, held: None };
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
            let (old, new) = (
                SigningSecret { key: old, held: None },
                SigningSecret { key: new, held: None },
            );
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

#[test]
fn a_held_secret_is_kept_as_given_and_stored_unambiguously() {
    // Any printable text: kept exactly, keyed with its bytes.
    let text = "sk_live_4eC39Hq/legacy key ünï";
    let held = SigningSecret::held(&format!("  {text}\n")).expect("held");
    assert_eq!(held.expose(), text);
    assert_eq!(held.key, text.as_bytes());
    assert_eq!(held.to_stored(), format!("{HELD_SECRET_PREFIX}{text}"));
    // Stored text that looks like another kind of key reads back as HMAC.
    for looks_like in [
        "whsk_AAAA",
        "-----BEGIN PRIVATE KEY-----",
        "whsec_not base64",
    ] {
        let held = SigningSecret::held(looks_like).expect("held");
        let again = SigningKey::parse(&SigningKey::Hmac(held).expose()).expect("parse");
        assert_eq!(
            again.as_hmac().map(SigningSecret::expose).as_deref(),
            Some(looks_like)
        );
    }
    // A whsec_ secret as Herald writes it is Herald's own; unpadded, it is
    // kept as given but keyed with its decoded bytes.
    let herald = SigningSecret::generate().expose();
    let same = SigningSecret::held(&herald).expect("held");
    assert_eq!(same.to_stored(), herald);
    let unpadded = SigningSecret::held(BYTES_SECRET.trim_end_matches('=')).expect("held");
    assert_eq!(unpadded.expose(), BYTES_SECRET.trim_end_matches('='));
    assert_eq!(unpadded.key, secret(BYTES_SECRET).key);
    let again = SigningKey::parse(&SigningKey::Hmac(unpadded).expose()).expect("parse");
    assert_eq!(
        again.as_hmac().map(SigningSecret::expose).as_deref(),
        Some(BYTES_SECRET.trim_end_matches('='))
    );
    // Refused, never echoed.
    assert_eq!(
        SigningSecret::held(" \t ").err(),
        Some(HeldSecretError::Empty)
    );
    assert_eq!(
        SigningSecret::held("a\u{7}b").err(),
        Some(HeldSecretError::NotPrintable)
    );
    assert_eq!(
        SigningSecret::held(&"é".repeat(MAX_HELD_SECRET_CHARS + 1)).err(),
        Some(HeldSecretError::TooLong(MAX_HELD_SECRET_CHARS + 1))
    );
    assert!(SigningSecret::held(&"é".repeat(MAX_HELD_SECRET_CHARS)).is_ok());
}
