//! Delivery profiles: a wire format as data, for receivers already written
//! against another provider's docs (the seeds). A profile names the envelope,
//! how event types are spelled, the headers for the id, event type, timestamp
//! and user agent, and the signatures. One renderer and one signer on the
//! server read it; there is no code path per provider. Shared with the UI,
//! so nothing here needs the server.

use super::event_filter::pattern_matches;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[path = "profile_validation.rs"]
mod validation;
pub use validation::ProfileError;

/// The name of the profile that sends exactly Herald's own format.
pub const STANDARD_PROFILE: &str = "standard";

/// One wire format. Written by operators as JSON; the bundled ones are
/// derived from the seeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryProfile {
    /// Lowercase letters, digits and `-`, e.g. `payvost`.
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub envelope: Envelope,
    #[serde(default)]
    pub type_spelling: TypeSpelling,
    #[serde(default)]
    pub headers: ProfileHeaders,
    /// Every signature sent; signatures naming the same header are joined
    /// with spaces in that header.
    #[serde(default)]
    pub signatures: Vec<SignatureSpec>,
    /// Deliberately unsigned (no signatures): must be said, so that an empty
    /// list is never an accident.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unsigned: bool,
}

/// The shape of the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Envelope {
    /// Herald's: `{"id","type","timestamp","live_mode","data"}`.
    Standard,
    /// Herald's fields under other names; a field named `null` is left out.
    /// Fields come in Herald's order: id, type, timestamp, live mode, data,
    /// previous data.
    Renamed { fields: EnvelopeFields },
    /// The platform's `data` alone, as it sent it (seed 004 sends its
    /// purchase object itself). With `type_field`, the spelled event type is
    /// put first into that object under this name (seed 003's `event_type`).
    DataOnly {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        type_field: Option<String>,
    },
}

/// The field names of a renamed envelope; `None` leaves the field out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeFields {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(rename = "type", default)]
    pub event_type: Option<String>,
    /// When the event happened, RFC 3339 in UTC to the second.
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub live_mode: Option<String>,
    /// The platform's payload; always present.
    pub data: String,
    /// The object's state before the change, `null` when the platform sent none.
    #[serde(default)]
    pub previous_data: Option<String>,
}

impl EnvelopeFields {
    /// Herald's own names: what `Envelope::Standard` means.
    pub fn standard() -> Self {
        EnvelopeFields {
            id: Some("id".to_owned()),
            event_type: Some("type".to_owned()),
            timestamp: Some("timestamp".to_owned()),
            live_mode: Some("live_mode".to_owned()),
            data: "data".to_owned(),
            previous_data: None,
        }
    }
}

/// How Herald's type names (`payin.succeeded`) are spelled to receivers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeSpelling {
    /// Applied to types no rename names.
    #[serde(default)]
    pub style: TypeStyle,
    /// Exact names or `prefix.*` patterns → the receiver's name. An exact
    /// name wins over a pattern, a longer pattern over a shorter one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub renames: BTreeMap<String, String>,
}

/// The spelling of types no rename names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeStyle {
    /// Herald's name unchanged.
    #[default]
    AsIs,
    /// `payin.succeeded` → `PAYIN_SUCCEEDED`.
    UpperSnake,
}

impl TypeSpelling {
    /// The receiver's name for Herald's `event_type`.
    pub fn spell(&self, event_type: &str) -> String {
        if let Some(exact) = self.renames.get(event_type) {
            return exact.clone();
        }
        let by_pattern = self
            .renames
            .iter()
            .filter(|(pattern, _)| pattern.ends_with(".*") && pattern_matches(pattern, event_type))
            .max_by_key(|(pattern, _)| pattern.len());
        if let Some((_, name)) = by_pattern {
            return name.clone();
        }
        match self.style {
            TypeStyle::AsIs => event_type.to_owned(),
            TypeStyle::UpperSnake => event_type
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect(),
        }
    }
}

/// The headers a profile sends besides its signatures. `None` sends none
/// (the user agent: Herald's own).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileHeaders {
    /// Carries the message id (the event's id, the same on every retry).
    #[serde(default)]
    pub id: Option<String>,
    /// Carries the spelled event type.
    #[serde(default)]
    pub event_type: Option<String>,
    /// Carries the time of this attempt.
    #[serde(default)]
    pub timestamp: Option<TimestampHeader>,
    /// The `user-agent` value; `None`: `Herald-Webhooks/<version>`.
    #[serde(default)]
    pub user_agent: Option<String>,
}

/// A header carrying the attempt's time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimestampHeader {
    pub header: String,
    #[serde(default)]
    pub format: TimestampFormat,
}

/// How a time is written in a header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampFormat {
    /// `1723732200`
    #[default]
    UnixSeconds,
    /// `1723732200000`
    UnixMillis,
    /// `2024-08-15T14:30:00Z`
    Rfc3339,
}

/// One signature: `<header>: <prefix><encoded signature>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureSpec {
    pub header: String,
    /// Put before the encoded signature, e.g. `sha256=` or `v1,`.
    #[serde(default)]
    pub prefix: String,
    pub algorithm: SignatureAlgorithm,
    pub encoding: SignatureEncoding,
    pub signed: Signed,
    /// HMAC only: which bytes of the `whsec_…` secret are the key.
    #[serde(default, skip_serializing_if = "HmacKey::is_decoded")]
    pub hmac_key: HmacKey,
    /// During a secret rotation, sign with every valid key (space-separated,
    /// current first), as Standard Webhooks receivers expect; otherwise the
    /// current key alone, for receivers that compare one value.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub every_key: bool,
}

/// The signature algorithm; the endpoint must hold a key of this kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureAlgorithm {
    HmacSha256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (Java's `SHA256withRSA`).
    RsaSha256,
    Ed25519,
}

impl SignatureAlgorithm {
    /// The name used in profiles.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureAlgorithm::HmacSha256 => "hmac-sha256",
            SignatureAlgorithm::RsaSha256 => "rsa-sha256",
            SignatureAlgorithm::Ed25519 => "ed25519",
        }
    }
}

/// How the signature bytes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureEncoding {
    /// Lowercase hex.
    Hex,
    /// Standard base64, padded.
    Base64,
}

/// The HMAC key's bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HmacKey {
    /// The bytes the base64 after `whsec_` decodes to (Standard Webhooks).
    #[default]
    Decoded,
    /// The `whsec_…` text itself, as the merchant pastes it into code such
    /// as `createHmac('sha256', secret)` (seeds 002 and 003).
    Text,
}

impl HmacKey {
    fn is_decoded(&self) -> bool {
        *self == HmacKey::Decoded
    }
}

/// What a signature covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Signed {
    /// The body as sent.
    Body,
    /// `{id}.{timestamp}.{body}`, the Standard Webhooks string (unix seconds).
    Standard,
    /// Fields of the event's `data`, joined by `separator`, chosen by the
    /// first rule whose types match the event's (Herald's) type.
    DataFields {
        rules: Vec<FieldRule>,
        #[serde(default = "default_separator")]
        separator: String,
    },
}

fn default_separator() -> String {
    "|".to_owned()
}

/// Which fields of `data` are signed for some event types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    /// Exact type names or `prefix.*` patterns (Herald's names).
    pub types: Vec<String>,
    /// Dotted paths into `data`, e.g. `purchaseId` or `payer.id`.
    pub fields: Vec<String>,
}

impl Signed {
    /// The field paths signed for `event_type`, if a rule covers it.
    pub fn fields_for(&self, event_type: &str) -> Option<&[String]> {
        match self {
            Signed::DataFields { rules, .. } => rules
                .iter()
                .find(|rule| {
                    rule.types
                        .iter()
                        .any(|pattern| pattern_matches(pattern, event_type))
                })
                .map(|rule| rule.fields.as_slice()),
            Signed::Body | Signed::Standard => None,
        }
    }
}

impl DeliveryProfile {
    /// The envelope's field names, `None` when the body is `data` alone.
    pub fn envelope_fields(&self) -> Option<EnvelopeFields> {
        match &self.envelope {
            Envelope::Standard => Some(EnvelopeFields::standard()),
            Envelope::Renamed { fields } => Some(fields.clone()),
            Envelope::DataOnly { .. } => None,
        }
    }

    /// Whether each signature header carries one value (no `every_key`):
    /// its receivers compare one signature, so a rotated-out key keeps
    /// signing alone until the grace period ends.
    pub fn signs_one_key_at_a_time(&self) -> bool {
        !self.signatures.is_empty() && self.signatures.iter().all(|spec| !spec.every_key)
    }

    /// The first signature spec whose header a key of `algorithm` cannot
    /// sign (no spec sharing that header has this algorithm); `None` when
    /// such a key alone signs every header (or the profile signs nothing).
    pub fn header_unsignable_with(&self, algorithm: SignatureAlgorithm) -> Option<&SignatureSpec> {
        self.signatures.iter().find(|spec| {
            !self.signatures.iter().any(|other| {
                other.header.eq_ignore_ascii_case(&spec.header) && other.algorithm == algorithm
            })
        })
    }

    /// The algorithms this profile signs with (an endpoint needs a key of one
    /// of them; `standard` takes either HMAC or Ed25519).
    pub fn algorithms(&self) -> Vec<SignatureAlgorithm> {
        let mut out: Vec<SignatureAlgorithm> = Vec::new();
        for spec in &self.signatures {
            if !out.contains(&spec.algorithm) {
                out.push(spec.algorithm);
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
