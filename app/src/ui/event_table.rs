//! The one table of events: the Events page and search results (the
//! operators' with a Merchant column).

use super::display::{Tags, When};
use crate::model::event::Event;
use leptos::prelude::*;
use leptos_router::components::A;
use std::collections::HashMap;

/// Events, each linking to its page; an empty list is the caller's to explain.
#[component]
pub fn EventTable(
    events: Vec<Event>,
    /// Where events' pages are: rows link to `{base}/{id}`.
    base: &'static str,
    /// Each tag links to this followed by the tag (the list narrowed to it,
    /// a search for it).
    tag_link: String,
    /// Operators' results: merchant names by merchant id, for a Merchant column.
    #[prop(optional_no_strip)]
    merchant_names: Option<HashMap<String, String>>,
) -> impl IntoView {
    let operators = merchant_names.is_some();
    let rows = events
        .into_iter()
        .map(|event| {
            let merchant = merchant_names.as_ref().map(|names| {
                let id = event.merchant_id.to_string();
                names.get(&id).cloned().unwrap_or(id)
            });
            view! { <EventRow event base merchant tag_link=tag_link.clone()/> }
        })
        .collect_view();
    // The id is the second column, the one narrow screens leave out: the
    // type links to the event as well.
    view! {
        <table class="table events" data-testid="events-table">
            <thead>
                <tr>
                    <th>"Event type"</th>
                    <th>"Id"</th>
                    {operators.then(|| view! { <th>"Merchant"</th> })}
                    <th>"Tags"</th>
                    <th>"Created"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// One event; `merchant` fills the Merchant column.
#[component]
fn EventRow(
    event: Event,
    base: &'static str,
    merchant: Option<String>,
    tag_link: String,
) -> impl IntoView {
    let id = event.id.to_string();
    let (href, row) = (format!("{base}/{id}"), id.clone());
    view! {
        <tr data-testid="event-row" data-event=row>
            <td>
                <A href=href.clone() attr:data-testid="event-link"><code>{event.event_type.clone()}</code></A>
                {(!event.live_mode).then(|| view! { <span class="badge test">"test"</span> })}
            </td>
            <td class="mono small break"><A href=href>{id}</A></td>
            {merchant.map(|name| view! { <td data-testid="merchant-cell">{name}</td> })}
            <td><Tags tags=event.tags link=tag_link/></td>
            <td class="small"><When at=event.created_at/></td>
        </tr>
    }
}
