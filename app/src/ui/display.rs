//! Small pieces every page shows the same way: times, statuses, tags, a
//! payload, a list's pager, a failing endpoint's warning, copy buttons, a
//! self-refreshing resource.

use super::url_query::encode;
use crate::model::delivery::DeliveryStatus;
use crate::model::endpoint::Endpoint;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::components::A;

/// A time in UTC, as the server renders it and as sentences that mention
/// one say it (`<When>` shows a time on its own in the reader's zone).
pub fn time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A time in the reader's own zone (the browser's), with UTC on hover. The
/// server renders it in UTC, which hydration keeps until the browser's
/// zone is applied just after.
#[component]
pub fn When(at: DateTime<Utc>) -> impl IntoView {
    let utc = time(&at);
    let shown = RwSignal::new(utc.clone());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| shown.set(in_browser_zone(&at)));
    view! { <time datetime=at.to_rfc3339() title=utc>{move || shown.get()}</time> }
}

/// `at` in the browser's zone, its offset named (`UTC` when there is none).
#[cfg(feature = "hydrate")]
fn in_browser_zone(at: &DateTime<Utc>) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        at.timestamp_millis() as f64
    ));
    // getTimezoneOffset() is minutes *behind* UTC (-60 in Paris in winter).
    let east = -(date.get_timezone_offset() as i64);
    let local = *at + chrono::Duration::minutes(east);
    let zone = match east {
        0 => "UTC".to_owned(),
        _ => format!(
            "UTC{}{:02}:{:02}",
            if east < 0 { '-' } else { '+' },
            east.abs() / 60,
            east.abs() % 60
        ),
    };
    format!("{} {zone}", local.format("%Y-%m-%d %H:%M:%S"))
}

/// A coloured badge for a delivery's status.
#[component]
pub fn StatusBadge(status: DeliveryStatus) -> impl IntoView {
    let text = status.as_str();
    view! { <span class=format!("badge status-{text}") data-testid="status">{text}</span> }
}

/// An event's tags, the payment, payout and customer references the
/// platform sent, as small badges. With `link`, each is a link to `link`
/// followed by the tag (a list narrowed to it, a search for it).
#[component]
pub fn Tags(
    tags: Vec<String>,
    #[prop(optional)] link: Option<String>,
    /// Said when there are none; nothing when absent.
    #[prop(optional)]
    none: Option<&'static str>,
) -> impl IntoView {
    if tags.is_empty() {
        return none
            .map(|text| view! { <span class="muted" data-testid="tags">{text}</span> })
            .into_any();
    }
    let tags = tags
        .into_iter()
        .map(|tag| match &link {
            Some(link) => {
                let href = format!("{link}{}", encode(&tag));
                view! { <A href=href attr:class="tag">{tag}</A> }.into_any()
            }
            None => view! { <span class="tag">{tag}</span> }.into_any(),
        })
        .collect_view();
    view! { <span class="tags" data-testid="tags">{tags}</span> }.into_any()
}

/// An event's payload, pretty-printed as text: shown, never run.
#[component]
pub fn Payload(data: serde_json::Value) -> impl IntoView {
    let text = serde_json::to_string_pretty(&data).unwrap_or_default();
    view! {
        <section class="card">
            <h2>"Payload"</h2>
            <pre class="json" data-testid="payload">{text}</pre>
        </section>
    }
}

/// A list's links to its newest page (when elsewhere) and to the next,
/// older one (when there is one).
#[component]
pub fn Pager(newest: Option<String>, older: Option<String>) -> impl IntoView {
    view! {
        <div class="pager">
            {newest.map(|href| view! { <A href=href attr:class="button ghost">"Newest"</A> })}
            {older.map(|href| view! { <A href=href attr:class="button ghost" attr:data-testid="older">"Older"</A> })}
        </div>
    }
}

/// "Failing since …, will be disabled on … unless it recovers": nothing for a
/// healthy endpoint, nor for a disabled one (its disabled notice is what
/// matters then).
#[component]
pub fn FailingWarning(
    endpoint: Endpoint,
    /// Names the endpoint, linking to its page: for pages about several.
    #[prop(optional)]
    linked: bool,
) -> impl IntoView {
    let since = endpoint.failing_since.filter(|_| endpoint.enabled);
    since.map(|since| {
        let until = endpoint
            .disables_at
            .map(|at| format!(", will be disabled on {} unless it recovers", time(&at)))
            .unwrap_or_default();
        let text = format!("Failing since {}{until}.", time(&since));
        let name = linked.then(|| {
            view! {
                <A href=format!("/endpoints/{}", endpoint.id) attr:class="failing-endpoint mono break">
                    {endpoint.url.clone()}
                </A>
            }
        });
        view! {
            <div class="alert warn failing" role="alert" data-testid="failing-warning">
                {name}
                <span>{text}</span>
            </div>
        }
    })
}

/// Copies `text()` to the clipboard when pressed (in the browser).
#[component]
pub fn CopyButton(#[prop(into)] text: Signal<String>, testid: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let value = text.get_untracked();
            if let Some(window) = web_sys::window() {
                let _ = window.navigator().clipboard().write_text(&value);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = text;
        copied.set(true);
    };
    view! {
        <button type="button" class="ghost" data-testid=testid on:click=copy>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}

/// Calls `refetch` every `seconds` while the page is open and its tab is in
/// view (browser only), so lists show new rows without a reload. A tab in
/// the background asks for nothing: a forgotten tab would otherwise fetch a
/// page of rows every few seconds for hours.
pub fn refresh_every(seconds: u64, refetch: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let in_view = || document().visibility_state() == web_sys::VisibilityState::Visible;
        let handle = set_interval_with_handle(
            move || {
                if in_view() {
                    refetch();
                }
            },
            std::time::Duration::from_secs(seconds),
        )
        .ok();
        on_cleanup(move || {
            if let Some(handle) = handle {
                handle.clear();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (seconds, refetch);
}

/// A list that refreshes itself cheaply: every `seconds`, while its tab is
/// in view, asks `changed` (a few bytes: has the page moved on from what
/// is shown?) and refetches only when it has. Nothing is asked while an
/// answer is still on its way.
pub fn refresh_when_changed<Changed, Asked>(
    seconds: u64,
    changed: Changed,
    refetch: impl Fn() + Clone + 'static,
) where
    Changed: Fn() -> Asked + Clone + 'static,
    Asked: std::future::Future<Output = bool> + 'static,
{
    #[cfg(feature = "hydrate")]
    {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        // Flags, not signals: an answer may arrive after the page is gone,
        // and must then do nothing rather than touch disposed state.
        let asking = Arc::new(AtomicBool::new(false));
        let open = Arc::new(AtomicBool::new(true));
        let closed = open.clone();
        on_cleanup(move || closed.store(false, Ordering::Relaxed));
        refresh_every(seconds, move || {
            if asking.swap(true, Ordering::Relaxed) {
                return;
            }
            let (changed, refetch) = (changed.clone(), refetch.clone());
            let (asking, open) = (asking.clone(), open.clone());
            leptos::task::spawn_local(async move {
                if changed().await && open.load(Ordering::Relaxed) {
                    refetch();
                }
                asking.store(false, Ordering::Relaxed);
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (seconds, changed, refetch);
}

/// The host (and port) of a URL, for page titles: `https://api.acme.com/hooks`
/// → `api.acme.com`. Whatever is not a URL is returned whole.
pub fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// The keyboard side of a confirmation shown while `open` is true: focus
/// moves to `first` (its first control) when it opens, Escape closes it,
/// and focus returns to `opener` (the button that opened it) when it
/// closes. Put `node_ref=keys.first` and `node_ref=keys.opener` on them.
#[derive(Clone, Copy)]
pub struct ConfirmKeys {
    pub first: NodeRef<leptos::html::Button>,
    pub opener: NodeRef<leptos::html::Button>,
}

/// Keyboard care for the confirmation `open` shows (browser only).
pub fn confirm_keys(open: RwSignal<bool>) -> ConfirmKeys {
    confirm_keys_with(open.into(), move || open.set(false))
}

/// As `confirm_keys`, for a confirmation shown while `is_open` is true and
/// closed by `close`.
pub fn confirm_keys_with(is_open: Signal<bool>, close: impl Fn() + 'static) -> ConfirmKeys {
    let keys = ConfirmKeys {
        first: NodeRef::new(),
        opener: NodeRef::new(),
    };
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::keydown, move |event| {
            if event.key() == "Escape" && is_open.get_untracked() {
                close();
            }
        });
        on_cleanup(move || handle.remove());
        Effect::new(move |_| {
            if let Some(first) = keys.first.get() {
                let _ = first.focus();
            }
        });
        // Closed after being open: the opener gets focus back once it is
        // shown again (not when the page first renders it).
        let returning = RwSignal::new(false);
        Effect::new(move |was_open: Option<bool>| {
            let open_now = is_open.get();
            if was_open == Some(true) && !open_now {
                returning.set(true);
            }
            open_now
        });
        Effect::new(move |_| {
            if let (true, Some(opener)) = (returning.get(), keys.opener.get()) {
                let _ = opener.focus();
                returning.set(false);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (is_open, close);
    keys
}
