//! Delivery profiles: the list merchants choose from, one in full, the
//! operators' create and update; and where deliveries come from.

use crate::model::delivery_profiles::{Egress, ProfileSummary, StoredProfile};
use crate::model::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::session;

/// The profiles an endpoint may use, for a logged-in merchant.
#[server(prefix = "/_fn", endpoint = "profiles/list")]
pub async fn list_profiles() -> Result<Vec<ProfileSummary>, AppError> {
    session::as_merchant(move |backend, _| async move { backend.list_profiles().await }).await
}

/// One profile in full, for a logged-in merchant.
#[server(prefix = "/_fn", endpoint = "profiles/get")]
pub async fn get_profile(name: String) -> Result<StoredProfile, AppError> {
    session::as_merchant(move |backend, _| async move { backend.profile(&name).await }).await
}

/// Where deliveries come from, for receivers that allow-list senders.
#[server(prefix = "/_fn", endpoint = "profiles/egress")]
pub async fn delivery_egress() -> Result<Egress, AppError> {
    session::as_merchant(move |backend, _| async move { backend.egress().await }).await
}

/// Adds a profile written as JSON (operators).
#[server(prefix = "/_fn", endpoint = "admin/profile_create")]
pub async fn admin_create_profile(json: String) -> Result<StoredProfile, AppError> {
    session::as_admin(move |backend| async move { backend.create_profile(&json).await }).await
}

/// Changes an operator's profile: the JSON's top-level members replace its own.
#[server(prefix = "/_fn", endpoint = "admin/profile_update")]
pub async fn admin_update_profile(name: String, json: String) -> Result<StoredProfile, AppError> {
    session::as_admin(move |backend| async move { backend.update_profile(&name, &json).await })
        .await
}
