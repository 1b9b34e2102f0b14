//! A merchant's webhook endpoint as the dashboard and the API show it.

use super::duration::{format_duration, parse_duration};
use super::id::{EndpointId, MerchantId};
use super::profile::STANDARD_PROFILE;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::time::Duration;

/// Shortest per-endpoint attempt timeout.
pub const MIN_TIMEOUT: Duration = Duration::from_secs(1);
/// Longest per-endpoint attempt timeout.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// An endpoint: where a merchant wants events of the types it chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Endpoint {
    pub id: EndpointId,
    pub merchant_id: MerchantId,
    pub url: String,
    pub description: String,
    /// Exact names and `prefix.*` patterns; empty means every type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why it is disabled (by the merchant, an operator, a 410, or failing too long).
    pub disabled_reason: Option<String>,
    /// Disabled by an operator: only an operator can enable it again.
    #[serde(default)]
    pub disabled_by_operator: bool,
    /// When it was disabled (what it missed since then can be recovered).
    #[serde(default)]
    pub disabled_at: Option<DateTime<Utc>>,
    /// Since when every delivery to it has failed (`None`: it is healthy).
    #[serde(default)]
    pub failing_since: Option<DateTime<Utc>>,
    /// When Herald will disable it unless a delivery succeeds first (failing
    /// and enabled only).
    #[serde(default)]
    pub disables_at: Option<DateTime<Utc>>,
    /// Which events it gets: the platform's live ones, or its test ones.
    #[serde(default)]
    pub mode: EndpointMode,
    pub rate_limit_per_s: Option<u32>,
    pub headers: BTreeMap<String, String>,
    /// Also sign with a plain hex HMAC of the body (`x-herald-signature`), for
    /// receivers written for that older style.
    #[serde(default)]
    pub legacy_signature: bool,
    /// The endpoint's own waits before each attempt (`["0s","30s","5m"]`);
    /// `None` means the server's schedule.
    #[serde(default)]
    pub retry_schedule: Option<Vec<String>>,
    /// How deliveries are signed: HMAC (`v1,`) or Ed25519 (`v1a,`).
    #[serde(default)]
    pub signature_scheme: SignatureScheme,
    /// Whether the body is encrypted, and how (`null`: sent in the clear).
    #[serde(default)]
    pub encryption: Option<PayloadEncryption>,
    /// The wire format deliveries are sent in (a delivery profile's name).
    #[serde(default = "standard_profile")]
    pub profile: String,
    /// The limit of one attempt, written like `30s` (1s to 60s); the
    /// server's `HERALD_REQUEST_TIMEOUT` unless the merchant chose one.
    #[serde(
        default = "default_timeout",
        serialize_with = "serialize_timeout",
        deserialize_with = "deserialize_timeout"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = String, example = "30s"))]
    pub timeout: Duration,
    /// Profiles signing with RSA: the public key receivers verify with now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsa_public_key: Option<RsaPublicKey>,
    /// During a rotation's grace period (the rotated-out key still signs,
    /// alone, for receivers that compare one signature): the key that
    /// takes over at `signs_from`, to install on the receiver before then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsa_next_public_key: Option<NextRsaPublicKey>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An RSA public key in the two forms receivers' code takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RsaPublicKey {
    /// `-----BEGIN PUBLIC KEY-----` PEM (SubjectPublicKeyInfo).
    pub pem: String,
    /// Base64 of the SubjectPublicKeyInfo DER: what Java's
    /// `X509EncodedKeySpec` takes (the PEM's body on one line).
    pub base64: String,
}

/// The RSA public key that signs from `signs_from` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NextRsaPublicKey {
    pub pem: String,
    pub base64: String,
    pub signs_from: DateTime<Utc>,
}

impl RsaPublicKey {
    /// Both forms from the PEM: the base64 is the PEM's body on one line.
    pub fn from_pem(pem: &str) -> Self {
        let base64 = pem
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with("-----"))
            .collect();
        RsaPublicKey {
            pem: pem.to_owned(),
            base64,
        }
    }
}

fn standard_profile() -> String {
    STANDARD_PROFILE.to_owned()
}

/// Herald's built-in attempt timeout (`HERALD_REQUEST_TIMEOUT`'s default).
pub fn default_timeout() -> Duration {
    Duration::from_secs(15)
}

fn serialize_timeout<S: Serializer>(timeout: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*timeout))
}

fn deserialize_timeout<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
}

/// Checks a per-endpoint timeout: `timeout` as the API and the form write it.
pub fn check_timeout(text: &str) -> Result<Duration, String> {
    let timeout = parse_duration(text).map_err(|e| e.to_string())?;
    if !(MIN_TIMEOUT..=MAX_TIMEOUT).contains(&timeout) {
        return Err(format!("`{}` is outside 1s to 60s", text.trim()));
    }
    Ok(timeout)
}

/// What is shown in place of a custom header's value where the value is not
/// for the reader: in every attempt's recorded request headers, and to operators.
pub const MASKED_VALUE: &str = "••••";

impl Endpoint {
    /// The endpoint with `disables_at` filled in: when failing for
    /// `auto_disable_after` will disable it, if it is failing and enabled.
    pub fn with_disable_time(mut self, auto_disable_after: std::time::Duration) -> Self {
        self.disables_at = match (self.enabled, self.failing_since) {
            (true, Some(since)) => chrono::Duration::from_std(auto_disable_after)
                .ok()
                .and_then(|after| since.checked_add_signed(after)),
            _ => None,
        };
        self
    }

    /// The endpoint with the server's timeout where the merchant chose none.
    pub fn with_default_timeout(mut self, server_timeout: Duration) -> Self {
        if self.timeout.is_zero() {
            self.timeout = server_timeout;
        }
        self
    }

    /// The endpoint with its custom header values masked (the names stay).
    pub fn with_masked_headers(mut self) -> Self {
        for value in self.headers.values_mut() {
            MASKED_VALUE.clone_into(value);
        }
        self
    }
}

/// Which of the platform's events an endpoint gets: a sandbox endpoint
/// (`test`) gets the test events (`live_mode: false`) and no live ones.
/// A test event sent to one endpoint from the dashboard or `/test` goes to
/// that endpoint whatever its mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EndpointMode {
    /// Live events (`live_mode: true`): the default.
    #[default]
    Live,
    /// Test events (`live_mode: false`).
    Test,
}

impl EndpointMode {
    /// The name used in the API, the form and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointMode::Live => "live",
            EndpointMode::Test => "test",
        }
    }

    /// The mode of an API or form value.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "live" => Some(EndpointMode::Live),
            "test" => Some(EndpointMode::Test),
            _ => None,
        }
    }

    /// Whether it gets events of this mode (`live_mode` as ingested).
    pub fn takes(self, live_mode: bool) -> bool {
        (self == EndpointMode::Live) == live_mode
    }

    /// How the dashboard names it.
    pub fn label(self) -> &'static str {
        match self {
            EndpointMode::Live => "Live",
            EndpointMode::Test => "Test (sandbox)",
        }
    }
}

/// How an endpoint's deliveries are signed (Standard Webhooks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignatureScheme {
    /// `v1,` HMAC-SHA256 with a shared `whsec_` secret.
    #[default]
    Hmac,
    /// `v1a,` Ed25519: Herald keeps the private key, the merchant verifies
    /// with the public key (`whpk_…`) and can never forge a message.
    Ed25519,
}

impl SignatureScheme {
    /// The name used in the API and the form.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureScheme::Hmac => "hmac",
            SignatureScheme::Ed25519 => "ed25519",
        }
    }

    /// The scheme of an API or form value.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "hmac" => Some(SignatureScheme::Hmac),
            "ed25519" => Some(SignatureScheme::Ed25519),
            _ => None,
        }
    }
}

/// How an endpoint's bodies are encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum PayloadEncryption {
    /// `{"data":"<base64 ciphertext>","iv":"<base64 IV>"}`: the envelope
    /// encrypted with AES-256-CBC (PKCS#7 padding), a fresh random IV each time.
    #[serde(rename = "aes-256-cbc")]
    Aes256Cbc,
}

impl PayloadEncryption {
    /// The name used in the API and the form.
    pub fn as_str(self) -> &'static str {
        match self {
            PayloadEncryption::Aes256Cbc => "aes-256-cbc",
        }
    }

    /// The mode of an API or form value.
    pub fn parse(value: &str) -> Option<Self> {
        (value == "aes-256-cbc").then_some(PayloadEncryption::Aes256Cbc)
    }
}

/// What a merchant needs to verify, and decrypt, an endpoint's deliveries.
/// Only what applies is present.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EndpointKeys {
    /// HMAC endpoints: the shared secret, `whsec_` and base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "ssr",
        schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    )]
    pub secret: Option<String>,
    /// Ed25519 endpoints: the public key, `whpk_` and base64 of 32 bytes;
    /// RSA profiles: the `BEGIN PUBLIC KEY` PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// RSA profiles: the public key as base64 SubjectPublicKeyInfo DER
    /// (Java's `X509EncodedKeySpec`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_base64: Option<String>,
    /// After a rotation: until when the previous key also signs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Profiles that send one signature value: after a rotation the old key
    /// keeps signing through the grace period, and this new key signs from
    /// `signs_from` on (receivers switch to it before then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<NextKey>,
    /// Encrypted endpoints: the AES-256 key, base64 of 32 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key: Option<String>,
}

/// The key that takes over at the end of a rotation's grace period, for
/// profiles whose receivers compare a single signature.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NextKey {
    /// HMAC: the new secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Ed25519 (`whpk_…`) or RSA (PEM): the new public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// RSA: the new public key as base64 SubjectPublicKeyInfo DER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_base64: Option<String>,
    /// When it starts signing (the old key stops).
    pub signs_from: DateTime<Utc>,
}

/// The secret that signs deliveries to an event's `callback_url` (one per
/// merchant), with until when a rotated-out one also signs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CallbackSecret {
    /// `whsec_` and base64: verify with any Standard Webhooks library.
    #[cfg_attr(
        feature = "ssr",
        schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    )]
    pub secret: String,
    /// After a rotation: until when the previous secret also signs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

/// How deliveries to an event's `callback_url` are sent: the merchant's
/// choice of delivery profile (one that signs with HMAC, the callback
/// secret's kind, or not at all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CallbackSettings {
    /// The delivery profile's name (`standard` unless changed).
    #[cfg_attr(feature = "ssr", schema(example = "payvost"))]
    pub profile: String,
}

/// What an endpoint missed: events in a window it never got a delivery for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Missed {
    /// How many (at most one recover call's worth).
    pub count: u64,
    /// Since when (the window's start).
    pub since: DateTime<Utc>,
}

/// Why an endpoint was disabled: the one place the texts the merchant reads
/// on the endpoint are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisableReason {
    /// The merchant turned it off.
    ByMerchant,
    /// An operator turned it off, saying why.
    ByOperator(String),
    /// It answered 410 Gone.
    Gone,
    /// Every delivery failed for longer than the auto-disable threshold.
    FailingTooLong,
}

impl DisableReason {
    /// Whether only an operator may enable the endpoint again.
    pub fn is_by_operator(&self) -> bool {
        matches!(self, DisableReason::ByOperator(_))
    }

    /// The text stored on the endpoint and shown to the merchant.
    pub fn text(&self) -> String {
        match self {
            DisableReason::ByMerchant => "Disabled by the merchant.".to_owned(),
            DisableReason::ByOperator(why) => format!("Disabled by an operator: {why}"),
            DisableReason::Gone => {
                "Disabled automatically: the endpoint answered 410 Gone.".to_owned()
            }
            DisableReason::FailingTooLong => {
                "Disabled automatically: every delivery failed for too long.".to_owned()
            }
        }
    }
}
