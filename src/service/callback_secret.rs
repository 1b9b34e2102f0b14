//! The merchant's callback secret: what signs deliveries to an event's
//! `callback_url` (seed 003's only channel, seed 004's per-request
//! callbacks), shown so the merchant can verify them, and rotated like an
//! endpoint's secret with a grace period; and the delivery profile those
//! deliveries are sent in.

use super::audit::{Audit, Change};
use super::endpoints::grace_end;
use super::ServiceError;
use crate::crypto::secret_box::{merchant_row, SecretBox};
use crate::crypto::signing::SigningSecret;
use crate::store::{self, Store};
use chrono::Utc;
use herald_app::model::audit::AuditAction;
use herald_app::model::endpoint::{CallbackSecret, CallbackSettings};
use herald_app::model::id::MerchantId;
use herald_app::model::member::Permission;
use herald_app::model::profile::SignatureAlgorithm;
use std::time::Duration;

/// How the audit log names the callback secret (it has no id of its own).
const CALLBACK_SECRET: &str = "callback_secret";
/// How the audit log names the callback settings.
const CALLBACK_SETTINGS: &str = "callback_settings";

/// The callback secret operations.
#[derive(Clone, Debug)]
pub struct CallbackSecrets {
    store: Store,
    /// Seals the secret before it is stored, opens it to reveal.
    secrets: SecretBox,
    audit: Audit,
}

impl CallbackSecrets {
    /// Callback secrets in `store`, sealed with `secrets`.
    pub fn new(store: Store, secrets: SecretBox) -> Self {
        CallbackSecrets {
            audit: Audit::new(store.clone()),
            store,
            secrets,
        }
    }

    /// The merchant's callback secret, made now if it has none yet (a
    /// merchant may verify before its first callback is sent). Reading it
    /// writes only that first time.
    pub async fn reveal(&self, merchant: &MerchantId) -> Result<CallbackSecret, ServiceError> {
        super::access::require(Permission::Reveal)?;
        let secret = self.current(merchant).await?;
        self.audit
            .record(Change::new(
                merchant,
                AuditAction::SecretRevealed,
                CALLBACK_SECRET,
            ))
            .await?;
        Ok(secret)
    }

    /// The merchant's callback secret (made now if it has none yet).
    async fn current(&self, merchant: &MerchantId) -> Result<CallbackSecret, ServiceError> {
        let row = merchant_row(merchant.as_str());
        let mut stored = self.stored(merchant).await?;
        if stored.current.is_none() {
            self.store
                .ensure_callback_secret(
                    merchant,
                    &self.secrets.seal(&SigningSecret::generate().expose(), &row),
                )
                .await?;
            stored = self.stored(merchant).await?;
        }
        let current = stored
            .current
            .ok_or_else(|| ServiceError::Internal("callback secret not stored".into()))?;
        let secret = self
            .secrets
            .open(&current, &row)
            .map_err(|e| ServiceError::Internal(format!("stored callback secret: {e}")))?;
        let grace_until = stored
            .previous_expires_at
            .filter(|until| stored.previous.is_some() && *until > Utc::now());
        Ok(CallbackSecret {
            secret,
            previous_secret_expires_at: grace_until,
        })
    }

    /// The merchant's callback secrets as stored (`NotFound` for no merchant).
    async fn stored(&self, merchant: &MerchantId) -> Result<store::CallbackSecrets, ServiceError> {
        self.store
            .callback_secrets(merchant)
            .await?
            .ok_or(ServiceError::NotFound("merchant"))
    }

    /// A new callback secret; the old one also signs until `grace_period`
    /// (default a day, at most a week) has passed.
    pub async fn rotate(
        &self,
        merchant: &MerchantId,
        grace_period: Option<Duration>,
    ) -> Result<CallbackSecret, ServiceError> {
        super::access::require(Permission::Change)?;
        let previous_until = grace_end(Utc::now(), grace_period)?;
        let row = merchant_row(merchant.as_str());
        let sealed = self.secrets.seal(&SigningSecret::generate().expose(), &row);
        if !self
            .store
            .rotate_callback_secret(merchant, &sealed, previous_until)
            .await?
        {
            return Err(ServiceError::NotFound("merchant"));
        }
        self.audit
            .record(Change::new(
                merchant,
                AuditAction::SecretRotated,
                CALLBACK_SECRET,
            ))
            .await?;
        self.current(merchant).await
    }

    /// How the merchant's callback deliveries are sent.
    pub async fn settings(&self, merchant: &MerchantId) -> Result<CallbackSettings, ServiceError> {
        let profile = self
            .store
            .callback_profile(merchant)
            .await?
            .ok_or(ServiceError::NotFound("merchant"))?;
        Ok(CallbackSettings { profile })
    }

    /// Sends the merchant's callback deliveries in another delivery profile,
    /// from their next attempt on. The callback secret is an HMAC key, so
    /// the profile must sign with HMAC or not at all.
    pub async fn set_settings(
        &self,
        merchant: &MerchantId,
        settings: CallbackSettings,
    ) -> Result<CallbackSettings, ServiceError> {
        super::access::require(Permission::Change)?;
        let profile = super::profiles::existing_profile(&self.store, &settings.profile).await?;
        let name = profile.name.as_str();
        if let Some(spec) = profile.header_unsignable_with(SignatureAlgorithm::HmacSha256) {
            return Err(ServiceError::invalid(
                "profile",
                format!(
                    "`{name}` signs {} with {}, but callbacks are signed with the callback \
                     secret, an HMAC key: choose a profile that signs with hmac-sha256",
                    spec.header,
                    spec.algorithm.as_str()
                ),
            ));
        }
        let before = self.settings(merchant).await?;
        if !self.store.set_callback_profile(merchant, name).await? {
            return Err(ServiceError::NotFound("merchant"));
        }
        if before.profile != name {
            self.audit
                .record(
                    Change::new(
                        merchant,
                        AuditAction::CallbackSettingsUpdated,
                        CALLBACK_SETTINGS,
                    )
                    .detail(format!("profile: {} → {name}", before.profile)),
                )
                .await?;
        }
        Ok(CallbackSettings {
            profile: name.to_owned(),
        })
    }
}
