use super::*;
use crate::model::profile::DeliveryProfile;

/// The server's bundled profiles, read from the file it embeds.
fn bundled() -> Vec<DeliveryProfile> {
    let json = include_str!("../../../src/service/bundled_profiles.json");
    serde_json::from_str(json).unwrap_or_else(|e| panic!("bundled_profiles.json: {e}"))
}

fn bundled_one(name: &str) -> DeliveryProfile {
    bundled()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no bundled profile {name}"))
}

/// The code without its comments: what would run.
fn code(snippet: &str, language: SnippetLanguage) -> String {
    let comment = language.comment().trim_end();
    snippet
        .lines()
        .filter(|line| !line.trim_start().starts_with(comment))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A header as the language's code reads it: Node and PHP see lowercased
/// names, Python and Java look them up in any case.
fn header_in_code(header: &str, language: SnippetLanguage) -> String {
    match language {
        SnippetLanguage::Node | SnippetLanguage::Php => header.to_ascii_lowercase(),
        SnippetLanguage::Python | SnippetLanguage::Java => header.to_owned(),
    }
}

/// What in each language's code shows the algorithm.
fn algorithm_in_code(algorithm: SignatureAlgorithm, language: SnippetLanguage) -> &'static str {
    use SignatureAlgorithm::*;
    use SnippetLanguage::*;
    match (algorithm, language) {
        (HmacSha256, Node) => "createHmac(\"sha256\"",
        (HmacSha256, Python) => "hashlib.sha256",
        (HmacSha256, Php) => "hash_hmac('sha256'",
        (HmacSha256, Java) => "HmacSHA256",
        (RsaSha256, Node) => "crypto.verify(\"sha256\"",
        (RsaSha256, Python) => "padding.PKCS1v15(), hashes.SHA256()",
        (RsaSha256, Php) => "OPENSSL_ALGO_SHA256",
        (RsaSha256, Java) => "SHA256withRSA",
        (Ed25519, Node) => "crypto.verify(null",
        (Ed25519, Python) => "Ed25519PublicKey",
        (Ed25519, Php) => "sodium_crypto_sign_verify_detached",
        (Ed25519, Java) => "\"Ed25519\"",
    }
}

#[test]
fn each_bundled_profile_names_its_headers_algorithm_encoding_and_what_is_signed() {
    let profiles = bundled();
    assert_eq!(profiles.len(), 6);
    for profile in &profiles {
        for language in SnippetLanguage::ALL {
            let snippet = verification_snippet(profile, language);
            let code = code(&snippet, language);
            let at = format!("{} in {}", profile.name, language.label());
            assert!(
                snippet.contains(&format!("\"{}\" profile", profile.name)),
                "{at}"
            );
            for spec in &profile.signatures {
                let header = header_in_code(&spec.header, language);
                assert!(code.contains(&header), "{at}: header {header}\n{snippet}");
                let algorithm = algorithm_in_code(spec.algorithm, language);
                assert!(code.contains(algorithm), "{at}: {algorithm}\n{snippet}");
                assert!(snippet.contains(algorithm_label(spec.algorithm)), "{at}");
                assert!(snippet.contains(encoding_label(spec.encoding)), "{at}");
                if !spec.prefix.is_empty() {
                    assert!(code.contains(&spec.prefix), "{at}: prefix");
                }
                match &spec.signed {
                    Signed::Body => assert!(snippet.contains("of the raw body"), "{at}"),
                    Signed::Standard => {
                        let (id, ts) = standard_headers(profile);
                        assert!(code.contains(&header_in_code(&id, language)), "{at}");
                        assert!(code.contains(&header_in_code(&ts, language)), "{at}");
                        assert!(code.contains("300"), "{at}: the timestamp's tolerance");
                    }
                    Signed::DataFields { rules, separator } => {
                        for rule in rules {
                            assert!(snippet.contains(&rule.fields.join(separator)), "{at}");
                            for field in &rule.fields {
                                assert!(code.contains(&format!("{field}")), "{at}: {field}");
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn the_seeds_formats_come_out_as_the_seeds_write_them() {
    let payvost = verification_snippet(&bundled_one("payvost"), SnippetLanguage::Node);
    assert!(payvost.contains("headers[\"payvost-signature\"]"));
    assert!(payvost.contains(".digest(\"hex\"), signature)"));
    assert!(payvost.contains("{id, type, createdAt, liveMode, data, previousData}"));
    // The secret's text is the key, as in seed 002's createHmac('sha256', secret).
    assert!(payvost.contains("crypto.createHmac(\"sha256\", key)"));

    let paywize = verification_snippet(&bundled_one("paywize"), SnippetLanguage::Node);
    assert!(paywize.contains("value.startsWith(\"sha256=\")"));
    assert!(paywize.contains("value.slice(7)"));
    assert!(paywize.contains("User-Agent: Paywize-ConnectedBanking-Webhook/1.0"));
    assert!(paywize.contains("X-Paywize-Event: the event type"));

    let paysecure = verification_snippet(&bundled_one("paysecure"), SnippetLanguage::Java);
    assert!(paysecure.contains("firstHeader(header, \"paysecure_sign\", \"paysecure-sign\")"));
    assert!(paysecure.contains(
        "List.of(List.of(\"purchaseId\", \"status\", \"brandId\"), List.of(\"payoutId\", \"status\")), \"|\""
    ));
    assert!(paysecure.contains("new X509EncodedKeySpec(Base64.getDecoder().decode(key))"));
    assert!(paysecure.contains("base64 X.509"));
    // The body is the object itself: the fields are read at its top.
    assert!(paysecure.contains("signedStrings(new ObjectMapper().readTree(body),"));

    let standard = verification_snippet(&bundled_one("standard"), SnippetLanguage::Python);
    assert!(standard.contains("base64.b64decode(key.removeprefix(\"whsec_\"))"));
    assert!(standard.contains(
        "hmac_sha256_signature_ok(headers, payload) or ed25519_signature_ok(headers, payload)"
    ));
    assert!(standard.contains("if not value.startswith(\"v1a,\"):"));
}

#[test]
fn a_different_spec_gives_a_different_program() {
    let base = bundled_one("payvost");
    let mutations: Vec<(&str, Box<dyn Fn(&mut DeliveryProfile)>)> = vec![
        (
            "header",
            Box::new(|p| p.signatures[0].header = "X-Other".to_owned()),
        ),
        (
            "prefix",
            Box::new(|p| p.signatures[0].prefix = "sha256=".to_owned()),
        ),
        (
            "algorithm",
            Box::new(|p| {
                p.signatures[0].algorithm = SignatureAlgorithm::RsaSha256;
                p.signatures[0].hmac_key = HmacKey::Decoded;
            }),
        ),
        (
            "encoding",
            Box::new(|p| p.signatures[0].encoding = SignatureEncoding::Base64),
        ),
        (
            "hmac_key",
            Box::new(|p| p.signatures[0].hmac_key = HmacKey::Decoded),
        ),
        (
            "signed",
            Box::new(|p| {
                p.signatures[0].signed = Signed::DataFields {
                    rules: vec![crate::model::profile::FieldRule {
                        types: vec!["payment.*".to_owned()],
                        fields: vec!["id".to_owned(), "status".to_owned()],
                    }],
                    separator: "|".to_owned(),
                }
            }),
        ),
        (
            "separator",
            Box::new(|p| {
                p.signatures[0].signed = Signed::DataFields {
                    rules: vec![crate::model::profile::FieldRule {
                        types: vec!["payment.*".to_owned()],
                        fields: vec!["id".to_owned(), "status".to_owned()],
                    }],
                    separator: ":".to_owned(),
                }
            }),
        ),
        (
            "envelope's data field",
            Box::new(|p| {
                if let Envelope::Renamed { fields } = &mut p.envelope {
                    fields.data = "payload".to_owned();
                }
                p.signatures[0].signed = Signed::DataFields {
                    rules: vec![crate::model::profile::FieldRule {
                        types: vec!["payment.*".to_owned()],
                        fields: vec!["id".to_owned(), "status".to_owned()],
                    }],
                    separator: ":".to_owned(),
                }
            }),
        ),
    ];
    for language in SnippetLanguage::ALL {
        let mut seen = vec![code(&verification_snippet(&base, language), language)];
        for (what, mutate) in &mutations {
            let mut profile = base.clone();
            mutate(&mut profile);
            let changed = code(&verification_snippet(&profile, language), language);
            assert!(
                !seen.contains(&changed),
                "changing the {what} left the {} code as before",
                language.label()
            );
            seen.push(changed);
        }
    }
}

#[test]
fn an_unsigned_profile_says_there_is_nothing_to_check() {
    let mut profile = bundled_one("payvost");
    profile.signatures.clear();
    profile.unsigned = true;
    for language in SnippetLanguage::ALL {
        let snippet = verification_snippet(&profile, language);
        assert!(snippet.contains("unsigned"), "{}", language.label());
        assert!(!snippet.contains("WEBHOOK_SECRET"), "{}", language.label());
    }
}

#[test]
fn strings_from_the_profile_are_quoted_for_each_language() {
    let mut profile = bundled_one("paysecure");
    if let Signed::DataFields { separator, .. } = &mut profile.signatures[0].signed {
        *separator = "'$\"\\".to_owned();
    }
    let php = verification_snippet(&profile, SnippetLanguage::Php);
    assert!(php.contains(r#"'\'$"\\'"#), "{php}");
    let node = verification_snippet(&profile, SnippetLanguage::Node);
    assert!(node.contains(r#""'$\"\\""#), "{node}");
}

#[test]
fn languages_round_trip_through_their_ids() {
    for language in SnippetLanguage::ALL {
        assert_eq!(SnippetLanguage::parse(language.as_str()), Some(language));
    }
    assert_eq!(SnippetLanguage::parse("cobol"), None);
}

#[test]
fn which_bundled_profiles_an_hmac_key_alone_can_sign() {
    use crate::model::profile::SignatureAlgorithm::HmacSha256;
    // `standard` offers HMAC or Ed25519 for its one header: HMAC suffices.
    for name in [
        "standard",
        "event-envelope",
        "x-signature",
        "payvost",
        "paywize",
    ] {
        assert!(
            bundled_one(name)
                .header_unsignable_with(HmacSha256)
                .is_none(),
            "{name}"
        );
    }
    let paysecure = bundled_one("paysecure");
    let refused = paysecure
        .header_unsignable_with(HmacSha256)
        .expect("paysecure signs with RSA only");
    assert!(
        refused.header.starts_with("paysecure"),
        "{}",
        refused.header
    );
    assert_eq!(
        refused.algorithm,
        crate::model::profile::SignatureAlgorithm::RsaSha256
    );
}
