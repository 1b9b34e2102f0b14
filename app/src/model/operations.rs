//! What the operators' console shows across merchants: every endpoint with
//! how it is doing, and every merchant with its counts. The filters travel
//! in the page's URL; the store filters, sorts and cuts the list.

use super::delivery::DeliveryStatus;
use super::endpoint::Endpoint;
use super::merchant::Merchant;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Endpoints per page of the operators' overview when none is asked for.
pub const OVERVIEW_PAGE_SIZE: u32 = 50;

/// The overview's filters and order, as the page's URL and the REST query
/// carry them. Every field is optional: absent is no filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointOverviewQuery {
    /// Merchants whose name contains this (any case).
    pub merchant: Option<String>,
    /// One merchant only (`mer_…`).
    pub merchant_id: Option<String>,
    /// Endpoints whose URL contains this (any case).
    pub url: Option<String>,
    /// `enabled`, `disabled` or `failing` (enabled, every recent delivery failing).
    pub status: Option<String>,
    /// `failure_rate`, `last_delivery`, `merchant`, `url` or `newest`.
    pub sort: Option<String>,
    /// The page, from 1.
    pub page: Option<String>,
}

/// How the overview is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointOrder {
    /// Highest failure rate over the last 24 h first; endpoints with no
    /// finished delivery in that time last.
    #[default]
    FailureRate,
    /// Newest last delivery first; endpoints never delivered to last.
    LastDelivery,
    /// By merchant name, then URL.
    Merchant,
    /// By URL, then merchant name.
    Url,
    /// Newest endpoint first (the REST list's order).
    Newest,
}

impl EndpointOrder {
    /// Every order, as the sort control lists them.
    pub const ALL: [EndpointOrder; 5] = [
        EndpointOrder::FailureRate,
        EndpointOrder::LastDelivery,
        EndpointOrder::Merchant,
        EndpointOrder::Url,
        EndpointOrder::Newest,
    ];

    /// The stable name used in URLs and the REST query.
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointOrder::FailureRate => "failure_rate",
            EndpointOrder::LastDelivery => "last_delivery",
            EndpointOrder::Merchant => "merchant",
            EndpointOrder::Url => "url",
            EndpointOrder::Newest => "newest",
        }
    }

    /// Reads the stable name.
    pub fn parse(name: &str) -> Option<EndpointOrder> {
        Self::ALL.into_iter().find(|o| o.as_str() == name)
    }

    /// What the sort control says.
    pub fn label(self) -> &'static str {
        match self {
            EndpointOrder::FailureRate => "Failure rate (24 h), highest first",
            EndpointOrder::LastDelivery => "Last delivery, newest first",
            EndpointOrder::Merchant => "Merchant name",
            EndpointOrder::Url => "URL",
            EndpointOrder::Newest => "Newest endpoint first",
        }
    }
}

/// The newest delivery to an endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LatestDelivery {
    /// When it was made (its event accepted).
    pub created_at: DateTime<Utc>,
    pub status: DeliveryStatus,
}

/// One endpoint as operators see it: the endpoint, its merchant's name, its
/// deliveries of the last 24 h and its newest delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EndpointOverview {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    pub merchant_name: String,
    /// Failed deliveries among those made in the last 24 h that finished.
    pub failed_24h: u64,
    /// Deliveries made in the last 24 h that finished (succeeded or failed):
    /// what `failure_rate` is computed from.
    pub finished_24h: u64,
    /// `failed_24h / finished_24h`; `null` when nothing finished.
    pub failure_rate: Option<f64>,
    /// `null` when it never had a delivery (or its history was purged).
    pub last_delivery: Option<LatestDelivery>,
}

impl EndpointOverview {
    /// The failure rate as a whole percentage, for showing.
    pub fn failure_percent(&self) -> Option<u64> {
        self.failure_rate.map(|r| (r * 100.0).round() as u64)
    }
}

/// One page of the operators' endpoint overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointOverviewPage {
    pub rows: Vec<EndpointOverview>,
    /// How many endpoints match the filters, on every page together.
    pub total: u64,
    /// How many matching endpoints come before this page.
    pub offset: u64,
}

/// A merchant with what operators count about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MerchantSummary {
    #[serde(flatten)]
    pub merchant: Merchant,
    pub endpoints_enabled: u64,
    pub endpoints_disabled: u64,
    /// People who can log in to its dashboard.
    pub members: u64,
    /// Deliveries to its endpoints made in the last 24 h (hourly rollup).
    pub deliveries_24h: u64,
    /// Of those, the ones that failed.
    pub failed_24h: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_travel_by_their_names() {
        for order in EndpointOrder::ALL {
            assert_eq!(EndpointOrder::parse(order.as_str()), Some(order));
        }
        assert_eq!(EndpointOrder::parse("random"), None);
        assert_eq!(EndpointOrder::default(), EndpointOrder::FailureRate);
    }
}
