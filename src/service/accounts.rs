//! Merchant accounts: sign-up, log-in (as one of a merchant's members),
//! sessions, operator-created merchants.

use super::api_keys::ApiKeys;
use super::audit::{Actor, Audit, Change, SessionMember};
use super::login_throttle::{LoginThrottle, Throttled};
use super::rate_limits::{client_key, RateLimit, RateLimits};
use super::{password, ServiceError};
use crate::store::{NewMerchant, Store, StoreError};
use chrono::Utc;
use herald_app::model::api_key::IssuedKey;
use herald_app::model::audit::AuditAction;
use herald_app::model::id::{MemberId, MerchantId};
use herald_app::model::member::{Account, Permission};
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

    /// Creates a merchant from the sign-up form sent from `client`; the
    /// person signing up is its first owner.
    pub async fn sign_up(
        &self,
        account: NewAccount,
        client: Option<IpAddr>,
    ) -> Result<Account, ServiceError> {
        // Refused before anything is read or counted: a closed Herald says
        // the same to every visitor.
        if self.sign_up_mode == SignUpMode::Closed {
            return Err(ServiceError::SignUpClosed);
        }
        let account = account.normalized()?;
        if let Some(client) = client {
            self.sign_ups.check(&client_key(client))?;
        }
        let merchant = self
            .insert(
                account.name,
                account.email,
                Some(account.password),
                Role::Merchant,
            )
            .await?;
        self.owner_account(merchant).await
    }

    /// The merchant with its first owner.
    async fn owner_account(&self, merchant: Merchant) -> Result<Account, ServiceError> {
        match self.store.first_owner(&merchant.id).await? {
            Some(owner) => Ok(Account {
                merchant,
                member: owner.member,
            }),
            None => Err(ServiceError::Internal(format!(
                "merchant {} has no owner",
                merchant.id
            ))),
        }
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
        // An operator account's viewer may look at the admin pages, not act.
        super::access::require(Permission::Change)?;
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
    ) -> Result<Account, ServiceError> {
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
            Ok(email) => self.store.member_by_email(email).await?,
            Err(_) => None,
        };
        let (member, hash) = match record {
            Some(record) => (
                Some((record.member, record.merchant_id)),
                record.password_hash,
            ),
            None => (None, None),
        };
        // Always run argon2, even for unknown emails, so timing reveals nothing.
        let ok = password::verify(password.to_owned(), hash).await?;
        // The log names whoever tried: the address as typed (bounded), so
        // attempts on unknown emails show up to operators too.
        let who = Actor::Member(normalized.unwrap_or_else(|_| email.chars().take(254).collect()));
        let merchant = match &member {
            Some((_, merchant)) => self.store.merchant_by_id(merchant).await?,
            None => None,
        };
        match (member, merchant) {
            (Some((member, _)), Some(merchant)) if ok => {
                self.throttle.succeeded(reservation);
                self.audit
                    .record_as(&who, Change::about(&merchant.id, AuditAction::LogIn))
                    .await?;
                Ok(Account { merchant, member })
            }
            (_, merchant) => {
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

    /// The session's member, if the session still stands: the member
    /// exists, still belongs to `merchant`, and has not ended their
    /// sessions (a password change or reset) since this one began at
    /// `started_at` (Unix ms).
    pub async fn session_member(
        &self,
        merchant: &MerchantId,
        member: &MemberId,
        started_at: Option<i64>,
    ) -> Result<Option<SessionMember>, ServiceError> {
        let Some(record) = self.store.member_by_id(member).await? else {
            return Ok(None);
        };
        if &record.merchant_id != merchant {
            return Ok(None);
        }
        if let Some(from) = record.sessions_valid_from {
            if started_at.is_none_or(|started| started < from.timestamp_millis()) {
                return Ok(None);
            }
        }
        Ok(Some(SessionMember {
            merchant: record.merchant_id,
            email: record.member.email,
            role: record.member.role,
        }))
    }

    /// The merchant and member of a session, if both still exist.
    pub async fn account(
        &self,
        merchant: &MerchantId,
        member: &MemberId,
    ) -> Result<Option<Account>, ServiceError> {
        let Some(record) = self.store.member_by_id(member).await? else {
            return Ok(None);
        };
        if &record.merchant_id != merchant {
            return Ok(None);
        }
        Ok(self
            .store
            .merchant_by_id(merchant)
            .await?
            .map(|merchant| Account {
                merchant,
                member: record.member,
            }))
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
                "An account with this email already exists (or a member of one uses it). Log in instead.",
            )),
            Err(e) => Err(e.into()),
        }
    }
}
