//! The shared models: what the UI, the REST API and the engine agree on.

pub mod alert;
pub mod api_key;
pub mod audit;
pub mod dashboard;
pub mod delivery;
pub mod delivery_profiles;
pub mod duration;
pub mod endpoint;
pub mod error;
pub mod event;
pub mod event_filter;
pub mod event_type;
pub mod id;
pub mod member;
pub mod merchant;
pub mod named_id;
pub mod operations;
pub mod page_fingerprint;
pub mod profile;
pub mod profile_snippet;
pub mod scope;
pub mod stats;
