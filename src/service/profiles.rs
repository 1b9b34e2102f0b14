//! Delivery profiles: the bundled ones refreshed at each start, operators'
//! own added and changed (each checked by `DeliveryProfile::validate`, a
//! broken rule a 422 naming the field), and where deliveries come from.

use super::bundled_profiles::bundled_profiles;
use super::ServiceError;
use crate::store::Store;
use chrono::Utc;
use herald_app::model::delivery_profiles::{Egress, ProfileSummary, StoredProfile};
use herald_app::model::profile::{DeliveryProfile, ProfileError};
use std::net::IpAddr;

impl From<ProfileError> for ServiceError {
    fn from(e: ProfileError) -> Self {
        ServiceError::Validation {
            field: e.field,
            message: e.message,
        }
    }
}

/// Inserts the bundled profiles, or updates them to this version's; returns
/// how many changed. A profile an operator made under a bundled name
/// becomes the bundled one (the names are Herald's).
pub async fn refresh_bundled_profiles(store: &Store) -> Result<u64, ServiceError> {
    Ok(store
        .refresh_bundled_profiles(&bundled_profiles()?, Utc::now())
        .await?)
}

/// The profile named `name` (trimmed) that an endpoint or the callback
/// settings choose: a 422 on `profile` when there is none.
pub async fn existing_profile(store: &Store, name: &str) -> Result<DeliveryProfile, ServiceError> {
    let name = name.trim();
    match store.profile(name).await? {
        Some(stored) => Ok(stored.profile),
        None => Err(ServiceError::invalid(
            "profile",
            format!("there is no delivery profile `{name}` (GET /api/v1/profiles lists them)"),
        )),
    }
}

/// The profile operations.
#[derive(Clone, Debug)]
pub struct Profiles {
    store: Store,
    /// The addresses deliveries leave from, as configured.
    egress: Vec<IpAddr>,
}

impl Profiles {
    /// Profile operations over `store`; `egress` is what `GET /egress` says.
    pub fn new(store: Store, egress: Vec<IpAddr>) -> Self {
        Profiles { store, egress }
    }

    /// Every profile in full, by name.
    pub async fn list(&self) -> Result<Vec<StoredProfile>, ServiceError> {
        Ok(self.store.list_profiles().await?)
    }

    /// What merchants choose from, by name.
    pub async fn summaries(&self) -> Result<Vec<ProfileSummary>, ServiceError> {
        Ok(self
            .list()
            .await?
            .iter()
            .map(ProfileSummary::from)
            .collect())
    }

    /// One profile by name.
    pub async fn get(&self, name: &str) -> Result<StoredProfile, ServiceError> {
        self.store
            .profile(name)
            .await?
            .ok_or(ServiceError::NotFound("profile"))
    }

    /// Adds an operator's profile written as JSON.
    pub async fn create(&self, json: serde_json::Value) -> Result<StoredProfile, ServiceError> {
        let profile = parse(json)?;
        profile.validate()?;
        if !self.store.insert_profile(&profile, Utc::now()).await? {
            return Err(ServiceError::Conflict(format!(
                "a profile named `{}` already exists",
                profile.name
            )));
        }
        self.get(&profile.name).await
    }

    /// Changes an operator's profile: `change`'s top-level members replace
    /// the profile's. Bundled profiles are Herald's (refreshed at each
    /// start): an operator copies one under another name to change it.
    pub async fn update(
        &self,
        name: &str,
        change: serde_json::Value,
    ) -> Result<StoredProfile, ServiceError> {
        let current = self.get(name).await?;
        if current.bundled {
            return Err(ServiceError::Conflict(format!(
                "`{name}` is bundled with Herald and refreshed at each start; \
                 create a copy under another name to change it"
            )));
        }
        let serde_json::Value::Object(members) = change else {
            return Err(ServiceError::invalid(
                "profile",
                "a JSON object of the members to change",
            ));
        };
        if members
            .get("name")
            .is_some_and(|given| given.as_str() != Some(name))
        {
            return Err(ServiceError::invalid(
                "name",
                "a profile cannot be renamed; create one under the new name",
            ));
        }
        let mut merged = serde_json::to_value(&current.profile)
            .map_err(|e| ServiceError::Internal(format!("profile {name}: {e}")))?;
        if let Some(object) = merged.as_object_mut() {
            object.extend(members);
        }
        let profile = parse(merged)?;
        profile.validate()?;
        // An endpoint holds a key of the kind its profile signs with: a
        // profile in use keeps its algorithms, or those keys could not sign.
        let (before, after) = (current.profile.algorithms(), profile.algorithms());
        let same =
            before.iter().all(|a| after.contains(a)) && after.iter().all(|a| before.contains(a));
        if !same {
            let using = self.store.uses_of_profile(name).await?;
            if using > 0 {
                return Err(ServiceError::Conflict(format!(
                    "{using} endpoint(s) or callback setting(s) use `{name}` with keys for {}; a \
                     profile in use keeps what it signs with: create a new profile and move them to it",
                    algorithm_names(&current.profile)
                )));
            }
        }
        if !self.store.update_profile(&profile, Utc::now()).await? {
            return Err(ServiceError::NotFound("profile"));
        }
        self.get(name).await
    }

    /// Where deliveries come from, for receivers that allow-list senders.
    pub fn egress(&self) -> Egress {
        Egress {
            addresses: self.egress.iter().map(IpAddr::to_string).collect(),
        }
    }
}

/// A profile from an operator's JSON; what serde refuses is a 422 too.
fn parse(json: serde_json::Value) -> Result<DeliveryProfile, ServiceError> {
    serde_json::from_value(json).map_err(|e| ServiceError::invalid("profile", e.to_string()))
}

/// What a profile signs with, for messages: `hmac-sha256 and ed25519`.
fn algorithm_names(profile: &DeliveryProfile) -> String {
    let names: Vec<&str> = profile.algorithms().iter().map(|a| a.as_str()).collect();
    if names.is_empty() {
        "no signature".to_owned()
    } else {
        names.join(" and ")
    }
}
