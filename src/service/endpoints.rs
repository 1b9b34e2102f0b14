//! Endpoints: the rules for creating, changing and removing them, and for
//! their signing secrets.

use super::audit::{Audit, Change};
use super::destination::UrlRules;
use super::endpoint_settings::{
    check_description, check_headers, check_rate_limit, check_retry_schedule,
    check_signature_options,
};
use super::pagination::{decode_cursor_as, page, Page};
use super::ServiceError;
use crate::crypto::payload_encryption::EncryptionKey;
use crate::crypto::secret_box::{endpoint_row, SecretBox};
use crate::crypto::signing::SigningKey;
use crate::engine::Wakeup;
use crate::store::{EndpointFilter, EndpointSecrets, EndpointSettings, KeyChange, Store};
use chrono::Utc;
use herald_app::model::audit::AuditAction;
use herald_app::model::dashboard::{EndpointInput, LastDelivery};
use herald_app::model::endpoint::{
    DisableReason, Endpoint, EndpointKeys, EndpointMode, PayloadEncryption, SignatureScheme,
};
use herald_app::model::event_filter::{is_valid_pattern, pattern_matches};
use herald_app::model::id::{EndpointId, MerchantId};
use herald_app::model::member::Permission;
use herald_app::model::merchant::FieldError;
use herald_app::model::scope::Scope;
use std::collections::BTreeMap;
use std::time::Duration;

/// Most entries in an endpoint's event-type filter.
const MAX_EVENT_TYPES: usize = 100;
/// How long a rotated-out secret keeps signing unless the merchant says otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(24 * 3600);
/// The most endpoints a merchant may have unless configured otherwise.
pub const DEFAULT_MAX_ENDPOINTS: u32 = 100;
/// The longest grace period (a week).
pub const MAX_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

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
    pub mode: Option<EndpointMode>,
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
    pub mode: Option<EndpointMode>,
}

impl NewEndpoint {
    /// The dashboard's endpoint form as a new endpoint.
    pub fn from_form(form: EndpointInput) -> Result<Self, FieldError> {
        Ok(NewEndpoint {
            mode: Some(form.endpoint_mode()?),
            rate_limit_per_s: form.rate_limit()?,
            headers: Some(form.header_map()?),
            retry_schedule: form.retry_steps(),
            signature_scheme: Some(form.scheme()?),
            encryption: form.encrypted.then_some(PayloadEncryption::Aes256Cbc),
            legacy_signature: Some(form.legacy_signature),
            enabled: Some(form.enabled),
            event_types: Some(form.event_types),
            description: Some(form.description),
            url: form.url,
        })
    }
}

impl EndpointPatch {
    /// The dashboard's endpoint form as a change of every field.
    pub fn from_form(form: EndpointInput) -> Result<Self, FieldError> {
        Ok(EndpointPatch {
            mode: Some(form.endpoint_mode()?),
            rate_limit_per_s: Some(form.rate_limit()?),
            headers: Some(form.header_map()?),
            retry_schedule: Some(form.retry_steps()),
            signature_scheme: Some(form.scheme()?),
            encryption: Some(form.encrypted.then_some(PayloadEncryption::Aes256Cbc)),
            legacy_signature: Some(form.legacy_signature),
            enabled: Some(form.enabled),
            event_types: Some(form.event_types),
            description: Some(form.description),
            url: Some(form.url),
        })
    }
}

/// Which endpoints an operator lists (`GET /api/v1/admin/endpoints`).
#[derive(Debug, Clone, Default)]
pub struct EndpointSearch {
    /// One merchant's only (`mer_…`).
    pub merchant_id: Option<String>,
    /// `enabled` or `disabled`; absent: both.
    pub status: Option<String>,
}

/// The endpoint operations.
#[derive(Clone, Debug)]
pub struct Endpoints {
    store: Store,
    rules: UrlRules,
    /// Seals signing secrets before they are stored, opens them to reveal.
    secrets: SecretBox,
    /// Wakes this process's engine when an endpoint is enabled: its parked
    /// deliveries are due now.
    wakeup: Wakeup,
    /// The most endpoints one merchant may have.
    max_endpoints: u32,
    /// Failing this long disables an endpoint (`Endpoint::disables_at`).
    auto_disable_after: std::time::Duration,
    audit: Audit,
}

impl Endpoints {
    /// Endpoint operations over `store`, with this deployment's URL rules
    /// and secret key.
    pub fn new(store: Store, rules: UrlRules, secrets: SecretBox, wakeup: Wakeup) -> Self {
        Endpoints {
            audit: Audit::new(store.clone()),
            store,
            rules,
            secrets,
            wakeup,
            max_endpoints: DEFAULT_MAX_ENDPOINTS,
            auto_disable_after: std::time::Duration::from_secs(5 * 24 * 3600),
        }
    }

    /// The same operations, saying endpoints failing for `after` are disabled.
    pub fn with_auto_disable_after(self, after: std::time::Duration) -> Self {
        Endpoints {
            auto_disable_after: after,
            ..self
        }
    }

    /// The same operations, allowing each merchant at most `max` endpoints.
    pub fn with_max_endpoints(self, max: u32) -> Self {
        Endpoints {
            max_endpoints: max,
            ..self
        }
    }

    /// The merchant's endpoints, newest first.
    pub async fn list(&self, merchant: &MerchantId) -> Result<Vec<Endpoint>, ServiceError> {
        self.store
            .list_endpoints(merchant)
            .await?
            .into_iter()
            .map(|endpoint| self.open_headers(endpoint))
            .collect()
    }

    /// The newest delivery of each of the merchant's endpoints.
    pub async fn last_deliveries(
        &self,
        merchant: &MerchantId,
    ) -> Result<Vec<LastDelivery>, ServiceError> {
        let rows = self.store.last_delivery_per_endpoint(merchant).await?;
        Ok(rows
            .into_iter()
            .map(|(endpoint_id, created_at, status)| LastDelivery {
                endpoint_id,
                created_at,
                status,
            })
            .collect())
    }

    /// Creates an endpoint; returns it with its new keys (shown once here).
    pub async fn create(
        &self,
        merchant: &MerchantId,
        input: NewEndpoint,
    ) -> Result<(Endpoint, EndpointKeys), ServiceError> {
        super::access::require(Permission::Change)?;
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
            mode: input.mode.unwrap_or_default(),
        };
        check_signature_options(&settings)?;
        // Two creates racing past this check can each add one; the quota
        // is about scale, not an exact count, so no lock is taken for it.
        let existing = self.store.list_endpoints(merchant).await?.len();
        if existing >= self.max_endpoints as usize {
            return Err(ServiceError::LimitReached(format!(
                "This merchant already has {existing} endpoints, the most allowed \
                 (HERALD_MAX_ENDPOINTS raises it). Delete one before adding another."
            )));
        }
        let id = EndpointId::generate();
        let row = endpoint_row(id.as_str());
        let settings = self.seal_headers(&id, settings);
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
        self.audit
            .record(Change::new(
                merchant,
                AuditAction::EndpointCreated,
                id.as_str(),
            ))
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
        let endpoint = self
            .store
            .endpoint(&Scope::Merchant(merchant.clone()), id)
            .await?
            .ok_or(ServiceError::NotFound("endpoint"))?;
        self.open_headers(endpoint)
    }

    /// The endpoint as the merchant sees it: the custom header values
    /// behind their sealed, stored form, and when failing will disable it.
    fn open_headers(&self, endpoint: Endpoint) -> Result<Endpoint, ServiceError> {
        let mut endpoint = endpoint.with_disable_time(self.auto_disable_after);
        endpoint.headers = self
            .secrets
            .open_headers(endpoint.id.as_str(), &endpoint.headers)
            .map_err(|e| {
                ServiceError::Internal(format!("stored header of {}: {e}", endpoint.id))
            })?;
        Ok(endpoint)
    }

    /// Settings with their custom header values sealed for storing: the
    /// merchant's receivers' credentials are never plain text at rest.
    fn seal_headers(&self, id: &EndpointId, settings: EndpointSettings) -> EndpointSettings {
        EndpointSettings {
            headers: self.secrets.seal_headers(id.as_str(), &settings.headers),
            ..settings
        }
    }

    /// Changes the fields given; the rest stay.
    pub async fn update(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
        patch: EndpointPatch,
    ) -> Result<Endpoint, ServiceError> {
        super::access::require(Permission::Change)?;
        let current = self.get(merchant, id).await?;
        if patch.enabled == Some(true) && !current.enabled && current.disabled_by_operator {
            // Checked before anything changes: a refused update changes nothing.
            // The reason is the operator's own words, with or without a full stop.
            let reason = current
                .disabled_reason
                .as_deref()
                .unwrap_or("Disabled by an operator")
                .trim_end_matches('.');
            return Err(ServiceError::Conflict(format!(
                "{reason}. Only an operator can enable this endpoint again."
            )));
        }
        // What the log says changed: the URL and the event filter by name,
        // anything else as "settings".
        let (url_before, types_before) = (current.url.clone(), current.event_types.clone());
        let other_settings = patch.description.is_some()
            || patch.rate_limit_per_s.is_some()
            || patch.headers.is_some()
            || patch.legacy_signature.is_some()
            || patch.retry_schedule.is_some()
            || patch.signature_scheme.is_some()
            || patch.encryption.is_some()
            || patch.mode.is_some();
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
            mode: patch.mode.unwrap_or(current.mode),
        };
        check_signature_options(&settings)?;
        let changed: Vec<&str> = [
            (settings.url != url_before, "url"),
            (settings.event_types != types_before, "event_types"),
            (other_settings, "settings"),
        ]
        .into_iter()
        .filter_map(|(changed, name)| changed.then_some(name))
        .collect();
        let settings = self.seal_headers(id, settings);
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
        if !changed.is_empty() {
            self.audit
                .record(
                    Change::new(merchant, AuditAction::EndpointUpdated, id.as_str())
                        .detail(changed.join(", ")),
                )
                .await?;
        }
        if let Some(enabled) = patch.enabled {
            if enabled != current.enabled {
                let reason = (!enabled).then_some(DisableReason::ByMerchant);
                self.store
                    .set_endpoint_enabled(
                        &Scope::Merchant(merchant.clone()),
                        id,
                        reason.as_ref(),
                        now,
                    )
                    .await?;
                let action = if enabled {
                    AuditAction::EndpointEnabled
                } else {
                    AuditAction::EndpointDisabled
                };
                self.audit
                    .record(Change::new(merchant, action, id.as_str()))
                    .await?;
            }
        }
        let endpoint = self.get(merchant, id).await?;
        if endpoint.enabled {
            // Enabling makes its parked deliveries due; a new URL or filter
            // may make due ones sendable.
            self.wakeup.wake();
        }
        Ok(endpoint)
    }

    /// Deletes an endpoint with its delivery history.
    pub async fn delete(&self, merchant: &MerchantId, id: &EndpointId) -> Result<(), ServiceError> {
        super::access::require(Permission::Change)?;
        if self.store.delete_endpoint(merchant, id).await? {
            self.audit
                .record(Change::new(
                    merchant,
                    AuditAction::EndpointDeleted,
                    id.as_str(),
                ))
                .await
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
        super::access::require(Permission::Change)?;
        let reason = match disable_reason.map(str::trim) {
            Some(reason) if reason.is_empty() || reason.chars().count() > 500 => {
                return Err(ServiceError::invalid(
                    "reason",
                    "1 to 500 characters, shown to the merchant",
                ))
            }
            Some(reason) => Some(DisableReason::ByOperator(reason.to_owned())),
            None => None,
        };
        if !self
            .store
            .set_endpoint_enabled(&Scope::Operator, id, reason.as_ref(), Utc::now())
            .await?
        {
            return Err(ServiceError::NotFound("endpoint"));
        }
        let endpoint = self
            .store
            .endpoint(&Scope::Operator, id)
            .await?
            .ok_or(ServiceError::NotFound("endpoint"))?;
        let change = match disable_reason {
            Some(reason) => Change::new(
                &endpoint.merchant_id,
                AuditAction::EndpointDisabled,
                id.as_str(),
            )
            .detail(reason.trim()),
            None => Change::new(
                &endpoint.merchant_id,
                AuditAction::EndpointEnabled,
                id.as_str(),
            ),
        };
        self.audit.record(change).await?;
        if endpoint.enabled {
            self.wakeup.wake();
        }
        Ok(endpoint
            .with_masked_headers()
            .with_disable_time(self.auto_disable_after))
    }

    /// Endpoints across merchants (operators), newest first, at most
    /// `limit`, after `cursor`. Custom header values are masked: they are
    /// the merchants' receivers' credentials, not the operator's.
    pub async fn all(
        &self,
        search: &EndpointSearch,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Endpoint>, ServiceError> {
        let filter = EndpointFilter {
            merchant_id: search
                .merchant_id
                .as_deref()
                .map(MerchantId::parse)
                .transpose()
                .map_err(|e| ServiceError::invalid("merchant_id", e.to_string()))?,
            enabled: match search.status.as_deref() {
                None => None,
                Some("enabled") => Some(true),
                Some("disabled") => Some(false),
                Some(other) => {
                    return Err(ServiceError::invalid(
                        "status",
                        format!("must be `enabled` or `disabled`, not `{other}`"),
                    ))
                }
            },
            before: decode_cursor_as(cursor, EndpointId::parse)?,
            limit,
        };
        let endpoints: Vec<Endpoint> = self
            .store
            .all_endpoints(&filter)
            .await?
            .into_iter()
            .map(|endpoint| {
                endpoint
                    .with_masked_headers()
                    .with_disable_time(self.auto_disable_after)
            })
            .collect();
        Ok(page(endpoints, limit, |e| (e.created_at, e.id.to_string())))
    }

    /// What the merchant verifies (and decrypts) with: the HMAC secret or
    /// the Ed25519 public key, the encryption key, and until when a
    /// rotated-out key still signs.
    pub async fn secret(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
    ) -> Result<EndpointKeys, ServiceError> {
        super::access::require(Permission::Reveal)?;
        let keys = self.keys(merchant, id).await?;
        self.audit
            .record(Change::new(
                merchant,
                AuditAction::SecretRevealed,
                id.as_str(),
            ))
            .await?;
        Ok(keys)
    }

    /// The endpoint's keys as `secret` shows them.
    async fn keys(
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
        super::access::require(Permission::Change)?;
        let now = Utc::now();
        let previous_until = grace_end(now, grace_period)?;
        let scheme = self.get(merchant, id).await?.signature_scheme;
        let key = SigningKey::generate(scheme);
        if !self
            .store
            .rotate_endpoint_secret(
                merchant,
                id,
                &self.secrets.seal(&key.expose(), &endpoint_row(id.as_str())),
                previous_until,
                now,
            )
            .await?
        {
            return Err(ServiceError::NotFound("endpoint"));
        }
        self.audit
            .record(Change::new(
                merchant,
                AuditAction::SecretRotated,
                id.as_str(),
            ))
            .await?;
        self.keys(merchant, id).await
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

/// Until when a rotated-out secret keeps signing: `grace_period` (default a
/// day, at most a week) from `now`.
pub(super) fn grace_end(
    now: chrono::DateTime<Utc>,
    grace_period: Option<Duration>,
) -> Result<chrono::DateTime<Utc>, ServiceError> {
    let grace_period = grace_period.unwrap_or(DEFAULT_GRACE);
    if grace_period > MAX_GRACE {
        return Err(ServiceError::invalid(
            "grace_period_s",
            "must be at most 604800 (7 days)",
        ));
    }
    Ok(now + grace(grace_period))
}

fn grace(period: Duration) -> chrono::Duration {
    chrono::Duration::from_std(period).unwrap_or(chrono::Duration::days(1))
}
