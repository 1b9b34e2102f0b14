//! What makes a profile acceptable: each rule names the field it is about,
//! as a 422 would, so an operator writing JSON knows what to fix.

use super::{DeliveryProfile, Envelope, HmacKey, SignatureAlgorithm, Signed, TimestampFormat};
use crate::model::event_filter::is_valid_pattern;

/// Longest profile name.
pub const MAX_NAME_LEN: usize = 64;
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = 1000;
/// Longest header name, envelope field name or field path.
pub const MAX_IDENT_LEN: usize = 128;
/// Longest header value a profile fixes (user agent, prefix, type names).
pub const MAX_VALUE_LEN: usize = 200;
/// Most signatures, renames, rules and fields: enough for any real format,
/// and a bound on the work of one delivery.
pub const MAX_ITEMS: usize = 64;

/// Headers a profile may not name: HTTP's own framing and hop-by-hop
/// headers, which the client sets, and Herald's per-attempt headers, which
/// every delivery carries whatever its profile.
pub const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "user-agent",
    "herald-delivery-id",
    "herald-attempt",
];

/// Why a profile is refused: the field (a JSON path) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ProfileError {
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> ProfileError {
    ProfileError {
        field: field.into(),
        message: message.into(),
    }
}

impl DeliveryProfile {
    /// Checks every rule. The error names the first broken rule's field and
    /// lists every broken rule, so one 422 says all there is to fix.
    pub fn validate(&self) -> Result<(), ProfileError> {
        let mut problems = self.problems().into_iter();
        let Some(first) = problems.next() else {
            return Ok(());
        };
        let mut message = first.message;
        for more in problems {
            message.push_str(&format!("; {more}"));
        }
        Err(ProfileError {
            field: first.field,
            message,
        })
    }

    /// Every broken rule, in the order of the profile's fields.
    pub fn problems(&self) -> Vec<ProfileError> {
        let mut found = Vec::new();
        keep(&mut found, check_name(&self.name));
        if self.description.chars().count() > MAX_DESCRIPTION_LEN {
            found.push(err(
                "description",
                format!("at most {MAX_DESCRIPTION_LEN} characters"),
            ));
        }
        self.check_envelope(&mut found);
        self.check_type_spelling(&mut found);
        let role_headers = self.check_headers(&mut found);
        self.check_signatures(&role_headers, &mut found);
        found
    }

    fn check_envelope(&self, found: &mut Vec<ProfileError>) {
        match &self.envelope {
            Envelope::Standard => {}
            Envelope::DataOnly { type_field } => {
                if let Some(name) = type_field {
                    keep(found, check_json_name("envelope.type_field", name));
                }
            }
            Envelope::Renamed { fields } => {
                let named = [
                    ("envelope.fields.id", fields.id.as_deref()),
                    ("envelope.fields.type", fields.event_type.as_deref()),
                    ("envelope.fields.timestamp", fields.timestamp.as_deref()),
                    ("envelope.fields.live_mode", fields.live_mode.as_deref()),
                    ("envelope.fields.data", Some(fields.data.as_str())),
                    (
                        "envelope.fields.previous_data",
                        fields.previous_data.as_deref(),
                    ),
                ];
                let mut seen: Vec<&str> = Vec::new();
                for (field, name) in named {
                    let Some(name) = name else { continue };
                    if let Err(e) = check_json_name(field, name) {
                        found.push(e);
                        continue;
                    }
                    if seen.contains(&name) {
                        found.push(err(
                            field,
                            format!("`{name}` is already used by another field"),
                        ));
                    }
                    seen.push(name);
                }
            }
        }
    }

    fn check_type_spelling(&self, found: &mut Vec<ProfileError>) {
        let renames = &self.type_spelling.renames;
        if renames.len() > MAX_ITEMS {
            found.push(err(
                "type_spelling.renames",
                format!("at most {MAX_ITEMS} renames"),
            ));
            return;
        }
        for (from, to) in renames {
            let field = format!("type_spelling.renames.{from}");
            if !is_valid_pattern(from) {
                found.push(err(
                    field,
                    "a rename is keyed by a type name (`payin.succeeded`) or a pattern (`payin.*`)",
                ));
                continue;
            }
            keep(found, check_header_value(&field, to, false));
        }
    }

    /// Checks the role headers and returns their names, lowercased.
    fn check_headers(&self, found: &mut Vec<ProfileError>) -> Vec<String> {
        let headers = &self.headers;
        let mut names: Vec<(&str, &str)> = Vec::new();
        if let Some(id) = &headers.id {
            names.push(("headers.id", id.as_str()));
        }
        if let Some(event_type) = &headers.event_type {
            names.push(("headers.event_type", event_type.as_str()));
        }
        if let Some(timestamp) = &headers.timestamp {
            names.push(("headers.timestamp.header", timestamp.header.as_str()));
        }
        let mut seen: Vec<String> = Vec::new();
        for (field, name) in names {
            if let Err(e) = check_header_name(field, name) {
                found.push(e);
                continue;
            }
            let lower = name.to_ascii_lowercase();
            if seen.contains(&lower) {
                found.push(err(
                    field,
                    format!("`{name}` is already used by another header"),
                ));
                continue;
            }
            seen.push(lower);
        }
        if let Some(agent) = &headers.user_agent {
            keep(found, check_header_value("headers.user_agent", agent, true));
        }
        seen
    }

    fn check_signatures(&self, role_headers: &[String], found: &mut Vec<ProfileError>) {
        match (self.signatures.is_empty(), self.unsigned) {
            (true, false) => {
                found.push(err(
                    "signatures",
                    "at least one signature, or `unsigned: true` to send deliveries unsigned",
                ));
                return;
            }
            (false, true) => {
                found.push(err("unsigned", "an unsigned profile has no signatures"));
            }
            _ => {}
        }
        if self.signatures.len() > MAX_ITEMS {
            found.push(err("signatures", format!("at most {MAX_ITEMS} signatures")));
            return;
        }
        for (i, spec) in self.signatures.iter().enumerate() {
            let at = |field: &str| format!("signatures[{i}].{field}");
            match check_header_name(&at("header"), &spec.header) {
                Err(e) => found.push(e),
                Ok(()) if role_headers.contains(&spec.header.to_ascii_lowercase()) => {
                    found.push(err(
                        at("header"),
                        format!(
                            "`{}` already carries the id, type or timestamp",
                            spec.header
                        ),
                    ));
                }
                Ok(()) => {}
            }
            if !spec.prefix.is_empty() {
                keep(
                    found,
                    check_header_value(&at("prefix"), &spec.prefix, false),
                );
            }
            if spec.hmac_key == HmacKey::Text && spec.algorithm != SignatureAlgorithm::HmacSha256 {
                found.push(err(
                    at("hmac_key"),
                    format!(
                        "only an hmac-sha256 signature has an HMAC key, not {}",
                        spec.algorithm.as_str()
                    ),
                ));
            }
            match &spec.signed {
                Signed::Body => {}
                Signed::Standard => keep(found, self.check_standard_signed(&at("signed"))),
                Signed::DataFields { rules, separator } => {
                    keep(found, check_rules(&at("signed"), rules, separator));
                }
            }
        }
    }

    /// The Standard Webhooks string needs the id and the unix timestamp,
    /// and the receiver needs them in headers to rebuild it.
    fn check_standard_signed(&self, field: &str) -> Result<(), ProfileError> {
        if self.headers.id.is_none() {
            return Err(err(
                field,
                "a signature of `{id}.{timestamp}.{body}` needs `headers.id`",
            ));
        }
        match &self.headers.timestamp {
            Some(t) if t.format == TimestampFormat::UnixSeconds => Ok(()),
            Some(_) => Err(err(
                field,
                "a signature of `{id}.{timestamp}.{body}` needs `headers.timestamp` in unix_seconds",
            )),
            None => Err(err(
                field,
                "a signature of `{id}.{timestamp}.{body}` needs `headers.timestamp`",
            )),
        }
    }
}

/// Adds a broken rule to `found`.
fn keep(found: &mut Vec<ProfileError>, checked: Result<(), ProfileError>) {
    if let Err(e) = checked {
        found.push(e);
    }
}

fn check_rules(
    field: &str,
    rules: &[super::FieldRule],
    separator: &str,
) -> Result<(), ProfileError> {
    if rules.is_empty() {
        return Err(err(
            format!("{field}.rules"),
            "at least one rule: which fields are signed for which types",
        ));
    }
    if rules.len() > MAX_ITEMS {
        return Err(err(
            format!("{field}.rules"),
            format!("at most {MAX_ITEMS} rules"),
        ));
    }
    if separator.len() > 8 || separator.chars().any(char::is_control) {
        return Err(err(
            format!("{field}.separator"),
            "at most 8 characters, none of them control characters",
        ));
    }
    for (r, rule) in rules.iter().enumerate() {
        let at = format!("{field}.rules[{r}]");
        if rule.types.is_empty() || rule.types.len() > MAX_ITEMS {
            return Err(err(
                format!("{at}.types"),
                format!("1 to {MAX_ITEMS} type names or patterns"),
            ));
        }
        for (t, pattern) in rule.types.iter().enumerate() {
            if !is_valid_pattern(pattern) {
                return Err(err(
                    format!("{at}.types[{t}]"),
                    format!("`{pattern}` is not a type name or a `prefix.*` pattern"),
                ));
            }
        }
        if rule.fields.is_empty() || rule.fields.len() > MAX_ITEMS {
            return Err(err(
                format!("{at}.fields"),
                format!("1 to {MAX_ITEMS} field paths"),
            ));
        }
        for (f, path) in rule.fields.iter().enumerate() {
            let bad = path.is_empty()
                || path.len() > MAX_IDENT_LEN
                || path.split('.').any(str::is_empty)
                || path.chars().any(char::is_control);
            if bad {
                return Err(err(
                    format!("{at}.fields[{f}]"),
                    format!("a dotted path into `data` (`purchaseId`, `payer.id`) of at most {MAX_IDENT_LEN} characters"),
                ));
            }
        }
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), ProfileError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(err(
            "name",
            format!(
                "1 to {MAX_NAME_LEN} lowercase letters, digits and `-`, starting with a letter"
            ),
        ))
    }
}

/// A JSON member name Herald writes: non-empty, bounded, no control characters.
fn check_json_name(field: &str, name: &str) -> Result<(), ProfileError> {
    if name.is_empty() || name.len() > MAX_IDENT_LEN || name.chars().any(char::is_control) {
        return Err(err(
            field,
            format!("1 to {MAX_IDENT_LEN} characters, no control characters"),
        ));
    }
    Ok(())
}

/// An HTTP header name (RFC 9110 token) that is not reserved.
fn check_header_name(field: &str, name: &str) -> Result<(), ProfileError> {
    let token = !name.is_empty()
        && name.len() <= MAX_IDENT_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !token {
        return Err(err(
            field,
            format!("`{name}` is not an HTTP header name (letters, digits and !#$%&'*+-.^_`|~, at most {MAX_IDENT_LEN})"),
        ));
    }
    let lower = name.to_ascii_lowercase();
    if RESERVED_HEADERS.contains(&lower.as_str()) {
        return Err(err(
            field,
            format!("`{name}` is set by HTTP or by Herald itself"),
        ));
    }
    Ok(())
}

/// A value Herald puts in a header: visible ASCII (spaces only where a
/// header's value may hold words, as a user agent does), bounded.
fn check_header_value(field: &str, value: &str, spaces: bool) -> Result<(), ProfileError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_VALUE_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() || (spaces && b == b' '))
        && !value.starts_with(' ')
        && !value.ends_with(' ');
    if ok {
        Ok(())
    } else {
        let what = if spaces {
            "visible ASCII and inner spaces"
        } else {
            "visible ASCII, no spaces"
        };
        Err(err(
            field,
            format!("1 to {MAX_VALUE_LEN} characters of {what}"),
        ))
    }
}
