//! The operators' console: deliveries across merchants (failed ones first)
//! with bulk retry, and the merchants. The server functions refuse anyone
//! who is not an admin; these pages show that refusal.

use super::deliveries::{query_from, query_string, DeliveryFilters, DeliveryView};
use super::display::{time, StatusBadge};
use super::form::{action_error, Field, FormError};
use crate::model::dashboard::{DeliveryPage, DeliveryQuery};
use crate::model::error::AppError;
use crate::server_fn::admin::{
    admin_deliveries, admin_delivery, admin_endpoints, admin_event_types, admin_merchants,
    AdminArchiveEventType, AdminCreateEventType, AdminDisableEndpoint, AdminEnableEndpoint,
    AdminRetry, AdminRetryMatching,
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
                                <DeliveryFilters query apply endpoints=None merchants=Some(merchants)/>
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

/// `/admin/endpoints`: every merchant's endpoints; disable with a reason, enable.
#[component]
pub fn AdminEndpointsPage() -> impl IntoView {
    let disable = ServerAction::<AdminDisableEndpoint>::new();
    let enable = ServerAction::<AdminEnableEndpoint>::new();
    let endpoints = Resource::new(
        move || (disable.version().get(), enable.version().get()),
        |_| admin_endpoints(),
    );
    let merchants = Resource::new(|| (), |_| admin_merchants());
    let error = move || {
        disable
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| enable.value().get().and_then(Result::err))
            .map(|e| e.message)
    };
    view! {
        <Title text="Endpoints · Operations"/>
        <div class="page-header">
            <div>
                <h1>"Endpoints across merchants"</h1>
                <p class="muted">"Disable a misbehaving endpoint with a reason its merchant will see; enable it again when fixed."</p>
            </div>
        </div>
        <p class="field-error" role="alert" data-testid="admin-error">{error}</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (endpoints.await, merchants.await) {
                    (Err(e), _) | (_, Err(e)) => view! { <Refused error=e/> }.into_any(),
                    (Ok(list), Ok(merchants)) => {
                        let names: HashMap<String, String> =
                            merchants.into_iter().map(|m| (m.id.to_string(), m.name)).collect();
                        view! {
                            <table class="table" data-testid="admin-endpoints">
                                <thead><tr><th>"Merchant"</th><th>"URL"</th><th>"Status"</th><th></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|e| {
                                        let merchant = names.get(&e.merchant_id.to_string()).cloned().unwrap_or_default();
                                        view! { <AdminEndpointRow endpoint=e merchant disable enable/> }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn AdminEndpointRow(
    endpoint: crate::model::endpoint::Endpoint,
    merchant: String,
    disable: ServerAction<AdminDisableEndpoint>,
    enable: ServerAction<AdminEnableEndpoint>,
) -> impl IntoView {
    let id = StoredValue::new(endpoint.id.to_string());
    let reason = RwSignal::new(String::new());
    let asking = RwSignal::new(false);
    let enabled = endpoint.enabled;
    view! {
        <tr data-testid="admin-endpoint-row" data-endpoint=id.get_value()>
            <td>{merchant}</td>
            <td class="mono small break">{endpoint.url.clone()}</td>
            <td>
                {if enabled {
                    view! { <span class="pill ok">"Enabled"</span> }.into_any()
                } else {
                    view! {
                        <span class="pill off">"Disabled"</span>
                        <div class="muted small" data-testid="disabled-reason">{endpoint.disabled_reason.clone().unwrap_or_default()}</div>
                    }
                        .into_any()
                }}
            </td>
            <td>
                {if enabled {
                    view! {
                        <Show when=move || asking.get()
                            fallback=move || view! {
                                <button type="button" class="danger ghost" data-testid="disable-endpoint"
                                    on:click=move |_| asking.set(true)>"Disable"</button>
                            }>
                            <span class="confirm-inline">
                                <input type="text" placeholder="Reason the merchant will see" aria-label="Reason"
                                    data-testid="disable-reason"
                                    on:input=move |ev| reason.set(event_target_value(&ev))/>
                                <button type="button" class="danger" data-testid="confirm-disable"
                                    on:click=move |_| {
                                        disable.dispatch(AdminDisableEndpoint { id: id.get_value(), reason: reason.get_untracked() });
                                    }>"Disable"</button>
                                <button type="button" class="ghost" on:click=move |_| asking.set(false)>"Cancel"</button>
                            </span>
                        </Show>
                    }
                        .into_any()
                } else {
                    view! {
                        <button type="button" data-testid="enable-endpoint"
                            on:click=move |_| { enable.dispatch(AdminEnableEndpoint { id: id.get_value() }); }>
                            "Enable"
                        </button>
                    }
                        .into_any()
                }}
            </td>
        </tr>
    }
}

/// `/admin/event-types`: the catalog, with adding and archiving.
#[component]
pub fn AdminEventTypesPage() -> impl IntoView {
    let create = ServerAction::<AdminCreateEventType>::new();
    let archive = ServerAction::<AdminArchiveEventType>::new();
    let types = Resource::new(
        move || (create.version().get(), archive.version().get()),
        |_| admin_event_types(),
    );
    let error = action_error(create);
    let created = move || create.value().get().and_then(Result::ok).map(|t| t.name);
    view! {
        <Title text="Event types · Operations"/>
        <div class="page-header">
            <div>
                <h1>"Event-type catalog"</h1>
                <p class="muted">"Archived types cannot be subscribed to or sent; their past events and deliveries stay."</p>
            </div>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match types.await {
                    Err(e) => view! { <Refused error=e/> }.into_any(),
                    Ok(list) => view! {
                        <section class="card form">
                            <h2>"Add a type"</h2>
                            <ActionForm action=create attr:data-testid="create-type-form">
                                <FormError error/>
                                <Field name="name" label="Name" hint="Lowercase words joined by dots: payout.reversed" error/>
                                <Field name="description" label="Description" error/>
                                <div class="field" class:invalid=move || error.get().and_then(|e| e.for_field("example")).is_some()>
                                    <label for="example">"Example payload (JSON object)"</label>
                                    <textarea id="example" name="example" rows="4" data-testid="example-input" placeholder="{\"payoutId\": \"po_123\"}"></textarea>
                                    <p class="field-error" role="alert" data-testid="example-error">
                                        {move || error.get().and_then(|e| e.for_field("example"))}
                                    </p>
                                </div>
                                <button type="submit" class="primary" data-testid="create-type">"Add type"</button>
                            </ActionForm>
                            {move || created().map(|name| view! { <p class="alert ok" data-testid="type-created">"Added " <code>{name}</code> "."</p> })}
                        </section>
                        <table class="table" data-testid="admin-types">
                            <thead><tr><th>"Name"</th><th>"Description"</th><th>"State"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|t| {
                                    let name = StoredValue::new(t.name.clone());
                                    let archived = t.archived;
                                    view! {
                                        <tr data-testid="admin-type-row" data-type=t.name.clone()>
                                            <td><code>{t.name.clone()}</code></td>
                                            <td class="small">{t.description.clone()}</td>
                                            <td>{if archived { view! { <span class="pill off">"Archived"</span> }.into_any() } else { view! { <span class="pill ok">"Active"</span> }.into_any() }}</td>
                                            <td>
                                                <button type="button" class="ghost" data-testid="toggle-archive"
                                                    on:click=move |_| { archive.dispatch(AdminArchiveEventType { name: name.get_value(), archived: !archived }); }>
                                                    {if archived { "Restore" } else { "Archive" }}
                                                </button>
                                            </td>
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
