//! The merchant's endpoints: list, create, change, delete, secrets, test events.

use crate::model::dashboard::{EnabledEndpoint, EndpointInput, LastDelivery, RecoverInput};
use crate::model::endpoint::{CallbackSecret, CallbackSettings, Endpoint, EndpointKeys};
use crate::model::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::session;

/// The logged-in merchant's endpoints, newest first.
#[server(prefix = "/_fn", endpoint = "endpoints/list")]
pub async fn list_endpoints() -> Result<Vec<Endpoint>, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend.list_endpoints(&merchant.id).await
    })
    .await
}

/// The newest delivery of each endpoint, for the list.
#[server(prefix = "/_fn", endpoint = "endpoints/last_deliveries")]
pub async fn last_deliveries() -> Result<Vec<LastDelivery>, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend.last_deliveries(&merchant.id).await
    })
    .await
}

/// One of the merchant's endpoints.
#[server(prefix = "/_fn", endpoint = "endpoints/get")]
pub async fn get_endpoint(id: String) -> Result<Endpoint, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend.endpoint(&merchant.id, &session::id(&id)?).await
    })
    .await
}

/// Creates an endpoint.
#[server(prefix = "/_fn", endpoint = "endpoints/create", input = Json)]
pub async fn create_endpoint(input: EndpointInput) -> Result<Endpoint, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend.create_endpoint(&merchant.id, input).await
    })
    .await
}

/// Changes an endpoint.
#[server(prefix = "/_fn", endpoint = "endpoints/update", input = Json)]
pub async fn update_endpoint(id: String, input: EndpointInput) -> Result<Endpoint, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .update_endpoint(&merchant.id, &session::id(&id)?, input)
            .await
    })
    .await
}

/// Deletes an endpoint, then goes back to the list.
#[server(prefix = "/_fn", endpoint = "endpoints/delete")]
pub async fn delete_endpoint(id: String) -> Result<(), AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .delete_endpoint(&merchant.id, &session::id(&id)?)
            .await?;
        leptos_axum::redirect("/endpoints");
        Ok(())
    })
    .await
}

/// The endpoint's keys (secret or public key, encryption key), for the reveal button.
#[server(prefix = "/_fn", endpoint = "endpoints/secret")]
pub async fn reveal_secret(id: String) -> Result<EndpointKeys, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .endpoint_secret(&merchant.id, &session::id(&id)?)
            .await
    })
    .await
}

/// A new signing secret; the old one keeps signing for `grace_s` seconds.
#[server(prefix = "/_fn", endpoint = "endpoints/rotate")]
pub async fn rotate_secret(id: String, grace_s: u64) -> Result<EndpointKeys, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .rotate_endpoint_secret(&merchant.id, &session::id(&id)?, grace_s)
            .await
    })
    .await
}

/// Sends `data` (JSON; empty: the type's example) to this endpoint, in test mode; the event id.
#[server(prefix = "/_fn", endpoint = "endpoints/test")]
pub async fn send_test_event(
    id: String,
    event_type: String,
    data: String,
) -> Result<String, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .send_test_event(&merchant.id, &session::id(&id)?, &event_type, &data)
            .await
            .map(|event| event.to_string())
    })
    .await
}

/// Enables (saying what it missed meanwhile) or disables an endpoint.
#[server(prefix = "/_fn", endpoint = "endpoints/set_enabled")]
pub async fn set_endpoint_enabled(id: String, enabled: bool) -> Result<EnabledEndpoint, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .set_endpoint_enabled(&merchant.id, &session::id(&id)?, enabled)
            .await
    })
    .await
}

/// Sends the endpoint's failed deliveries since `since` again; how many.
#[server(prefix = "/_fn", endpoint = "endpoints/replay_failed")]
pub async fn replay_failed(id: String, since: String) -> Result<u64, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .replay_failed(&merchant.id, &session::id(&id)?, &since)
            .await
    })
    .await
}

/// Sends the endpoint the events in the window it never got (`dry_run`:
/// only counts them); how many.
#[server(prefix = "/_fn", endpoint = "endpoints/recover", input = Json)]
pub async fn recover_missed(
    id: String,
    window: RecoverInput,
    dry_run: bool,
) -> Result<u64, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .recover(&merchant.id, &session::id(&id)?, window, dry_run)
            .await
    })
    .await
}

/// The merchant's callback signing secret, for the reveal button.
#[server(prefix = "/_fn", endpoint = "callback_secret/get")]
pub async fn reveal_callback_secret() -> Result<CallbackSecret, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend.callback_secret(&merchant.id).await
    })
    .await
}

/// How the merchant's callback deliveries are sent (their profile).
#[server(prefix = "/_fn", endpoint = "callback_settings/get")]
pub async fn get_callback_settings() -> Result<CallbackSettings, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend.callback_settings(&merchant.id).await
    })
    .await
}

/// Sends the merchant's callback deliveries in the profile named `profile`.
#[server(prefix = "/_fn", endpoint = "callback_settings/set")]
pub async fn set_callback_profile(profile: String) -> Result<CallbackSettings, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .set_callback_settings(&merchant.id, CallbackSettings { profile })
            .await
    })
    .await
}

/// A new callback secret; the old one keeps signing for `grace_s` seconds.
#[server(prefix = "/_fn", endpoint = "callback_secret/rotate")]
pub async fn rotate_callback_secret(grace_s: u64) -> Result<CallbackSecret, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend.rotate_callback_secret(&merchant.id, grace_s).await
    })
    .await
}
