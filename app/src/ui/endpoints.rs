//! The endpoints page.

use super::callbacks::CallbackSecretPanel;
use super::display::{StatusBadge, When};
use super::loaded::Loaded;
use crate::model::dashboard::LastDelivery;
use crate::model::endpoint::{Endpoint, EndpointMode};
use crate::model::error::AppError;
use crate::model::member::Account;
use crate::server_fn::account::whoami;
use crate::server_fn::endpoints::{get_callback_settings, last_deliveries, list_endpoints};
use crate::server_fn::profiles::list_profiles;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// `/endpoints`: every endpoint of the merchant.
#[component]
pub fn EndpointsPage() -> impl IntoView {
    let endpoints = Resource::new(|| (), |_| list_endpoints());
    let last = Resource::new(|| (), |_| last_deliveries());
    let me = Resource::new(|| (), |_| whoami());
    // A viewer changes nothing and sees no secret: no button to add an
    // endpoint, no callback secret.
    let can_change = move || async move {
        me.await
            .map(|me| me.as_ref().is_some_and(Account::can_change))
    };
    // The callback panel: its settings and the profiles to choose from, for
    // those who may change them (read in one `Loaded`, beside the role).
    let callback_settings = Resource::new(|| (), |_| get_callback_settings());
    let profiles = Resource::new(|| (), |_| list_profiles());
    let callback_panel = move || async move {
        let (me, settings, profiles) = (me.await, callback_settings.await, profiles.await);
        if !me?.as_ref().is_some_and(Account::can_change) {
            return Ok(None);
        }
        Ok(Some((settings?, profiles?)))
    };
    view! {
        <Title text="Endpoints"/>
        <div class="page-header">
            <div>
                <h1>"Endpoints"</h1>
                <p class="muted">
                    "The URLs on your servers that receive signed POSTs when events happen."
                </p>
            </div>
            <Loaded data=can_change let:can_change>
                {can_change.then(|| view! {
                    <A href="/endpoints/new" attr:class="button primary" attr:data-testid="new-endpoint">
                        "New endpoint"
                    </A>
                })}
            </Loaded>
        </div>
        <Loaded data=move || endpoints_with_last(endpoints, last) loading="Loading endpoints…" let:loaded>
            {match loaded {
                None => view! { <NoEndpoints/> }.into_any(),
                Some((endpoints, last)) => view! { <EndpointTable endpoints last/> }.into_any(),
            }}
        </Loaded>
        <Loaded data=callback_panel let:panel>
            {panel.map(|(settings, profiles)| view! { <CallbackSecretPanel settings profiles/> })}
        </Loaded>
    }
}

/// The endpoints and each one's last delivery; `None` when there are no
/// endpoints. The last deliveries only decorate the list, so failing to load
/// them leaves that column at "Never" rather than hiding the endpoints.
async fn endpoints_with_last(
    endpoints: Resource<Result<Vec<Endpoint>, AppError>>,
    last: Resource<Result<Vec<LastDelivery>, AppError>>,
) -> Result<Option<(Vec<Endpoint>, Vec<LastDelivery>)>, AppError> {
    let endpoints = endpoints.await?;
    if endpoints.is_empty() {
        return Ok(None);
    }
    Ok(Some((endpoints, last.await.unwrap_or_default())))
}

/// What a merchant without endpoints sees: what an endpoint is, and the way to add one.
#[component]
pub fn NoEndpoints() -> impl IntoView {
    view! {
        <div class="empty" data-testid="endpoints-empty">
            <h2>"No endpoints yet"</h2>
            <p>
                "An endpoint is a URL on your server, such as "
                <code>"https://api.example.com/webhooks/herald"</code>
                ". Herald POSTs each event you subscribe it to, signed with the endpoint's secret, and retries until your server answers 2xx."
            </p>
            <p>
                <A href="/endpoints/new" attr:class="button primary">"Add your first endpoint"</A>
            </p>
            <p class="muted">
                "Browse the " <a href="/event-types">"event types"</a>
                " to see what you can subscribe to."
            </p>
        </div>
    }
}

#[component]
fn EndpointTable(endpoints: Vec<Endpoint>, last: Vec<LastDelivery>) -> impl IntoView {
    view! {
        <table class="table" data-testid="endpoints-table">
            <thead>
                <tr>
                    <th>"URL"</th>
                    <th>"Events"</th>
                    <th>"Mode"</th>
                    <th>"Status"</th>
                    <th>"Last delivery"</th>
                </tr>
            </thead>
            <tbody>
                {endpoints
                    .into_iter()
                    .map(|endpoint| {
                        let latest = last
                            .iter()
                            .find(|l| l.endpoint_id == endpoint.id.as_str())
                            .map(|l| {
                                view! {
                                    <StatusBadge status=l.status/>
                                    <div class="muted small"><When at=l.created_at/></div>
                                }
                                    .into_any()
                            })
                            .unwrap_or_else(|| view! { <span class="muted small">"Never"</span> }.into_any());
                        let events = if endpoint.event_types.is_empty() {
                            "All events".to_owned()
                        } else {
                            endpoint.event_types.join(", ")
                        };
                        view! {
                            <tr data-testid="endpoint-row">
                                <td>
                                    <A href=format!("/endpoints/{}", endpoint.id) attr:class="mono">
                                        {endpoint.url}
                                    </A>
                                    <div class="muted small">{endpoint.description}</div>
                                </td>
                                <td class="small">{events}</td>
                                <td>
                                    <span class="badge" class:test=endpoint.mode == EndpointMode::Test
                                        data-testid="endpoint-mode-badge">
                                        {endpoint.mode.as_str()}
                                    </span>
                                </td>
                                <td>
                                    {if endpoint.enabled {
                                        view! { <span class="pill ok">"Enabled"</span> }.into_any()
                                    } else {
                                        view! {
                                            <span
                                                class="pill off"
                                                title=endpoint.disabled_reason.unwrap_or_default()
                                            >
                                                "Disabled"
                                            </span>
                                        }
                                            .into_any()
                                    }}
                                </td>
                                <td data-testid="last-delivery">{latest}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
