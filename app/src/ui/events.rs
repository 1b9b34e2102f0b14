//! `/events` and `/events/:id`: what the platform reported, filterable by
//! type, tag, time and mode; and one event's payload with where it went.

use super::display::{Pager, Payload, StatusBadge, Tags, When};
use super::event_filters::{query_from, query_string, EventFilters};
use super::event_table::EventTable;
use super::loaded::Loaded;
use super::url_query::ending_with_param;
use crate::model::dashboard::{EventPage, EventQuery};
use crate::model::error::AppError;
use crate::model::event::{Delivery, EventDetail};
use crate::server_fn::events::{event_detail, list_events};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

/// `/events`
#[component]
pub fn EventsPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| query_from(&params.read()));
    let events = Resource::new(move || query.get(), list_events);
    let navigate = use_navigate();
    let apply = move |next: EventQuery| {
        navigate(
            &format!("/events{}", query_string(&next)),
            Default::default(),
        );
    };
    view! {
        <Title text="Events"/>
        <div class="page-header">
            <div>
                <h1>"Events"</h1>
                <p class="muted">"Everything the platform reported for your account, newest first, with the references it tagged each event with. Open an event to see its payload and where it was delivered."</p>
            </div>
        </div>
        <EventFilters query apply/>
        <Loaded data=move || events loading="Loading events…" let:page>
            <EventList page query=query.get_untracked()/>
        </Loaded>
    }
}

/// A page of events with its pager, or what an empty page means.
#[component]
fn EventList(
    page: EventPage,
    /// The filters the page was listed with; the pager and tag links keep them.
    query: EventQuery,
) -> impl IntoView {
    if page.items.is_empty() {
        return view! { <NoEvents/> }.into_any();
    }
    let page_link = |cursor: Option<String>| {
        format!(
            "/events{}",
            query_string(&EventQuery {
                cursor,
                ..query.clone()
            })
        )
    };
    let newest = query.cursor.is_some().then(|| page_link(None));
    let older = page.next_cursor.map(|cursor| page_link(Some(cursor)));
    // A row's tag narrows the list to that tag's events.
    let tag_link = ending_with_param(
        &format!(
            "/events{}",
            query_string(&EventQuery {
                tag: None,
                cursor: None,
                ..query.clone()
            })
        ),
        "tag",
    );
    view! {
        <EventTable events=page.items base="/events" tag_link/>
        <Pager newest older/>
    }
    .into_any()
}

/// What an empty list says: where events come from, and that filters may
/// be hiding them.
#[component]
fn NoEvents() -> impl IntoView {
    view! {
        <div class="empty" data-testid="events-empty">
            <h2>"No events match"</h2>
            <p class="muted">"Events appear here when the platform reports a payment, payout or refund for your account, or when you send a test event from an endpoint's page. Clear the filters to see them all."</p>
        </div>
    }
}

/// `/events/:id`
#[component]
pub fn EventDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, event_detail);
    view! {
        <Title text="Event"/>
        <p class="muted small"><A href="/events">"Events"</A> " / event"</p>
        <EventView detail operators=false/>
    }
}

/// An event's facts, payload and deliveries; `operators` links to the
/// console's pages and names the merchant.
#[component]
pub fn EventView(
    detail: Resource<Result<EventDetail, AppError>>,
    operators: bool,
) -> impl IntoView {
    let (deliveries_base, search) = if operators {
        ("/admin/deliveries", "/admin/search")
    } else {
        ("/deliveries", "/search")
    };
    view! {
        <Loaded data=move || detail loading="Loading the event…" let:d>
            {
                let EventDetail { event, deliveries } = d;
                let none = || "None".to_owned();
                let title = format!(
                    "Event {}{}",
                    event.event_type,
                    if operators { " · Operations" } else { "" }
                );
                view! {
                    <Title text=title/>
                    <div class="page-header">
                        <div>
                            <h1><code>{event.event_type.clone()}</code></h1>
                            {(!event.live_mode).then(|| view! { <span class="badge test">"test mode"</span> })}
                        </div>
                    </div>
                    <dl class="facts card" data-testid="event-facts">
                        <dt>"Event"</dt><dd class="mono break" data-testid="event-id">{event.id.to_string()}</dd>
                        {operators.then(|| view! {
                            <dt>"Merchant"</dt><dd class="mono break">{event.merchant_id.to_string()}</dd>
                        })}
                        <dt>"Created"</dt><dd><When at=event.created_at/></dd>
                        <dt>"Mode"</dt><dd>{if event.live_mode { "Live" } else { "Test" }}</dd>
                        <dt>"Idempotency key"</dt>
                        <dd class="mono break">{event.idempotency_key.clone().unwrap_or_else(none)}</dd>
                        <dt>"Tags"</dt>
                        <dd><Tags tags=event.tags.clone() none="None" link=format!("{search}?q=")/></dd>
                        {event.callback_url.clone().map(|url| view! {
                            <dt>"Callback URL"</dt><dd class="mono break">{url}</dd>
                        })}
                        {event.ordering_key.clone().map(|key| view! {
                            <dt>"Ordering key"</dt><dd class="mono break">{key}</dd>
                        })}
                    </dl>
                    <Payload data=event.data.clone()/>
                    <section>
                        <h2>{format!("Deliveries ({})", deliveries.len())}</h2>
                        {if deliveries.is_empty() {
                            view! {
                                <p class="muted" data-testid="no-event-deliveries">
                                    "Sent nowhere: no endpoint was subscribed to this type when it arrived, and it had no callback URL."
                                </p>
                            }
                                .into_any()
                        } else {
                            view! { <EventDeliveries deliveries base=deliveries_base/> }.into_any()
                        }}
                    </section>
                }
            }
        </Loaded>
    }
}

/// Where an event went: one row per endpoint (or its callback URL), each
/// linking to the delivery's page. Every column stays on narrow screens.
#[component]
fn EventDeliveries(
    deliveries: Vec<Delivery>,
    /// Rows link to `{base}/{id}`.
    base: &'static str,
) -> impl IntoView {
    view! {
        <table class="table whole" data-testid="event-deliveries">
            <thead>
                <tr><th>"Destination"</th><th>"Status"</th><th>"Attempts"</th><th>"Last answer"</th></tr>
            </thead>
            <tbody>
                {deliveries.into_iter().map(|delivery| {
                    let kind = if delivery.endpoint_id.is_some() { "Endpoint" } else { "Callback URL" };
                    let answer = delivery.last_status_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into());
                    let href = format!("{base}/{}", delivery.id);
                    view! {
                        <tr data-testid="event-delivery" data-status=delivery.status.as_str()>
                            <td>
                                <A href=href attr:class="mono small break">{delivery.url}</A>
                                <div class="muted small">{kind}</div>
                            </td>
                            <td><StatusBadge status=delivery.status/></td>
                            <td data-testid="attempt-count">{delivery.attempt_count}</td>
                            <td>{answer}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
