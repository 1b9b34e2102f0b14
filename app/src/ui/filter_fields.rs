//! The filter controls the deliveries and events lists share. Each shows
//! the filter's value as the URL has it and hands a change to the list,
//! which puts it in the URL.

use leptos::prelude::*;

/// "Clear filters", shown while any filter is set: back to the whole list.
#[component]
pub fn ClearFilters(
    filtered: Signal<bool>,
    clear: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        let clear = clear.clone();
        filtered.get().then(|| {
            view! {
                <button type="button" class="ghost clear-filters" data-testid="clear-filters"
                    on:click=move |_| clear()>
                    "Clear filters"
                </button>
            }
        })
    }
}

/// A control's change event as its new value, for `on:change`.
pub fn with_value(
    change: impl Fn(String) + Send + Sync + 'static,
) -> impl Fn(leptos::ev::Event) + Send + Sync + 'static {
    move |ev| change(event_target_value(&ev))
}

/// An event type (`payin.succeeded`) or a category (`payin.*`), typed or
/// picked from the catalog's types and categories.
#[component]
pub fn TypeFilter(
    value: Signal<String>,
    change: impl Fn(String) + Send + Sync + 'static,
) -> impl IntoView {
    // The choices are fetched once the page is live: the server renders an
    // empty list, so the list's content never differs during hydration.
    let choices: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            if let Ok(types) = crate::server_fn::catalog::list_event_types().await {
                choices.set(type_choices(&types));
            }
        });
    });
    view! {
        <label>"Event type"
            <input type="text" placeholder="payin.succeeded or payin.*" data-testid="filter-type"
                list="event-type-choices"
                title="A type, or a whole category with .* (payout.* is every payout type)"
                prop:value=move || value.get()
                on:change=with_value(change)/>
            <datalist id="event-type-choices">
                {move || choices.get().into_iter().map(|c| view! { <option value=c/> }).collect_view()}
            </datalist>
        </label>
    }
}

/// What the type filter offers: each category as `category.*`, then each
/// type, in the catalog's order. (Only the browser asks for them.)
#[cfg_attr(not(any(feature = "hydrate", test)), allow(dead_code))]
pub fn type_choices(types: &[crate::model::event_type::EventType]) -> Vec<String> {
    let mut choices: Vec<String> = Vec::new();
    for t in types {
        let category = format!("{}.*", t.category);
        if !choices.contains(&category) {
            choices.push(category);
        }
    }
    choices.extend(types.iter().map(|t| t.name.clone()));
    choices
}

/// A tag: a payment, payout or customer reference the platform sent.
#[component]
pub fn TagFilter(
    value: Signal<String>,
    change: impl Fn(String) + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <label>"Tag"
            <input type="text" placeholder="pay_123" data-testid="filter-tag"
                title="A reference the platform tagged the event with, such as a payment id"
                prop:value=move || value.get()
                on:change=with_value(change)/>
        </label>
    }
}

/// The answer of a delivery's latest attempt: a code, a class or none.
#[component]
pub fn ResponseFilter(
    value: Signal<String>,
    change: impl Fn(String) + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <label>"Response"
            <input type="text" placeholder="5xx" list="response-codes" data-testid="filter-status-code"
                inputmode="text" size="6"
                title="A response code such as 503, a class such as 5xx, or none for attempts that got no answer"
                prop:value=move || value.get()
                on:change=with_value(change)/>
            <datalist id="response-codes">
                <option value="5xx">"Any server error"</option>
                <option value="4xx">"Any client error"</option>
                <option value="none">"No answer (timeout, refused)"</option>
                <option value="500"></option>
                <option value="502"></option>
                <option value="503"></option>
                <option value="404"></option>
                <option value="410"></option>
                <option value="429"></option>
            </datalist>
        </label>
    }
}

/// Live events, test-mode events, or both.
#[component]
pub fn ModeFilter(
    value: Signal<String>,
    change: impl Fn(String) + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <label>"Mode"
            <select data-testid="filter-mode" prop:value=move || value.get()
                on:change=with_value(change)>
                <option value="">"Live and test"</option>
                <option value="live">"Live only"</option>
                <option value="test">"Test only"</option>
            </select>
        </label>
    }
}

/// How far back the list starts: a lookback, or a moment picked in the
/// reader's own time zone (sent as UTC).
#[component]
pub fn SinceFilter(
    value: Signal<String>,
    change: impl Fn(String) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <TimeFilter label="Since" testid="filter-since" value change
            presets=&[("", "Any time"), ("1h", "Last hour"), ("24h", "Last 24 hours"), ("7d", "Last 7 days")]/>
    }
}

/// Where the list ends: now, a lookback (`24h`: older than a day), or a
/// moment picked in the reader's own time zone.
#[component]
pub fn UntilFilter(
    value: Signal<String>,
    change: impl Fn(String) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <TimeFilter label="Until" testid="filter-until" value change
            presets=&[("", "Now"), ("1h", "An hour ago"), ("24h", "A day ago"), ("7d", "A week ago")]/>
    }
}

/// The value of a time filter's "pick a moment" choice.
const CUSTOM: &str = "custom";

/// A time filter: presets, or "Pick a time…" with the browser's date and
/// time picker. A value from the URL that is no preset (an RFC 3339 time)
/// shows as a picked time.
#[component]
fn TimeFilter(
    label: &'static str,
    testid: &'static str,
    value: Signal<String>,
    change: impl Fn(String) + Clone + Send + Sync + 'static,
    presets: &'static [(&'static str, &'static str)],
) -> impl IntoView {
    let is_preset = move |v: &str| presets.iter().any(|(p, _)| *p == v);
    // Chosen "Pick a time…" but not yet picked one.
    let picking = RwSignal::new(false);
    let custom = move || picking.get() || !is_preset(&value.get());
    let pick = change.clone();
    view! {
        <label>{label}
            <select data-testid=testid
                prop:value=move || { if custom() { CUSTOM.to_owned() } else { value.get() } }
                on:change=move |ev| {
                    let chosen = event_target_value(&ev);
                    if chosen == CUSTOM {
                        picking.set(true);
                    } else {
                        picking.set(false);
                        change(chosen);
                    }
                }>
                {presets.iter().map(|(v, text)| view! { <option value=*v>{*text}</option> }).collect_view()}
                <option value=CUSTOM>"Pick a time…"</option>
            </select>
        </label>
        {move || custom().then(|| {
            let pick = pick.clone();
            view! {
                <label>{format!("{label} (your time)")}
                    <input type="datetime-local" data-testid=format!("{testid}-at")
                        prop:value=move || utc_to_local_input(&value.get())
                        on:change=move |ev| {
                            if let Some(utc) = local_input_to_utc(&event_target_value(&ev)) {
                                picking.set(false);
                                pick(utc);
                            }
                        }/>
                </label>
            }
        })}
    }
}

/// An RFC 3339 time as a `datetime-local` value in the browser's zone
/// (`2026-12-07T04:15`); empty for anything else.
fn utc_to_local_input(value: &str) -> String {
    let Ok(at) = chrono::DateTime::parse_from_rfc3339(value) else {
        return String::new();
    };
    let at = at.with_timezone(&chrono::Utc);
    #[cfg(feature = "hydrate")]
    let east = -(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        at.timestamp_millis() as f64
    ))
    .get_timezone_offset() as i64);
    #[cfg(not(feature = "hydrate"))]
    let east = 0;
    (at + chrono::Duration::minutes(east))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// A `datetime-local` value, read in the browser's zone, as RFC 3339 UTC;
/// `None` when it is not a time.
fn local_input_to_utc(value: &str) -> Option<String> {
    let local = chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    // The browser knows its zone's offset at that moment (summer time
    // included): JavaScript reads a date-time without an offset as local.
    #[cfg(feature = "hydrate")]
    let utc = {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(
            &local.format("%Y-%m-%dT%H:%M:%S").to_string(),
        ));
        let millis = date.get_time();
        if millis.is_nan() {
            return None;
        }
        chrono::DateTime::<chrono::Utc>::from_timestamp_millis(millis as i64)?
    };
    #[cfg(not(feature = "hydrate"))]
    let utc = local.and_utc();
    Some(utc.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event_type::EventType;

    fn event_type(name: &str) -> EventType {
        EventType {
            name: name.to_owned(),
            category: crate::model::event_type::category_of(name).to_owned(),
            description: String::new(),
            example: serde_json::json!({}),
            archived: false,
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_type_filter_offers_categories_then_types() {
        let types = [
            event_type("payin.succeeded"),
            event_type("payout.failed"),
            event_type("payin.failed"),
        ];
        assert_eq!(
            type_choices(&types),
            [
                "payin.*",
                "payout.*",
                "payin.succeeded",
                "payout.failed",
                "payin.failed"
            ]
        );
    }

    #[test]
    fn a_picked_time_round_trips_as_utc_on_the_server() {
        // Outside the browser the zone is UTC, which is what the server renders.
        assert_eq!(
            local_input_to_utc("2026-12-07T04:15").as_deref(),
            Some("2026-12-07T04:15:00Z")
        );
        assert_eq!(
            utc_to_local_input("2026-12-07T04:15:00Z"),
            "2026-12-07T04:15"
        );
        assert_eq!(local_input_to_utc("not a time"), None);
        assert_eq!(utc_to_local_input("24h"), "");
    }
}
