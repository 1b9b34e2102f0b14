//! The operators' console: deliveries across merchants (failed ones first)
//! with bulk retry, any merchant's delivery and event, and the merchants.
//! The server functions refuse anyone who is not an admin; `Loaded` shows
//! that refusal.

use super::bulk_retry::BulkRetry;
use super::deliveries::{DeliveryView, RetryAs};
use super::delivery_filters::{query_from, query_string, DeliveryFilters};
use super::delivery_table::DeliveryTable;
use super::display::{confirm_keys, time};
use super::events::EventView;
use super::form::{action_error, Field, FormError, TextField};
use super::loaded::{both, Loaded};
use crate::model::dashboard::DeliveryQuery;
use crate::server_fn::admin::{
    admin_count_deliveries, admin_deliveries, admin_delivery, admin_endpoints, admin_event,
    admin_event_types, admin_merchants, AdminArchiveEventType, AdminCreateEventType,
    AdminDisableEndpoint, AdminEnableEndpoint, AdminRetry, AdminRetryMatching,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use std::collections::{BTreeSet, HashMap};

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
    let matching = Resource::new(
        move || {
            (
                query.get(),
                retry.version().get(),
                retry_all.version().get(),
            )
        },
        |(q, _, _)| admin_count_deliveries(q),
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
    let outcome = Signal::derive(move || retry.value().get().or_else(|| retry_all.value().get()));
    view! {
        <Title text="Deliveries · Operations"/>
        <div class="page-header">
            <div>
                <h1>"Deliveries across merchants"</h1>
                <p class="muted">"Failed deliveries first. Retry a selection, or everything the filters match."</p>
            </div>
        </div>
        <Loaded data=move || merchants loading="Loading…" let:merchants>
            {
                let names: HashMap<String, String> = merchants
                    .iter()
                    .map(|m| (m.id.to_string(), m.name.clone()))
                    .collect();
                view! {
                    <DeliveryFilters query apply=apply.clone() endpoints=None merchants=Some(merchants)/>
                    <BulkRetry selected matching outcome
                        retry_selected=move |ids| {
                            // The newest retry's answer is the one shown.
                            retry_all.clear();
                            retry.dispatch(AdminRetry { ids });
                        }
                        retry_matching=move |()| {
                            retry.clear();
                            retry_all.dispatch(AdminRetryMatching { query: DeliveryQuery { cursor: None, ..query.get_untracked() } });
                        }/>
                    <Loaded data=move || deliveries loading="Loading deliveries…" let:page>
                        <DeliveryTable page query=query.get_untracked() base="/admin/deliveries"
                            merchant_names=names.clone() selected/>
                    </Loaded>
                }
            }
        </Loaded>
    }
}

/// `/admin/deliveries/:id`: any merchant's delivery, with "Retry now".
#[component]
pub fn AdminDeliveryPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, admin_delivery);
    view! {
        <Title text="Delivery · Operations"/>
        <p class="muted small"><A href="/admin/deliveries">"Deliveries across merchants"</A> " / delivery"</p>
        <DeliveryView detail retry=RetryAs::Operator events="/admin/events"/>
    }
}

/// `/admin/events/:id`: any merchant's event and where it went.
#[component]
pub fn AdminEventPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, admin_event);
    view! {
        <Title text="Event · Operations"/>
        <p class="muted small"><A href="/admin/search">"Search all accounts"</A> " / event"</p>
        <EventView detail operators=true/>
    }
}

/// `/admin/merchants`
#[component]
pub fn AdminMerchantsPage() -> impl IntoView {
    let merchants = Resource::new(|| (), |_| admin_merchants());
    view! {
        <Title text="Merchants · Operations"/>
        <div class="page-header"><div><h1>"Merchants"</h1></div></div>
        <Loaded data=move || merchants loading="Loading…" let:list>
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
        </Loaded>
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
        <Loaded data=move || both(endpoints, merchants) loading="Loading…" let((list, merchants))>
            {
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
            }
        </Loaded>
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
    let keys = confirm_keys(asking);
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
                                    node_ref=keys.opener
                                    on:click=move |_| asking.set(true)>"Disable"</button>
                            }>
                            <span class="confirm-inline">
                                <input type="text" placeholder="Reason the merchant will see" aria-label="Reason"
                                    data-testid="disable-reason"
                                    on:input=move |ev| reason.set(event_target_value(&ev))/>
                                <button type="button" class="danger" data-testid="confirm-disable" node_ref=keys.first
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
        <Loaded data=move || types loading="Loading…" let:list>
            <section class="card form">
                <h2>"Add a type"</h2>
                <ActionForm action=create attr:data-testid="create-type-form">
                    <FormError error/>
                    <TextField name="name" label="Name" required=true
                        hint="Lowercase words joined by dots: payout.reversed" error/>
                    <TextField name="description" label="Description" required=true error/>
                    <Field name="example" label="Example payload (JSON object)" error>
                        <textarea id="example" name="example" rows="4" aria-describedby="example-error"
                            data-testid="example-input" placeholder="{\"payoutId\": \"po_123\"}"></textarea>
                    </Field>
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
        </Loaded>
    }
}
