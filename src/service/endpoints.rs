//! Endpoints: the rules for creating, changing and removing them, and for
//! their signing secrets.

use super::audit::{Audit, Change};
use super::destination::UrlRules;
use super::endpoint_settings::{
    check_description, check_headers, check_rate_limit, check_retry_schedule,
    check_signature_options,
};
use super::field_checks::FieldChecks;
use super::ServiceError;
use crate::crypto::endpoint_key::EndpointKey;
use crate::crypto::payload_encryption::EncryptionKey;
use crate::crypto::rsa_key::RsaSigningKey;
use crate::crypto::secret_box::{endpoint_row, SecretBox};
use crate::crypto::signing::{SigningKey, SigningSecret};
use crate::engine::Wakeup;
use crate::store::{EncryptionChange, EndpointSecrets, EndpointSettings, KeyChange, Store};
use chrono::Utc;
use herald_app::model::audit::AuditAction;
use herald_app::model::dashboard::{EndpointInput, LastDelivery};
use herald_app::model::duration::format_duration;
use herald_app::model::endpoint::NextKey;
use herald_app::model::endpoint::{
    DisableReason, Endpoint, EndpointKeys, EndpointMode, PayloadEncryption, SignatureScheme,
    MAX_TIMEOUT, MIN_TIMEOUT,
};
use herald_app::model::event_filter::{is_valid_pattern, pattern_matches};
use herald_app::model::id::{EndpointId, MerchantId};
use herald_app::model::member::Permission;
use herald_app::model::merchant::FieldError;
use herald_app::model::profile::{DeliveryProfile, SignatureAlgorithm, STANDARD_PROFILE};
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
    /// A delivery profile's name; absent: `standard`.
    pub profile: Option<String>,
    /// One attempt's limit (1s to 60s); absent: the server's.
    pub timeout: Option<Duration>,
    /// An existing HMAC secret to sign with, instead of a generated one.
    pub secret: Option<String>,
    /// An existing RSA private key (PEM), for profiles signing with RSA.
    pub private_key: Option<String>,
    /// What could not be read from the dashboard's form, reported together
    /// with the problems `create` finds.
    pub form_problems: Vec<FieldError>,
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
    /// Another delivery profile.
    pub profile: Option<String>,
    /// `Some(None)` goes back to the server's timeout.
    pub timeout: Option<Option<Duration>>,
    /// An existing HMAC secret to sign with from now on.
    pub secret: Option<String>,
    /// An existing RSA private key (PEM) to sign with from now on.
    pub private_key: Option<String>,
    /// What could not be read from the dashboard's form, reported together
    /// with the problems `update` finds.
    pub form_problems: Vec<FieldError>,
}

impl NewEndpoint {
    /// The dashboard's endpoint form as a new endpoint; a box that cannot
    /// be read is left out and its problem kept for `create` to report.
    pub fn from_form(form: EndpointInput) -> Self {
        let mut checks = FieldChecks::default();
        NewEndpoint {
            profile: form.profile_name(),
            timeout: checks.read(form.timeout_value()),
            secret: EndpointInput::imported(&form.secret),
            private_key: EndpointInput::imported(&form.private_key),
            mode: Some(checks.read(form.endpoint_mode())),
            rate_limit_per_s: checks.read(form.rate_limit()),
            headers: Some(checks.read(form.header_map())),
            retry_schedule: form.retry_steps(),
            signature_scheme: Some(checks.read(form.scheme())),
            encryption: form.encrypted.then_some(PayloadEncryption::Aes256Cbc),
            legacy_signature: Some(form.legacy_signature),
            enabled: Some(form.enabled),
            event_types: Some(form.event_types),
            description: Some(form.description),
            url: form.url,
            form_problems: checks.into_problems(),
        }
    }
}

impl EndpointPatch {
    /// The dashboard's endpoint form as a change of every field; a box
    /// that cannot be read is left as it is and its problem kept for
    /// `update` to report.
    pub fn from_form(form: EndpointInput) -> Self {
        let mut checks = FieldChecks::default();
        EndpointPatch {
            profile: form.profile_name(),
            // An empty box leaves the timeout as it is.
            timeout: checks.read(form.timeout_value()).map(Some),
            secret: EndpointInput::imported(&form.secret),
            private_key: EndpointInput::imported(&form.private_key),
            mode: checks.read(form.endpoint_mode().map(Some)),
            rate_limit_per_s: checks.read(form.rate_limit().map(Some)),
            headers: checks.read(form.header_map().map(Some)),
            retry_schedule: Some(form.retry_steps()),
            signature_scheme: checks.read(form.scheme().map(Some)),
            encryption: Some(form.encrypted.then_some(PayloadEncryption::Aes256Cbc)),
            legacy_signature: Some(form.legacy_signature),
            enabled: Some(form.enabled),
            event_types: Some(form.event_types),
            description: Some(form.description),
            url: Some(form.url),
            form_problems: checks.into_problems(),
        }
    }
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
    /// One attempt's limit for endpoints that chose none (HERALD_REQUEST_TIMEOUT).
    request_timeout: Duration,
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
            request_timeout: herald_app::model::endpoint::default_timeout(),
        }
    }

    /// The same operations, saying endpoints that chose no timeout use `timeout`.
    pub fn with_request_timeout(self, timeout: Duration) -> Self {
        Endpoints {
            request_timeout: timeout,
            ..self
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
        // Every field is checked before answering, so the merchant sees
        // every problem at once.
        let mut checks = FieldChecks::starting_with(input.form_problems);
        let settings = EndpointSettings {
            url: checks.take(self.rules.check("url", &input.url))?,
            description: checks.take(check_description(input.description.unwrap_or_default()))?,
            event_types: checks.take(
                self.check_event_types(input.event_types.unwrap_or_default())
                    .await,
            )?,
            rate_limit_per_s: checks.take(check_rate_limit(input.rate_limit_per_s))?,
            headers: checks.take(check_headers(input.headers.unwrap_or_default()))?,
            legacy_signature: input.legacy_signature.unwrap_or(false),
            retry_schedule: checks.take(
                input
                    .retry_schedule
                    .map(|steps| check_retry_schedule(&steps))
                    .transpose(),
            )?,
            signature_scheme: input.signature_scheme.unwrap_or_default(),
            encryption: input.encryption,
            mode: input.mode.unwrap_or_default(),
            profile: checks.take(
                self.check_profile(input.profile.as_deref().unwrap_or(STANDARD_PROFILE))
                    .await,
            )?,
            timeout: checks.take(input.timeout.map(check_timeout).transpose())?,
        };
        if !checks.has_problem("signature_scheme") {
            checks.take(check_signature_options(&settings))?;
        }
        checks.finish()?;
        let kind = self.key_kind(&settings).await?;
        if kind == KeyKind::Rsa && settings.legacy_signature {
            return Err(ServiceError::invalid(
                "legacy_signature",
                "needs an HMAC secret; this profile signs with RSA",
            ));
        }
        let signing_key = new_key(kind, input.secret, input.private_key).await?;
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
        let encryption_key = settings.encryption.map(|_| EncryptionKey::generate());
        let now = Utc::now();
        self.store
            .insert_endpoint(
                &id,
                merchant,
                &settings,
                input.enabled.unwrap_or(true),
                &self.secrets.seal(&signing_key.expose(), &row),
                rsa_public_pem(&signing_key).as_deref(),
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
        Ok((endpoint, keys_view(&signing_key, encryption_key.as_ref())))
    }

    /// One of the merchant's endpoints.
    pub async fn get(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
    ) -> Result<Endpoint, ServiceError> {
        Ok(self.shown(self.stored(merchant, id).await?))
    }

    /// One of the merchant's endpoints as stored, its header values opened
    /// (a zero timeout: the server's).
    async fn stored(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
    ) -> Result<Endpoint, ServiceError> {
        let endpoint = self
            .store
            .endpoint(&Scope::Merchant(merchant.clone()), id)
            .await?
            .ok_or(ServiceError::NotFound("endpoint"))?;
        self.unseal_headers(endpoint)
    }

    /// The endpoint with its custom header values opened from their sealed,
    /// stored form.
    fn unseal_headers(&self, mut endpoint: Endpoint) -> Result<Endpoint, ServiceError> {
        endpoint.headers = self
            .secrets
            .open_headers(endpoint.id.as_str(), &endpoint.headers)
            .map_err(|e| {
                ServiceError::Internal(format!("stored header of {}: {e}", endpoint.id))
            })?;
        Ok(endpoint)
    }

    /// The endpoint as the merchant sees it: the custom header values
    /// behind their sealed, stored form, and when failing will disable it.
    fn open_headers(&self, endpoint: Endpoint) -> Result<Endpoint, ServiceError> {
        self.unseal_headers(self.shown(endpoint))
    }

    /// The endpoint with what the service knows filled in: when failing
    /// will disable it, and the server's timeout if it chose none.
    pub(crate) fn shown(&self, endpoint: Endpoint) -> Endpoint {
        endpoint
            .with_disable_time(self.auto_disable_after)
            .with_default_timeout(self.request_timeout)
    }

    /// The profile an endpoint names, which must exist.
    async fn check_profile(&self, name: &str) -> Result<String, ServiceError> {
        Ok(super::profiles::existing_profile(&self.store, name)
            .await?
            .name)
    }

    /// The kind of key an endpoint with these settings signs with: RSA when
    /// its profile signs with RSA, else its scheme, which the profile must
    /// sign with (a 422 on `signature_scheme` otherwise).
    async fn key_kind(&self, settings: &EndpointSettings) -> Result<KeyKind, ServiceError> {
        let profile = self.profile_named(&settings.profile).await?;
        key_kind(&profile, settings.signature_scheme)
    }

    /// A profile checked to exist already (`check_profile`).
    async fn profile_named(&self, name: &str) -> Result<DeliveryProfile, ServiceError> {
        Ok(self
            .store
            .profile(name)
            .await?
            .ok_or(ServiceError::NotFound("profile"))?
            .profile)
    }

    /// The kind of key an endpoint holds now (its profile's, or what its
    /// scheme says when the profile is gone).
    async fn key_kind_of(&self, endpoint: &Endpoint) -> Result<KeyKind, ServiceError> {
        Ok(match self.store.profile(&endpoint.profile).await? {
            Some(stored)
                if stored
                    .profile
                    .algorithms()
                    .contains(&SignatureAlgorithm::RsaSha256) =>
            {
                KeyKind::Rsa
            }
            _ => KeyKind::of_scheme(endpoint.signature_scheme),
        })
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
        let current = self.stored(merchant, id).await?;
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
            || patch.mode.is_some()
            || patch.profile.is_some()
            || patch.timeout.is_some();
        // Read before `current` is taken apart into the new settings.
        let current_kind = self.key_kind_of(&current).await?;
        // Every field given is checked before answering, so the merchant
        // sees every problem at once.
        let mut checks = FieldChecks::starting_with(patch.form_problems);
        let settings = EndpointSettings {
            url: match patch.url {
                Some(url) => checks.take(self.rules.check("url", &url))?,
                None => current.url,
            },
            description: match patch.description {
                Some(d) => checks.take(check_description(d))?,
                None => current.description,
            },
            event_types: match patch.event_types {
                Some(types) => checks.take(self.check_event_types(types).await)?,
                None => current.event_types,
            },
            rate_limit_per_s: match patch.rate_limit_per_s {
                Some(limit) => checks.take(check_rate_limit(limit))?,
                None => current.rate_limit_per_s,
            },
            headers: match patch.headers {
                Some(headers) => checks.take(check_headers(headers))?,
                None => current.headers,
            },
            legacy_signature: patch.legacy_signature.unwrap_or(current.legacy_signature),
            retry_schedule: match patch.retry_schedule {
                Some(Some(steps)) => checks.take(check_retry_schedule(&steps).map(Some))?,
                Some(None) => None,
                None => current.retry_schedule,
            },
            signature_scheme: patch.signature_scheme.unwrap_or(current.signature_scheme),
            encryption: patch.encryption.unwrap_or(current.encryption),
            mode: patch.mode.unwrap_or(current.mode),
            profile: match patch.profile {
                Some(name) => checks.take(self.check_profile(&name).await)?,
                None => current.profile,
            },
            timeout: match patch.timeout {
                Some(Some(timeout)) => checks.take(check_timeout(timeout).map(Some))?,
                Some(None) => None,
                None => (!current.timeout.is_zero()).then_some(current.timeout),
            },
        };
        if !checks.has_problem("signature_scheme") {
            checks.take(check_signature_options(&settings))?;
        }
        checks.finish()?;
        let changed: Vec<&str> = [
            (settings.url != url_before, "url"),
            (settings.event_types != types_before, "event_types"),
            (other_settings, "settings"),
        ]
        .into_iter()
        .filter_map(|(changed, name)| changed.then_some(name))
        .collect();
        let new_profile = self.profile_named(&settings.profile).await?;
        let kind = key_kind(&new_profile, settings.signature_scheme)?;
        if kind == KeyKind::Rsa && settings.legacy_signature {
            return Err(ServiceError::invalid(
                "legacy_signature",
                "needs an HMAC secret; this profile signs with RSA",
            ));
        }
        let now = Utc::now();
        // A key the merchant brings, or one of another kind (a new scheme,
        // or a profile signing with another algorithm), replaces the key.
        // A brought key is the receiver's already: it signs at once. A key
        // of another kind keeps the old one signing beside it for the
        // default grace period when the new format still has a signature
        // the old key makes (Standard Webhooks: HMAC and Ed25519 side by
        // side); when it has none, the old key could not sign: at once.
        let brought = patch.secret.is_some() || patch.private_key.is_some();
        let new_key = if brought {
            Some((new_key(kind, patch.secret, patch.private_key).await?, now))
        } else if kind != current_kind {
            let old_key_still_signs = new_profile.algorithms().contains(&current_kind.algorithm());
            let until = if old_key_still_signs {
                now + grace(DEFAULT_GRACE)
            } else {
                now
            };
            Some((new_key(kind, None, None).await?, until))
        } else {
            None
        };
        let key_replaced = new_key.is_some();
        let settings = self.seal_headers(id, settings);
        let row = endpoint_row(id.as_str());
        let keys = KeyChange {
            rotate_to: new_key.map(|(key, previous_until)| {
                (
                    self.secrets.seal(&key.expose(), &row),
                    previous_until,
                    rsa_public_pem(&key),
                )
            }),
            // Turned off, the key is kept for the default grace period: on
            // again within it, the receiver's key still decrypts.
            encryption_key: match (current.encryption, settings.encryption) {
                (None, Some(_)) => Some(EncryptionChange::On {
                    new_key: self.secrets.seal(&EncryptionKey::generate().expose(), &row),
                    now,
                }),
                (Some(_), None) => Some(EncryptionChange::Off {
                    kept_until: now + grace(DEFAULT_GRACE),
                }),
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
        if key_replaced {
            // A brought key, or one of the kind a new profile or scheme needs.
            self.audit
                .record(Change::new(
                    merchant,
                    AuditAction::SecretRotated,
                    id.as_str(),
                ))
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
        Ok(self.shown(endpoint.with_masked_headers()))
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
        let endpoint = self.stored(merchant, id).await?;
        let one_at_a_time = self
            .store
            .profile(&endpoint.profile)
            .await?
            .is_some_and(|stored| stored.profile.signs_one_key_at_a_time());
        self.open_keys(id, &stored, one_at_a_time)
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
        let endpoint = self.stored(merchant, id).await?;
        let key = new_key(self.key_kind_of(&endpoint).await?, None, None).await?;
        if !self
            .store
            .rotate_endpoint_secret(
                merchant,
                id,
                &self.secrets.seal(&key.expose(), &endpoint_row(id.as_str())),
                rsa_public_pem(&key).as_deref(),
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

    /// The keys as the merchant sees them. During a rotation, a profile
    /// whose receivers compare one signature is still signed by the old
    /// key: that one is shown, with the new one as `next`.
    fn open_keys(
        &self,
        id: &EndpointId,
        stored: &EndpointSecrets,
        one_at_a_time: bool,
    ) -> Result<EndpointKeys, ServiceError> {
        let row = endpoint_row(id.as_str());
        let open = |value: &str| {
            self.secrets
                .open(value, &row)
                .map_err(|e| ServiceError::Internal(e.to_string()))
        };
        let signing_key = EndpointKey::parse(&open(&stored.current)?)
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
        let (Some(until), Some(previous), true) =
            (grace_until, stored.previous.as_deref(), one_at_a_time)
        else {
            return Ok(EndpointKeys {
                previous_secret_expires_at: grace_until,
                ..keys_view(&signing_key, encryption_key.as_ref())
            });
        };
        let previous = EndpointKey::parse(&open(previous)?)
            .map_err(|e| ServiceError::Internal(format!("stored signing secret: {e}")))?;
        let next = keys_view(&signing_key, None);
        Ok(EndpointKeys {
            previous_secret_expires_at: Some(until),
            next: Some(NextKey {
                secret: next.secret,
                public_key: next.public_key,
                public_key_base64: next.public_key_base64,
                signs_from: until,
            }),
            ..keys_view(&previous, encryption_key.as_ref())
        })
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

/// A per-endpoint timeout within 1s to 60s.
fn check_timeout(timeout: Duration) -> Result<Duration, ServiceError> {
    if (MIN_TIMEOUT..=MAX_TIMEOUT).contains(&timeout) {
        Ok(timeout)
    } else {
        Err(ServiceError::invalid(
            "timeout",
            format!("{} is outside 1s to 60s", format_duration(timeout)),
        ))
    }
}

/// What the merchant sees of an endpoint's keys.
fn keys_view(signing_key: &EndpointKey, encryption_key: Option<&EncryptionKey>) -> EndpointKeys {
    let (public_key, public_key_base64) = match signing_key {
        EndpointKey::Standard(key) => (key.public_key(), None),
        EndpointKey::Rsa(key) => (
            Some(key.public_key_pem().to_owned()),
            Some(key.public_key_base64()),
        ),
    };
    EndpointKeys {
        secret: signing_key.as_hmac().map(SigningSecret::expose),
        public_key,
        public_key_base64,
        previous_secret_expires_at: None,
        encryption_key: encryption_key.map(EncryptionKey::expose),
        next: None,
    }
}

/// The kind of signing key an endpoint holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Hmac,
    Ed25519,
    Rsa,
}

impl KeyKind {
    /// The algorithm a key of this kind signs with.
    fn algorithm(self) -> SignatureAlgorithm {
        match self {
            KeyKind::Hmac => SignatureAlgorithm::HmacSha256,
            KeyKind::Ed25519 => SignatureAlgorithm::Ed25519,
            KeyKind::Rsa => SignatureAlgorithm::RsaSha256,
        }
    }

    fn of_scheme(scheme: SignatureScheme) -> Self {
        match scheme {
            SignatureScheme::Hmac => KeyKind::Hmac,
            SignatureScheme::Ed25519 => KeyKind::Ed25519,
        }
    }
}

/// The key an endpoint of `profile` holds with `scheme`; the profile must
/// sign with the scheme's algorithm unless it signs with RSA.
fn key_kind(profile: &DeliveryProfile, scheme: SignatureScheme) -> Result<KeyKind, ServiceError> {
    let algorithms = profile.algorithms();
    if algorithms.contains(&SignatureAlgorithm::RsaSha256) {
        return Ok(KeyKind::Rsa);
    }
    let wanted = match scheme {
        SignatureScheme::Hmac => SignatureAlgorithm::HmacSha256,
        SignatureScheme::Ed25519 => SignatureAlgorithm::Ed25519,
    };
    if !algorithms.is_empty() && !algorithms.contains(&wanted) {
        let names: Vec<&str> = algorithms.iter().map(|a| a.as_str()).collect();
        return Err(ServiceError::invalid(
            "signature_scheme",
            format!(
                "the profile `{}` signs with {}, not {}",
                profile.name,
                names.join(" or "),
                wanted.as_str()
            ),
        ));
    }
    Ok(KeyKind::of_scheme(scheme))
}

/// A new signing key of `kind`: the merchant's own (`secret` for HMAC,
/// `private_key` for RSA), checked, or a generated one.
async fn new_key(
    kind: KeyKind,
    secret: Option<String>,
    private_key: Option<String>,
) -> Result<EndpointKey, ServiceError> {
    match (kind, secret, private_key) {
        (KeyKind::Rsa, Some(_), _) => Err(ServiceError::invalid(
            "secret",
            "this profile signs with RSA: bring a `private_key` (PEM) instead",
        )),
        (KeyKind::Rsa, None, Some(pem)) => RsaSigningKey::parse_pem(&pem)
            .map(EndpointKey::Rsa)
            .map_err(|e| ServiceError::invalid("private_key", e.to_string())),
        (KeyKind::Rsa, None, None) => tokio::task::spawn_blocking(RsaSigningKey::generate)
            .await
            .map_err(|e| ServiceError::Internal(format!("RSA key generation: {e}")))?
            .map(EndpointKey::Rsa)
            .map_err(|e| ServiceError::Internal(e.to_string())),
        (_, _, Some(_)) => Err(ServiceError::invalid(
            "private_key",
            "only profiles signing with rsa-sha256 take a private key",
        )),
        (KeyKind::Ed25519, Some(_), None) => Err(ServiceError::invalid(
            "secret",
            "an Ed25519 endpoint's key is Herald's own; bring a secret to an HMAC endpoint",
        )),
        (KeyKind::Hmac, Some(text), None) => {
            imported_secret(&text).map(|secret| EndpointKey::Standard(SigningKey::Hmac(secret)))
        }
        (KeyKind::Hmac, None, None) => Ok(EndpointKey::Standard(SigningKey::generate(
            SignatureScheme::Hmac,
        ))),
        (KeyKind::Ed25519, None, None) => Ok(EndpointKey::Standard(SigningKey::generate(
            SignatureScheme::Ed25519,
        ))),
    }
}

/// A secret the receiver already holds, whatever its form (a `whsec_`
/// secret or any other printable text): kept exactly as given.
fn imported_secret(text: &str) -> Result<SigningSecret, ServiceError> {
    SigningSecret::held(text).map_err(|e| ServiceError::invalid("secret", e.to_string()))
}

/// The PEM public key of an RSA key, stored beside it for reading.
fn rsa_public_pem(key: &EndpointKey) -> Option<String> {
    match key {
        EndpointKey::Rsa(key) => Some(key.public_key_pem().to_owned()),
        EndpointKey::Standard(_) => None,
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
