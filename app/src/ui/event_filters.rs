//! The filters of the Events page: as they stand in the URL, so a view can
//! be shared and survives a reload, and the bar that changes them (the same
//! controls as the deliveries' filters).

use super::filter_fields::{
    ClearFilters, ModeFilter, SinceFilter, TagFilter, TypeFilter, UntilFilter,
};
use super::url_query::{encode_query, param};
use crate::model::dashboard::EventQuery;
use leptos::prelude::*;
use leptos_router::params::ParamsMap;

/// The Events page's filters as they stand in the URL.
pub fn query_from(params: &ParamsMap) -> EventQuery {
    let get = |key: &str| param(params, key);
    EventQuery {
        event_type: get("event_type"),
        tag: get("tag"),
        since: get("since"),
        until: get("until"),
        mode: get("mode"),
        cursor: get("cursor"),
    }
}

/// The URL query for the Events page's filters (`?tag=pay_123&…`).
pub fn query_string(query: &EventQuery) -> String {
    encode_query(&[
        ("event_type", &query.event_type),
        ("tag", &query.tag),
        ("since", &query.since),
        ("until", &query.until),
        ("mode", &query.mode),
        ("cursor", &query.cursor),
    ])
}

/// The filter bar: a change goes to `apply`, which puts it in the URL.
#[component]
pub fn EventFilters(
    query: Memo<EventQuery>,
    apply: impl Fn(EventQuery) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let clear = {
        let apply = apply.clone();
        move || apply(EventQuery::default())
    };
    let filtered = Signal::derive(move || {
        EventQuery {
            cursor: None,
            ..query.get()
        } != EventQuery::default()
    });
    // A changed filter starts the list again from its newest page.
    let set = move |change: fn(&mut EventQuery, String)| {
        let apply = apply.clone();
        move |value: String| {
            let mut next = query.get_untracked();
            change(&mut next, value);
            next.cursor = None;
            apply(next);
        }
    };
    let current = move |pick: fn(&EventQuery) -> Option<String>| {
        Signal::derive(move || pick(&query.get()).unwrap_or_default())
    };
    view! {
        <div class="filters" data-testid="filters">
            <TypeFilter value=current(|q| q.event_type.clone()) change=set(|q, v| q.event_type = Some(v))/>
            <TagFilter value=current(|q| q.tag.clone()) change=set(|q, v| q.tag = Some(v))/>
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
    fn filters_survive_the_trip_through_the_url() {
        let query = EventQuery {
            event_type: Some("payin.succeeded".into()),
            tag: Some("customer:cus_9".into()),
            until: Some("24h".into()),
            cursor: Some("c1".into()),
            ..EventQuery::default()
        };
        let text = query_string(&query);
        let params = ParamsMap::from_iter(
            text.trim_start_matches('?')
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.replace("%3A", ":"))),
        );
        assert_eq!(query_from(&params), query);
    }
}
