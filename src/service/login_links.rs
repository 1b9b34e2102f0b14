//! Login links: how a platform sends its merchants into the dashboard
//! without a second password. The platform asks for a link (admin API),
//! hands it to the merchant, and the first request that opens it within
//! ten minutes starts a dashboard session, as the member the link names or
//! the merchant's first owner; nothing opens it again.
//!
//! The token is 256 random bits and only its SHA-256 is stored, like an API
//! key's: a fast hash is enough for a secret nobody can guess.

use super::api_keys::hash_api_key;
use super::audit::{Actor, Audit, Change};
use super::clock::Clock;
use super::ServiceError;
use crate::store::{NewLoginLink, Store};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, SubsecRound, Utc};
use herald_app::model::audit::AuditAction;
use herald_app::model::id::MerchantId;
use herald_app::model::member::{Account, Permission};
use herald_app::model::merchant::normalize_email;
use rand::RngCore;

/// How long a link may wait to be opened.
pub const LINK_LIFETIME: chrono::Duration = chrono::Duration::minutes(10);

/// Where links open: `/login-link/<token>` on the dashboard.
pub const LINK_PATH: &str = "/login-link/";

/// A link just made: the only time its token exists in full.
#[derive(Debug, Clone)]
pub struct IssuedLink {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// Why a link opened no session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefused {
    /// No such link (mistyped, or its merchant is gone).
    Unknown,
    /// It was used already.
    Used,
    /// Its ten minutes are over.
    Expired,
}

impl LinkRefused {
    /// The word the log-in page is told (`/login?link=used`).
    pub fn as_str(self) -> &'static str {
        match self {
            LinkRefused::Unknown => "invalid",
            LinkRefused::Used => "used",
            LinkRefused::Expired => "expired",
        }
    }
}

/// The login-link operations.
#[derive(Clone, Debug)]
pub struct LoginLinks {
    store: Store,
    /// The dashboard's address as merchants reach it (`HERALD_PUBLIC_URL`).
    public_url: String,
    clock: Clock,
    audit: Audit,
}

impl LoginLinks {
    /// Links over `store`, pointing at the dashboard at `public_url`.
    pub fn new(store: Store, public_url: String) -> Self {
        LoginLinks {
            audit: Audit::new(store.clone()),
            store,
            public_url: public_url.trim_end_matches('/').to_owned(),
            clock: Clock::system(),
        }
    }

    /// The same, reading the time from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// A new link into `merchant`'s dashboard, as its owner or as the
    /// member with `member_email`. `NotFound` for an unknown merchant.
    pub async fn issue(
        &self,
        merchant: &MerchantId,
        member_email: Option<&str>,
    ) -> Result<IssuedLink, ServiceError> {
        super::access::require(Permission::Change)?;
        if self.store.merchant_by_id(merchant).await?.is_none() {
            return Err(ServiceError::NotFound("merchant"));
        }
        let member_email = match member_email {
            Some(email) => Some(self.member_of(merchant, email).await?),
            None => None,
        };
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = format!("hll_{}", URL_SAFE_NO_PAD.encode(bytes));
        // Stored times are milliseconds: answer with what is stored.
        let created_at = self.clock.now().trunc_subsecs(3);
        let expires_at = created_at + LINK_LIFETIME;
        self.store
            .insert_login_link(&NewLoginLink {
                token_hash: hash_api_key(&token),
                merchant_id: merchant.clone(),
                member_email,
                created_at,
                expires_at,
            })
            .await?;
        Ok(IssuedLink {
            url: format!("{}{LINK_PATH}{token}", self.public_url),
            expires_at,
        })
    }

    /// Uses the link with `token`: the account it logs in (the member it
    /// names, or the merchant's first owner), once, within its lifetime;
    /// afterwards (or for anything else) why not.
    pub async fn redeem(&self, token: &str) -> Result<Result<Account, LinkRefused>, ServiceError> {
        let hash = hash_api_key(token);
        let now = self.clock.now();
        if let Some(used) = self.store.use_login_link(&hash, now).await? {
            let Some(merchant) = self.store.merchant_by_id(&used.merchant_id).await? else {
                return Ok(Err(LinkRefused::Unknown));
            };
            let member = match &used.member_email {
                Some(email) => self.store.member_by_email(email).await?,
                None => self.store.first_owner(&merchant.id).await?,
            };
            // A member removed since the link was made is logged in by nothing.
            let Some(member) = member.filter(|m| m.merchant_id == merchant.id) else {
                return Ok(Err(LinkRefused::Unknown));
            };
            self.audit
                .record_as(
                    &Actor::Member(member.member.email.clone()),
                    Change::about(&merchant.id, AuditAction::LoginLinkUsed),
                )
                .await?;
            return Ok(Ok(Account {
                merchant,
                member: member.member,
            }));
        }
        Ok(Err(match self.store.login_link_state(&hash).await? {
            None => LinkRefused::Unknown,
            Some(state) if state.used => LinkRefused::Used,
            Some(_) => LinkRefused::Expired,
        }))
    }
}

impl LoginLinks {
    /// `email`, normalised, if it names a member of `merchant`.
    async fn member_of(&self, merchant: &MerchantId, email: &str) -> Result<String, ServiceError> {
        let email =
            normalize_email(email).map_err(|e| ServiceError::invalid("member_email", e.message))?;
        match self.store.member_by_email(&email).await? {
            Some(member) if &member.merchant_id == merchant => Ok(email),
            _ => Err(ServiceError::invalid(
                "member_email",
                "not a member of this merchant",
            )),
        }
    }
}
