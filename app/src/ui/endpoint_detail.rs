//! `/endpoints/:id`: one endpoint, its signing secret, test events and its
//! latest deliveries.

use super::display::{refresh_every, time, CopyButton, StatusBadge};
use crate::model::dashboard::DeliveryQuery;
use crate::model::endpoint::Endpoint;
use crate::model::event_type::EventType;
use crate::server_fn::catalog::list_event_types;
use crate::server_fn::deliveries::list_deliveries;
use crate::server_fn::endpoints::{
    get_endpoint, DeleteEndpoint, RevealSecret, RotateSecret, SendTestEvent,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

/// `/endpoints/:id`
#[component]
pub fn EndpointDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let endpoint = Resource::new(id, get_endpoint);
    view! {
        <Title text="Endpoint"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading the endpoint…"</p> }>
            {move || Suspend::new(async move {
                match endpoint.await {
                    Ok(endpoint) => view! { <EndpointDetail endpoint/> }.into_any(),
                    Err(e) => {
                        view! {
                            <div class="empty" data-testid="not-found">
                                <h2>"Endpoint not found"</h2>
                                <p class="muted">{e.message}</p>
                                <A href="/endpoints">"Back to your endpoints"</A>
                            </div>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn EndpointDetail(endpoint: Endpoint) -> impl IntoView {
    let id = endpoint.id.to_string();
    let events = if endpoint.event_types.is_empty() {
        "Every event type".to_owned()
    } else {
        endpoint.event_types.join(", ")
    };
    let headers = if endpoint.headers.is_empty() {
        "None".to_owned()
    } else {
        endpoint
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let status = if endpoint.enabled {
        view! { <span class="pill ok" data-testid="endpoint-status">"Enabled"</span> }.into_any()
    } else {
        view! {
            <span class="pill off" data-testid="endpoint-status">"Disabled"</span>
            <p class="alert warn">{endpoint.disabled_reason.clone().unwrap_or_default()}</p>
        }
        .into_any()
    };
    view! {
        <div class="page-header">
            <div>
                <p class="muted small"><A href="/endpoints">"Endpoints"</A> " / endpoint"</p>
                <h1 class="mono break" data-testid="endpoint-url">{endpoint.url.clone()}</h1>
                <p class="muted" data-testid="endpoint-description">{endpoint.description.clone()}</p>
                {status}
            </div>
            <div class="header-actions">
                <A href=format!("/endpoints/{id}/edit") attr:class="button" attr:data-testid="edit-endpoint">
                    "Edit"
                </A>
                <DeleteButton id=id.clone() url=endpoint.url.clone()/>
            </div>
        </div>
        <div class="grid two">
            <section class="card">
                <h2>"Settings"</h2>
                <dl class="facts">
                    <dt>"Events"</dt>
                    <dd data-testid="endpoint-events">{events}</dd>
                    <dt>"Custom headers"</dt>
                    <dd><pre class="plain" data-testid="endpoint-headers">{headers}</pre></dd>
                    <dt>"Rate limit"</dt>
                    <dd>
                        {endpoint
                            .rate_limit_per_s
                            .map(|n| format!("{n} per second"))
                            .unwrap_or_else(|| "None".to_owned())}
                    </dd>
                    <dt>"Created"</dt>
                    <dd>{time(&endpoint.created_at)}</dd>
                </dl>
            </section>
            <SecretPanel id=id.clone()/>
        </div>
        <TestEventPanel id=id.clone() enabled=endpoint.enabled/>
        <RecentDeliveries id/>
    }
}

/// Delete, after an explicit confirmation naming the URL.
#[component]
fn DeleteButton(id: String, url: String) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let delete = ServerAction::<DeleteEndpoint>::new();
    let (id, url) = (StoredValue::new(id), StoredValue::new(url));
    view! {
        <Show
            when=move || confirming.get()
            fallback=move || {
                view! {
                    <button type="button" class="danger ghost" data-testid="delete-endpoint"
                        on:click=move |_| confirming.set(true)>
                        "Delete"
                    </button>
                }
            }
        >
            <div class="confirm" role="alertdialog" data-testid="confirm-delete">
                <p>"Delete " <code>{url.get_value()}</code> "? Its pending deliveries are dropped."</p>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id.get_value()/>
                    <button type="submit" class="danger" data-testid="confirm-delete-button">
                        "Delete endpoint"
                    </button>
                    <button type="button" class="ghost" on:click=move |_| confirming.set(false)>
                        "Cancel"
                    </button>
                </ActionForm>
            </div>
        </Show>
    }
}

/// The signing secret: hidden until revealed, copy, rotate with a grace period.
#[component]
fn SecretPanel(id: String) -> impl IntoView {
    let reveal = ServerAction::<RevealSecret>::new();
    let rotate = ServerAction::<RotateSecret>::new();
    let grace = RwSignal::new("86400".to_owned());
    let secret = Signal::derive(move || {
        let rotated = rotate.value().get().and_then(Result::ok).map(|r| r.secret);
        rotated.or_else(|| reveal.value().get().and_then(Result::ok))
    });
    let shown = Signal::derive(move || secret.get().unwrap_or_default());
    let error = move || {
        reveal
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| rotate.value().get().and_then(Result::err))
            .map(|e| e.message)
    };
    let reveal_id = id.clone();
    let rotate_id = id.clone();
    view! {
        <section class="card" data-testid="secret-panel">
            <h2>"Signing secret"</h2>
            <p class="muted small">
                "Verify each delivery's " <code>"webhook-signature"</code>
                " with this secret and any Standard Webhooks library."
            </p>
            <div class="secret-row">
                <code class="secret" data-testid="secret">
                    {move || secret.get().unwrap_or_else(|| "whsec_••••••••••••••••••••••••".to_owned())}
                </code>
                <Show
                    when=move || secret.get().is_some()
                    fallback=move || {
                        let id = reveal_id.clone();
                        view! {
                            <button type="button" data-testid="reveal-secret"
                                on:click=move |_| { reveal.dispatch(RevealSecret { id: id.clone() }); }>
                                "Reveal"
                            </button>
                        }
                    }
                >
                    <CopyButton text=shown testid="copy-secret"/>
                </Show>
            </div>
            <details class="rotate">
                <summary data-testid="rotate-toggle">"Rotate the secret"</summary>
                <p class="small">
                    "Rotation makes a new secret at once. During the grace period Herald signs every delivery with both "
                    "secrets (two signatures in " <code>"webhook-signature"</code>
                    "), so you can deploy the new one without missing a webhook; after it, only the new one signs."
                </p>
                <label for="grace">"Keep the old secret valid for"</label>
                <select id="grace" data-testid="grace-select"
                    on:change=move |ev| grace.set(event_target_value(&ev))>
                    <option value="0">"No grace period (stop now)"</option>
                    <option value="3600">"1 hour"</option>
                    <option value="86400" selected>"24 hours"</option>
                    <option value="604800">"7 days"</option>
                </select>
                <button type="button" class="primary" data-testid="rotate-secret"
                    disabled=move || rotate.pending().get()
                    on:click=move |_| {
                        let grace_s = grace.get_untracked().parse().unwrap_or(86_400);
                        rotate.dispatch(RotateSecret { id: rotate_id.clone(), grace_s });
                    }>
                    "Rotate now"
                </button>
                {move || {
                    rotate
                        .value()
                        .get()
                        .and_then(Result::ok)
                        .map(|r| {
                            view! {
                                <p class="alert ok" data-testid="rotation-note">
                                    "New secret shown above. The previous secret also signs until "
                                    {time(&r.previous_valid_until)} "."
                                </p>
                            }
                        })
                }}
            </details>
            <p class="field-error" role="alert">{error}</p>
        </section>
    }
}

/// Pick a type, see its example, send it to this endpoint in test mode.
#[component]
fn TestEventPanel(id: String, enabled: bool) -> impl IntoView {
    let types = Resource::new(|| (), |_| list_event_types());
    let chosen = RwSignal::new("payin.succeeded".to_owned());
    let send = ServerAction::<SendTestEvent>::new();
    view! {
        <section class="card" data-testid="test-event-panel">
            <h2>"Send a test event"</h2>
            <p class="muted small">
                "Sends the type's example payload to this endpoint only, marked "
                <code>"live_mode: false"</code> ". It appears in the deliveries below."
            </p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let types: Vec<EventType> = types.await.unwrap_or_default();
                    let examples: Vec<(String, String)> = types
                        .iter()
                        .filter(|t| !t.archived)
                        .map(|t| {
                            (t.name.clone(), serde_json::to_string_pretty(&t.example).unwrap_or_default())
                        })
                        .collect();
                    let names: Vec<String> = examples.iter().map(|(n, _)| n.clone()).collect();
                    let example = move || {
                        let name = chosen.get();
                        examples
                            .iter()
                            .find(|(n, _)| *n == name)
                            .map(|(_, e)| e.clone())
                            .unwrap_or_default()
                    };
                    view! {
                        <label for="test-type">"Event type"</label>
                        <select id="test-type" data-testid="test-type"
                            on:change=move |ev| chosen.set(event_target_value(&ev))>
                            {names
                                .into_iter()
                                .map(|n| {
                                    let selected = n == "payin.succeeded";
                                    view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
                                })
                                .collect_view()}
                        </select>
                        <pre class="json" data-testid="test-example">{example}</pre>
                    }
                })}
            </Suspense>
            <button type="button" class="primary" data-testid="send-test"
                disabled=move || send.pending().get() || !enabled
                on:click=move |_| {
                    send.dispatch(SendTestEvent { id: id.clone(), event_type: chosen.get_untracked() });
                }>
                {move || if send.pending().get() { "Sending…" } else { "Send test event" }}
            </button>
            {move || {
                send.value().get().map(|result| match result {
                    Ok(event) => view! {
                        <p class="alert ok" data-testid="test-sent">"Sent " <code>{event}</code> "."</p>
                    }
                        .into_any(),
                    Err(e) => view! { <p class="alert error" role="alert">{e.message}</p> }.into_any(),
                })
            }}
        </section>
    }
}

/// The endpoint's latest deliveries, refreshed every two seconds.
#[component]
fn RecentDeliveries(id: String) -> impl IntoView {
    let query = DeliveryQuery {
        endpoint_id: Some(id),
        ..DeliveryQuery::default()
    };
    let deliveries = Resource::new(move || query.clone(), list_deliveries);
    refresh_every(2, move || deliveries.refetch());
    view! {
        <section class="card" data-testid="recent-deliveries">
            <h2>"Latest deliveries"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match deliveries.await {
                        Ok(page) if page.items.is_empty() => {
                            view! { <p class="muted" data-testid="no-deliveries">"Nothing sent yet. Send a test event above."</p> }
                                .into_any()
                        }
                        Ok(page) => view! {
                            <table class="table compact">
                                <thead><tr><th>"Event"</th><th>"Status"</th><th>"Attempts"</th><th>"Created"</th></tr></thead>
                                <tbody>
                                    {page.items.into_iter().map(|d| view! {
                                        <tr data-testid="delivery-row">
                                            <td><A href=format!("/deliveries/{}", d.id)><code>{d.event_type.clone()}</code></A>
                                                {(!d.live_mode).then(|| view! { <span class="badge test">"test"</span> })}
                                            </td>
                                            <td><StatusBadge status=d.status/></td>
                                            <td>{d.attempt_count}</td>
                                            <td class="small">{time(&d.created_at)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }
                            .into_any(),
                        Err(e) => view! { <p class="alert error">{e.message}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
