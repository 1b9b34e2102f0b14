//! `IdPath<T>`: the typed id in a route's `{id}`. A malformed id is the same
//! 404 as an absent one, decided here for every route.

use crate::http::error::ApiError;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use herald_app::model::named_id::NamedId;

/// The route's `{id}`, parsed as a `T`.
#[derive(Debug, Clone)]
pub struct IdPath<T>(pub T);

impl<T, S> FromRequestParts<S> for IdPath<T>
where
    T: NamedId + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let not_found = || ApiError::not_found(T::NOUN);
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| not_found())?;
        T::read(&text).map(IdPath).ok_or_else(not_found)
    }
}
