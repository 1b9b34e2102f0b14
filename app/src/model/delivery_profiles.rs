//! Delivery profiles as Herald keeps and lists them: the profile itself
//! (`profile::DeliveryProfile`) with whether Herald ships it, and the short
//! form the endpoint form's select and the API's list show.

use super::profile::{DeliveryProfile, SignatureAlgorithm};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A profile as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StoredProfile {
    /// The profile as operators write it (see API.md, "Delivery profiles").
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub profile: DeliveryProfile,
    /// Shipped with Herald and refreshed at each start: operators copy it
    /// under another name to change it.
    pub bundled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a merchant choosing a profile sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProfileSummary {
    pub name: String,
    pub description: String,
    /// The algorithms it signs with: which key an endpoint using it holds.
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<String>))]
    pub algorithms: Vec<SignatureAlgorithm>,
    pub bundled: bool,
}

impl From<&StoredProfile> for ProfileSummary {
    fn from(stored: &StoredProfile) -> Self {
        ProfileSummary {
            name: stored.profile.name.clone(),
            description: stored.profile.description.clone(),
            algorithms: stored.profile.algorithms(),
            bundled: stored.bundled,
        }
    }
}

/// Where deliveries come from, for receivers that allow-list senders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Egress {
    /// IP addresses; empty when the operator has not fixed them.
    pub addresses: Vec<String>,
}
