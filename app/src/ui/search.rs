//! Finding a payment by what the platform knows it by: the search box in
//! the top bar, `/search` over the merchant's own history and
//! `/admin/search` across merchants. A search that finds one thing goes
//! straight to its page; anything else is listed.

use super::delivery_table::DeliveryTable;
use super::event_table::EventTable;
use super::loaded::Loaded;
use crate::model::dashboard::{DeliveryPage, DeliveryQuery};
use crate::model::error::AppError;
use crate::model::event::SearchResults;
use crate::model::id::{DeliveryId, EventId};
use crate::server_fn::admin::admin_search;
use crate::server_fn::events::search;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;
use leptos_router::NavigateOptions;
use std::collections::HashMap;
use std::future::Future;

/// What the boxes say they take.
const PLACEHOLDER: &str = "Payment reference or any id";

/// The search form. A plain GET form: it works before (and without) the
/// WASM bundle, and every search is a page load the server can answer with
/// a redirect to the one thing found.
#[component]
pub fn SearchBox(
    /// Where the form goes: `/search` or `/admin/search`.
    action: &'static str,
    /// The input's id, unique on the page (the top bar's box and the
    /// console's can both be there).
    id: &'static str,
    /// The input's accessible name.
    label: &'static str,
    /// The query the box shows.
    #[prop(into)]
    value: Signal<String>,
) -> impl IntoView {
    view! {
        <form class="search" role="search" method="get" action=action>
            <label for=id class="visually-hidden">{label}</label>
            <input id=id type="search" name="q" required maxlength="255"
                placeholder=PLACEHOLDER autocomplete="off" spellcheck="false"
                value=move || value.get() data-testid=id/>
        </form>
    }
}

/// `/search?q=`: the merchant's own events and deliveries.
#[component]
pub fn SearchPage() -> impl IntoView {
    let (q, found) = searched(search);
    view! {
        <Title text="Search"/>
        <div class="page-header">
            <div>
                <h1>"Search"</h1>
                <p class="muted">"Your events and deliveries by payment reference (a tag the platform sent), idempotency key or id."</p>
            </div>
        </div>
        <SearchOutcome q found operators=false/>
    }
}

/// `/admin/search?q=`: any merchant's events and deliveries.
#[component]
pub fn AdminSearchPage() -> impl IntoView {
    let (q, found) = searched(admin_search);
    view! {
        <Title text="Search · Operations"/>
        <div class="page-header">
            <div>
                <h1>"Search across merchants"</h1>
                <p class="muted">"Every merchant's events and deliveries by payment reference (tag), idempotency key or id."</p>
            </div>
        </div>
        <SearchBox action="/admin/search" id="admin-search" label="Search all merchants" value=q/>
        <SearchOutcome q found operators=true/>
    }
}

/// The query in the URL (trimmed), and what `run` finds for it; nothing is
/// asked while the query is blank.
fn searched<F, Fut>(
    run: F,
) -> (
    Memo<String>,
    Resource<Result<Option<SearchResults>, AppError>>,
)
where
    F: Fn(String) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<SearchResults, AppError>> + Send + 'static,
{
    let params = use_query_map();
    let q = Memo::new(move |_| {
        params
            .read()
            .get("q")
            .map(|q| q.trim().to_owned())
            .unwrap_or_default()
    });
    let found = Resource::new(
        move || q.get(),
        move |q| async move {
            if q.is_empty() {
                Ok(None)
            } else {
                run(q).await.map(Some)
            }
        },
    );
    (q, found)
}

/// Where a search leads: straight to the one thing found, else a list, else
/// what can be searched by.
#[component]
fn SearchOutcome(
    q: Memo<String>,
    found: Resource<Result<Option<SearchResults>, AppError>>,
    operators: bool,
) -> impl IntoView {
    view! {
        <Loaded data=move || found loading="Searching…" let:found>
            {
                // The results are for the query now in the URL: the resource
                // follows it.
                let q = q.get_untracked();
                match found {
                    None => view! {
                        <p class="muted" data-testid="search-prompt">
                            "Type a payment reference (a tag the platform sent), an idempotency key, or an id such as evt_…, dlv_…"
                        </p>
                    }
                        .into_any(),
                    Some(found) => match one_match(&found, &q) {
                        // Replacing the search in the history, so Back does
                        // not land on a page that leads forward again.
                        Some(one) => view! {
                            <Redirect path=one.path(operators)
                                options=NavigateOptions { replace: true, ..NavigateOptions::default() }/>
                        }
                            .into_any(),
                        None if found.events.is_empty() && found.deliveries.is_empty() => {
                            view! { <NothingFound q/> }.into_any()
                        }
                        None => view! { <Results found q operators/> }.into_any(),
                    },
                }
            }
        </Loaded>
    }
}

/// Everything a search found: its events, then its deliveries.
#[component]
fn Results(found: SearchResults, q: String, operators: bool) -> impl IntoView {
    let (search_page, events_base) = if operators {
        ("/admin/search", "/admin/events")
    } else {
        ("/search", "/events")
    };
    // An event's tag searches for that tag (a delivery's narrows the
    // deliveries list to it).
    let tag_search = format!("{search_page}?q=");
    let names: Option<HashMap<String, String>> =
        operators.then(|| found.merchant_names.clone().into_iter().collect());
    let summary = format!(
        "{} and {} for “{q}”",
        counted(found.events.len(), "event"),
        counted(found.deliveries.len(), "delivery")
    );
    let events = (!found.events.is_empty()).then(|| {
        view! {
            <section class="results">
                <h2>{format!("Events ({})", found.events.len())}</h2>
                <EventTable events=found.events.clone() base=events_base tag_link=tag_search.clone()
                    merchant_names=names.clone()/>
            </section>
        }
    });
    let deliveries = (!found.deliveries.is_empty()).then(|| {
        let page = DeliveryPage {
            items: found.deliveries.clone(),
            next_cursor: None,
        };
        let query = DeliveryQuery::default();
        let table = match names.clone() {
            Some(names) => view! {
                <DeliveryTable page query base="/admin/deliveries" merchant_names=names/>
            }
            .into_any(),
            None => view! { <DeliveryTable page query base="/deliveries"/> }.into_any(),
        };
        view! {
            <section class="results">
                <h2>{format!("Deliveries ({})", found.deliveries.len())}</h2>
                {table}
            </section>
        }
    });
    view! {
        <p class="search-summary" data-testid="search-summary">{summary}</p>
        {events}
        {deliveries}
    }
}

/// "1 event", "3 deliveries".
fn counted(n: usize, noun: &str) -> String {
    match (n, noun) {
        (1, _) => format!("1 {noun}"),
        (_, "delivery") => format!("{n} deliveries"),
        _ => format!("{n} {noun}s"),
    }
}

/// An empty search, and what does find something.
#[component]
fn NothingFound(q: String) -> impl IntoView {
    view! {
        <div class="empty" data-testid="search-empty">
            <h2>"Nothing found"</h2>
            <p class="muted">
                {format!("Nothing matches “{q}”: search by a payment reference (a tag the platform sent), an idempotency key, or an id such as evt_…, dlv_…")}
            </p>
        </div>
    }
}

/// The one thing a search found, which it leads straight to.
#[derive(Debug, Clone, PartialEq)]
enum OneMatch {
    Delivery(DeliveryId),
    Event(EventId),
}

impl OneMatch {
    /// Its page: the merchant's, or with `operators` the console's.
    fn path(&self, operators: bool) -> String {
        let console = if operators { "/admin" } else { "" };
        match self {
            OneMatch::Delivery(id) => format!("{console}/deliveries/{id}"),
            OneMatch::Event(id) => format!("{console}/events/{id}"),
        }
    }
}

/// Whether a search found one thing: the delivery whose id was asked for;
/// the only event's only delivery (a payment sent to one place is what
/// people look for); the only event, when it went to several places or
/// none; the only delivery. Several events, or nothing, are not one thing.
fn one_match(found: &SearchResults, q: &str) -> Option<OneMatch> {
    if let Some(asked) = found.deliveries.iter().find(|d| d.id.as_str() == q) {
        return Some(OneMatch::Delivery(asked.id.clone()));
    }
    match (found.events.as_slice(), found.deliveries.as_slice()) {
        ([event], [only]) if only.event_id == event.id => Some(OneMatch::Delivery(only.id.clone())),
        ([event], _) => Some(OneMatch::Event(event.id.clone())),
        ([], [only]) => Some(OneMatch::Delivery(only.id.clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::delivery::DeliveryStatus;
    use crate::model::event::{Delivery, Event};
    use crate::model::id::MerchantId;
    use chrono::Utc;

    fn event(n: u128) -> Event {
        Event {
            id: EventId::from_u128(n),
            merchant_id: MerchantId::from_u128(1),
            event_type: "payin.succeeded".into(),
            data: serde_json::json!({}),
            idempotency_key: None,
            callback_url: None,
            ordering_key: None,
            live_mode: true,
            tags: vec!["pay_123".into()],
            created_at: Utc::now(),
        }
    }

    fn delivery(n: u128, of: &Event) -> Delivery {
        Delivery {
            id: DeliveryId::from_u128(n),
            event_id: of.id.clone(),
            merchant_id: of.merchant_id.clone(),
            endpoint_id: None,
            url: "https://example.test/hooks".into(),
            event_type: of.event_type.clone(),
            live_mode: true,
            tags: of.tags.clone(),
            status: DeliveryStatus::Succeeded,
            attempt_count: 1,
            next_attempt_at: None,
            last_attempt_at: None,
            last_status_code: Some(200),
            created_at: Utc::now(),
            succeeded_at: None,
            failed_at: None,
        }
    }

    fn found(events: Vec<Event>, deliveries: Vec<Delivery>) -> SearchResults {
        SearchResults {
            events,
            deliveries,
            ..SearchResults::default()
        }
    }

    #[test]
    fn an_event_sent_to_one_place_leads_to_its_delivery() {
        let one = event(1);
        let sent = delivery(10, &one);
        let results = found(vec![one], vec![sent.clone()]);
        assert_eq!(
            one_match(&results, "pay_123"),
            Some(OneMatch::Delivery(sent.id.clone()))
        );
        assert_eq!(
            one_match(&results, "pay_123").map(|m| m.path(false)),
            Some(format!("/deliveries/{}", sent.id))
        );
    }

    #[test]
    fn an_event_sent_to_several_places_or_none_leads_to_the_event() {
        let one = event(1);
        let (a, b) = (delivery(10, &one), delivery(11, &one));
        let several = found(vec![one.clone()], vec![a, b]);
        assert_eq!(
            one_match(&several, "pay_123"),
            Some(OneMatch::Event(one.id.clone()))
        );
        let nowhere = found(vec![one.clone()], vec![]);
        assert_eq!(
            one_match(&nowhere, one.id.as_str()).map(|m| m.path(true)),
            Some(format!("/admin/events/{}", one.id))
        );
    }

    #[test]
    fn a_delivery_id_leads_to_that_delivery() {
        let one = event(1);
        let (a, b) = (delivery(10, &one), delivery(11, &one));
        let results = found(vec![], vec![b.clone()]);
        assert_eq!(
            one_match(&results, b.id.as_str()),
            Some(OneMatch::Delivery(b.id.clone()))
        );
        // Even when the event matched too and went elsewhere as well.
        let both = found(vec![one], vec![a, b.clone()]);
        assert_eq!(
            one_match(&both, b.id.as_str()),
            Some(OneMatch::Delivery(b.id))
        );
    }

    #[test]
    fn several_events_or_nothing_are_listed() {
        let (one, two) = (event(1), event(2));
        let deliveries = vec![delivery(10, &one), delivery(20, &two)];
        assert_eq!(
            one_match(&found(vec![one, two], deliveries), "pay_123"),
            None
        );
        assert_eq!(one_match(&found(vec![], vec![]), "pay_404"), None);
    }

    #[test]
    fn counts_read_as_english() {
        assert_eq!(counted(1, "delivery"), "1 delivery");
        assert_eq!(counted(0, "delivery"), "0 deliveries");
        assert_eq!(counted(2, "event"), "2 events");
    }
}
