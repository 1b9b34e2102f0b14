//! Who is calling: the platform token, a merchant API key, or a dashboard
//! session's account. The HTTP edge reads the credentials off the request;
//! the decisions about them are here.

use super::api_keys::hash_api_key;
use super::audit::{self, Actor};
use super::rate_limits::RateLimit;
use super::{PlatformToken, ServiceError};
use crate::store::Store;
use chrono::Utc;
use herald_app::model::id::MerchantId;

/// How often a key's "last used" time is written: to the minute is enough,
/// and spares a write on every request.
const LAST_USED_RESOLUTION: chrono::Duration = chrono::Duration::minutes(1);

/// The credential checks.
#[derive(Clone, Debug)]
pub struct Auth {
    store: Store,
    platform_token: PlatformToken,
    /// Requests with a merchant's API keys, per merchant.
    api_requests: RateLimit<MerchantId>,
    /// Requests with the platform token.
    platform_requests: RateLimit<()>,
}

impl Auth {
    /// Checks against `store`'s keys and accounts and the platform token;
    /// callers with a credential are held to its rate limit.
    pub fn new(
        store: Store,
        platform_token: PlatformToken,
        api_requests: RateLimit<MerchantId>,
        platform_requests: RateLimit<()>,
    ) -> Self {
        Auth {
            store,
            platform_token,
            api_requests,
            platform_requests,
        }
    }

    /// Counts a request made with the platform token against its limit.
    pub fn admit_platform_request(&self) -> Result<(), ServiceError> {
        self.platform_requests.check(&())?;
        audit::authenticated_as(Actor::Operator(None));
        Ok(())
    }

    /// Whether `token` is the platform token (constant-time).
    pub fn is_platform_token(&self, token: &str) -> bool {
        self.platform_token.matches(token)
    }

    /// The merchant whose live API key `token` is, if any; notes the use
    /// and counts it against the merchant's request limit.
    pub async fn api_key_merchant(&self, token: &str) -> Result<Option<MerchantId>, ServiceError> {
        let Some(owner) = self.store.api_key_owner(&hash_api_key(token)).await? else {
            return Ok(None);
        };
        self.api_requests.check(&owner.merchant_id)?;
        audit::authenticated_as(Actor::ApiKey(owner.key_id.clone()));
        let now = Utc::now();
        if owner
            .last_used_at
            .is_none_or(|t| now - t > LAST_USED_RESOLUTION)
        {
            self.store.touch_api_key(&owner.key_id, now).await?;
        }
        Ok(Some(owner.merchant_id))
    }

    /// Whether `token` is a live merchant API key (without noting a use:
    /// it is being refused from a route it cannot call).
    pub async fn is_api_key(&self, token: &str) -> Result<bool, ServiceError> {
        Ok(self
            .store
            .api_key_owner(&hash_api_key(token))
            .await?
            .is_some())
    }
}
