//! `/deliveries` and `/deliveries/:id`: every delivery, filterable, and one
//! delivery's event and attempts with a retry button.

use super::bulk_retry::BulkRetry;
use super::delivery_filters::{query_from, query_string, DeliveryFilters};
use super::delivery_table::DeliveryTable;
use super::display::{
    refresh_every, refresh_when_changed, time, url_host, Payload, StatusBadge, Tags, When,
};
use super::loaded::Loaded;
use crate::model::dashboard::{DeliveryPage, DeliveryQuery};
use crate::model::error::AppError;
use crate::model::event::{Attempt, DeliveryDetail};
use crate::model::member::Account;
use crate::server_fn::account::whoami;
use crate::server_fn::admin::AdminRetryDelivery;
use crate::server_fn::deliveries::{
    count_deliveries, deliveries_changed, get_delivery, list_deliveries, RetryDelivery,
    RetryMatching, RetrySelected,
};
use crate::server_fn::endpoints::list_endpoints;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use std::collections::BTreeSet;

/// `/deliveries`
#[component]
pub fn DeliveriesPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| query_from(&params.read()));
    let retry = ServerAction::<RetrySelected>::new();
    let retry_all = ServerAction::<RetryMatching>::new();
    let deliveries = Resource::new(
        move || {
            (
                query.get(),
                retry.version().get(),
                retry_all.version().get(),
            )
        },
        |(q, _, _)| list_deliveries(q),
    );
    let matching = Resource::new(
        move || {
            (
                query.get(),
                retry.version().get(),
                retry_all.version().get(),
            )
        },
        |(q, _, _)| count_deliveries(q),
    );
    let endpoints = Resource::new(|| (), |_| list_endpoints());
    let me = Resource::new(|| (), |_| whoami());
    // A viewer changes nothing: no retry buttons (the server refuses anyway).
    let can_change = move || async move {
        me.await
            .map(|me| me.as_ref().is_some_and(Account::can_change))
    };
    refresh_when_changed(
        3,
        move || async move { page_changed(deliveries, query.get_untracked()).await },
        move || deliveries.refetch(),
    );
    let selected: RwSignal<BTreeSet<String>> = RwSignal::new(BTreeSet::new());
    let outcome = Signal::derive(move || retry.value().get().or_else(|| retry_all.value().get()));
    let navigate = use_navigate();
    let apply = move |change: DeliveryQuery| {
        selected.set(BTreeSet::new());
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
                <p class="muted">"Every event sent to your endpoints and callback URLs, newest first. The list refreshes itself. Tick rows to retry them, or retry everything the filters match."</p>
            </div>
        </div>
        // The endpoint picker is an aid: without the endpoints it is empty and
        // the other filters still work; the list below shows any error.
        <Loaded data=move || async move { Ok(endpoints.await.unwrap_or_default()) } let:endpoints>
            <DeliveryFilters query apply=apply.clone() endpoints=Some(endpoints) merchants=None/>
        </Loaded>
        <Loaded data=can_change let:can_change>
            {can_change.then(|| view! {
                <BulkRetry selected matching outcome
                    retry_selected=move |ids| {
                        // The newest retry's answer is the one shown.
                        retry_all.clear();
                        retry.dispatch(RetrySelected { ids });
                    }
                    retry_matching=move |()| {
                        retry.clear();
                        retry_all.dispatch(RetryMatching { query: query.get_untracked() });
                    }/>
            })}
        </Loaded>
        <Loaded data=move || deliveries loading="Loading deliveries…" let:page>
            <DeliveryTable page query=query.get_untracked() base="/deliveries" selected/>
        </Loaded>
    }
}

/// Whether the deliveries `query` finds differ from the page `shown` holds
/// (asked of the server with the page's fingerprint; `true` when unsure).
pub async fn page_changed(
    shown: Resource<Result<DeliveryPage, AppError>>,
    query: DeliveryQuery,
) -> bool {
    let seen = shown
        .get_untracked()
        .and_then(Result::ok)
        .map(|page| page.fingerprint());
    match seen {
        Some(seen) => deliveries_changed(query, seen).await.unwrap_or(true),
        None => true,
    }
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
        <DeliveryView detail retry=RetryAs::Merchant events="/events"/>
    }
}

/// Who presses a delivery page's "Retry now": the merchant it belongs to, or
/// an operator (any merchant's delivery).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAs {
    Merchant,
    Operator,
}

/// A delivery's header, payload and attempts, with the retry button.
#[component]
pub fn DeliveryView(
    detail: Resource<Result<DeliveryDetail, AppError>>,
    retry: RetryAs,
    /// Where events' pages are: the event links to `{events}/{id}`.
    events: &'static str,
) -> impl IntoView {
    // One of the two is ever dispatched on a page; the button reads both.
    let merchant_retry = ServerAction::<RetryDelivery>::new();
    let operator_retry = ServerAction::<AdminRetryDelivery>::new();
    let retry_pending =
        Signal::derive(move || merchant_retry.pending().get() || operator_retry.pending().get());
    let retry_outcome = Signal::derive(move || match retry {
        RetryAs::Merchant => merchant_retry.value().get(),
        RetryAs::Operator => operator_retry.value().get(),
    });
    let dispatch_retry = move |id: String| match retry {
        RetryAs::Merchant => {
            merchant_retry.dispatch(RetryDelivery { id });
        }
        RetryAs::Operator => {
            operator_retry.dispatch(AdminRetryDelivery { id });
        }
    };
    // A viewer (merchant pages only: operators retry any delivery) gets no
    // "Retry now". The role is read beside the delivery, in the one `Loaded`.
    let me = (retry == RetryAs::Merchant).then(|| Resource::new(|| (), |_| whoami()));
    let loaded = move || async move {
        let can_retry = match me {
            None => Ok(true),
            Some(me) => me
                .await
                .map(|me| me.as_ref().is_some_and(Account::can_change)),
        };
        let detail = detail.await;
        Ok((detail?, can_retry?))
    };
    // While a retry is on its way, look for the new attempt every second.
    let waiting = RwSignal::new(false);
    refresh_every(1, move || {
        if waiting.get_untracked() {
            detail.refetch();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = retry_outcome.get() {
            waiting.set(true);
            detail.refetch();
        }
    });
    view! {
        <Loaded data=loaded loading="Loading the delivery…" let((d, can_retry))>
            {
                if d.delivery.status.as_str() != "pending" {
                    waiting.set(false);
                }
                let id = d.delivery.id.to_string();
                let event_id = d.event.id.to_string();
                let event_href = format!("{events}/{event_id}");
                let title = format!(
                    "Delivery of {} to {}{}",
                    d.delivery.event_type,
                    url_host(&d.delivery.url),
                    if retry == RetryAs::Operator { " · Operations" } else { "" }
                );
                view! {
                    <Title text=title/>
                    <div class="page-header">
                        <div>
                            <h1><code>{d.delivery.event_type.clone()}</code></h1>
                            <p class="muted mono break">{d.delivery.url.clone()}</p>
                            <StatusBadge status=d.delivery.status/>
                            {(!d.delivery.live_mode).then(|| view! { <span class="badge test">"test mode"</span> })}
                        </div>
                        {
                            let id = id.clone();
                            can_retry.then(|| view! {
                                <button type="button" class="primary" data-testid="retry"
                                    disabled=move || retry_pending.get()
                                    on:click=move |_| dispatch_retry(id.clone())>
                                    "Retry now"
                                </button>
                            })
                        }
                    </div>
                    {move || retry_outcome.get().and_then(Result::err).map(|e| view! {
                        <p class="alert error" role="alert" data-testid="retry-error">{e.message}</p>
                    })}
                    <dl class="facts card">
                        <dt>"Delivery"</dt><dd class="mono">{id.clone()}</dd>
                        <dt>"Event"</dt>
                        <dd class="mono break">
                            <A href=event_href attr:data-testid="event-link">{event_id}</A>
                        </dd>
                        <dt>"Tags"</dt><dd><Tags tags=d.delivery.tags.clone() none="None"/></dd>
                        <dt>"Created"</dt><dd><When at=d.delivery.created_at/></dd>
                        <dt>"Next attempt"</dt>
                        <dd>{d.delivery.next_attempt_at.map(|at| view! { <When at/> }.into_any()).unwrap_or_else(|| "None scheduled".into_any())}</dd>
                    </dl>
                    <Payload data=d.event.data.clone()/>
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
            }
        </Loaded>
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
