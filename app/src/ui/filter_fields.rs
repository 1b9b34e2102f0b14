//! The filter controls the deliveries and events lists share. Each shows
//! the filter's value as the URL has it and hands a change to the list,
//! which puts it in the URL.

use leptos::prelude::*;

/// A control's change event as its new value, for `on:change`.
pub fn with_value(
    change: impl Fn(String) + Send + Sync + 'static,
) -> impl Fn(leptos::ev::Event) + Send + Sync + 'static {
    move |ev| change(event_target_value(&ev))
}

/// An exact event type (`payin.succeeded`).
#[component]
pub fn TypeFilter(
    value: Signal<String>,
    change: impl Fn(String) + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <label>"Event type"
            <input type="text" placeholder="payin.succeeded" data-testid="filter-type"
                prop:value=move || value.get()
                on:change=with_value(change)/>
        </label>
    }
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

/// How far back the list starts.
#[component]
pub fn SinceFilter(
    value: Signal<String>,
    change: impl Fn(String) + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <label>"Since"
            <select data-testid="filter-since" prop:value=move || value.get()
                on:change=with_value(change)>
                <option value="">"Any time"</option>
                <option value="1h">"Last hour"</option>
                <option value="24h">"Last 24 hours"</option>
                <option value="7d">"Last 7 days"</option>
            </select>
        </label>
    }
}

/// Where the list ends: a lookback (`24h`: older than a day) or a time. Typed
/// rather than picked, because it is usually a moment someone was told about.
#[component]
pub fn UntilFilter(
    value: Signal<String>,
    change: impl Fn(String) + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <label>"Until"
            <input type="text" placeholder="24h" data-testid="filter-until"
                title="Only what came before: a lookback such as 24h, or a time such as 2026-01-31T00:00:00Z"
                prop:value=move || value.get()
                on:change=with_value(change)/>
        </label>
    }
}
