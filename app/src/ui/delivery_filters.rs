//! The filters of a deliveries list: as they stand in the URL, so a view can
//! be shared and survives a reload, and the bar that changes them.

use crate::model::dashboard::{DeliveryQuery, CALLBACKS};
use leptos::prelude::*;
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
        tag: get("tag"),
        until: get("until"),
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
                <option value=CALLBACKS>"Callbacks (an event's callback_url)"</option>
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
