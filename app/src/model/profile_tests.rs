use super::*;

fn profile(json: serde_json::Value) -> DeliveryProfile {
    match serde_json::from_value(json) {
        Ok(profile) => profile,
        Err(e) => panic!("test profile does not parse: {e}"),
    }
}

/// A valid profile to break one field at a time.
fn base() -> serde_json::Value {
    serde_json::json!({
        "name": "acme",
        "envelope": {"kind": "renamed", "fields": {"id": "id", "type": "event", "data": "payload"}},
        "type_spelling": {"style": "upper_snake", "renames": {"payin.succeeded": "PAYIN_SUCCESS"}},
        "headers": {
            "id": "x-acme-id",
            "event_type": "X-Acme-Event",
            "timestamp": {"header": "X-Acme-Timestamp", "format": "unix_seconds"},
            "user_agent": "Acme-Webhooks/2.0 (payments)"
        },
        "signatures": [{
            "header": "X-Acme-Signature", "prefix": "sha256=", "algorithm": "hmac-sha256",
            "encoding": "hex", "signed": {"kind": "body"}, "hmac_key": "text"
        }]
    })
}

fn field_of(json: serde_json::Value) -> String {
    match profile(json).validate() {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.field,
    }
}

#[test]
fn the_base_profile_is_valid_and_round_trips() {
    let p = profile(base());
    assert_eq!(p.validate(), Ok(()));
    let again: DeliveryProfile =
        serde_json::from_str(&serde_json::to_string(&p).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again, p);
}

#[test]
fn types_are_spelled_exact_then_longest_pattern_then_style() {
    let spelling = TypeSpelling {
        style: TypeStyle::UpperSnake,
        renames: [
            ("payin.succeeded", "PAYIN_SUCCESS"),
            ("payout.*", "payout_status_change"),
            ("payout.bank.*", "bank"),
            ("payout.failed", "PAYOUT_FAILED_EXACT"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect(),
    };
    assert_eq!(spelling.spell("payin.succeeded"), "PAYIN_SUCCESS");
    assert_eq!(spelling.spell("payout.failed"), "PAYOUT_FAILED_EXACT");
    assert_eq!(spelling.spell("payout.succeeded"), "payout_status_change");
    assert_eq!(spelling.spell("payout.bank.confirmed"), "bank");
    assert_eq!(spelling.spell("refund.initiated"), "REFUND_INITIATED");
    assert_eq!(
        spelling.spell("wallet.balance_updated"),
        "WALLET_BALANCE_UPDATED"
    );
    assert_eq!(
        TypeSpelling::default().spell("payin.succeeded"),
        "payin.succeeded"
    );
}

#[test]
fn data_field_rules_pick_the_first_matching_rule() {
    let signed: Signed = serde_json::from_value(serde_json::json!({
        "kind": "data_fields",
        "rules": [
            {"types": ["purchase.paid"], "fields": ["a"]},
            {"types": ["purchase.*"], "fields": ["purchaseId", "status", "brandId"]},
            {"types": ["payout.*"], "fields": ["payoutId", "status"]}
        ]
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let fields = |t: &str| signed.fields_for(t).map(<[String]>::to_vec);
    assert_eq!(fields("purchase.paid"), Some(vec!["a".to_owned()]));
    assert_eq!(
        fields("purchase.created").map(|f| f.join("|")),
        Some("purchaseId|status|brandId".to_owned())
    );
    assert_eq!(fields("payout.failed").map(|f| f.len()), Some(2));
    assert_eq!(fields("user.created"), None);
    assert_eq!(Signed::Body.fields_for("purchase.paid"), None);
}

#[test]
fn unknown_fields_are_refused_so_typos_do_not_pass_silently() {
    let mut json = base();
    json["signatures"][0]["algoritm"] = "ed25519".into();
    assert!(serde_json::from_value::<DeliveryProfile>(json).is_err());
}

#[test]
fn each_broken_rule_names_its_field() {
    let cases: Vec<(&str, Box<dyn Fn(&mut serde_json::Value)>)> = vec![
        ("name", Box::new(|j| j["name"] = "Acme Corp".into())),
        ("name", Box::new(|j| j["name"] = "".into())),
        (
            "description",
            Box::new(|j| j["description"] = "x".repeat(1001).into()),
        ),
        (
            "envelope.fields.data",
            Box::new(|j| j["envelope"]["fields"]["data"] = "".into()),
        ),
        (
            "envelope.fields.type",
            Box::new(|j| j["envelope"]["fields"]["type"] = "id".into()),
        ),
        (
            "envelope.type_field",
            Box::new(|j| {
                j["envelope"] = serde_json::json!({"kind": "data_only", "type_field": ""})
            }),
        ),
        (
            "type_spelling.renames.Payin",
            Box::new(|j| j["type_spelling"]["renames"]["Payin"] = "X".into()),
        ),
        (
            "type_spelling.renames.payin.failed",
            Box::new(|j| j["type_spelling"]["renames"]["payin.failed"] = "PAYIN FAILED".into()),
        ),
        (
            "headers.id",
            Box::new(|j| j["headers"]["id"] = "x acme id".into()),
        ),
        (
            "headers.event_type",
            Box::new(|j| j["headers"]["event_type"] = "Content-Length".into()),
        ),
        (
            "headers.event_type",
            Box::new(|j| j["headers"]["event_type"] = "host".into()),
        ),
        (
            "headers.event_type",
            Box::new(|j| j["headers"]["event_type"] = "X-ACME-ID".into()),
        ),
        (
            "headers.timestamp.header",
            Box::new(|j| j["headers"]["timestamp"]["header"] = "herald-attempt".into()),
        ),
        (
            "headers.user_agent",
            Box::new(|j| j["headers"]["user_agent"] = "Acme\n1.0".into()),
        ),
        (
            "signatures",
            Box::new(|j| j["signatures"] = serde_json::json!([])),
        ),
        (
            "signatures[0].header",
            Box::new(|j| j["signatures"][0]["header"] = "transfer-encoding".into()),
        ),
        (
            "signatures[0].header",
            Box::new(|j| j["signatures"][0]["header"] = "x-acme-event".into()),
        ),
        (
            "signatures[0].header",
            Box::new(|j| j["signatures"][0]["header"] = "".into()),
        ),
        (
            "signatures[0].prefix",
            Box::new(|j| j["signatures"][0]["prefix"] = "sha 256=".into()),
        ),
        (
            "signatures[0].hmac_key",
            Box::new(|j| j["signatures"][0]["algorithm"] = "rsa-sha256".into()),
        ),
        (
            "signatures[0].signed",
            Box::new(|j| {
                j["signatures"][0]["signed"] = serde_json::json!({"kind": "standard"});
                j["headers"]["timestamp"]["format"] = "rfc3339".into();
            }),
        ),
        (
            "signatures[0].signed",
            Box::new(|j| {
                j["signatures"][0]["signed"] = serde_json::json!({"kind": "standard"});
                j["headers"]["id"] = serde_json::Value::Null;
            }),
        ),
        (
            "signatures[0].signed.rules",
            Box::new(|j| {
                j["signatures"][0]["signed"] =
                    serde_json::json!({"kind": "data_fields", "rules": []})
            }),
        ),
        (
            "signatures[0].signed.rules[0].types[0]",
            Box::new(|j| {
                j["signatures"][0]["signed"] = serde_json::json!({"kind": "data_fields",
                    "rules": [{"types": ["purchase"], "fields": ["a"]}]})
            }),
        ),
        (
            "signatures[0].signed.rules[0].fields",
            Box::new(|j| {
                j["signatures"][0]["signed"] = serde_json::json!({"kind": "data_fields",
                    "rules": [{"types": ["purchase.*"], "fields": []}]})
            }),
        ),
        (
            "signatures[0].signed.rules[0].fields[1]",
            Box::new(|j| {
                j["signatures"][0]["signed"] = serde_json::json!({"kind": "data_fields",
                    "rules": [{"types": ["purchase.*"], "fields": ["purchaseId", "payer..id"]}]})
            }),
        ),
    ];
    for (want, break_it) in cases {
        let mut json = base();
        break_it(&mut json);
        assert_eq!(field_of(json.clone()), want, "{json}");
    }
}

#[test]
fn unsigned_must_be_said_and_then_means_no_signatures() {
    let mut json = base();
    json["signatures"] = serde_json::json!([]);
    json["unsigned"] = true.into();
    assert_eq!(field_of(json.clone()), "ok");
    json["signatures"] = base()["signatures"].clone();
    assert_eq!(field_of(json), "unsigned");
}

#[test]
fn signatures_may_share_a_header_and_underscores_are_header_characters() {
    let mut json = base();
    let mut second = json["signatures"][0].clone();
    second["header"] = "X-Acme-Signature".into();
    second["algorithm"] = "ed25519".into();
    second["hmac_key"] = "decoded".into();
    if let Some(list) = json["signatures"].as_array_mut() {
        list.push(second);
    }
    assert_eq!(field_of(json.clone()), "ok");
    json["signatures"][0]["header"] = "paysecure_sign".into();
    assert_eq!(field_of(json), "ok");
}

#[test]
fn the_standard_envelope_is_herald_s_names() {
    let p = profile(serde_json::json!({
        "name": "s", "envelope": {"kind": "standard"}, "unsigned": true
    }));
    assert_eq!(p.envelope_fields(), Some(EnvelopeFields::standard()));
    assert_eq!(p.validate(), Ok(()));
}

#[test]
fn every_broken_rule_is_reported_at_once_the_first_naming_the_field() {
    let mut json = base();
    json["name"] = "Acme Corp".into();
    json["headers"]["user_agent"] = "Acme\n1.0".into();
    json["signatures"][0]["prefix"] = "sha 256=".into();
    let p = profile(json);
    let fields: Vec<String> = p.problems().into_iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        ["name", "headers.user_agent", "signatures[0].prefix"]
    );
    let Err(e) = p.validate() else {
        panic!("a broken profile validated")
    };
    assert_eq!(e.field, "name");
    let text = e.to_string();
    assert!(text.starts_with("name: "), "{text}");
    assert!(text.contains("; headers.user_agent: "), "{text}");
    assert!(text.contains("; signatures[0].prefix: "), "{text}");
}
