//! Merchant accounts: sign-up, log-in, operator-created merchants.

use super::api_keys::{issue_api_key, IssuedApiKey};
use super::{password, ServiceError};
use crate::store::{NewMerchant, Store, StoreError};
use chrono::Utc;
use herald_app::model::id::MerchantId;
use herald_app::model::merchant::{
    normalize_email, validate_name, validate_password, Merchant, NewAccount, Role,
};

/// The account operations.
#[derive(Clone, Debug)]
pub struct Accounts {
    store: Store,
}

/// The message for any failed log-in: it never says whether the email exists.
pub const BAD_CREDENTIALS: &str = "That email and password do not match an account.";

impl Accounts {
    /// Account operations over `store`.
    pub fn new(store: Store) -> Self {
        Accounts { store }
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
    ) -> Result<(Merchant, IssuedApiKey), ServiceError> {
        let name = validate_name(name)?;
        let email = normalize_email(email)?;
        if let Some(password) = &password {
            validate_password(password)?;
        }
        let merchant = self.insert(name, email, password, role).await?;
        let key = issue_api_key(&self.store, &merchant.id, "default").await?;
        Ok((merchant, key))
    }

    /// Checks an email and password.
    pub async fn log_in(&self, email: &str, password: &str) -> Result<Merchant, ServiceError> {
        let record = match normalize_email(email) {
            Ok(email) => self.store.merchant_by_email(&email).await?,
            Err(_) => None,
        };
        let (merchant, hash) = match record {
            Some(record) => (Some(record.merchant), record.password_hash),
            None => (None, None),
        };
        // Always run argon2, even for unknown emails, so timing reveals nothing.
        let ok = password::verify(password.to_owned(), hash).await?;
        match merchant {
            Some(merchant) if ok => Ok(merchant),
            _ => Err(ServiceError::Unauthenticated(BAD_CREDENTIALS.into())),
        }
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
