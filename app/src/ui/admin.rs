//! The operators' console: deliveries across merchants (failed ones first)
//! with bulk retry, and the merchants. The server functions refuse anyone
//! who is not an admin; these pages show that refusal.

use super::deliveries::{query_from, query_string, DeliveryView};
use super::display::{time, StatusBadge};
use crate::model::dashboard::{DeliveryPage, DeliveryQuery};
use crate::model::error::AppError;
use crate::model::merchant::Merchant;
use crate::server_fn::admin::{
    admin_deliveries, admin_delivery, admin_merchants, AdminRetry, AdminRetryMatching,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use std::collections::{BTreeSet, HashMap};

/// What a non-admin sees instead of an admin page.
#[component]
pub fn Refused(error: AppError) -> impl IntoView {
    view! {
        <div class="empty" data-testid="refused">
            <h2>"Not allowed"</h2>
            <p class="muted">
                {if error.code == "forbidden" {
                    "This page is for Herald's operators.".to_owned()
                } else {
                    error.message
                }}
            </p>
            <A href="/">"Back to your dashboard"</A>
        </div>
    }
}

/// `/admin/deliveries`: failed deliveries by default, across every merchant.
#[component]
pub fn AdminDeliveriesPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let mut q = query_from(&params.read());
        if params.read().get("status").is_none() {
            q.status = Some("failed".into());
        }
        q
    });
    let retry = ServerAction::<AdminRetry>::new();
    let retry_all = ServerAction::<AdminRetryMatching>::new();
    let deliveries = Resource::new(
        move || {
            (
                query.get(),
                retry.version().get(),
                retry_all.version().get(),
            )
        },
        |(q, _, _)| admin_deliveries(q),
    );
    let merchants = Resource::new(|| (), |_| admin_merchants());
    let selected: RwSignal<BTreeSet<String>> = RwSignal::new(BTreeSet::new());
    let navigate = use_navigate();
    let apply = move |next: DeliveryQuery| {
        selected.set(BTreeSet::new());
        navigate(
            &format!("/admin/deliveries{}", query_string(&next)),
            Default::default(),
        );
    };
    let queued = move || {
        retry
            .value()
            .get()
            .or_else(|| retry_all.value().get())
            .map(|result| match result {
                Ok(n) => view! { <p class="alert ok" data-testid="queued">{format!("{n} deliveries queued for a new attempt now.")}</p> }.into_any(),
                Err(e) => view! { <p class="alert error" role="alert">{e.message}</p> }.into_any(),
            })
    };
    view! {
        <Title text="Deliveries · Operations"/>
        <div class="page-header">
            <div>
                <h1>"Deliveries across merchants"</h1>
                <p class="muted">"Failed deliveries first. Retry a selection, or everything the filters match."</p>
            </div>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let apply = apply.clone();
                Suspend::new(async move {
                    match merchants.await {
                        Err(e) => view! { <Refused error=e/> }.into_any(),
                        Ok(merchants) => {
                            let names: HashMap<String, String> = merchants
                                .iter()
                                .map(|m| (m.id.to_string(), m.name.clone()))
                                .collect();
                            view! {
                                <AdminFilters query merchants apply/>
                                <div class="bulk-actions">
                                    <button type="button" data-testid="retry-selected"
                                        disabled=move || selected.with(BTreeSet::is_empty)
                                        on:click=move |_| { retry.dispatch(AdminRetry { ids: selected.get_untracked().into_iter().collect() }); }>
                                        {move || format!("Retry selected ({})", selected.with(BTreeSet::len))}
                                    </button>
                                    <button type="button" class="ghost" data-testid="retry-matching"
                                        on:click=move |_| { retry_all.dispatch(AdminRetryMatching { query: DeliveryQuery { cursor: None, ..query.get_untracked() } }); }>
                                        "Retry everything matching"
                                    </button>
                                </div>
                                {queued}
                                <Transition fallback=|| view! { <p class="muted">"Loading deliveries…"</p> }>
                                    {
                                        let names = names.clone();
                                        move || {
                                            let names = names.clone();
                                            Suspend::new(async move {
                                                match deliveries.await {
                                                    Ok(page) => view! { <AdminTable page names selected query=query.get_untracked()/> }.into_any(),
                                                    Err(e) => view! { <Refused error=e/> }.into_any(),
                                                }
                                            })
                                        }
                                    }
                                </Transition>
                            }
                                .into_any()
                        }
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn AdminFilters(
    query: Memo<DeliveryQuery>,
    merchants: Vec<Merchant>,
    apply: impl Fn(DeliveryQuery) + Clone + Send + Sync + 'static,
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
    view! {
        <div class="filters" data-testid="filters">
            <label>"Status"
                <select data-testid="filter-status" prop:value=current(|q| q.status.clone())
                    on:change=set(|q, v| q.status = Some(v))>
                    <option value="failed">"Failed"</option>
                    <option value="pending">"Pending"</option>
                    <option value="succeeded">"Succeeded"</option>
                    <option value="cancelled">"Cancelled"</option>
                </select>
            </label>
            <label>"Merchant"
                <select data-testid="filter-merchant" prop:value=current(|q| q.merchant_id.clone())
                    on:change=set(|q, v| q.merchant_id = Some(v))>
                    <option value="">"All merchants"</option>
                    {merchants.into_iter().map(|m| view! { <option value=m.id.to_string()>{m.name}</option> }).collect_view()}
                </select>
            </label>
            <label>"Event type"
                <input type="text" placeholder="payout.failed" data-testid="filter-type"
                    prop:value=current(|q| q.event_type.clone())
                    on:change=set(|q, v| q.event_type = Some(v))/>
            </label>
            <label>"Endpoint id"
                <input type="text" placeholder="ep_…" data-testid="filter-endpoint"
                    prop:value=current(|q| q.endpoint_id.clone())
                    on:change=set(|q, v| q.endpoint_id = Some(v))/>
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

#[component]
fn AdminTable(
    page: DeliveryPage,
    names: HashMap<String, String>,
    selected: RwSignal<BTreeSet<String>>,
    query: DeliveryQuery,
) -> impl IntoView {
    if page.items.is_empty() {
        return view! {
            <div class="empty" data-testid="deliveries-empty">
                <h2>"Nothing here"</h2>
                <p class="muted">"No delivery matches these filters."</p>
            </div>
        }
        .into_any();
    }
    let older = page.next_cursor.map(|cursor| {
        format!(
            "/admin/deliveries{}",
            query_string(&DeliveryQuery {
                cursor: Some(cursor),
                ..query
            })
        )
    });
    view! {
        <table class="table" data-testid="deliveries-table">
            <thead>
                <tr><th></th><th>"Merchant"</th><th>"Event type"</th><th>"Endpoint"</th><th>"Status"</th><th>"Attempts"</th><th>"Last answer"</th><th>"Created"</th></tr>
            </thead>
            <tbody>
                {page.items.into_iter().map(|d| {
                    let id = d.id.to_string();
                    let merchant = names.get(&d.merchant_id.to_string()).cloned().unwrap_or_else(|| d.merchant_id.to_string());
                    let toggle_id = id.clone();
                    let checked_id = id.clone();
                    view! {
                        <tr data-testid="delivery-row">
                            <td>
                                <input type="checkbox" aria-label="Select" data-testid="select-delivery"
                                    prop:checked=move || selected.with(|s| s.contains(&checked_id))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        selected.update(|s| { if on { s.insert(toggle_id.clone()); } else { s.remove(&toggle_id); } });
                                    }/>
                            </td>
                            <td data-testid="merchant-cell">{merchant}</td>
                            <td><A href=format!("/admin/deliveries/{id}")><code>{d.event_type.clone()}</code></A></td>
                            <td class="mono small break">{d.url.clone()}</td>
                            <td><StatusBadge status=d.status/></td>
                            <td>{d.attempt_count}</td>
                            <td>{d.last_status_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into())}</td>
                            <td class="small">{time(&d.created_at)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <div class="pager">
            {older.map(|href| view! { <A href=href attr:class="button ghost">"Older"</A> })}
        </div>
    }
        .into_any()
}

/// `/admin/deliveries/:id`: any merchant's delivery, read-only.
#[component]
pub fn AdminDeliveryPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, admin_delivery);
    view! {
        <Title text="Delivery · Operations"/>
        <p class="muted small"><A href="/admin/deliveries">"Deliveries across merchants"</A> " / delivery"</p>
        <DeliveryView detail retry=false/>
    }
}

/// `/admin/merchants`
#[component]
pub fn AdminMerchantsPage() -> impl IntoView {
    let merchants = Resource::new(|| (), |_| admin_merchants());
    view! {
        <Title text="Merchants · Operations"/>
        <div class="page-header"><div><h1>"Merchants"</h1></div></div>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match merchants.await {
                    Err(e) => view! { <Refused error=e/> }.into_any(),
                    Ok(list) => view! {
                        <table class="table" data-testid="merchants-table">
                            <thead><tr><th>"Name"</th><th>"Email"</th><th>"Role"</th><th>"Id"</th><th>"Created"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|m| {
                                    let failed = format!("/admin/deliveries?merchant_id={}", m.id);
                                    let role = if m.is_admin() { "admin" } else { "merchant" };
                                    let (name, email, id, created) = (m.name, m.email, m.id.to_string(), time(&m.created_at));
                                    view! {
                                        <tr data-testid="merchant-row">
                                            <td><A href=failed>{name}</A></td>
                                            <td>{email}</td>
                                            <td>{role}</td>
                                            <td class="mono small">{id}</td>
                                            <td class="small">{created}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }
                        .into_any(),
                }
            })}
        </Suspense>
    }
}
