//! Merchant accounts: sign-up, log-in, operator-created merchants.

use super::api_keys::ApiKeys;
use super::login_throttle::{LoginThrottle, Throttled};
use super::{password, ServiceError};
use crate::store::{NewMerchant, Store, StoreError};
use chrono::Utc;
use herald_app::model::api_key::IssuedKey;
use herald_app::model::id::MerchantId;
use herald_app::model::merchant::{
    normalize_email, validate_name, validate_password, Merchant, NewAccount, Role,
};
use std::net::IpAddr;

/// The account operations. Clones share one log-in throttle.
#[derive(Clone, Debug)]
pub struct Accounts {
    store: Store,
    throttle: LoginThrottle,
}

/// The message for any failed log-in: it never says whether the email exists.
pub const BAD_CREDENTIALS: &str = "That email and password do not match an account.";

impl Accounts {
    /// Account operations over `store`.
    pub fn new(store: Store) -> Self {
        Accounts {
            store,
            throttle: LoginThrottle::default(),
        }
    }

    /// Creates a merchant from the sign-up form.
    pub async fn sign_up(&self, account: NewAccount) -> Result<Merchant, ServiceError> {
        let account = account.normalized()?;
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
    /// failed too often lately (then it is refused without checking).
    pub async fn log_in(
        &self,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Merchant, ServiceError> {
        let normalized = normalize_email(email);
        let account = match &normalized {
            Ok(email) => email.clone(),
            Err(_) => email.trim().to_lowercase(),
        };
        self.throttle
            .check(&account, client)
            .map_err(|Throttled { retry_after }| ServiceError::Throttled { retry_after })?;
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
        match merchant {
            Some(merchant) if ok => {
                self.throttle.record_success(&account);
                Ok(merchant)
            }
            _ => {
                self.throttle.record_failure(&account, client);
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
