//! The operations the dashboard needs from the server (ssr only).
//!
//! `app` cannot depend on the server crate, so the server implements this
//! trait over its services and hands it in through Leptos context; the
//! server functions stay thin: check the session, make one call here.

use crate::model::alert::{MailPreferences, Notifications};
use crate::model::api_key::{ApiKeySummary, IssuedKey};
use crate::model::audit::AuditPage;
use crate::model::dashboard::{
    DeliveryPage, DeliveryQuery, EnabledEndpoint, EndpointInput, LastDelivery, RecoverInput,
};
use crate::model::dashboard::{EventPage, EventQuery};
use crate::model::delivery_profiles::{Egress, ProfileSummary, StoredProfile};
use crate::model::endpoint::{CallbackSecret, CallbackSettings, Endpoint, EndpointKeys};
use crate::model::error::AppError;
use crate::model::event::{DeliveryDetail, EventDetail, SearchResults, StorageStats};
use crate::model::event_type::EventType;
use crate::model::id::{
    ApiKeyId, DeliveryId, EndpointId, EventId, InvitationId, MemberId, MerchantId,
};
use crate::model::member::{Account, Invitation, IssuedInvitation, Member, MemberRole, Team};
use crate::model::merchant::{Merchant, NewAccount, SignUpMode};
use crate::model::operations::{EndpointOverviewPage, EndpointOverviewQuery, MerchantSummary};
use crate::model::scope::Scope;
use crate::model::stats::Stats;
use std::net::IpAddr;
use std::sync::Arc;

/// What the dashboard asks of the server.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Whether anyone may sign up (`HERALD_SIGNUP`).
    fn sign_up_mode(&self) -> SignUpMode;
    /// Creates a merchant account from the sign-up form sent from `client`.
    async fn sign_up(
        &self,
        account: NewAccount,
        client: Option<IpAddr>,
    ) -> Result<Account, AppError>;
    /// Checks an email and password; the error never says which was wrong.
    /// `client` is the browser's address, for the log-in throttle.
    async fn log_in(
        &self,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Account, AppError>;
    /// A page of the audit log `scope` may see (an operator's, narrowed to
    /// `merchant` when given), newest first.
    async fn audit_log(
        &self,
        scope: &Scope,
        merchant: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<AuditPage, AppError>;
    /// The merchant and member behind a session, if both still exist.
    async fn account(
        &self,
        merchant: &MerchantId,
        member: &MemberId,
    ) -> Result<Option<Account>, AppError>;

    // ----- Passwords -----

    /// Whether a forgotten password can be reset by mail (SMTP configured).
    fn password_reset_by_mail(&self) -> bool;
    /// Changes the account's password (`current` must be right); every
    /// other session of the account ends. `client` is for the throttle.
    async fn change_password(
        &self,
        member: &MemberId,
        current: &str,
        new: &str,
        client: Option<IpAddr>,
    ) -> Result<(), AppError>;
    /// Mails a reset link to the account with `email`, if there is one;
    /// the answer is the same either way.
    async fn request_password_reset(
        &self,
        email: &str,
        client: Option<IpAddr>,
    ) -> Result<(), AppError>;
    /// Sets a new password with a mailed link's token (once, in time);
    /// every session of the account ends.
    async fn reset_password(&self, token: &str, new: &str) -> Result<(), AppError>;

    // ----- The team -----

    /// The merchant's members and open invitations, as `you` sees them.
    async fn team(&self, merchant: &MerchantId, you: &MemberId) -> Result<Team, AppError>;
    /// Invites `email` with `role` (owners only): the link, shown once.
    async fn invite_member(
        &self,
        merchant: &MerchantId,
        email: &str,
        role: MemberRole,
    ) -> Result<IssuedInvitation, AppError>;
    /// Withdraws an open invitation (owners only).
    async fn revoke_invitation(
        &self,
        merchant: &MerchantId,
        id: &InvitationId,
    ) -> Result<(), AppError>;
    /// Gives a member another role (owners only; never the last owner's).
    async fn set_member_role(
        &self,
        merchant: &MerchantId,
        id: &MemberId,
        role: MemberRole,
    ) -> Result<Member, AppError>;
    /// Removes a member (owners only; never the last owner); their
    /// sessions end at once.
    async fn remove_member(&self, merchant: &MerchantId, id: &MemberId) -> Result<(), AppError>;
    /// The team and role an invitation's link offers, if it is open.
    async fn invitation(&self, token: &str) -> Result<(String, Invitation), AppError>;
    /// Accepts an invitation with a new password: the new member, to log in.
    async fn accept_invitation(&self, token: &str, password: &str) -> Result<Account, AppError>;

    // ----- Endpoints, secrets, test events, API keys -----

    /// The merchant's endpoints, newest first.
    async fn list_endpoints(&self, merchant: &MerchantId) -> Result<Vec<Endpoint>, AppError>;
    /// The newest delivery of each of the merchant's endpoints.
    async fn last_deliveries(&self, merchant: &MerchantId) -> Result<Vec<LastDelivery>, AppError>;
    /// One of the merchant's endpoints (`not_found` for anyone else's).
    async fn endpoint(&self, merchant: &MerchantId, id: &EndpointId) -> Result<Endpoint, AppError>;
    /// Creates an endpoint from the form.
    async fn create_endpoint(
        &self,
        merchant: &MerchantId,
        input: EndpointInput,
    ) -> Result<Endpoint, AppError>;
    /// Replaces an endpoint's settings with the form's.
    async fn update_endpoint(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
        input: EndpointInput,
    ) -> Result<Endpoint, AppError>;
    /// Enables an endpoint (saying what it missed while disabled) or
    /// disables it.
    async fn set_endpoint_enabled(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
        enabled: bool,
    ) -> Result<EnabledEndpoint, AppError>;
    /// Sends the endpoint's failed deliveries since `since` (a time or a
    /// lookback such as `24h`) again; how many were queued.
    async fn replay_failed(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
        since: &str,
    ) -> Result<u64, AppError>;
    /// Sends the endpoint the events in the window it never got (or with
    /// `dry_run` counts them); how many.
    async fn recover(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
        window: RecoverInput,
        dry_run: bool,
    ) -> Result<u64, AppError>;
    /// The secret that signs deliveries to events' callback URLs.
    async fn callback_secret(&self, merchant: &MerchantId) -> Result<CallbackSecret, AppError>;
    /// A new callback secret; the old one signs too for `grace_s` seconds.
    async fn rotate_callback_secret(
        &self,
        merchant: &MerchantId,
        grace_s: u64,
    ) -> Result<CallbackSecret, AppError>;
    /// How callback deliveries are sent (their delivery profile).
    async fn callback_settings(&self, merchant: &MerchantId) -> Result<CallbackSettings, AppError>;
    /// Changes how callback deliveries are sent.
    async fn set_callback_settings(
        &self,
        merchant: &MerchantId,
        settings: CallbackSettings,
    ) -> Result<CallbackSettings, AppError>;
    /// Deletes an endpoint (its pending deliveries go with it).
    async fn delete_endpoint(&self, merchant: &MerchantId, id: &EndpointId)
        -> Result<(), AppError>;
    /// What the merchant verifies and decrypts with: the HMAC secret or the
    /// Ed25519 public key, the encryption key, and the rotation's grace end.
    async fn endpoint_secret(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
    ) -> Result<EndpointKeys, AppError>;
    /// A new signing key; the old one signs too for `grace_s` seconds.
    async fn rotate_endpoint_secret(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
        grace_s: u64,
    ) -> Result<EndpointKeys, AppError>;
    /// Sends an event of the type to this endpoint only, in test mode, with
    /// `data` (JSON text) or, when it is empty, the catalog's example.
    async fn send_test_event(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
        event_type: &str,
        data: &str,
    ) -> Result<EventId, AppError>;
    /// The merchant's API keys.
    async fn list_api_keys(&self, merchant: &MerchantId) -> Result<Vec<ApiKeySummary>, AppError>;
    /// A new API key, shown once.
    async fn create_api_key(
        &self,
        merchant: &MerchantId,
        name: &str,
    ) -> Result<IssuedKey, AppError>;
    /// Revokes one of the merchant's keys.
    async fn revoke_api_key(&self, merchant: &MerchantId, id: &ApiKeyId) -> Result<(), AppError>;

    // ----- Notifications -----

    /// Where the merchant's mails go, whether mail is configured, which
    /// alerts it wants mailed, and the alerts told (newest first).
    async fn notifications(&self, merchant: &MerchantId) -> Result<Notifications, AppError>;
    /// Sets which alerts are mailed to the merchant.
    async fn set_mail_preferences(
        &self,
        merchant: &MerchantId,
        preferences: MailPreferences,
    ) -> Result<MailPreferences, AppError>;

    // ----- The event-type catalog -----

    /// The event-type catalog, archived types last.
    async fn list_event_types(&self) -> Result<Vec<EventType>, AppError>;

    // ----- Delivery profiles and egress -----

    /// The delivery profiles an endpoint may use, by name.
    async fn list_profiles(&self) -> Result<Vec<ProfileSummary>, AppError>;
    /// One profile in full (`not_found` when there is none of that name).
    async fn profile(&self, name: &str) -> Result<StoredProfile, AppError>;
    /// Where deliveries come from (empty when the operator has not fixed it).
    async fn egress(&self) -> Result<Egress, AppError>;

    // ----- Events, deliveries, attempts, stats -----

    /// One page of the deliveries `scope` may see.
    async fn list_deliveries(
        &self,
        scope: &Scope,
        query: DeliveryQuery,
    ) -> Result<DeliveryPage, AppError>;
    /// A delivery with its event and attempts.
    async fn delivery(&self, scope: &Scope, id: &DeliveryId) -> Result<DeliveryDetail, AppError>;
    /// One page of the merchant's events matching the Events page's filters.
    async fn list_events(
        &self,
        merchant: &MerchantId,
        query: EventQuery,
    ) -> Result<EventPage, AppError>;
    /// An event with its deliveries (`not_found` outside `scope`).
    async fn event_detail(&self, scope: &Scope, id: &EventId) -> Result<EventDetail, AppError>;
    /// The events and deliveries `scope` may see whose id, tag or
    /// idempotency key is `q` (operators: with each merchant's name).
    async fn search(&self, scope: &Scope, q: &str) -> Result<SearchResults, AppError>;
    /// Deliveries per hour by outcome and latency over the default window.
    async fn stats(&self, merchant: &MerchantId, live_only: bool) -> Result<Stats, AppError>;
    /// Makes deliveries due now; returns how many were queued. One id that
    /// cannot be queued now is a `conflict`.
    async fn retry_deliveries(&self, scope: &Scope, ids: Vec<DeliveryId>) -> Result<u64, AppError>;
    /// How many deliveries `scope` may see match the filters (counted up to
    /// what one bulk retry takes).
    async fn count_deliveries(&self, scope: &Scope, query: DeliveryQuery) -> Result<u64, AppError>;
    /// Retries every delivery `scope` may see that matches the filters.
    async fn retry_matching(&self, scope: &Scope, query: DeliveryQuery) -> Result<u64, AppError>;

    // ----- Operators: the admin console (callers check `is_admin` first) -----

    /// Every merchant account.
    async fn list_merchants(&self) -> Result<Vec<Merchant>, AppError>;
    /// Every merchant with its counts (endpoints, members, last 24 h).
    async fn merchant_summaries(&self) -> Result<Vec<MerchantSummary>, AppError>;
    /// A page of the endpoints across merchants that match the filters,
    /// in their order, with their recent figures.
    async fn endpoint_overview(
        &self,
        query: EndpointOverviewQuery,
    ) -> Result<EndpointOverviewPage, AppError>;
    /// Disables any endpoint with a reason (`Some`) or enables it (`None`).
    async fn operator_set_enabled(
        &self,
        id: &EndpointId,
        disable_reason: Option<String>,
    ) -> Result<Endpoint, AppError>;
    /// What the database holds, and how long history is kept.
    async fn storage(&self) -> Result<StorageStats, AppError>;
    /// Adds a type to the catalog; `example` is JSON text (empty for `{}`).
    async fn create_event_type(
        &self,
        name: &str,
        description: &str,
        example: &str,
    ) -> Result<EventType, AppError>;
    /// Adds a delivery profile from its JSON (operators); a broken rule is
    /// a validation error naming the field.
    async fn create_profile(&self, json: &str) -> Result<StoredProfile, AppError>;
    /// Changes an operator's profile: the JSON's top-level members replace
    /// the profile's (bundled profiles cannot be changed: copy them).
    async fn update_profile(&self, name: &str, json: &str) -> Result<StoredProfile, AppError>;
    /// Changes a type's description and example (JSON text; empty is `{}`).
    async fn update_event_type(
        &self,
        name: &str,
        description: &str,
        example: &str,
    ) -> Result<EventType, AppError>;
    /// How many endpoints receive events of the type now.
    async fn event_type_receivers(&self, name: &str) -> Result<u64, AppError>;
    /// Archives or restores a type.
    async fn set_event_type_archived(
        &self,
        name: &str,
        archived: bool,
    ) -> Result<EventType, AppError>;
}

/// How the backend travels in Leptos context.
pub type SharedBackend = Arc<dyn Backend>;
