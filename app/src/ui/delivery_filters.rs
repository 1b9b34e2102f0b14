//! The filters of a deliveries list: as they stand in the URL, so a view can
//! be shared and survives a reload, and the bar that changes them.

use super::filter_fields::{
    with_value, ClearFilters, ModeFilter, ResponseFilter, SinceFilter, TagFilter, TypeFilter,
    UntilFilter,
};
use super::url_query::{encode_query, param};
use crate::model::dashboard::{DeliveryQuery, CALLBACKS};
use leptos::prelude::*;
use leptos_router::params::ParamsMap;

/// The filters of a list as they stand in the URL.
pub fn query_from(params: &ParamsMap) -> DeliveryQuery {
    let get = |key: &str| param(params, key);
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
        status_code: get("status_code"),
    }
}

/// The URL query for a list's filters (`?status=failed&…`).
pub fn query_string(query: &DeliveryQuery) -> String {
    encode_query(&[
        ("status", &query.status),
        ("event_type", &query.event_type),
        ("endpoint_id", &query.endpoint_id),
        ("merchant_id", &query.merchant_id),
        ("tag", &query.tag),
        ("since", &query.since),
        ("until", &query.until),
        ("status_code", &query.status_code),
        ("mode", &query.mode),
        ("cursor", &query.cursor),
    ])
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
    let clear = {
        let apply = apply.clone();
        move || apply(DeliveryQuery::default())
    };
    let filtered = Signal::derive(move || {
        DeliveryQuery {
            cursor: None,
            ..query.get()
        } != DeliveryQuery::default()
    });
    // A changed filter starts the list again from its newest page.
    let set = move |change: fn(&mut DeliveryQuery, String)| {
        let apply = apply.clone();
        move |value: String| {
            let mut next = query.get_untracked();
            change(&mut next, value);
            next.cursor = None;
            apply(next);
        }
    };
    let current = move |pick: fn(&DeliveryQuery) -> Option<String>| {
        Signal::derive(move || pick(&query.get()).unwrap_or_default())
    };
    let operators = merchants.is_some();
    let merchant_filter = merchants.map(|merchants| {
        let value = current(|q| q.merchant_id.clone());
        view! {
            <label>"Merchant"
                <select data-testid="filter-merchant" prop:value=move || value.get()
                    on:change=with_value(set(|q, v| q.merchant_id = Some(v)))>
                    <option value="">"All merchants"</option>
                    {merchants.into_iter().map(|m| view! { <option value=m.id.to_string()>{m.name}</option> }).collect_view()}
                </select>
            </label>
        }
    });
    let endpoint = current(|q| q.endpoint_id.clone());
    let endpoint_filter = match endpoints {
        Some(endpoints) => view! {
            <select data-testid="filter-endpoint" prop:value=move || endpoint.get()
                on:change=with_value(set(|q, v| q.endpoint_id = Some(v)))>
                <option value="">"Any"</option>
                {endpoints.into_iter().map(|e| view! { <option value=e.id.to_string()>{e.url}</option> }).collect_view()}
                <option value=CALLBACKS>"Callbacks (an event's callback_url)"</option>
            </select>
        }
        .into_any(),
        None => view! {
            <input type="text" placeholder="ep_…" data-testid="filter-endpoint"
                prop:value=move || endpoint.get()
                on:change=with_value(set(|q, v| q.endpoint_id = Some(v)))/>
        }
        .into_any(),
    };
    let status = current(|q| q.status.clone());
    view! {
        <div class="filters" data-testid="filters">
            <label>"Status"
                <select data-testid="filter-status" prop:value=move || status.get()
                    on:change=with_value(set(|q, v| q.status = Some(v)))>
                    {(!operators).then(|| view! { <option value="">"Any"</option> })}
                    <option value="failed">"Failed"</option>
                    <option value="pending">"Pending"</option>
                    <option value="succeeded">"Succeeded"</option>
                    <option value="cancelled">"Cancelled"</option>
                </select>
            </label>
            {merchant_filter}
            <TypeFilter value=current(|q| q.event_type.clone()) change=set(|q, v| q.event_type = Some(v))/>
            <TagFilter value=current(|q| q.tag.clone()) change=set(|q, v| q.tag = Some(v))/>
            <ResponseFilter value=current(|q| q.status_code.clone()) change=set(|q, v| q.status_code = Some(v))/>
            <label>"Endpoint" {endpoint_filter}</label>
            <ModeFilter value=current(|q| q.mode.clone()) change=set(|q, v| q.mode = Some(v))/>
            <SinceFilter value=current(|q| q.since.clone()) change=set(|q, v| q.since = Some(v))/>
            <UntilFilter value=current(|q| q.until.clone()) change=set(|q, v| q.until = Some(v))/>
            <ClearFilters filtered clear/>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_and_until_travel_in_the_url() {
        let params = ParamsMap::from_iter([
            ("status", "failed"),
            ("tag", "pay_123"),
            ("until", "24h"),
            ("mode", ""),
        ]);
        let query = query_from(&params);
        assert_eq!(query.tag.as_deref(), Some("pay_123"));
        assert_eq!(query.until.as_deref(), Some("24h"));
        assert_eq!(query.mode, None, "an empty filter is no filter");
        assert_eq!(query_string(&query), "?status=failed&tag=pay_123&until=24h");
    }
}
