//! Small pieces every page shows the same way: times, statuses, a failing
//! endpoint's warning, copy buttons, a self-refreshing resource.

use crate::model::delivery::DeliveryStatus;
use crate::model::endpoint::Endpoint;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::components::A;

/// A time as every page shows it (UTC, so server and browser agree).
pub fn time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A coloured badge for a delivery's status.
#[component]
pub fn StatusBadge(status: DeliveryStatus) -> impl IntoView {
    let text = status.as_str();
    view! { <span class=format!("badge status-{text}") data-testid="status">{text}</span> }
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

/// Calls `refetch` every `seconds` while the page is open (browser only),
/// so lists show new rows without a reload.
pub fn refresh_every(seconds: u64, refetch: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let handle =
            set_interval_with_handle(refetch, std::time::Duration::from_secs(seconds)).ok();
        on_cleanup(move || {
            if let Some(handle) = handle {
                handle.clear();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (seconds, refetch);
}
