//! Merchant accounts: sign-up, log-in, operator-created merchants.

use super::api_keys::ApiKeys;
use super::audit::{Actor, Audit, Change};
use super::login_throttle::{LoginThrottle, Throttled};
use super::rate_limits::{client_key, RateLimit, RateLimits};
use super::{password, ServiceError};
use crate::store::{NewMerchant, Store, StoreError};
use chrono::Utc;
use herald_app::model::api_key::IssuedKey;
use herald_app::model::audit::AuditAction;
use herald_app::model::id::MerchantId;
use herald_app::model::merchant::{
    normalize_email, validate_name, validate_password, Merchant, NewAccount, Role, SignUpMode,
};
use std::net::IpAddr;

/// The account operations. Clones share one log-in throttle.
#[derive(Clone, Debug)]
pub struct Accounts {
    store: Store,
    throttle: LoginThrottle,
    sign_ups: RateLimit<IpAddr>,
    sign_up_mode: SignUpMode,
    audit: Audit,
}

/// The message for any failed log-in: it never says whether the email exists.
pub const BAD_CREDENTIALS: &str = "That email and password do not match an account.";

impl Accounts {
    /// Account operations over `store`, with the default sign-up limit.
    pub fn new(store: Store) -> Self {
        Self::with_sign_up_limit(store, RateLimits::default().sign_ups)
    }

    /// Account operations over `store`; sign-ups from one client are
    /// limited by `sign_ups`.
    pub fn with_sign_up_limit(store: Store, sign_ups: RateLimit<IpAddr>) -> Self {
        Accounts {
            audit: Audit::new(store.clone()),
            store,
            throttle: LoginThrottle::default(),
            sign_ups,
            sign_up_mode: SignUpMode::Open,
        }
    }

    /// The same operations, with sign-up open or closed (`HERALD_SIGNUP`).
    pub fn with_sign_up_mode(mut self, mode: SignUpMode) -> Self {
        self.sign_up_mode = mode;
        self
    }

    /// Whether anyone may sign up.
    pub fn sign_up_mode(&self) -> SignUpMode {
        self.sign_up_mode
    }

    /// Creates a merchant from the sign-up form sent from `client`.
    pub async fn sign_up(
        &self,
        account: NewAccount,
        client: Option<IpAddr>,
    ) -> Result<Merchant, ServiceError> {
        // Refused before anything is read or counted: a closed Herald says
        // the same to every visitor.
        if self.sign_up_mode == SignUpMode::Closed {
            return Err(ServiceError::SignUpClosed);
        }
        let account = account.normalized()?;
        if let Some(client) = client {
            self.sign_ups.check(&client_key(client))?;
        }
        self.insert(
            account.name,
            account.email,
            Some(account.password),
            Role::Merchant,
        )
        .await
    }

    /// Creates a merchant as an operator (CLI or admin API), with a first API
    /// key; the password is optional (API-only merchants).
    pub async fn create_merchant(
        &self,
        name: &str,
        email: &str,
        password: Option<String>,
        role: Role,
    ) -> Result<(Merchant, IssuedKey), ServiceError> {
        let name = validate_name(name)?;
        let email = normalize_email(email)?;
        if let Some(password) = &password {
            validate_password(password)?;
        }
        let merchant = self.insert(name, email, password, role).await?;
        let key = ApiKeys::new(self.store.clone())
            .issue(&merchant.id, "default")
            .await?;
        Ok((merchant, key))
    }

    /// Checks an email and password, unless this account or `client` has
    /// tried too often lately (then it is refused without checking).
    pub async fn log_in(
        &self,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Merchant, ServiceError> {
        let reservation =
            self.throttle
                .reserve(email, client)
                .map_err(|Throttled { retry_after }| ServiceError::RateLimited {
                    message: format!(
                        "Too many log-in attempts. Try again in {} s.",
                        retry_after.as_secs()
                    ),
                    retry_after,
                })?;
        let normalized = normalize_email(email);
        let record = match &normalized {
            Ok(email) => self.store.merchant_by_email(email).await?,
            Err(_) => None,
        };
        let (merchant, hash) = match record {
            Some(record) => (Some(record.merchant), record.password_hash),
            None => (None, None),
        };
        // Always run argon2, even for unknown emails, so timing reveals nothing.
        let ok = password::verify(password.to_owned(), hash).await?;
        // The log names whoever tried: the address as typed (bounded), so
        // attempts on unknown emails show up to operators too.
        let who = Actor::Member(normalized.unwrap_or_else(|_| email.chars().take(254).collect()));
        match merchant {
            Some(merchant) if ok => {
                self.throttle.succeeded(reservation);
                self.audit
                    .record_as(&who, Change::about(&merchant.id, AuditAction::LogIn))
                    .await?;
                Ok(merchant)
            }
            merchant => {
                let change = Change {
                    merchant: merchant.as_ref().map(|m| &m.id),
                    action: AuditAction::LogInFailed,
                    object_id: None,
                    detail: None,
                };
                self.audit.record_as(&who, change).await?;
                Err(ServiceError::Unauthenticated(BAD_CREDENTIALS.into()))
            }
        }
    }

    /// Every merchant account (operators).
    pub async fn list(&self) -> Result<Vec<Merchant>, ServiceError> {
        Ok(self.store.list_merchants().await?)
    }

    /// The merchant with this id.
    pub async fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, ServiceError> {
        Ok(self.store.merchant_by_id(id).await?)
    }

    async fn insert(
        &self,
        name: String,
        email: String,
        password: Option<String>,
        role: Role,
    ) -> Result<Merchant, ServiceError> {
        let password_hash = match password {
            Some(password) => Some(password::hash(password).await?),
            None => None,
        };
        let created_at = Utc::now();
        let new = NewMerchant {
            id: MerchantId::generate(),
            name,
            email,
            password_hash,
            role,
            created_at,
        };
        match self.store.insert_merchant(&new).await {
            Ok(merchant) => Ok(merchant),
            Err(StoreError::Conflict(_)) => Err(ServiceError::invalid(
                "email",
                "An account with this email already exists. Log in instead.",
            )),
            Err(e) => Err(e.into()),
        }
    }
}
