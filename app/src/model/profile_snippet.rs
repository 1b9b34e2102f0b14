//! Verification code a merchant can paste, generated from a delivery
//! profile: Node, Python, PHP and Java, the languages of the seeds' own
//! snippets (seeds 002, 003, 004), written in their style (a
//! `verifyWebhook(headers, payload)` that throws, the key from the
//! environment). Every value in the code (headers, prefix, algorithm,
//! encoding, what is signed) comes from the profile, so the code verifies
//! exactly what the server's signer (`crypto::profile_signing`) produces.

use super::profile::{
    DeliveryProfile, Envelope, HmacKey, SignatureAlgorithm, SignatureEncoding, SignatureSpec,
    Signed,
};

/// A language snippets are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnippetLanguage {
    Node,
    Python,
    Php,
    Java,
}

impl SnippetLanguage {
    /// Every language, in the order the page offers them.
    pub const ALL: [SnippetLanguage; 4] = [
        SnippetLanguage::Node,
        SnippetLanguage::Python,
        SnippetLanguage::Php,
        SnippetLanguage::Java,
    ];

    /// Its id in URLs and test ids.
    pub fn as_str(self) -> &'static str {
        match self {
            SnippetLanguage::Node => "node",
            SnippetLanguage::Python => "python",
            SnippetLanguage::Php => "php",
            SnippetLanguage::Java => "java",
        }
    }

    /// How the page names it.
    pub fn label(self) -> &'static str {
        match self {
            SnippetLanguage::Node => "Node",
            SnippetLanguage::Python => "Python",
            SnippetLanguage::Php => "PHP",
            SnippetLanguage::Java => "Java",
        }
    }

    /// The language of an id from `as_str`.
    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == id)
    }

    fn comment(self) -> &'static str {
        match self {
            SnippetLanguage::Python => "# ",
            _ => "// ",
        }
    }
}

/// How long a signed timestamp stays acceptable, in seconds (the Standard
/// Webhooks libraries' tolerance).
const TOLERANCE_S: u32 = 300;

/// Code that verifies a delivery sent with `profile` and returns its body
/// parsed, or refuses it.
pub fn verification_snippet(profile: &DeliveryProfile, language: SnippetLanguage) -> String {
    let checks = checks(profile);
    let mut out = Out::default();
    for line in description(profile, &checks) {
        out.line(format!("{}{line}", language.comment()).trim_end());
    }
    match language {
        SnippetLanguage::Node => node(&mut out, profile, &checks),
        SnippetLanguage::Python => python(&mut out, profile, &checks),
        SnippetLanguage::Php => php(&mut out, profile, &checks),
        SnippetLanguage::Java => java(&mut out, profile, &checks),
    }
    out.0
}

/// One signature the receiver checks: the first spec of each algorithm (an
/// endpoint holds one key of each kind), with the headers of later specs
/// that sign the same way under another name (seed 004 sends the same
/// signature as `paysecure_sign` and `paysecure-sign`).
struct Check<'a> {
    spec: &'a SignatureSpec,
    headers: Vec<&'a str>,
}

fn checks(profile: &DeliveryProfile) -> Vec<Check<'_>> {
    let mut checks: Vec<Check<'_>> = Vec::new();
    for spec in &profile.signatures {
        match checks
            .iter_mut()
            .find(|c| c.spec.algorithm == spec.algorithm)
        {
            Some(check) => {
                let same = check.spec.prefix == spec.prefix
                    && check.spec.encoding == spec.encoding
                    && check.spec.signed == spec.signed
                    && check.spec.hmac_key == spec.hmac_key;
                let named = check
                    .headers
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case(&spec.header));
                if same && !named {
                    check.headers.push(&spec.header);
                }
            }
            None => checks.push(Check {
                spec,
                headers: vec![&spec.header],
            }),
        }
    }
    checks
}

fn algorithm_label(algorithm: SignatureAlgorithm) -> &'static str {
    match algorithm {
        SignatureAlgorithm::HmacSha256 => "HMAC-SHA256",
        SignatureAlgorithm::RsaSha256 => "RSA-SHA256 (SHA256withRSA, PKCS#1 v1.5)",
        SignatureAlgorithm::Ed25519 => "Ed25519",
    }
}

fn encoding_label(encoding: SignatureEncoding) -> &'static str {
    match encoding {
        SignatureEncoding::Hex => "hex",
        SignatureEncoding::Base64 => "base64",
    }
}

/// The environment variable holding the key, and what to put in it.
fn key_variable(spec: &SignatureSpec, language: Option<SnippetLanguage>) -> (&'static str, String) {
    match spec.algorithm {
        SignatureAlgorithm::HmacSha256 => (
            "WEBHOOK_SECRET",
            match spec.hmac_key {
                HmacKey::Text => {
                    "the endpoint's secret exactly as shown (whsec_… included) is the HMAC key"
                        .to_owned()
                }
                HmacKey::Decoded => {
                    "the endpoint's secret (whsec_…); the HMAC key is the base64 after whsec_"
                        .to_owned()
                }
            },
        ),
        SignatureAlgorithm::Ed25519 => (
            "WEBHOOK_PUBLIC_KEY",
            "the endpoint's Ed25519 public key (whpk_…)".to_owned(),
        ),
        SignatureAlgorithm::RsaSha256 => (
            "WEBHOOK_PUBLIC_KEY",
            match language {
                Some(SnippetLanguage::Java) => {
                    "the endpoint's RSA public key as base64 X.509 (for X509EncodedKeySpec)"
                        .to_owned()
                }
                _ => "the endpoint's RSA public key (PEM)".to_owned(),
            },
        ),
    }
}

/// The comment at the top: what the profile sends and how it is signed, in
/// plain words.
fn description(profile: &DeliveryProfile, checks: &[Check<'_>]) -> Vec<String> {
    let mut lines = vec![format!(
        "Verifies a delivery of the \"{}\" profile.",
        profile.name
    )];
    if checks.is_empty() {
        lines.push(
            "This profile sends deliveries unsigned: there is no signature to check.".to_owned(),
        );
    }
    for (i, check) in checks.iter().enumerate() {
        let spec = check.spec;
        let alternative = if i > 0 {
            "Or, for an endpoint with that key: "
        } else {
            ""
        };
        let prefix = if spec.prefix.is_empty() {
            String::new()
        } else {
            format!("\"{}\" + ", spec.prefix)
        };
        lines.push(format!(
            "{alternative}{}: {prefix}{} {} of {}",
            check.headers.join(" or "),
            encoding_label(spec.encoding),
            algorithm_label(spec.algorithm),
            signed_label(profile, &spec.signed),
        ));
        if let Signed::DataFields { rules, separator } = &spec.signed {
            for rule in rules {
                lines.push(format!(
                    "  {}: {}",
                    rule.types.join(", "),
                    rule.fields.join(separator)
                ));
            }
        }
        let (variable, what) = key_variable(spec, None);
        lines.push(format!("  {variable}: {what}."));
        if spec.every_key {
            lines.push(
                "  During a key rotation it holds one signature per key, space-separated: accept any."
                    .to_owned(),
            );
        }
    }
    if checks.iter().any(|c| c.spec.signed == Signed::Body) {
        lines.push(
            "The body alone is signed: keep the ids you have handled and refuse repeats."
                .to_owned(),
        );
    }
    lines.push(format!("Body: {}.", body_label(profile)));
    let headers = &profile.headers;
    if let Some(id) = &headers.id {
        lines.push(format!("{id}: the event's id, the same on every retry."));
    }
    if let Some(event_type) = &headers.event_type {
        lines.push(format!("{event_type}: the event type."));
    }
    if let Some(timestamp) = &headers.timestamp {
        let format = match timestamp.format {
            super::profile::TimestampFormat::UnixSeconds => "unix seconds",
            super::profile::TimestampFormat::UnixMillis => "unix milliseconds",
            super::profile::TimestampFormat::Rfc3339 => "RFC 3339",
        };
        lines.push(format!(
            "{}: when this attempt was sent ({format}).",
            timestamp.header
        ));
    }
    if let Some(agent) = &headers.user_agent {
        lines.push(format!("User-Agent: {agent}"));
    }
    lines.push(String::new());
    lines
}

fn signed_label(profile: &DeliveryProfile, signed: &Signed) -> String {
    match signed {
        Signed::Body => "the raw body".to_owned(),
        Signed::Standard => format!(
            "\"{{{}}}.{{{}}}.{{raw body}}\"",
            profile.headers.id.as_deref().unwrap_or("id"),
            profile
                .headers
                .timestamp
                .as_ref()
                .map_or("timestamp", |t| t.header.as_str()),
        ),
        Signed::DataFields { separator, .. } => format!(
            "fields of {} joined by \"{separator}\", by event type:",
            match data_member(profile) {
                Some(member) => format!("the body's \"{member}\""),
                None => "the body".to_owned(),
            }
        ),
    }
}

fn body_label(profile: &DeliveryProfile) -> String {
    match &profile.envelope {
        Envelope::DataOnly { type_field: None } => "the platform's object itself".to_owned(),
        Envelope::DataOnly {
            type_field: Some(field),
        } => format!("the platform's object itself, with the event type first as \"{field}\""),
        Envelope::Standard | Envelope::Renamed { .. } => {
            let fields = profile
                .envelope_fields()
                .unwrap_or_else(super::profile::EnvelopeFields::standard);
            let names: Vec<&str> = [
                fields.id.as_deref(),
                fields.event_type.as_deref(),
                fields.timestamp.as_deref(),
                fields.live_mode.as_deref(),
                Some(fields.data.as_str()),
                fields.previous_data.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect();
            format!("{{{}}}", names.join(", "))
        }
    }
}

/// Where the signed fields are: the envelope's data member, or the body.
fn data_member(profile: &DeliveryProfile) -> Option<String> {
    profile.envelope_fields().map(|fields| fields.data)
}

/// The field rules of a data-fields signature, as lists of paths.
fn rules_of(signed: &Signed) -> Option<(Vec<&[String]>, &str)> {
    match signed {
        Signed::DataFields { rules, separator } => Some((
            rules.iter().map(|r| r.fields.as_slice()).collect(),
            separator.as_str(),
        )),
        Signed::Body | Signed::Standard => None,
    }
}

/// A double-quoted string literal (JSON's escaping, which JavaScript,
/// Python and Java read the same way).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// A PHP single-quoted literal (double quotes would expand `$`).
fn php_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `[["a","b"],["c"]]` in a language's list syntax.
fn nested_list(rules: &[&[String]], open: &str, close: &str, quote: fn(&str) -> String) -> String {
    let inner: Vec<String> = rules
        .iter()
        .map(|paths| {
            let items: Vec<String> = paths.iter().map(|p| quote(p)).collect();
            format!("{open}{}{close}", items.join(", "))
        })
        .collect();
    format!("{open}{}{close}", inner.join(", "))
}

/// The function name of a check.
fn check_name(algorithm: SignatureAlgorithm, snake: bool) -> &'static str {
    match (algorithm, snake) {
        (SignatureAlgorithm::HmacSha256, false) => "hmacSha256SignatureOk",
        (SignatureAlgorithm::RsaSha256, false) => "rsaSha256SignatureOk",
        (SignatureAlgorithm::Ed25519, false) => "ed25519SignatureOk",
        (SignatureAlgorithm::HmacSha256, true) => "hmac_sha256_signature_ok",
        (SignatureAlgorithm::RsaSha256, true) => "rsa_sha256_signature_ok",
        (SignatureAlgorithm::Ed25519, true) => "ed25519_signature_ok",
    }
}

/// The DER header of an Ed25519 public key, before its 32 raw bytes.
const ED25519_SPKI_PREFIX: &str = "302a300506032b6570032100";

#[derive(Default)]
struct Out(String);

impl Out {
    fn line(&mut self, text: impl AsRef<str>) {
        self.0.push_str(text.as_ref());
        self.0.push('\n');
    }
}

// ----- Node -----

fn node(out: &mut Out, profile: &DeliveryProfile, checks: &[Check<'_>]) {
    out.line("const crypto = require(\"crypto\");");
    out.line("");
    out.line("// headers: req.headers (Node lowercases the names); body: the raw body, a Buffer");
    out.line(
        "// (express.raw({ type: \"application/json\" })). Returns the parsed body or throws.",
    );
    out.line("function verifyWebhook(headers, body) {");
    if !checks.is_empty() {
        let calls: Vec<String> = checks
            .iter()
            .map(|c| format!("{}(headers, body)", check_name(c.spec.algorithm, false)))
            .collect();
        out.line(format!("  if (!({})) {{", calls.join(" || ")));
        out.line("    throw new Error(\"Invalid webhook signature\");");
        out.line("  }");
    }
    out.line("  return JSON.parse(body);");
    out.line("}");
    for check in checks {
        node_check(out, profile, check);
    }
    if checks
        .iter()
        .any(|c| c.spec.algorithm == SignatureAlgorithm::HmacSha256)
    {
        out.line("");
        out.line("function safeEqual(a, b) {");
        out.line("  return a.length === b.length && crypto.timingSafeEqual(Buffer.from(a), Buffer.from(b));");
        out.line("}");
    }
    if checks.iter().any(|c| rules_of(&c.spec.signed).is_some()) {
        out.line("");
        out.line("// One string per rule whose fields the payload has: strings as they are,");
        out.line("// numbers and booleans as JSON writes them.");
        out.line("function signedStrings(data, rules, separator) {");
        out.line("  return rules");
        out.line("    .map((paths) => paths.map((path) => path.split(\".\").reduce((v, k) => (v == null ? v : v[k]), data)))");
        out.line("    .filter((values) => values.every((v) => v !== undefined && v !== null))");
        out.line("    .map((values) => Buffer.from(values.map(String).join(separator)));");
        out.line("}");
    }
    out.line("");
    out.line(
        "app.post(\"/webhooks\", express.raw({ type: \"application/json\" }), (req, res) => {",
    );
    out.line("  try {");
    out.line("    const event = verifyWebhook(req.headers, req.body);");
    out.line("    res.json({ received: true });");
    out.line("  } catch (error) {");
    out.line("    res.status(400).send(\"Invalid signature\");");
    out.line("  }");
    out.line("});");
}

fn node_check(out: &mut Out, profile: &DeliveryProfile, check: &Check<'_>) {
    let spec = check.spec;
    let (variable, what) = key_variable(spec, Some(SnippetLanguage::Node));
    out.line("");
    out.line(format!(
        "function {}(headers, body) {{",
        check_name(spec.algorithm, false)
    ));
    out.line(format!("  const key = process.env.{variable}; // {what}"));
    out.line("  if (!key) return false;");
    let reads: Vec<String> = check
        .headers
        .iter()
        .map(|h| format!("headers[{}]", quoted(&h.to_ascii_lowercase())))
        .collect();
    out.line(format!(
        "  const values = String({} ?? \"\").split(\" \");",
        reads.join(" ?? ")
    ));
    match &spec.signed {
        Signed::Body => out.line("  const messages = [body];"),
        Signed::Standard => {
            let (id, ts) = standard_headers(profile);
            out.line(format!(
                "  const id = headers[{}] ?? \"\", timestamp = headers[{}] ?? \"\";",
                quoted(&id.to_ascii_lowercase()),
                quoted(&ts.to_ascii_lowercase())
            ));
            out.line(format!(
                "  if (!(Math.abs(Date.now() / 1000 - Number(timestamp)) <= {TOLERANCE_S})) return false; // stale or replayed"
            ));
            out.line(
                "  const messages = [Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body])];",
            );
        }
        Signed::DataFields { .. } => {
            let (rules, separator) = rules_of(&spec.signed).unwrap_or_default();
            let data = match data_member(profile) {
                Some(member) => format!("JSON.parse(body)[{}]", quoted(&member)),
                None => "JSON.parse(body)".to_owned(),
            };
            out.line(format!(
                "  const messages = signedStrings({data}, {}, {});",
                nested_list(&rules, "[", "]", quoted),
                quoted(separator)
            ));
        }
    }
    let encoding = encoding_label(spec.encoding);
    let matches = match spec.algorithm {
        SignatureAlgorithm::HmacSha256 => {
            let key = match spec.hmac_key {
                HmacKey::Text => "key",
                HmacKey::Decoded => "Buffer.from(key.replace(/^whsec_/, \"\"), \"base64\")",
            };
            format!("safeEqual(crypto.createHmac(\"sha256\", {key}).update(message).digest(\"{encoding}\"), signature)")
        }
        SignatureAlgorithm::Ed25519 => {
            out.line("  const publicKey = crypto.createPublicKey({");
            out.line(format!(
                "    key: Buffer.concat([Buffer.from(\"{ED25519_SPKI_PREFIX}\", \"hex\"), Buffer.from(key.replace(/^whpk_/, \"\"), \"base64\")]),"
            ));
            out.line("    format: \"der\",");
            out.line("    type: \"spki\",");
            out.line("  });");
            format!(
                "crypto.verify(null, message, publicKey, Buffer.from(signature, \"{encoding}\"))"
            )
        }
        SignatureAlgorithm::RsaSha256 => {
            format!(
                "crypto.verify(\"sha256\", message, key, Buffer.from(signature, \"{encoding}\"))"
            )
        }
    };
    out.line("  return messages.some((message) => values.some((value) => {");
    if spec.prefix.is_empty() {
        out.line("    const signature = value;");
    } else {
        out.line(format!(
            "    if (!value.startsWith({})) return false;",
            quoted(&spec.prefix)
        ));
        out.line(format!(
            "    const signature = value.slice({});",
            spec.prefix.len()
        ));
    }
    out.line(format!("    return {matches};"));
    out.line("  }));");
    out.line("}");
}

/// The id and timestamp headers of the Standard Webhooks string (validation
/// makes sure both exist when it is signed).
fn standard_headers(profile: &DeliveryProfile) -> (String, String) {
    (
        profile
            .headers
            .id
            .clone()
            .unwrap_or_else(|| "webhook-id".to_owned()),
        profile
            .headers
            .timestamp
            .as_ref()
            .map_or_else(|| "webhook-timestamp".to_owned(), |t| t.header.clone()),
    )
}

// ----- Python -----

fn python(out: &mut Out, profile: &DeliveryProfile, checks: &[Check<'_>]) {
    out.line("import base64, hashlib, hmac, json, os, time");
    let asymmetric: Vec<SignatureAlgorithm> = checks
        .iter()
        .map(|c| c.spec.algorithm)
        .filter(|a| *a != SignatureAlgorithm::HmacSha256)
        .collect();
    if !asymmetric.is_empty() {
        out.line("# pip install cryptography");
        out.line("from cryptography.exceptions import InvalidSignature");
    }
    if asymmetric.contains(&SignatureAlgorithm::RsaSha256) {
        out.line("from cryptography.hazmat.primitives import hashes, serialization");
        out.line("from cryptography.hazmat.primitives.asymmetric import padding");
    }
    if asymmetric.contains(&SignatureAlgorithm::Ed25519) {
        out.line("from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey");
    }
    out.line("");
    out.line("");
    out.line("# headers: the request's headers, any case (Flask: request.headers);");
    out.line(
        "# payload: the raw body as bytes (request.get_data()). Returns the parsed body or raises.",
    );
    out.line("def verify_webhook(headers, payload: bytes):");
    if !checks.is_empty() {
        let calls: Vec<String> = checks
            .iter()
            .map(|c| format!("{}(headers, payload)", check_name(c.spec.algorithm, true)))
            .collect();
        out.line(format!("    if not ({}):", calls.join(" or ")));
        out.line("        raise ValueError(\"Invalid webhook signature\")");
    }
    out.line("    return json.loads(payload)");
    for check in checks {
        python_check(out, profile, check);
    }
    if checks.iter().any(|c| rules_of(&c.spec.signed).is_some()) {
        out.line("");
        out.line("");
        out.line("def signed_strings(data, rules, separator):");
        out.line(
            "    \"\"\"One string per rule whose fields the payload has: strings as they are,",
        );
        out.line("    numbers and booleans as JSON writes them.\"\"\"");
        out.line("    out = []");
        out.line("    for paths in rules:");
        out.line("        values = []");
        out.line("        for path in paths:");
        out.line("            value = data");
        out.line("            for step in path.split(\".\"):");
        out.line("                value = value.get(step) if isinstance(value, dict) else None");
        out.line("            if value is None:");
        out.line("                break");
        out.line(
            "            values.append(value if isinstance(value, str) else json.dumps(value))",
        );
        out.line("        else:");
        out.line("            out.append(separator.join(values).encode(\"utf-8\"))");
        out.line("    return out");
    }
}

fn python_check(out: &mut Out, profile: &DeliveryProfile, check: &Check<'_>) {
    let spec = check.spec;
    let (variable, what) = key_variable(spec, Some(SnippetLanguage::Python));
    out.line("");
    out.line("");
    out.line(format!(
        "def {}(headers, payload: bytes) -> bool:",
        check_name(spec.algorithm, true)
    ));
    out.line(format!(
        "    key = os.environ.get({})  # {what}",
        quoted(variable)
    ));
    out.line("    if not key:");
    out.line("        return False");
    let reads: Vec<String> = check
        .headers
        .iter()
        .map(|h| format!("headers.get({})", quoted(h)))
        .collect();
    out.line(format!(
        "    values = ({} or \"\").split(\" \")",
        reads.join(" or ")
    ));
    match &spec.signed {
        Signed::Body => out.line("    messages = [payload]"),
        Signed::Standard => {
            let (id, ts) = standard_headers(profile);
            out.line(format!(
                "    msg_id, timestamp = headers.get({}, \"\"), headers.get({}, \"\")",
                quoted(&id),
                quoted(&ts)
            ));
            out.line(format!(
                "    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > {TOLERANCE_S}:"
            ));
            out.line("        return False  # stale or replayed");
            out.line("    messages = [f\"{msg_id}.{timestamp}.\".encode(\"utf-8\") + payload]");
        }
        Signed::DataFields { .. } => {
            let (rules, separator) = rules_of(&spec.signed).unwrap_or_default();
            let data = match data_member(profile) {
                Some(member) => format!("json.loads(payload)[{}]", quoted(&member)),
                None => "json.loads(payload)".to_owned(),
            };
            out.line(format!(
                "    messages = signed_strings({data}, {}, {})",
                nested_list(&rules, "[", "]", quoted),
                quoted(separator)
            ));
        }
    }
    let decode = match spec.encoding {
        SignatureEncoding::Hex => "bytes.fromhex(signature)",
        SignatureEncoding::Base64 => "base64.b64decode(signature, validate=True)",
    };
    match spec.algorithm {
        SignatureAlgorithm::HmacSha256 => {
            let key = match spec.hmac_key {
                HmacKey::Text => "key.encode(\"utf-8\")",
                HmacKey::Decoded => "base64.b64decode(key.removeprefix(\"whsec_\"))",
            };
            out.line(format!("    secret = {key}"));
        }
        SignatureAlgorithm::Ed25519 => out.line(
            "    public_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.removeprefix(\"whpk_\")))",
        ),
        SignatureAlgorithm::RsaSha256 => out.line(
            "    public_key = serialization.load_pem_public_key(key.encode(\"utf-8\"))",
        ),
    }
    out.line("    for message in messages:");
    if spec.algorithm == SignatureAlgorithm::HmacSha256 {
        let expected = match spec.encoding {
            SignatureEncoding::Hex => "hmac.new(secret, message, hashlib.sha256).hexdigest()",
            SignatureEncoding::Base64 => {
                "base64.b64encode(hmac.new(secret, message, hashlib.sha256).digest()).decode()"
            }
        };
        out.line(format!("        expected = {expected}"));
    }
    out.line("        for value in values:");
    if spec.prefix.is_empty() {
        out.line("            signature = value");
    } else {
        out.line(format!(
            "            if not value.startswith({}):",
            quoted(&spec.prefix)
        ));
        out.line("                continue");
        out.line(format!(
            "            signature = value[{}:]",
            spec.prefix.len()
        ));
    }
    match spec.algorithm {
        SignatureAlgorithm::HmacSha256 => {
            out.line("            if hmac.compare_digest(signature, expected):");
            out.line("                return True");
        }
        SignatureAlgorithm::Ed25519 | SignatureAlgorithm::RsaSha256 => {
            let verify = if spec.algorithm == SignatureAlgorithm::Ed25519 {
                format!("public_key.verify({decode}, message)")
            } else {
                format!("public_key.verify({decode}, message, padding.PKCS1v15(), hashes.SHA256())")
            };
            out.line("            try:");
            out.line(format!("                {verify}"));
            out.line("                return True");
            out.line("            except (InvalidSignature, ValueError):");
            out.line("                pass");
        }
    }
    out.line("    return False");
}

// ----- PHP -----

fn php(out: &mut Out, profile: &DeliveryProfile, checks: &[Check<'_>]) {
    out.line("// $headers: array_change_key_case(getallheaders(), CASE_LOWER);");
    out.line("// $payload: file_get_contents('php://input'). Returns the parsed body or throws.");
    out.line("function verifyWebhook(array $headers, string $payload) {");
    if !checks.is_empty() {
        let calls: Vec<String> = checks
            .iter()
            .map(|c| {
                format!(
                    "{}($headers, $payload)",
                    check_name(c.spec.algorithm, false)
                )
            })
            .collect();
        out.line(format!("    if (!({})) {{", calls.join(" || ")));
        out.line("        throw new Exception('Invalid webhook signature');");
        out.line("    }");
    }
    out.line("    return json_decode($payload, true);");
    out.line("}");
    for check in checks {
        php_check(out, profile, check);
    }
    if checks.iter().any(|c| rules_of(&c.spec.signed).is_some()) {
        out.line("");
        out.line("// One string per rule whose fields the payload has: strings as they are,");
        out.line("// numbers and booleans as JSON writes them.");
        out.line("function signedStrings($data, array $rules, string $separator): array {");
        out.line("    $out = [];");
        out.line("    foreach ($rules as $paths) {");
        out.line("        $values = [];");
        out.line("        foreach ($paths as $path) {");
        out.line("            $value = $data;");
        out.line("            foreach (explode('.', $path) as $step) {");
        out.line("                $value = is_array($value) && array_key_exists($step, $value) ? $value[$step] : null;");
        out.line("            }");
        out.line("            if ($value === null) continue 2;");
        out.line("            $values[] = is_string($value) ? $value : json_encode($value);");
        out.line("        }");
        out.line("        $out[] = implode($separator, $values);");
        out.line("    }");
        out.line("    return $out;");
        out.line("}");
    }
    out.line("");
    out.line("$headers = array_change_key_case(getallheaders(), CASE_LOWER);");
    out.line("$payload = file_get_contents('php://input');");
    out.line("try {");
    out.line("    $event = verifyWebhook($headers, $payload);");
    out.line("    http_response_code(200);");
    out.line("    echo json_encode(['received' => true]);");
    out.line("} catch (Exception $e) {");
    out.line("    http_response_code(400);");
    out.line("    echo 'Invalid signature';");
    out.line("}");
}

fn php_check(out: &mut Out, profile: &DeliveryProfile, check: &Check<'_>) {
    let spec = check.spec;
    let (variable, what) = key_variable(spec, Some(SnippetLanguage::Php));
    out.line("");
    out.line(format!(
        "function {}(array $headers, string $payload): bool {{",
        check_name(spec.algorithm, false)
    ));
    out.line(format!(
        "    $key = getenv({}); // {what}",
        php_quoted(variable)
    ));
    out.line("    if ($key === false || $key === '') return false;");
    let reads: Vec<String> = check
        .headers
        .iter()
        .map(|h| format!("$headers[{}]", php_quoted(&h.to_ascii_lowercase())))
        .collect();
    out.line(format!(
        "    $values = explode(' ', {} ?? '');",
        reads.join(" ?? ")
    ));
    match &spec.signed {
        Signed::Body => out.line("    $messages = [$payload];"),
        Signed::Standard => {
            let (id, ts) = standard_headers(profile);
            out.line(format!(
                "    $id = $headers[{}] ?? '';",
                php_quoted(&id.to_ascii_lowercase())
            ));
            out.line(format!(
                "    $timestamp = $headers[{}] ?? '';",
                php_quoted(&ts.to_ascii_lowercase())
            ));
            out.line(format!(
                "    if (!ctype_digit($timestamp) || abs(time() - (int) $timestamp) > {TOLERANCE_S}) return false; // stale or replayed"
            ));
            out.line("    $messages = [$id . '.' . $timestamp . '.' . $payload];");
        }
        Signed::DataFields { .. } => {
            let (rules, separator) = rules_of(&spec.signed).unwrap_or_default();
            let data = match data_member(profile) {
                Some(member) => format!(
                    "json_decode($payload, true)[{}] ?? null",
                    php_quoted(&member)
                ),
                None => "json_decode($payload, true)".to_owned(),
            };
            out.line(format!(
                "    $messages = signedStrings({data}, {}, {});",
                nested_list(&rules, "[", "]", php_quoted),
                php_quoted(separator)
            ));
        }
    }
    let decode = match spec.encoding {
        SignatureEncoding::Hex => {
            "ctype_xdigit($signature) && strlen($signature) % 2 === 0 ? hex2bin($signature) : false"
        }
        SignatureEncoding::Base64 => "base64_decode($signature, true)",
    };
    match spec.algorithm {
        SignatureAlgorithm::HmacSha256 => {
            let key = match spec.hmac_key {
                HmacKey::Text => "$key",
                HmacKey::Decoded => "base64_decode(preg_replace('/^whsec_/', '', $key))",
            };
            out.line(format!("    $secret = {key};"));
        }
        SignatureAlgorithm::Ed25519 => {
            out.line("    $publicKey = base64_decode(preg_replace('/^whpk_/', '', $key));");
        }
        SignatureAlgorithm::RsaSha256 => {}
    }
    out.line("    foreach ($messages as $message) {");
    if spec.algorithm == SignatureAlgorithm::HmacSha256 {
        let expected = match spec.encoding {
            SignatureEncoding::Hex => "hash_hmac('sha256', $message, $secret)",
            SignatureEncoding::Base64 => {
                "base64_encode(hash_hmac('sha256', $message, $secret, true))"
            }
        };
        out.line(format!("        $expected = {expected};"));
    }
    out.line("        foreach ($values as $value) {");
    if spec.prefix.is_empty() {
        out.line("            $signature = $value;");
    } else {
        out.line(format!(
            "            if (!str_starts_with($value, {})) continue;",
            php_quoted(&spec.prefix)
        ));
        out.line(format!(
            "            $signature = substr($value, {});",
            spec.prefix.len()
        ));
    }
    match spec.algorithm {
        SignatureAlgorithm::HmacSha256 => {
            out.line("            if (hash_equals($expected, $signature)) return true;");
        }
        SignatureAlgorithm::Ed25519 => {
            out.line(format!("            $raw = {decode};"));
            out.line("            if ($raw !== false && strlen($raw) === SODIUM_CRYPTO_SIGN_BYTES");
            out.line("                && sodium_crypto_sign_verify_detached($raw, $message, $publicKey)) return true;");
        }
        SignatureAlgorithm::RsaSha256 => {
            out.line(format!("            $raw = {decode};"));
            out.line("            if ($raw !== false && openssl_verify($message, $raw, $key, OPENSSL_ALGO_SHA256) === 1) return true;");
        }
    }
    out.line("        }");
    out.line("    }");
    out.line("    return false;");
    out.line("}");
}

// ----- Java -----

fn java(out: &mut Out, profile: &DeliveryProfile, checks: &[Check<'_>]) {
    let fields = checks.iter().any(|c| rules_of(&c.spec.signed).is_some());
    if fields {
        out.line("// Java 17+, with Jackson (com.fasterxml.jackson.core:jackson-databind) to read the payload.");
        out.line("import com.fasterxml.jackson.databind.JsonNode;");
        out.line("import com.fasterxml.jackson.databind.ObjectMapper;");
    } else {
        out.line("// Java 17+.");
    }
    out.line("import java.io.ByteArrayOutputStream;");
    out.line("import java.nio.charset.StandardCharsets;");
    out.line("import java.security.*;");
    out.line("import java.security.spec.X509EncodedKeySpec;");
    out.line("import java.util.*;");
    out.line("import java.util.function.UnaryOperator;");
    out.line("import javax.crypto.Mac;");
    out.line("import javax.crypto.spec.SecretKeySpec;");
    out.line("");
    out.line("public final class WebhookVerifier {");
    out.line("    /** header: reads a request header by name, any case (e.g. request::getHeader);");
    out.line("     *  body: the raw body's bytes. True when a signature is valid. */");
    out.line("    public static boolean verify(UnaryOperator<String> header, byte[] body) throws Exception {");
    if checks.is_empty() {
        out.line("        return true; // unsigned");
    } else {
        let calls: Vec<String> = checks
            .iter()
            .map(|c| format!("{}(header, body)", check_name(c.spec.algorithm, false)))
            .collect();
        out.line(format!("        return {};", calls.join(" || ")));
    }
    out.line("    }");
    for check in checks {
        java_check(out, profile, check);
    }
    out.line("");
    out.line("    static String firstHeader(UnaryOperator<String> header, String... names) {");
    out.line("        for (String name : names) {");
    out.line("            String value = header.apply(name);");
    out.line("            if (value != null) return value;");
    out.line("        }");
    out.line("        return \"\";");
    out.line("    }");
    if fields {
        out.line("");
        out.line("    /** One string per rule whose fields the payload has. */");
        out.line("    static List<byte[]> signedStrings(JsonNode data, List<List<String>> rules, String separator) {");
        out.line("        List<byte[]> out = new ArrayList<>();");
        out.line("        rules:");
        out.line("        for (List<String> paths : rules) {");
        out.line("            List<String> values = new ArrayList<>();");
        out.line("            for (String path : paths) {");
        out.line("                JsonNode value = data;");
        out.line(
            "                for (String step : path.split(\"\\\\.\")) value = value.path(step);",
        );
        out.line("                if (value.isMissingNode() || value.isNull()) continue rules;");
        out.line("                values.add(value.asText());");
        out.line("            }");
        out.line(
            "            out.add(String.join(separator, values).getBytes(StandardCharsets.UTF_8));",
        );
        out.line("        }");
        out.line("        return out;");
        out.line("    }");
    }
    out.line("}");
}

fn java_check(out: &mut Out, profile: &DeliveryProfile, check: &Check<'_>) {
    let spec = check.spec;
    let (variable, what) = key_variable(spec, Some(SnippetLanguage::Java));
    out.line("");
    out.line(format!(
        "    static boolean {}(UnaryOperator<String> header, byte[] body) throws Exception {{",
        check_name(spec.algorithm, false)
    ));
    out.line(format!(
        "        String key = System.getenv({}); // {what}",
        quoted(variable)
    ));
    out.line("        if (key == null || key.isEmpty()) return false;");
    let names: Vec<String> = check.headers.iter().map(|h| quoted(h)).collect();
    out.line(format!(
        "        String[] values = firstHeader(header, {}).split(\" \");",
        names.join(", ")
    ));
    match &spec.signed {
        Signed::Body => out.line("        List<byte[]> messages = List.of(body);"),
        Signed::Standard => {
            let (id, ts) = standard_headers(profile);
            out.line(format!(
                "        String id = firstHeader(header, {}), timestamp = firstHeader(header, {});",
                quoted(&id),
                quoted(&ts)
            ));
            out.line("        if (!timestamp.matches(\"\\\\d{1,12}\")");
            out.line(format!(
                "            || Math.abs(System.currentTimeMillis() / 1000 - Long.parseLong(timestamp)) > {TOLERANCE_S}) return false; // stale or replayed"
            ));
            out.line("        ByteArrayOutputStream signed = new ByteArrayOutputStream();");
            out.line("        signed.write((id + \".\" + timestamp + \".\").getBytes(StandardCharsets.UTF_8));");
            out.line("        signed.write(body);");
            out.line("        List<byte[]> messages = List.of(signed.toByteArray());");
        }
        Signed::DataFields { .. } => {
            let (rules, separator) = rules_of(&spec.signed).unwrap_or_default();
            let data = match data_member(profile) {
                Some(member) => format!(
                    "new ObjectMapper().readTree(body).path({})",
                    quoted(&member)
                ),
                None => "new ObjectMapper().readTree(body)".to_owned(),
            };
            out.line(format!(
                "        List<byte[]> messages = signedStrings({data},"
            ));
            out.line(format!(
                "            {}, {});",
                nested_list(&rules, "List.of(", ")", quoted),
                quoted(separator)
            ));
        }
    }
    let decode = match spec.encoding {
        SignatureEncoding::Hex => "HexFormat.of().parseHex(signature)",
        SignatureEncoding::Base64 => "Base64.getDecoder().decode(signature)",
    };
    match spec.algorithm {
        SignatureAlgorithm::HmacSha256 => {
            let key = match spec.hmac_key {
                HmacKey::Text => "key.getBytes(StandardCharsets.UTF_8)",
                HmacKey::Decoded => {
                    "Base64.getDecoder().decode(key.replaceFirst(\"^whsec_\", \"\"))"
                }
            };
            out.line(format!("        byte[] secret = {key};"));
        }
        SignatureAlgorithm::Ed25519 => {
            out.line("        ByteArrayOutputStream der = new ByteArrayOutputStream();");
            out.line(format!(
                "        der.write(HexFormat.of().parseHex(\"{ED25519_SPKI_PREFIX}\"));"
            ));
            out.line("        der.write(Base64.getDecoder().decode(key.replaceFirst(\"^whpk_\", \"\")));");
            out.line("        PublicKey publicKey = KeyFactory.getInstance(\"Ed25519\")");
            out.line("            .generatePublic(new X509EncodedKeySpec(der.toByteArray()));");
        }
        SignatureAlgorithm::RsaSha256 => {
            out.line("        PublicKey publicKey = KeyFactory.getInstance(\"RSA\")");
            out.line("            .generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(key)));");
        }
    }
    out.line("        for (byte[] message : messages) {");
    if spec.algorithm == SignatureAlgorithm::HmacSha256 {
        out.line("            Mac mac = Mac.getInstance(\"HmacSHA256\");");
        out.line("            mac.init(new SecretKeySpec(secret, \"HmacSHA256\"));");
        let expected = match spec.encoding {
            SignatureEncoding::Hex => "HexFormat.of().formatHex(mac.doFinal(message))",
            SignatureEncoding::Base64 => "Base64.getEncoder().encodeToString(mac.doFinal(message))",
        };
        out.line(format!(
            "            byte[] expected = {expected}.getBytes(StandardCharsets.UTF_8);"
        ));
    }
    out.line("            for (String value : values) {");
    if spec.prefix.is_empty() {
        out.line("                String signature = value;");
    } else {
        out.line(format!(
            "                if (!value.startsWith({})) continue;",
            quoted(&spec.prefix)
        ));
        out.line(format!(
            "                String signature = value.substring({});",
            spec.prefix.len()
        ));
    }
    match spec.algorithm {
        SignatureAlgorithm::HmacSha256 => {
            out.line("                if (MessageDigest.isEqual(signature.getBytes(StandardCharsets.UTF_8), expected)) return true;");
        }
        SignatureAlgorithm::Ed25519 | SignatureAlgorithm::RsaSha256 => {
            let instance = if spec.algorithm == SignatureAlgorithm::Ed25519 {
                "Ed25519"
            } else {
                "SHA256withRSA"
            };
            out.line("                try {");
            out.line(format!(
                "                    Signature verifier = Signature.getInstance(\"{instance}\");"
            ));
            out.line("                    verifier.initVerify(publicKey);");
            out.line("                    verifier.update(message);");
            out.line(format!(
                "                    if (verifier.verify({decode})) return true;"
            ));
            out.line("                } catch (IllegalArgumentException | SignatureException e) {");
            out.line("                    // not a signature of this key");
            out.line("                }");
        }
    }
    out.line("            }");
    out.line("        }");
    out.line("        return false;");
    out.line("    }");
}

#[cfg(test)]
#[path = "profile_snippet_tests.rs"]
mod tests;
