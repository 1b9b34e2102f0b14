//! The one table of deliveries: a merchant's list, and the operators' list
//! across merchants (with a Merchant column and rows to tick for bulk retry).

use super::delivery_filters::query_string;
use super::display::{Pager, StatusBadge, Tags, When};
use super::url_query::ending_with_param;
use crate::model::dashboard::{DeliveryPage, DeliveryQuery};
use crate::model::event::Delivery;
use leptos::prelude::*;
use leptos_router::components::A;
use std::collections::{BTreeSet, HashMap};

/// A page of deliveries, with links to the newest and the next (older) page.
#[component]
pub fn DeliveryTable(
    page: DeliveryPage,
    /// The filters the page was listed with; the pager keeps them.
    query: DeliveryQuery,
    /// The list's path: rows link to `{base}/{id}`, pages to `{base}?…`.
    base: &'static str,
    /// Operators' lists: merchant names by merchant id, for a Merchant column.
    #[prop(optional)]
    merchant_names: Option<HashMap<String, String>>,
    /// Rows can be ticked into this set of delivery ids (bulk actions).
    #[prop(optional)]
    selected: Option<RwSignal<BTreeSet<String>>>,
) -> impl IntoView {
    if page.items.is_empty() {
        return view! { <NoDeliveries operators=merchant_names.is_some()/> }.into_any();
    }
    let page_link = |cursor: Option<String>| {
        format!(
            "{base}{}",
            query_string(&DeliveryQuery {
                cursor,
                ..query.clone()
            })
        )
    };
    let newest = query.cursor.is_some().then(|| page_link(None));
    let older = page.next_cursor.map(|cursor| page_link(Some(cursor)));
    // A row's tag narrows this list to that tag's deliveries.
    let tag_link = ending_with_param(
        &format!(
            "{base}{}",
            query_string(&DeliveryQuery {
                tag: None,
                cursor: None,
                ..query.clone()
            })
        ),
        "tag",
    );
    let rows = page
        .items
        .into_iter()
        .map(|delivery| {
            let merchant = merchant_names.as_ref().map(|names| {
                let id = delivery.merchant_id.to_string();
                names.get(&id).cloned().unwrap_or(id)
            });
            view! { <DeliveryRow delivery base merchant selected tag_link=tag_link.clone()/> }
        })
        .collect_view();
    view! {
        <table class="table" data-testid="deliveries-table">
            <thead>
                <tr>
                    {selected.is_some().then(|| view! { <th></th> })}
                    {merchant_names.is_some().then(|| view! { <th>"Merchant"</th> })}
                    <th>"Event type"</th>
                    <th>"Endpoint"</th>
                    <th>"Status"</th>
                    <th>"Attempts"</th>
                    <th>"Last answer"</th>
                    <th>"Created"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <Pager newest older/>
    }
    .into_any()
}

/// One delivery; `merchant` fills the Merchant column, `selected` adds a
/// tick box; its event's tags link to `tag_link` followed by the tag.
#[component]
fn DeliveryRow(
    delivery: Delivery,
    base: &'static str,
    merchant: Option<String>,
    selected: Option<RwSignal<BTreeSet<String>>>,
    tag_link: String,
) -> impl IntoView {
    let id = delivery.id.to_string();
    let tick = selected.map(|selected| {
        let id = StoredValue::new(id.clone());
        view! {
            <td>
                <input type="checkbox" aria-label="Select" data-testid="select-delivery"
                    prop:checked=move || selected.with(|s| id.with_value(|id| s.contains(id)))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        selected.update(|s| {
                            if on {
                                s.insert(id.get_value());
                            } else {
                                s.remove(&id.get_value());
                            }
                        });
                    }/>
            </td>
        }
    });
    view! {
        <tr data-testid="delivery-row" data-status=delivery.status.as_str()>
            {tick}
            {merchant.map(|name| view! { <td data-testid="merchant-cell">{name}</td> })}
            <td>
                <A href=format!("{base}/{id}")><code>{delivery.event_type.clone()}</code></A>
                {(!delivery.live_mode).then(|| view! { <span class="badge test">"test"</span> })}
                <Tags tags=delivery.tags.clone() link=tag_link/>
            </td>
            <td class="mono small break">{delivery.url.clone()}</td>
            <td><StatusBadge status=delivery.status/></td>
            <td>{delivery.attempt_count}</td>
            <td>{delivery.last_status_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into())}</td>
            <td class="small"><When at=delivery.created_at/></td>
        </tr>
    }
}

/// What an empty page says: merchants learn where deliveries come from;
/// operators only that their filters match nothing.
#[component]
fn NoDeliveries(operators: bool) -> impl IntoView {
    let (title, text) = if operators {
        ("Nothing here", "No delivery matches these filters.")
    } else {
        (
            "No deliveries match",
            "Deliveries appear here when events are sent to your endpoints. Send a test event from an endpoint's page, or clear the filters.",
        )
    };
    view! {
        <div class="empty" data-testid="deliveries-empty">
            <h2>{title}</h2>
            <p class="muted">{text}</p>
        </div>
    }
}
