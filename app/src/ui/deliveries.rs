//! `/deliveries` and `/deliveries/:id`: every delivery, filterable, and one
//! delivery's event and attempts with a retry button.

use super::display::{refresh_every, time, StatusBadge};
use crate::model::dashboard::{DeliveryPage, DeliveryQuery};
use crate::model::error::AppError;
use crate::model::event::{Attempt, DeliveryDetail};
use crate::server_fn::deliveries::{get_delivery, list_deliveries, RetryDelivery};
use crate::server_fn::endpoints::list_endpoints;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use leptos_router::params::ParamsMap;

/// The filters of a list as they stand in the URL.
pub fn query_from(params: &ParamsMap) -> DeliveryQuery {
    let get = |key: &str| params.get(key).filter(|v| !v.is_empty());
    DeliveryQuery {
        status: get("status"),
        event_type: get("event_type"),
        endpoint_id: get("endpoint_id"),
        merchant_id: get("merchant_id"),
        since: get("since"),
        mode: get("mode"),
        cursor: get("cursor"),
    }
}

/// The URL query for a list's filters (`?status=failed&…`).
pub fn query_string(query: &DeliveryQuery) -> String {
    let pairs: Vec<String> = [
        ("status", &query.status),
        ("event_type", &query.event_type),
        ("endpoint_id", &query.endpoint_id),
        ("merchant_id", &query.merchant_id),
        ("since", &query.since),
        ("mode", &query.mode),
        ("cursor", &query.cursor),
    ]
    .into_iter()
    .filter_map(|(k, v)| {
        v.as_ref()
            .filter(|v| !v.is_empty())
            .map(|v| format!("{k}={}", encode(v)))
    })
    .collect();
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `/deliveries`
#[component]
pub fn DeliveriesPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| query_from(&params.read()));
    let deliveries = Resource::new(move || query.get(), list_deliveries);
    let endpoints = Resource::new(|| (), |_| list_endpoints());
    refresh_every(3, move || deliveries.refetch());
    let navigate = use_navigate();
    let apply = move |change: DeliveryQuery| {
        navigate(
            &format!("/deliveries{}", query_string(&change)),
            Default::default(),
        );
    };
    view! {
        <Title text="Deliveries"/>
        <div class="page-header">
            <div>
                <h1>"Deliveries"</h1>
                <p class="muted">"Every event sent to your endpoints, newest first. The list refreshes itself."</p>
            </div>
        </div>
        <Suspense fallback=|| ()>
            {move || {
                let apply = apply.clone();
                Suspend::new(async move {
                    let endpoints = endpoints.await.unwrap_or_default();
                    view! { <DeliveryFilters query apply endpoints=Some(endpoints) merchants=None/> }
                })
            }}
        </Suspense>
        <Transition fallback=|| view! { <p class="muted">"Loading deliveries…"</p> }>
            {move || Suspend::new(async move {
                match deliveries.await {
                    Ok(page) => view! { <DeliveryTable page query=query.get_untracked() base="/deliveries" admin=false/> }.into_any(),
                    Err(e) => view! { <div class="alert error" role="alert">{e.message}</div> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The filter bar: changing a filter changes the URL, so a view can be
/// shared. Merchants pick among their endpoints; operators (`merchants`
/// given) pick a merchant and type an endpoint id, and start from failures.
#[component]
pub fn DeliveryFilters(
    query: Memo<DeliveryQuery>,
    apply: impl Fn(DeliveryQuery) + Clone + Send + Sync + 'static,
    endpoints: Option<Vec<crate::model::endpoint::Endpoint>>,
    merchants: Option<Vec<crate::model::merchant::Merchant>>,
) -> impl IntoView {
    let set = move |change: fn(&mut DeliveryQuery, String)| {
        let apply = apply.clone();
        move |ev: leptos::ev::Event| {
            let mut next = query.get_untracked();
            change(&mut next, event_target_value(&ev));
            next.cursor = None;
            apply(next);
        }
    };
    let current = move |pick: fn(&DeliveryQuery) -> Option<String>| {
        move || pick(&query.get()).unwrap_or_default()
    };
    let operators = merchants.is_some();
    let merchant_filter = merchants.map(|merchants| {
        view! {
            <label>"Merchant"
                <select data-testid="filter-merchant" prop:value=current(|q| q.merchant_id.clone())
                    on:change=set(|q, v| q.merchant_id = Some(v))>
                    <option value="">"All merchants"</option>
                    {merchants.into_iter().map(|m| view! { <option value=m.id.to_string()>{m.name}</option> }).collect_view()}
                </select>
            </label>
        }
    });
    let endpoint_filter = match endpoints {
        Some(endpoints) => view! {
            <select data-testid="filter-endpoint" prop:value=current(|q| q.endpoint_id.clone())
                on:change=set(|q, v| q.endpoint_id = Some(v))>
                <option value="">"Any"</option>
                {endpoints.into_iter().map(|e| view! { <option value=e.id.to_string()>{e.url}</option> }).collect_view()}
            </select>
        }
        .into_any(),
        None => view! {
            <input type="text" placeholder="ep_…" data-testid="filter-endpoint"
                prop:value=current(|q| q.endpoint_id.clone())
                on:change=set(|q, v| q.endpoint_id = Some(v))/>
        }
        .into_any(),
    };
    view! {
        <div class="filters" data-testid="filters">
            <label>"Status"
                <select data-testid="filter-status" prop:value=current(|q| q.status.clone())
                    on:change=set(|q, v| q.status = Some(v))>
                    {(!operators).then(|| view! { <option value="">"Any"</option> })}
                    <option value="failed">"Failed"</option>
                    <option value="pending">"Pending"</option>
                    <option value="succeeded">"Succeeded"</option>
                    <option value="cancelled">"Cancelled"</option>
                </select>
            </label>
            {merchant_filter}
            <label>"Event type"
                <input type="text" placeholder="payin.succeeded" data-testid="filter-type"
                    prop:value=current(|q| q.event_type.clone())
                    on:change=set(|q, v| q.event_type = Some(v))/>
            </label>
            <label>"Endpoint" {endpoint_filter}</label>
            <label>"Mode"
                <select data-testid="filter-mode" prop:value=current(|q| q.mode.clone())
                    on:change=set(|q, v| q.mode = Some(v))>
                    <option value="">"Live and test"</option>
                    <option value="live">"Live only"</option>
                    <option value="test">"Test only"</option>
                </select>
            </label>
            <label>"Since"
                <select data-testid="filter-since" prop:value=current(|q| q.since.clone())
                    on:change=set(|q, v| q.since = Some(v))>
                    <option value="">"Any time"</option>
                    <option value="1h">"Last hour"</option>
                    <option value="24h">"Last 24 hours"</option>
                    <option value="7d">"Last 7 days"</option>
                </select>
            </label>
        </div>
    }
}

/// A page of deliveries with a link to the next (older) page.
#[component]
pub fn DeliveryTable(
    page: DeliveryPage,
    query: DeliveryQuery,
    base: &'static str,
    admin: bool,
) -> impl IntoView {
    if page.items.is_empty() {
        return view! {
            <div class="empty" data-testid="deliveries-empty">
                <h2>"No deliveries match"</h2>
                <p class="muted">
                    "Deliveries appear here when events are sent to your endpoints. Send a test event from an endpoint's page, or clear the filters."
                </p>
            </div>
        }
            .into_any();
    }
    let older = page.next_cursor.map(|cursor| {
        let next = DeliveryQuery {
            cursor: Some(cursor),
            ..query.clone()
        };
        format!("{base}{}", query_string(&next))
    });
    let newest = query.cursor.is_some().then(|| {
        format!(
            "{base}{}",
            query_string(&DeliveryQuery {
                cursor: None,
                ..query.clone()
            })
        )
    });
    view! {
        <table class="table" data-testid="deliveries-table">
            <thead>
                <tr>
                    <th>"Event type"</th>
                    <th>"Endpoint"</th>
                    <th>"Status"</th>
                    <th>"Attempts"</th>
                    <th>"Last answer"</th>
                    <th>"Created"</th>
                </tr>
            </thead>
            <tbody>
                {page
                    .items
                    .into_iter()
                    .map(|d| {
                        let href = format!("{base}/{}", d.id);
                        view! {
                            <tr data-testid="delivery-row" data-status=d.status.as_str()>
                                <td>
                                    <A href=href><code>{d.event_type.clone()}</code></A>
                                    {(!d.live_mode).then(|| view! { <span class="badge test">"test"</span> })}
                                    {admin.then(|| view! { <div class="muted small">{d.merchant_id.to_string()}</div> })}
                                </td>
                                <td class="mono small break">{d.url.clone()}</td>
                                <td><StatusBadge status=d.status/></td>
                                <td>{d.attempt_count}</td>
                                <td>{d.last_status_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into())}</td>
                                <td class="small">{time(&d.created_at)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <div class="pager">
            {newest.map(|href| view! { <A href=href attr:class="button ghost">"Newest"</A> })}
            {older.map(|href| view! { <A href=href attr:class="button ghost" attr:data-testid="older">"Older"</A> })}
        </div>
    }
        .into_any()
}

/// `/deliveries/:id`
#[component]
pub fn DeliveryPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, get_delivery);
    view! {
        <Title text="Delivery"/>
        <p class="muted small"><A href="/deliveries">"Deliveries"</A> " / delivery"</p>
        <DeliveryView detail retry=true/>
    }
}

/// A delivery's header, payload and attempts; `retry` adds the retry button.
#[component]
pub fn DeliveryView(
    detail: Resource<Result<DeliveryDetail, AppError>>,
    retry: bool,
) -> impl IntoView {
    let retry_action = ServerAction::<RetryDelivery>::new();
    // While a retry is on its way, look for the new attempt every second.
    let waiting = RwSignal::new(false);
    refresh_every(1, move || {
        if waiting.get_untracked() {
            detail.refetch();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = retry_action.value().get() {
            waiting.set(true);
            detail.refetch();
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the delivery…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => {
                        if d.delivery.status.as_str() != "pending" {
                            waiting.set(false);
                        }
                        let id = d.delivery.id.to_string();
                        let payload = serde_json::to_string_pretty(&d.event.data).unwrap_or_default();
                        view! {
                            <div class="page-header">
                                <div>
                                    <h1><code>{d.delivery.event_type.clone()}</code></h1>
                                    <p class="muted mono break">{d.delivery.url.clone()}</p>
                                    <StatusBadge status=d.delivery.status/>
                                    {(!d.delivery.live_mode).then(|| view! { <span class="badge test">"test mode"</span> })}
                                </div>
                                {retry.then(|| {
                                    let id = id.clone();
                                    view! {
                                        <button type="button" class="primary" data-testid="retry"
                                            disabled=move || retry_action.pending().get()
                                            on:click=move |_| { retry_action.dispatch(RetryDelivery { id: id.clone() }); }>
                                            "Retry now"
                                        </button>
                                    }
                                })}
                            </div>
                            {move || retry_action.value().get().and_then(Result::err).map(|e| view! {
                                <p class="alert error" role="alert" data-testid="retry-error">{e.message}</p>
                            })}
                            <dl class="facts card">
                                <dt>"Delivery"</dt><dd class="mono">{id.clone()}</dd>
                                <dt>"Event"</dt><dd class="mono">{d.event.id.to_string()}</dd>
                                <dt>"Created"</dt><dd>{time(&d.delivery.created_at)}</dd>
                                <dt>"Next attempt"</dt>
                                <dd>{d.delivery.next_attempt_at.as_ref().map(time).unwrap_or_else(|| "None scheduled".into())}</dd>
                            </dl>
                            <section class="card">
                                <h2>"Payload"</h2>
                                <pre class="json" data-testid="payload">{payload}</pre>
                            </section>
                            <section>
                                <h2>{format!("Attempts ({})", d.attempts.len())}</h2>
                                {if d.attempts.is_empty() {
                                    view! { <p class="muted" data-testid="no-attempts">"No attempt yet: it is due now."</p> }.into_any()
                                } else {
                                    view! {
                                        <ol class="timeline" data-testid="attempts">
                                            {d.attempts.into_iter().rev().map(|a| view! { <AttemptItem attempt=a/> }).collect_view()}
                                        </ol>
                                    }
                                        .into_any()
                                }}
                            </section>
                        }
                            .into_any()
                    }
                    Err(e) => view! {
                        <div class="empty" data-testid="not-found">
                            <h2>"Delivery not found"</h2>
                            <p class="muted">{e.message}</p>
                        </div>
                    }
                        .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AttemptItem(attempt: Attempt) -> impl IntoView {
    let ok = attempt.error_kind.is_none();
    let outcome = match (attempt.status_code, &attempt.error_kind) {
        (Some(code), _) => format!("HTTP {code}"),
        (None, Some(kind)) => kind.as_str().to_owned(),
        (None, None) => "—".to_owned(),
    };
    let headers = |map: &std::collections::BTreeMap<String, String>| {
        map.iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let sent = headers(&attempt.request_headers);
    let received = headers(&attempt.response_headers);
    view! {
        <li class="attempt" class:ok=ok class:failed=!ok data-testid="attempt">
            <div class="attempt-head">
                <strong>{format!("Attempt {}", attempt.attempt_number)}</strong>
                <span class="badge" class:status-succeeded=ok class:status-failed=!ok data-testid="attempt-outcome">{outcome}</span>
                {attempt.error_kind.map(|k| view! { <span class="muted small">{format!("error: {}", k.as_str())}</span> })}
                {attempt.manual.then(|| view! { <span class="badge">"manual retry"</span> })}
                <span class="muted small">{format!("{} · {} ms", time(&attempt.started_at), attempt.duration_ms)}</span>
            </div>
            {attempt.error_message.map(|m| view! { <p class="small mono" data-testid="attempt-error">{m}</p> })}
            <details>
                <summary>"Request headers sent"</summary>
                <pre class="plain">{sent}</pre>
            </details>
            <details open=!ok>
                <summary>"Response received"</summary>
                <pre class="plain">{received}</pre>
                <pre class="plain" data-testid="response-body">{attempt.response_body.unwrap_or_default()}</pre>
            </details>
        </li>
    }
}
