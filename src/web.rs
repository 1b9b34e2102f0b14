//! The dashboard: mounts the Leptos app and implements its `Backend` over
//! the services, and keeps logged-out visitors on the public pages.

use crate::api::deliveries::DeliveryQuery as RestDeliveryQuery;
use crate::api::pagination;
use crate::service::catalog::{self, EventTypeChange, NewEventType};
use crate::service::deliveries;
use crate::service::endpoints::{EndpointPatch, NewEndpoint};
use crate::service::stats::delivery_stats;
use crate::service::{issue_api_key, ServiceError};
use crate::state::AppState;
use crate::store::DeliveryFilter;
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use chrono::{DateTime, Utc};
use herald_app::backend::{Backend, SharedBackend};
use herald_app::model::api_key::{ApiKeySummary, IssuedKey};
use herald_app::model::dashboard::{DeliveryPage, DeliveryQuery, EndpointInput, LastDelivery};
use herald_app::model::duration::parse_duration;
use herald_app::model::endpoint::{Endpoint, EndpointKeys, PayloadEncryption, SignatureScheme};
use herald_app::model::error::AppError;
use herald_app::model::event::DeliveryDetail;
use herald_app::model::event_type::EventType;
use herald_app::model::id::{ApiKeyId, DeliveryId, EndpointId, MerchantId};
use herald_app::model::merchant::{Merchant, NewAccount};
use herald_app::model::stats::Stats;
use herald_app::{shell, App};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_sessions::Session;

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

/// Turns a service error into what the dashboard shows; internal details are
/// logged here and not sent to the browser.
fn to_app_error(e: ServiceError) -> AppError {
    match e {
        ServiceError::Validation { field, message } => AppError::field(&field, message),
        ServiceError::Conflict(message) => AppError::new("conflict", message),
        ServiceError::NotFound(what) => AppError::new("not_found", format!("{what} not found")),
        ServiceError::Unauthenticated(message) => AppError::new("unauthenticated", message),
        e @ ServiceError::Throttled { .. } => AppError::new("rate_limited", e.to_string()),
        ServiceError::TooLarge(message) => AppError::new("payload_too_large", message),
        ServiceError::Unavailable(message) => {
            tracing::warn!(error = %message, "dashboard: database unavailable");
            AppError::new(
                "unavailable",
                "Herald cannot reach its database right now. Try again shortly.",
            )
        }
        ServiceError::Store(e) => {
            tracing::error!(error = %e, "dashboard: store error");
            AppError::internal()
        }
        ServiceError::Internal(message) => {
            tracing::error!(error = %message, "dashboard: internal error");
            AppError::internal()
        }
    }
}

#[async_trait::async_trait]
impl Backend for DashboardBackend {
    async fn sign_up(&self, account: NewAccount) -> Result<Merchant, AppError> {
        self.state
            .accounts
            .sign_up(account)
            .await
            .map_err(to_app_error)
    }

    async fn log_in(
        &self,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Merchant, AppError> {
        self.state
            .accounts
            .log_in(email, password, client)
            .await
            .map_err(to_app_error)
    }

    async fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, AppError> {
        self.state.accounts.merchant(id).await.map_err(to_app_error)
    }

    // ----- Endpoints, secrets, test events, API keys -----

    async fn list_endpoints(&self, merchant: &MerchantId) -> Result<Vec<Endpoint>, AppError> {
        self.state
            .store
            .list_endpoints(merchant)
            .await
            .map_err(|e| to_app_error(e.into()))
    }

    async fn last_deliveries(&self, merchant: &MerchantId) -> Result<Vec<LastDelivery>, AppError> {
        let rows = self
            .state
            .store
            .last_delivery_per_endpoint(merchant)
            .await
            .map_err(|e| to_app_error(e.into()))?;
        Ok(rows
            .into_iter()
            .map(|(endpoint_id, created_at, status)| LastDelivery {
                endpoint_id,
                created_at,
                status,
            })
            .collect())
    }

    async fn endpoint(&self, merchant: &MerchantId, id: &str) -> Result<Endpoint, AppError> {
        let id = endpoint_id(id)?;
        self.state
            .endpoints
            .get(merchant, &id)
            .await
            .map_err(to_app_error)
    }

    async fn create_endpoint(
        &self,
        merchant: &MerchantId,
        input: EndpointInput,
    ) -> Result<Endpoint, AppError> {
        let headers = parse_header_lines(&input.headers)?;
        let rate_limit = parse_rate_limit(&input.rate_limit_per_s)?;
        let (endpoint, _) = self
            .state
            .endpoints
            .create(
                merchant,
                NewEndpoint {
                    url: input.url,
                    description: Some(input.description),
                    event_types: Some(input.event_types),
                    enabled: Some(input.enabled),
                    rate_limit_per_s: rate_limit,
                    headers: Some(headers),
                    legacy_signature: Some(input.legacy_signature),
                    retry_schedule: parse_retry_schedule(&input.retry_schedule),
                    signature_scheme: Some(parse_signature_scheme(&input.signature_scheme)?),
                    encryption: input.encrypted.then_some(PayloadEncryption::Aes256Cbc),
                },
            )
            .await
            .map_err(to_app_error)?;
        Ok(endpoint)
    }

    async fn update_endpoint(
        &self,
        merchant: &MerchantId,
        id: &str,
        input: EndpointInput,
    ) -> Result<Endpoint, AppError> {
        let id = endpoint_id(id)?;
        let headers = parse_header_lines(&input.headers)?;
        let rate_limit = parse_rate_limit(&input.rate_limit_per_s)?;
        let endpoint = self
            .state
            .endpoints
            .update(
                merchant,
                &id,
                EndpointPatch {
                    url: Some(input.url),
                    description: Some(input.description),
                    event_types: Some(input.event_types),
                    enabled: Some(input.enabled),
                    rate_limit_per_s: Some(rate_limit),
                    headers: Some(headers),
                    legacy_signature: Some(input.legacy_signature),
                    retry_schedule: Some(parse_retry_schedule(&input.retry_schedule)),
                    signature_scheme: Some(parse_signature_scheme(&input.signature_scheme)?),
                    encryption: Some(input.encrypted.then_some(PayloadEncryption::Aes256Cbc)),
                },
            )
            .await
            .map_err(to_app_error)?;
        if endpoint.enabled {
            self.state.wakeup.wake();
        }
        Ok(endpoint)
    }

    async fn delete_endpoint(&self, merchant: &MerchantId, id: &str) -> Result<(), AppError> {
        let id = endpoint_id(id)?;
        self.state
            .endpoints
            .delete(merchant, &id)
            .await
            .map_err(to_app_error)
    }

    async fn endpoint_secret(
        &self,
        merchant: &MerchantId,
        id: &str,
    ) -> Result<EndpointKeys, AppError> {
        let id = endpoint_id(id)?;
        self.state
            .endpoints
            .secret(merchant, &id)
            .await
            .map_err(to_app_error)
    }

    async fn rotate_endpoint_secret(
        &self,
        merchant: &MerchantId,
        id: &str,
        grace_s: u64,
    ) -> Result<EndpointKeys, AppError> {
        let id = endpoint_id(id)?;
        self.state
            .endpoints
            .rotate_secret(merchant, &id, Some(Duration::from_secs(grace_s)))
            .await
            .map_err(to_app_error)
    }

    async fn send_test_event(
        &self,
        merchant: &MerchantId,
        id: &str,
        event_type: &str,
        data: &str,
    ) -> Result<String, AppError> {
        let id = endpoint_id(id)?;
        // The payload box: empty sends the catalog's example.
        let data = match data.trim() {
            "" => None,
            text => Some(
                serde_json::from_str(text)
                    .map_err(|e| AppError::field("data", format!("not valid JSON: {e}")))?,
            ),
        };
        let (event, _) = deliveries::send_test_event(
            &self.state.endpoints,
            &self.state.store,
            &self.state.ingestor,
            merchant,
            &id,
            event_type,
            data,
        )
        .await
        .map_err(to_app_error)?;
        Ok(event.to_string())
    }

    async fn list_api_keys(&self, merchant: &MerchantId) -> Result<Vec<ApiKeySummary>, AppError> {
        self.state
            .store
            .list_api_keys(merchant)
            .await
            .map_err(|e| to_app_error(e.into()))
    }

    async fn create_api_key(
        &self,
        merchant: &MerchantId,
        name: &str,
    ) -> Result<IssuedKey, AppError> {
        let issued = issue_api_key(&self.state.store, merchant, name)
            .await
            .map_err(to_app_error)?;
        let summary = self
            .list_api_keys(merchant)
            .await?
            .into_iter()
            .find(|k| k.id == issued.id)
            .ok_or_else(AppError::internal)?;
        Ok(IssuedKey {
            summary,
            key: issued.key,
        })
    }

    async fn revoke_api_key(&self, merchant: &MerchantId, id: &str) -> Result<(), AppError> {
        let not_found = || AppError::new("not_found", "API key not found");
        let id = ApiKeyId::parse(id).map_err(|_| not_found())?;
        match self
            .state
            .store
            .revoke_api_key(merchant, &id, Utc::now())
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(not_found()),
            Err(e) => Err(to_app_error(e.into())),
        }
    }

    // ----- The event-type catalog -----

    async fn list_event_types(&self) -> Result<Vec<EventType>, AppError> {
        self.state
            .store
            .list_event_types()
            .await
            .map_err(|e| to_app_error(e.into()))
    }

    // ----- Events, deliveries, attempts, stats -----

    async fn list_deliveries(
        &self,
        merchant: Option<&MerchantId>,
        query: DeliveryQuery,
    ) -> Result<DeliveryPage, AppError> {
        let mut filter = delivery_filter(&query, PAGE_SIZE)?;
        if let Some(merchant) = merchant {
            filter.merchant_id = Some(merchant.clone());
        }
        let items = self
            .state
            .store
            .list_deliveries(&filter)
            .await
            .map_err(|e| to_app_error(e.into()))?;
        let page = pagination::page(items, PAGE_SIZE, |d| (d.created_at, d.id.to_string()));
        Ok(DeliveryPage {
            items: page.data,
            next_cursor: page.next_cursor,
        })
    }

    async fn delivery(
        &self,
        merchant: Option<&MerchantId>,
        id: &str,
    ) -> Result<DeliveryDetail, AppError> {
        let not_found = || AppError::new("not_found", "delivery not found");
        let id = DeliveryId::parse(id).map_err(|_| not_found())?;
        let (delivery, event, attempts) = self
            .state
            .store
            .delivery_detail(merchant, &id)
            .await
            .map_err(|e| to_app_error(e.into()))?
            .ok_or_else(not_found)?;
        Ok(DeliveryDetail {
            delivery,
            event,
            attempts,
        })
    }

    async fn stats(
        &self,
        merchant: &MerchantId,
        hours: u32,
        live_only: bool,
    ) -> Result<Stats, AppError> {
        delivery_stats(
            &self.state.store,
            merchant,
            None,
            live_only.then_some(true),
            hours.clamp(1, 168),
            Utc::now(),
        )
        .await
        .map_err(to_app_error)
    }

    async fn retry_deliveries(
        &self,
        merchant: Option<&MerchantId>,
        ids: Vec<String>,
    ) -> Result<u64, AppError> {
        let ids: Vec<DeliveryId> = ids
            .iter()
            .map(|id| DeliveryId::parse(id))
            .collect::<Result<_, _>>()
            .map_err(|_| AppError::new("not_found", "delivery not found"))?;
        if let [id] = ids.as_slice() {
            deliveries::retry_delivery(&self.state.store, &self.state.wakeup, merchant, id)
                .await
                .map_err(to_app_error)?;
            return Ok(1);
        }
        deliveries::retry_deliveries(&self.state.store, &self.state.wakeup, merchant, &ids)
            .await
            .map_err(to_app_error)
    }

    // ----- Operators: the admin console -----

    async fn list_merchants(&self) -> Result<Vec<Merchant>, AppError> {
        self.state
            .store
            .list_merchants()
            .await
            .map_err(|e| to_app_error(e.into()))
    }

    async fn all_endpoints(&self) -> Result<Vec<Endpoint>, AppError> {
        self.state
            .endpoints
            .all(ADMIN_LIST_LIMIT)
            .await
            .map_err(to_app_error)
    }

    async fn operator_set_enabled(
        &self,
        id: &str,
        disable_reason: Option<String>,
    ) -> Result<Endpoint, AppError> {
        let id = endpoint_id(id)?;
        let endpoint = self
            .state
            .endpoints
            .operator_set_enabled(&id, disable_reason.as_deref())
            .await
            .map_err(to_app_error)?;
        if endpoint.enabled {
            self.state.wakeup.wake();
        }
        Ok(endpoint)
    }

    async fn create_event_type(
        &self,
        name: &str,
        description: &str,
        example: &str,
    ) -> Result<EventType, AppError> {
        let example = match example.trim() {
            "" => None,
            text => Some(
                serde_json::from_str(text)
                    .map_err(|e| AppError::field("example", format!("not valid JSON ({e})")))?,
            ),
        };
        catalog::create_event_type(
            &self.state.store,
            NewEventType {
                name: name.to_owned(),
                description: description.to_owned(),
                example,
            },
        )
        .await
        .map_err(to_app_error)
    }

    async fn set_event_type_archived(
        &self,
        name: &str,
        archived: bool,
    ) -> Result<EventType, AppError> {
        catalog::update_event_type(
            &self.state.store,
            name,
            EventTypeChange {
                archived: Some(archived),
                ..EventTypeChange::default()
            },
        )
        .await
        .map_err(to_app_error)
    }

    async fn retry_matching(&self, query: DeliveryQuery) -> Result<u64, AppError> {
        let filter = delivery_filter(&query, MAX_BULK_RETRY)?;
        let ids = self
            .state
            .store
            .delivery_ids(&filter)
            .await
            .map_err(|e| to_app_error(e.into()))?;
        deliveries::retry_deliveries(&self.state.store, &self.state.wakeup, None, &ids)
            .await
            .map_err(to_app_error)
    }
}

/// Deliveries per dashboard page.
const PAGE_SIZE: u32 = 50;
/// The most endpoints the operators' list shows.
const ADMIN_LIST_LIMIT: u32 = 500;
/// The most one "retry everything matching" queues.
const MAX_BULK_RETRY: u32 = 10_000;

fn endpoint_id(id: &str) -> Result<EndpointId, AppError> {
    EndpointId::parse(id).map_err(|_| AppError::new("not_found", "endpoint not found"))
}

/// The custom-headers box: one `Name: value` per line, blank lines ignored.
fn parse_header_lines(text: &str) -> Result<BTreeMap<String, String>, AppError> {
    let mut headers = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| AppError::field("headers", format!("`{line}` is not `Name: value`")))?;
        headers.insert(name.trim().to_owned(), value.trim().to_owned());
    }
    Ok(headers)
}

/// The rate-limit box: empty for none, else a whole number.
fn parse_rate_limit(text: &str) -> Result<Option<u32>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| AppError::field("rate_limit_per_s", "a whole number of requests per second"))
}

/// The scheme select: `hmac` or `ed25519`.
fn parse_signature_scheme(text: &str) -> Result<SignatureScheme, AppError> {
    SignatureScheme::parse(text.trim())
        .ok_or_else(|| AppError::field("signature_scheme", "`hmac` or `ed25519`"))
}

/// The retry-schedule box: empty for the server's schedule, else waits
/// separated by commas (checked by the service).
fn parse_retry_schedule(text: &str) -> Option<Vec<String>> {
    let steps: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|step| !step.is_empty())
        .map(str::to_owned)
        .collect();
    (!steps.is_empty()).then_some(steps)
}

/// A page's filters as a store filter. `since` is RFC 3339 or a lookback
/// (`1h`, `24h`, `7d`).
fn delivery_filter(query: &DeliveryQuery, limit: u32) -> Result<DeliveryFilter, AppError> {
    let blank = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let since = match blank(&query.since) {
        None => None,
        Some(text) => Some(match DateTime::parse_from_rfc3339(&text) {
            Ok(at) => at.with_timezone(&Utc),
            Err(_) => {
                let back = parse_duration(&text).map_err(|_| {
                    AppError::field("since", "a time (RFC 3339) or a lookback such as 24h")
                })?;
                Utc::now() - chrono::Duration::from_std(back).unwrap_or(chrono::Duration::zero())
            }
        }),
    };
    let rest = RestDeliveryQuery {
        endpoint_id: blank(&query.endpoint_id),
        event_id: None,
        status: blank(&query.status),
        event_type: blank(&query.event_type),
        since,
        merchant_id: None,
        cursor: blank(&query.cursor),
        limit: Some(limit.min(250)),
        live_mode: match blank(&query.mode).as_deref() {
            None => None,
            Some("live") => Some(true),
            Some("test") => Some(false),
            Some(_) => return Err(AppError::field("mode", "`live`, `test` or empty for both")),
        },
    };
    let mut filter = rest
        .to_filter()
        .map_err(|e| AppError::new(e.code, e.message))?;
    filter.limit = limit;
    filter.merchant_id = blank(&query.merchant_id)
        .map(|id| MerchantId::parse(&id))
        .transpose()
        .map_err(|_| AppError::field("merchant_id", "not a merchant id"))?;
    Ok(filter)
}

/// The Leptos pages and server functions, with static files as the fallback.
pub fn router(state: &AppState) -> Router<AppState> {
    let backend: SharedBackend = Arc::new(DashboardBackend::new(state));
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    Router::new()
        .leptos_routes_with_context(
            state,
            routes,
            move || provide_context(backend.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(require_login))
}

/// Pages anyone may open.
const PUBLIC_PAGES: &[&str] = &["/login", "/signup"];

/// Sends a page request without a session to `/login` before anything
/// renders, so a logged-out visitor never sees a flash of the dashboard.
async fn require_login(session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_page = request.method() == Method::GET
        && !PUBLIC_PAGES.contains(&path)
        && !path.starts_with(herald_app::server_fn::PREFIX)
        && !path.starts_with("/pkg/")
        // Static files have an extension; pages never do.
        && !path.rsplit('/').next().is_some_and(|last| last.contains('.'));
    if is_page {
        let logged_in = matches!(session.get::<MerchantId>("merchant_id").await, Ok(Some(_)));
        if !logged_in {
            return Redirect::to("/login").into_response();
        }
    }
    next.run(request).await
}
