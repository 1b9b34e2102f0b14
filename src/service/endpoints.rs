//! Endpoints: the rules for creating, changing and removing them, and for
//! their signing secrets.

use super::destination::UrlRules;
use super::ServiceError;
use crate::crypto::payload_encryption::EncryptionKey;
use crate::crypto::secret_box::{endpoint_row, SecretBox};
use crate::crypto::signing::SigningKey;
use crate::engine::retry::RetrySchedule;
use crate::engine::RESERVED_HEADERS;
use crate::store::{EndpointSecrets, EndpointSettings, KeyChange, Store};
use chrono::Utc;
use herald_app::model::endpoint::{Endpoint, EndpointKeys, PayloadEncryption, SignatureScheme};
use herald_app::model::event_filter::{is_valid_pattern, pattern_matches};
use herald_app::model::id::{EndpointId, MerchantId};
use std::collections::BTreeMap;
use std::time::Duration;

const MAX_DESCRIPTION: usize = 500;
const MAX_EVENT_TYPES: usize = 100;
const MAX_HEADERS: usize = 20;
const MAX_HEADER_VALUE: usize = 1024;
/// The highest per-endpoint rate limit accepted (requests per second).
pub const MAX_RATE_LIMIT: u32 = 10_000;
/// How long a rotated-out secret keeps signing unless the merchant says otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(24 * 3600);
/// The longest grace period (a week).
pub const MAX_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

/// Headers that describe a connection rather than a request: a proxy or the
/// client manages them, so a merchant may not set them.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
];

/// What a merchant sends to create an endpoint.
#[derive(Debug, Clone, Default)]
pub struct NewEndpoint {
    pub url: String,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub rate_limit_per_s: Option<u32>,
    pub headers: Option<BTreeMap<String, String>>,
    pub legacy_signature: Option<bool>,
    pub retry_schedule: Option<Vec<String>>,
    pub signature_scheme: Option<SignatureScheme>,
    pub encryption: Option<PayloadEncryption>,
}

/// A partial update: `None` leaves a field as it is; for the nullable rate
/// limit, `Some(None)` removes it.
#[derive(Debug, Clone, Default)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub rate_limit_per_s: Option<Option<u32>>,
    pub headers: Option<BTreeMap<String, String>>,
    pub legacy_signature: Option<bool>,
    /// `Some(None)` goes back to the server's schedule.
    pub retry_schedule: Option<Option<Vec<String>>>,
    /// A new scheme rotates to a new key of that scheme; the old key keeps
    /// signing for the default grace period.
    pub signature_scheme: Option<SignatureScheme>,
    /// `Some(Some(_))` turns encryption on (a new key), `Some(None)` off.
    pub encryption: Option<Option<PayloadEncryption>>,
}

/// The endpoint operations.
#[derive(Clone, Debug)]
pub struct Endpoints {
    store: Store,
    rules: UrlRules,
    /// Seals signing secrets before they are stored, opens them to reveal.
    secrets: SecretBox,
}

impl Endpoints {
    /// Endpoint operations over `store`, with this deployment's URL rules
    /// and secret key.
    pub fn new(store: Store, rules: UrlRules, secrets: SecretBox) -> Self {
        Endpoints {
            store,
            rules,
            secrets,
        }
    }

    /// Creates an endpoint; returns it with its new keys (shown once here).
    pub async fn create(
        &self,
        merchant: &MerchantId,
        input: NewEndpoint,
    ) -> Result<(Endpoint, EndpointKeys), ServiceError> {
        let settings = EndpointSettings {
            url: self.rules.check("url", &input.url)?,
            description: check_description(input.description.unwrap_or_default())?,
            event_types: self
                .check_event_types(input.event_types.unwrap_or_default())
                .await?,
            rate_limit_per_s: check_rate_limit(input.rate_limit_per_s)?,
            headers: check_headers(input.headers.unwrap_or_default())?,
            legacy_signature: input.legacy_signature.unwrap_or(false),
            retry_schedule: input
                .retry_schedule
                .map(|steps| check_retry_schedule(&steps))
                .transpose()?,
            signature_scheme: input.signature_scheme.unwrap_or_default(),
            encryption: input.encryption,
        };
        check_signature_options(&settings)?;
        let id = EndpointId::generate();
        let row = endpoint_row(id.as_str());
        let signing_key = SigningKey::generate(settings.signature_scheme);
        let encryption_key = settings.encryption.map(|_| EncryptionKey::generate());
        let now = Utc::now();
        self.store
            .insert_endpoint(
                &id,
                merchant,
                &settings,
                input.enabled.unwrap_or(true),
                &self.secrets.seal(&signing_key.expose(), &row),
                encryption_key
                    .as_ref()
                    .map(|key| self.secrets.seal(&key.expose(), &row))
                    .as_deref(),
                now,
            )
            .await?;
        let endpoint = self.get(merchant, &id).await?;
        Ok((
            endpoint,
            keys_view(&signing_key, None, encryption_key.as_ref()),
        ))
    }

    /// One of the merchant's endpoints.
    pub async fn get(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
    ) -> Result<Endpoint, ServiceError> {
        self.store
            .endpoint(Some(merchant), id)
            .await?
            .ok_or(ServiceError::NotFound("endpoint"))
    }

    /// Changes the fields given; the rest stay.
    pub async fn update(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
        patch: EndpointPatch,
    ) -> Result<Endpoint, ServiceError> {
        let current = self.get(merchant, id).await?;
        let settings = EndpointSettings {
            url: match patch.url {
                Some(url) => self.rules.check("url", &url)?,
                None => current.url,
            },
            description: match patch.description {
                Some(d) => check_description(d)?,
                None => current.description,
            },
            event_types: match patch.event_types {
                Some(types) => self.check_event_types(types).await?,
                None => current.event_types,
            },
            rate_limit_per_s: match patch.rate_limit_per_s {
                Some(limit) => check_rate_limit(limit)?,
                None => current.rate_limit_per_s,
            },
            headers: match patch.headers {
                Some(headers) => check_headers(headers)?,
                None => current.headers,
            },
            legacy_signature: patch.legacy_signature.unwrap_or(current.legacy_signature),
            retry_schedule: match patch.retry_schedule {
                Some(Some(steps)) => Some(check_retry_schedule(&steps)?),
                Some(None) => None,
                None => current.retry_schedule,
            },
            signature_scheme: patch.signature_scheme.unwrap_or(current.signature_scheme),
            encryption: patch.encryption.unwrap_or(current.encryption),
        };
        check_signature_options(&settings)?;
        let now = Utc::now();
        let row = endpoint_row(id.as_str());
        let keys = KeyChange {
            rotate_to: (settings.signature_scheme != current.signature_scheme).then(|| {
                let key = SigningKey::generate(settings.signature_scheme);
                (
                    self.secrets.seal(&key.expose(), &row),
                    now + grace(DEFAULT_GRACE),
                )
            }),
            encryption_key: match (current.encryption, settings.encryption) {
                (None, Some(_)) => Some(Some(
                    self.secrets.seal(&EncryptionKey::generate().expose(), &row),
                )),
                (Some(_), None) => Some(None),
                _ => None,
            },
        };
        if !self
            .store
            .update_endpoint(merchant, id, &settings, &keys, now)
            .await?
        {
            return Err(ServiceError::NotFound("endpoint"));
        }
        if let Some(enabled) = patch.enabled {
            if enabled != current.enabled {
                let reason = (!enabled).then_some("Disabled by the merchant.");
                self.store
                    .set_endpoint_enabled(Some(merchant), id, reason, now)
                    .await?;
            }
        }
        self.get(merchant, id).await
    }

    /// Deletes an endpoint with its delivery history.
    pub async fn delete(&self, merchant: &MerchantId, id: &EndpointId) -> Result<(), ServiceError> {
        if self.store.delete_endpoint(merchant, id).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("endpoint"))
        }
    }

    /// An operator disables any merchant's endpoint with a reason the
    /// merchant will see (`Some`), or enables it (`None`).
    pub async fn operator_set_enabled(
        &self,
        id: &EndpointId,
        disable_reason: Option<&str>,
    ) -> Result<Endpoint, ServiceError> {
        let reason = match disable_reason.map(str::trim) {
            Some(reason) if reason.is_empty() || reason.chars().count() > 500 => {
                return Err(ServiceError::invalid(
                    "reason",
                    "1 to 500 characters, shown to the merchant",
                ))
            }
            Some(reason) => Some(format!("Disabled by an operator: {reason}")),
            None => None,
        };
        if !self
            .store
            .set_endpoint_enabled(None, id, reason.as_deref(), Utc::now())
            .await?
        {
            return Err(ServiceError::NotFound("endpoint"));
        }
        self.store
            .endpoint(None, id)
            .await?
            .ok_or(ServiceError::NotFound("endpoint"))
    }

    /// Every merchant's endpoints, newest first (operators), at most `limit`.
    pub async fn all(&self, limit: u32) -> Result<Vec<Endpoint>, ServiceError> {
        Ok(self.store.all_endpoints(limit).await?)
    }

    /// What the merchant verifies (and decrypts) with: the HMAC secret or
    /// the Ed25519 public key, the encryption key, and until when a
    /// rotated-out key still signs.
    pub async fn secret(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
    ) -> Result<EndpointKeys, ServiceError> {
        let stored = self
            .store
            .endpoint_secrets(merchant, id)
            .await?
            .ok_or(ServiceError::NotFound("endpoint"))?;
        self.open_keys(id, &stored)
    }

    /// Replaces the signing key with a new one of the same scheme; the old
    /// one also signs until the grace period ends.
    pub async fn rotate_secret(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
        grace_period: Option<Duration>,
    ) -> Result<EndpointKeys, ServiceError> {
        let grace_period = grace_period.unwrap_or(DEFAULT_GRACE);
        if grace_period > MAX_GRACE {
            return Err(ServiceError::invalid(
                "grace_period_s",
                "must be at most 604800 (7 days)",
            ));
        }
        let scheme = self.get(merchant, id).await?.signature_scheme;
        let key = SigningKey::generate(scheme);
        let now = Utc::now();
        if !self
            .store
            .rotate_endpoint_secret(
                merchant,
                id,
                &self.secrets.seal(&key.expose(), &endpoint_row(id.as_str())),
                now + grace(grace_period),
                now,
            )
            .await?
        {
            return Err(ServiceError::NotFound("endpoint"));
        }
        self.secret(merchant, id).await
    }

    fn open_keys(
        &self,
        id: &EndpointId,
        stored: &EndpointSecrets,
    ) -> Result<EndpointKeys, ServiceError> {
        let row = endpoint_row(id.as_str());
        let open = |value: &str| {
            self.secrets
                .open(value, &row)
                .map_err(|e| ServiceError::Internal(e.to_string()))
        };
        let signing_key = SigningKey::parse(&open(&stored.current)?)
            .map_err(|e| ServiceError::Internal(format!("stored signing secret: {e}")))?;
        let encryption_key = stored
            .encryption_key
            .as_deref()
            .map(|value| {
                EncryptionKey::parse(&open(value)?)
                    .map_err(|e| ServiceError::Internal(format!("stored encryption key: {e}")))
            })
            .transpose()?;
        let grace_until = stored
            .previous_expires_at
            .filter(|until| stored.previous.is_some() && *until > Utc::now());
        Ok(keys_view(
            &signing_key,
            grace_until,
            encryption_key.as_ref(),
        ))
    }

    /// Checks an event-type filter against the catalog: each entry is a
    /// known, unarchived type or a `prefix.*` that matches at least one.
    async fn check_event_types(&self, types: Vec<String>) -> Result<Vec<String>, ServiceError> {
        if types.len() > MAX_EVENT_TYPES {
            return Err(ServiceError::invalid(
                "event_types",
                format!("at most {MAX_EVENT_TYPES} entries"),
            ));
        }
        if types.is_empty() {
            return Ok(types);
        }
        let catalog: Vec<String> = self
            .store
            .list_event_types()
            .await?
            .into_iter()
            .filter(|t| !t.archived)
            .map(|t| t.name)
            .collect();
        let mut checked: Vec<String> = Vec::with_capacity(types.len());
        for pattern in types {
            let pattern = pattern.trim().to_owned();
            if !is_valid_pattern(&pattern) {
                return Err(ServiceError::invalid(
                    "event_types",
                    format!("`{pattern}` is neither an event type nor a `category.*` wildcard"),
                ));
            }
            if !catalog.iter().any(|name| pattern_matches(&pattern, name)) {
                return Err(ServiceError::invalid(
                    "event_types",
                    format!("`{pattern}` matches no event type in the catalog"),
                ));
            }
            if !checked.contains(&pattern) {
                checked.push(pattern);
            }
        }
        Ok(checked)
    }
}

/// What the merchant sees of an endpoint's keys.
fn keys_view(
    signing_key: &SigningKey,
    grace_until: Option<chrono::DateTime<Utc>>,
    encryption_key: Option<&EncryptionKey>,
) -> EndpointKeys {
    EndpointKeys {
        secret: signing_key.as_hmac().map(|_| signing_key.expose()),
        public_key: signing_key.public_key(),
        previous_secret_expires_at: grace_until,
        encryption_key: encryption_key.map(EncryptionKey::expose),
    }
}

fn grace(period: Duration) -> chrono::Duration {
    chrono::Duration::from_std(period).unwrap_or(chrono::Duration::days(1))
}

/// The legacy body signature is an HMAC with the shared secret, so it only
/// goes with the HMAC scheme: an Ed25519 endpoint has no secret to share.
fn check_signature_options(settings: &EndpointSettings) -> Result<(), ServiceError> {
    if settings.legacy_signature && settings.signature_scheme == SignatureScheme::Ed25519 {
        return Err(ServiceError::invalid(
            "legacy_signature",
            "needs signature_scheme `hmac`: the legacy header is an HMAC with the shared secret",
        ));
    }
    Ok(())
}

fn check_description(description: String) -> Result<String, ServiceError> {
    let description = description.trim().to_owned();
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(ServiceError::invalid(
            "description",
            format!("at most {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok(description)
}

/// The longest wait of one step of an endpoint's own schedule.
const MAX_ENDPOINT_STEP: Duration = Duration::from_secs(24 * 3600);
/// The longest an endpoint's own schedule may keep retrying, in all.
const MAX_ENDPOINT_SCHEDULE: Duration = Duration::from_secs(3 * 24 * 3600);

/// An endpoint's own retry schedule: 1 to 20 waits (the first `0s`, the
/// first attempt), each at most a day, at most 3 days in all. Returned canonical
/// (`90s` becomes `1m30s`).
fn check_retry_schedule(steps: &[String]) -> Result<Vec<String>, ServiceError> {
    let invalid = |message: String| ServiceError::invalid("retry_schedule", message);
    let schedule: RetrySchedule = steps
        .join(",")
        .parse()
        .map_err(|e: crate::engine::retry::ScheduleError| invalid(e.to_string()))?;
    if schedule
        .steps()
        .iter()
        .any(|step| *step > MAX_ENDPOINT_STEP)
    {
        return Err(invalid("each wait must be at most 24h".into()));
    }
    if schedule.total() > MAX_ENDPOINT_SCHEDULE {
        return Err(invalid("the waits must add up to at most 3 days".into()));
    }
    Ok(schedule.to_string().split(',').map(str::to_owned).collect())
}

fn check_rate_limit(limit: Option<u32>) -> Result<Option<u32>, ServiceError> {
    match limit {
        Some(0) => Err(ServiceError::invalid(
            "rate_limit_per_s",
            "must be at least 1 (or null for no limit)",
        )),
        Some(n) if n > MAX_RATE_LIMIT => Err(ServiceError::invalid(
            "rate_limit_per_s",
            format!("must be at most {MAX_RATE_LIMIT}"),
        )),
        other => Ok(other),
    }
}

/// Custom headers: valid names, no CR/LF in values, nothing Herald sets
/// itself, nothing hop-by-hop.
fn check_headers(
    headers: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ServiceError> {
    if headers.len() > MAX_HEADERS {
        return Err(ServiceError::invalid(
            "headers",
            format!("at most {MAX_HEADERS} headers"),
        ));
    }
    let mut checked = BTreeMap::new();
    for (name, value) in headers {
        let lower = name.trim().to_ascii_lowercase();
        let token = !lower.is_empty()
            && lower.len() <= 100
            && lower
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            return Err(ServiceError::invalid(
                "headers",
                format!("`{name}` is not a valid header name"),
            ));
        }
        if RESERVED_HEADERS.contains(&lower.as_str())
            || HOP_BY_HOP.contains(&lower.as_str())
            || lower.starts_with("webhook-")
        {
            return Err(ServiceError::invalid(
                "headers",
                format!("`{name}` is set by Herald or the connection and cannot be overridden"),
            ));
        }
        if value.contains('\r') || value.contains('\n') || value.contains('\0') {
            return Err(ServiceError::invalid(
                "headers",
                format!("the value of `{name}` contains a line break"),
            ));
        }
        if value.len() > MAX_HEADER_VALUE {
            return Err(ServiceError::invalid(
                "headers",
                format!("the value of `{name}` is longer than {MAX_HEADER_VALUE} bytes"),
            ));
        }
        if checked.insert(lower.clone(), value).is_some() {
            return Err(ServiceError::invalid(
                "headers",
                format!("`{name}` is given twice"),
            ));
        }
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn header_rules() {
        assert!(check_headers(headers(&[
            ("X-Merchant", "abc"),
            ("Authorization", "Basic eA==")
        ]))
        .is_ok());
        for bad in [
            headers(&[("Connection", "close")]),
            headers(&[("Transfer-Encoding", "chunked")]),
            headers(&[("webhook-signature", "v1,forged")]),
            headers(&[("Content-Type", "text/plain")]),
            headers(&[("X-Evil", "a\r\nInjected: yes")]),
            headers(&[("Bad Name", "x")]),
            headers(&[("X-Dup", "1"), ("x-dup", "2")]),
        ] {
            assert!(check_headers(bad.clone()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rate_limit_rules() {
        assert_eq!(check_rate_limit(None).unwrap(), None);
        assert_eq!(check_rate_limit(Some(5)).unwrap(), Some(5));
        assert!(check_rate_limit(Some(0)).is_err());
        assert!(check_rate_limit(Some(MAX_RATE_LIMIT + 1)).is_err());
    }
}
