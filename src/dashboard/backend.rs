//! The dashboard's `Backend`: each call is one service call. The forms'
//! text is read by the model (`EndpointInput`, `DeliveryQuery`), the rules
//! are the services', and errors become `AppError` through `app_error`.

use crate::service::catalog::{EventTypeChange, NewEventType};
use crate::service::deliveries::{DeliverySearch, ReplayStatus};
use crate::service::endpoints::{EndpointPatch, NewEndpoint};
use crate::service::events::EventSearch;
use crate::service::operations::page_offset;
use crate::service::pagination::DEFAULT_LIMIT;
use crate::service::recovery::RecoverMode;
use crate::service::stats::DEFAULT_WINDOW_HOURS;
use crate::state::AppState;
use chrono::Utc;
use herald_app::backend::Backend;
use herald_app::model::alert::{MailPreferences, Notifications};
use herald_app::model::api_key::{ApiKeySummary, IssuedKey};
use herald_app::model::audit::AuditPage;
use herald_app::model::dashboard::{
    parse_json_box, time_or_lookback, DeliveryPage, DeliveryQuery, EnabledEndpoint, EndpointInput,
    EventPage, EventQuery, LastDelivery, RecoverInput,
};
use herald_app::model::delivery_profiles::{Egress, ProfileSummary, StoredProfile};
use herald_app::model::endpoint::{CallbackSecret, CallbackSettings, Endpoint, EndpointKeys};
use herald_app::model::error::AppError;
use herald_app::model::event::{DeliveryDetail, EventDetail, SearchResults, StorageStats};
use herald_app::model::event_type::EventType;
use herald_app::model::id::{
    ApiKeyId, DeliveryId, EndpointId, EventId, InvitationId, MemberId, MerchantId,
};
use herald_app::model::member::{Account, Invitation, IssuedInvitation, Member, MemberRole, Team};
use herald_app::model::merchant::FieldError;
use herald_app::model::merchant::{Merchant, NewAccount, SignUpMode};
use herald_app::model::operations::{
    EndpointOverviewPage, EndpointOverviewQuery, MerchantSummary, OVERVIEW_PAGE_SIZE,
};
use herald_app::model::scope::Scope;
use herald_app::model::stats::Stats;
use std::net::IpAddr;
use std::time::Duration;

/// The dashboard's view of Herald's services.
pub struct DashboardBackend {
    state: AppState,
}

impl DashboardBackend {
    /// A backend over the server's services. They are the process's own
    /// (shared with the REST API), so the log-in throttle sees every attempt.
    pub fn new(state: &AppState) -> Self {
        DashboardBackend {
            state: state.clone(),
        }
    }
}

#[async_trait::async_trait]
impl Backend for DashboardBackend {
    fn sign_up_mode(&self) -> SignUpMode {
        self.state.accounts.sign_up_mode()
    }

    async fn sign_up(
        &self,
        account: NewAccount,
        client: Option<IpAddr>,
    ) -> Result<Account, AppError> {
        Ok(self.state.accounts.sign_up(account, client).await?)
    }

    async fn log_in(
        &self,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Account, AppError> {
        Ok(self.state.accounts.log_in(email, password, client).await?)
    }

    async fn audit_log(
        &self,
        scope: &Scope,
        merchant: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<AuditPage, AppError> {
        let page = self
            .state
            .audit
            .list(scope, merchant, cursor, DEFAULT_LIMIT)
            .await?;
        Ok(AuditPage {
            data: page.data,
            next_cursor: page.next_cursor,
        })
    }

    async fn account(
        &self,
        merchant: &MerchantId,
        member: &MemberId,
    ) -> Result<Option<Account>, AppError> {
        Ok(self.state.accounts.account(merchant, member).await?)
    }

    fn password_reset_by_mail(&self) -> bool {
        self.state.passwords.reset_by_mail()
    }

    async fn change_password(
        &self,
        member: &MemberId,
        current: &str,
        new: &str,
        client: Option<IpAddr>,
    ) -> Result<(), AppError> {
        Ok(self
            .state
            .passwords
            .change(member, current, new, client)
            .await?)
    }

    async fn request_password_reset(
        &self,
        email: &str,
        client: Option<IpAddr>,
    ) -> Result<(), AppError> {
        Ok(self.state.passwords.request_reset(email, client).await?)
    }

    async fn reset_password(&self, token: &str, new: &str) -> Result<(), AppError> {
        use crate::service::passwords::ResetRefused;
        use herald_app::model::error::ErrorCode;
        match self.state.passwords.reset(token, new).await? {
            Ok(_) => Ok(()),
            Err(refused) => {
                let code = match refused {
                    ResetRefused::Unknown => ErrorCode::NotFound,
                    ResetRefused::Used | ResetRefused::Expired => ErrorCode::Conflict,
                };
                Err(AppError::new(code, refused.message()))
            }
        }
    }

    async fn team(&self, merchant: &MerchantId, you: &MemberId) -> Result<Team, AppError> {
        Ok(self.state.members.team(merchant, you).await?)
    }

    async fn invite_member(
        &self,
        merchant: &MerchantId,
        email: &str,
        role: MemberRole,
    ) -> Result<IssuedInvitation, AppError> {
        Ok(self.state.members.invite(merchant, email, role).await?)
    }

    async fn revoke_invitation(
        &self,
        merchant: &MerchantId,
        id: &InvitationId,
    ) -> Result<(), AppError> {
        Ok(self.state.members.revoke_invitation(merchant, id).await?)
    }

    async fn set_member_role(
        &self,
        merchant: &MerchantId,
        id: &MemberId,
        role: MemberRole,
    ) -> Result<Member, AppError> {
        Ok(self.state.members.set_role(merchant, id, role).await?)
    }

    async fn remove_member(&self, merchant: &MerchantId, id: &MemberId) -> Result<(), AppError> {
        Ok(self.state.members.remove(merchant, id).await?)
    }

    async fn invitation(&self, token: &str) -> Result<(String, Invitation), AppError> {
        Ok(self.state.members.invitation(token).await?)
    }

    async fn accept_invitation(&self, token: &str, password: &str) -> Result<Account, AppError> {
        Ok(self.state.members.accept(token, password).await?)
    }

    // ----- Endpoints, secrets, test events, API keys -----

    async fn list_endpoints(&self, merchant: &MerchantId) -> Result<Vec<Endpoint>, AppError> {
        Ok(self.state.endpoints.list(merchant).await?)
    }

    async fn last_deliveries(&self, merchant: &MerchantId) -> Result<Vec<LastDelivery>, AppError> {
        Ok(self.state.endpoints.last_deliveries(merchant).await?)
    }

    async fn endpoint(&self, merchant: &MerchantId, id: &EndpointId) -> Result<Endpoint, AppError> {
        Ok(self.state.endpoints.get(merchant, id).await?)
    }

    async fn create_endpoint(
        &self,
        merchant: &MerchantId,
        input: EndpointInput,
    ) -> Result<Endpoint, AppError> {
        let new = NewEndpoint::from_form(input);
        Ok(self.state.endpoints.create(merchant, new).await?.0)
    }

    async fn update_endpoint(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
        input: EndpointInput,
    ) -> Result<Endpoint, AppError> {
        let patch = EndpointPatch::from_form(input);
        Ok(self.state.endpoints.update(merchant, id, patch).await?)
    }

    async fn set_endpoint_enabled(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
        enabled: bool,
    ) -> Result<EnabledEndpoint, AppError> {
        if enabled {
            let (endpoint, missed) = self.state.deliveries.enable_endpoint(merchant, id).await?;
            return Ok(EnabledEndpoint { endpoint, missed });
        }
        let disable = EndpointPatch {
            enabled: Some(false),
            ..EndpointPatch::default()
        };
        let endpoint = self.state.endpoints.update(merchant, id, disable).await?;
        Ok(EnabledEndpoint {
            endpoint,
            missed: None,
        })
    }

    async fn replay_failed(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
        since: &str,
    ) -> Result<u64, AppError> {
        let since = time_or_lookback("since", since, Utc::now())?.ok_or_else(|| {
            FieldError::new("since", "a time (RFC 3339) or a lookback such as 24h")
        })?;
        let deliveries = &self.state.deliveries;
        Ok(deliveries
            .replay(merchant, id, since, ReplayStatus::Failed)
            .await?)
    }

    async fn recover(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
        window: RecoverInput,
        dry_run: bool,
    ) -> Result<u64, AppError> {
        let (since, until) = window.window(Utc::now())?;
        let mode = RecoverMode::dry_run(dry_run);
        let deliveries = &self.state.deliveries;
        Ok(deliveries.recover(merchant, id, since, until, mode).await?)
    }

    async fn callback_secret(&self, merchant: &MerchantId) -> Result<CallbackSecret, AppError> {
        Ok(self.state.callback_secrets.reveal(merchant).await?)
    }

    async fn rotate_callback_secret(
        &self,
        merchant: &MerchantId,
        grace_s: u64,
    ) -> Result<CallbackSecret, AppError> {
        let grace = Some(Duration::from_secs(grace_s));
        Ok(self.state.callback_secrets.rotate(merchant, grace).await?)
    }

    async fn callback_settings(&self, merchant: &MerchantId) -> Result<CallbackSettings, AppError> {
        Ok(self.state.callback_secrets.settings(merchant).await?)
    }

    async fn set_callback_settings(
        &self,
        merchant: &MerchantId,
        settings: CallbackSettings,
    ) -> Result<CallbackSettings, AppError> {
        Ok(self
            .state
            .callback_secrets
            .set_settings(merchant, settings)
            .await?)
    }

    async fn delete_endpoint(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
    ) -> Result<(), AppError> {
        Ok(self.state.endpoints.delete(merchant, id).await?)
    }

    async fn endpoint_secret(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
    ) -> Result<EndpointKeys, AppError> {
        Ok(self.state.endpoints.secret(merchant, id).await?)
    }

    async fn rotate_endpoint_secret(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
        grace_s: u64,
    ) -> Result<EndpointKeys, AppError> {
        let grace = Some(Duration::from_secs(grace_s));
        Ok(self
            .state
            .endpoints
            .rotate_secret(merchant, id, grace)
            .await?)
    }

    async fn send_test_event(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
        event_type: &str,
        data: &str,
    ) -> Result<EventId, AppError> {
        let data = parse_json_box("data", data)?;
        let deliveries = &self.state.deliveries;
        let (event, _) = deliveries
            .send_test_event(merchant, id, event_type, data)
            .await?;
        Ok(event)
    }

    async fn list_api_keys(&self, merchant: &MerchantId) -> Result<Vec<ApiKeySummary>, AppError> {
        Ok(self.state.api_keys.list(merchant).await?)
    }

    async fn create_api_key(
        &self,
        merchant: &MerchantId,
        name: &str,
    ) -> Result<IssuedKey, AppError> {
        Ok(self.state.api_keys.issue(merchant, name).await?)
    }

    async fn revoke_api_key(&self, merchant: &MerchantId, id: &ApiKeyId) -> Result<(), AppError> {
        Ok(self.state.api_keys.revoke(merchant, id).await?)
    }

    async fn storage(&self) -> Result<StorageStats, AppError> {
        Ok(self.state.retention.storage().await?)
    }

    // ----- Notifications -----

    async fn notifications(&self, merchant: &MerchantId) -> Result<Notifications, AppError> {
        Ok(self.state.alerts.notifications(merchant).await?)
    }

    async fn set_mail_preferences(
        &self,
        merchant: &MerchantId,
        preferences: MailPreferences,
    ) -> Result<MailPreferences, AppError> {
        Ok(self
            .state
            .alerts
            .set_mail_preferences(merchant, preferences)
            .await?)
    }

    // ----- The event-type catalog -----

    async fn list_event_types(&self) -> Result<Vec<EventType>, AppError> {
        Ok(self.state.catalog.list().await?)
    }

    // ----- Delivery profiles and egress -----

    async fn list_profiles(&self) -> Result<Vec<ProfileSummary>, AppError> {
        Ok(self.state.profiles.summaries().await?)
    }

    async fn profile(&self, name: &str) -> Result<StoredProfile, AppError> {
        Ok(self.state.profiles.get(name).await?)
    }

    async fn egress(&self) -> Result<Egress, AppError> {
        Ok(self.state.profiles.egress())
    }

    // ----- Events, deliveries, attempts, stats -----

    async fn list_deliveries(
        &self,
        scope: &Scope,
        query: DeliveryQuery,
    ) -> Result<DeliveryPage, AppError> {
        let search = DeliverySearch::from_form(&query, Utc::now())?;
        let cursor = DeliveryQuery::given(&query.cursor);
        let page = self
            .state
            .deliveries
            .list(scope, &search, cursor.as_deref(), DEFAULT_LIMIT)
            .await?;
        Ok(DeliveryPage {
            items: page.data,
            next_cursor: page.next_cursor,
        })
    }

    async fn list_events(
        &self,
        merchant: &MerchantId,
        query: EventQuery,
    ) -> Result<EventPage, AppError> {
        let search = EventSearch::from_form(&query, Utc::now())?;
        let cursor = DeliveryQuery::given(&query.cursor);
        let page = self
            .state
            .events
            .list(merchant, search, cursor.as_deref(), DEFAULT_LIMIT)
            .await?;
        Ok(EventPage {
            items: page.data,
            next_cursor: page.next_cursor,
        })
    }

    async fn event_detail(&self, scope: &Scope, id: &EventId) -> Result<EventDetail, AppError> {
        Ok(self.state.events.detail(scope, id).await?)
    }

    async fn search(&self, scope: &Scope, q: &str) -> Result<SearchResults, AppError> {
        Ok(self.state.events.search(scope, q).await?)
    }

    async fn delivery(&self, scope: &Scope, id: &DeliveryId) -> Result<DeliveryDetail, AppError> {
        Ok(self.state.deliveries.detail(scope, id).await?)
    }

    async fn stats(&self, merchant: &MerchantId, live_only: bool) -> Result<Stats, AppError> {
        let live_mode = live_only.then_some(true);
        let stats = &self.state.stats;
        Ok(stats
            .over(merchant, None, live_mode, DEFAULT_WINDOW_HOURS)
            .await?)
    }

    async fn retry_deliveries(&self, scope: &Scope, ids: Vec<DeliveryId>) -> Result<u64, AppError> {
        let deliveries = &self.state.deliveries;
        match ids.as_slice() {
            // One delivery's retry button says why it could not be queued.
            [id] => deliveries.retry_one(scope, id).await.map(|()| 1),
            _ => deliveries.retry(scope, &ids).await,
        }
        .map_err(AppError::from)
    }

    async fn count_deliveries(&self, scope: &Scope, query: DeliveryQuery) -> Result<u64, AppError> {
        let search = DeliverySearch::from_form(&query, Utc::now())?;
        Ok(self.state.deliveries.count_matching(scope, &search).await?)
    }

    async fn retry_matching(&self, scope: &Scope, query: DeliveryQuery) -> Result<u64, AppError> {
        let search = DeliverySearch::from_form(&query, Utc::now())?;
        Ok(self.state.deliveries.retry_matching(scope, &search).await?)
    }

    // ----- Operators: the admin console -----

    async fn list_merchants(&self) -> Result<Vec<Merchant>, AppError> {
        Ok(self.state.accounts.list().await?)
    }

    async fn merchant_summaries(&self) -> Result<Vec<MerchantSummary>, AppError> {
        Ok(self.state.operations.merchants().await?)
    }

    async fn endpoint_overview(
        &self,
        query: EndpointOverviewQuery,
    ) -> Result<EndpointOverviewPage, AppError> {
        let offset = page_offset(query.page.as_deref())?;
        Ok(self
            .state
            .operations
            .endpoint_overview(&query, offset, OVERVIEW_PAGE_SIZE)
            .await?)
    }

    async fn operator_set_enabled(
        &self,
        id: &EndpointId,
        disable_reason: Option<String>,
    ) -> Result<Endpoint, AppError> {
        let endpoints = &self.state.endpoints;
        Ok(endpoints
            .operator_set_enabled(id, disable_reason.as_deref())
            .await?)
    }

    async fn create_event_type(
        &self,
        name: &str,
        description: &str,
        example: &str,
    ) -> Result<EventType, AppError> {
        let entry = NewEventType {
            name: name.to_owned(),
            description: description.to_owned(),
            example: parse_json_box("example", example)?,
        };
        Ok(self.state.catalog.create(entry).await?)
    }

    async fn create_profile(&self, json: &str) -> Result<StoredProfile, AppError> {
        Ok(self.state.profiles.create(profile_json(json)?).await?)
    }

    async fn update_profile(&self, name: &str, json: &str) -> Result<StoredProfile, AppError> {
        Ok(self
            .state
            .profiles
            .update(name, profile_json(json)?)
            .await?)
    }

    async fn update_event_type(
        &self,
        name: &str,
        description: &str,
        example: &str,
    ) -> Result<EventType, AppError> {
        // The box shows the whole example: what it holds is what is kept.
        let example = parse_json_box("example", example)?.unwrap_or_else(|| serde_json::json!({}));
        let change = EventTypeChange {
            description: Some(description.to_owned()),
            example: Some(example),
            archived: None,
        };
        Ok(self.state.catalog.update(name, change).await?)
    }

    async fn event_type_receivers(&self, name: &str) -> Result<u64, AppError> {
        Ok(self.state.catalog.receivers(name).await?)
    }

    async fn set_event_type_archived(
        &self,
        name: &str,
        archived: bool,
    ) -> Result<EventType, AppError> {
        let change = EventTypeChange {
            archived: Some(archived),
            ..EventTypeChange::default()
        };
        Ok(self.state.catalog.update(name, change).await?)
    }
}

/// The profile box's JSON text.
fn profile_json(json: &str) -> Result<serde_json::Value, FieldError> {
    serde_json::from_str(json).map_err(|e| FieldError::new("profile", e.to_string()))
}
