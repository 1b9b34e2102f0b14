//! Thin `#[server]` functions: check the session, then one call on the Backend.

pub mod account;
pub mod admin;
pub mod api_keys;
pub mod audit_log;
pub mod catalog;
pub mod deliveries;
pub mod endpoints;
pub mod events;
pub mod members;
pub mod notifications;
pub mod profiles;

/// Where the server functions are mounted; kept apart from the REST API's `/api/v1`.
pub const PREFIX: &str = "/_fn";

/// The session key holding the logged-in merchant's id (read by the REST
/// API's extractors and the server's log-in gate too).
pub const SESSION_MERCHANT_KEY: &str = "merchant_id";

/// The session key holding the logged-in member's id (which of the
/// merchant's people it is; their role is read from it on each request).
pub const SESSION_MEMBER_KEY: &str = "member_id";

#[cfg(feature = "ssr")]
pub(crate) mod session {
    //! The session plumbing every server function shares.

    use crate::backend::SharedBackend;
    use crate::model::error::AppError;
    use crate::model::id::{MemberId, MerchantId};
    use crate::model::member::Account;
    use crate::model::merchant::Merchant;
    use crate::model::named_id::NamedId;
    use leptos::prelude::use_context;
    use std::future::Future;
    use tower_sessions::Session;

    use super::SESSION_MEMBER_KEY as MEMBER_KEY;
    use super::SESSION_MERCHANT_KEY as MERCHANT_KEY;

    /// Sets the HTTP status of a failed server function from its error code,
    /// so a refused log-in is a 401 and a bad field a 422, not a 500.
    pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(e) = &result {
            let status = http::StatusCode::from_u16(e.code.http_status())
                .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(status);
                if let Some(secs) = e.retry_after_s {
                    response.insert_header(http::header::RETRY_AFTER, secs.into());
                }
            }
        }
        result
    }

    /// Runs `call` for the merchant logged in on this request, with the
    /// backend; `unauthenticated` without a session.
    pub async fn as_merchant<T, F, Fut>(call: F) -> Result<T, AppError>
    where
        F: FnOnce(SharedBackend, Merchant) -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        respond(
            async move {
                let merchant = require_merchant().await?;
                call(backend()?, merchant).await
            }
            .await,
        )
    }

    /// Runs `call` if the account logged in on this request is an operator;
    /// `forbidden` for any other account.
    pub async fn as_admin<T, F, Fut>(call: F) -> Result<T, AppError>
    where
        F: FnOnce(SharedBackend) -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        respond(
            async move {
                require_admin().await?;
                call(backend()?).await
            }
            .await,
        )
    }

    /// An id argument; a malformed one is "not found", like an absent one.
    pub fn id<T: NamedId>(text: &str) -> Result<T, AppError> {
        T::read(text).ok_or_else(|| AppError::not_found(T::NOUN))
    }

    /// The backend the server put in context.
    pub fn backend() -> Result<SharedBackend, AppError> {
        use_context::<SharedBackend>().ok_or_else(AppError::internal)
    }

    /// The browser's address (the TCP peer), when the server knows it.
    pub async fn client_address() -> Option<std::net::IpAddr> {
        leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .await
            .ok()
            .map(|info| info.0.ip())
    }

    /// The request's session.
    pub async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>()
            .await
            .map_err(|_| AppError::internal())
    }

    /// The merchant and member logged in on this request, if any.
    pub async fn current_account() -> Result<Option<Account>, AppError> {
        let session = session().await?;
        let merchant: Option<MerchantId> = session
            .get(MERCHANT_KEY)
            .await
            .map_err(|_| AppError::internal())?;
        let member: Option<MemberId> = session
            .get(MEMBER_KEY)
            .await
            .map_err(|_| AppError::internal())?;
        match (merchant, member) {
            (Some(merchant), Some(member)) => backend()?.account(&merchant, &member).await,
            _ => Ok(None),
        }
    }

    /// The merchant logged in on this request, if any.
    pub async fn current_merchant() -> Result<Option<Merchant>, AppError> {
        Ok(current_account().await?.map(|account| account.merchant))
    }

    /// The merchant logged in on this request, or `unauthenticated`.
    pub async fn require_merchant() -> Result<Merchant, AppError> {
        current_merchant()
            .await?
            .ok_or_else(AppError::unauthenticated)
    }

    /// The merchant logged in on this request if it is an operator;
    /// `forbidden` for any other account.
    pub async fn require_admin() -> Result<Merchant, AppError> {
        let merchant = require_merchant().await?;
        if merchant.is_admin() {
            Ok(merchant)
        } else {
            Err(AppError::forbidden())
        }
    }

    /// Starts a fresh session for `account`. The id is cycled so that a
    /// session id fixed before log-in is worthless after it.
    pub async fn start(account: &Account) -> Result<(), AppError> {
        let session = session().await?;
        session.cycle_id().await.map_err(|_| AppError::internal())?;
        session
            .insert(MERCHANT_KEY, &account.merchant.id)
            .await
            .map_err(|_| AppError::internal())?;
        session
            .insert(MEMBER_KEY, &account.member.id)
            .await
            .map_err(|_| AppError::internal())
    }

    /// Ends the session: deletes it from the store and clears the cookie.
    pub async fn end() -> Result<(), AppError> {
        session()
            .await?
            .flush()
            .await
            .map_err(|_| AppError::internal())
    }
}
