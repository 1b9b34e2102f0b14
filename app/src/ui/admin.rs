//! The operators' console: deliveries across merchants (failed ones first)
//! with bulk retry, any merchant's delivery and event; the endpoints, the
//! merchants and the catalog in the modules below. The server functions
//! refuse anyone who is not an admin; `Loaded` shows that refusal.

mod endpoints;
mod event_types;
mod merchants;

pub use endpoints::AdminEndpointsPage;
pub use event_types::AdminEventTypesPage;
pub use merchants::AdminMerchantsPage;

use super::bulk_retry::BulkRetry;
use super::deliveries::{DeliveryView, RetryAs};
use super::delivery_filters::{query_from, query_string, DeliveryFilters};
use super::delivery_table::DeliveryTable;
use super::events::EventView;
use super::loaded::Loaded;
use crate::model::dashboard::DeliveryQuery;
use crate::server_fn::admin::{
    admin_count_deliveries, admin_deliveries, admin_delivery, admin_event, admin_merchants,
    AdminRetry, AdminRetryMatching,
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
