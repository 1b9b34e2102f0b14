//! The logged-in frame: navigation, search, who is logged in, log-out, and
//! the page.

use super::search::SearchBox;
use crate::model::merchant::Merchant;
use crate::server_fn::account::{me, LogOut};
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::{use_location, use_query_map};

/// Wraps every logged-in page; sends a visitor without a session to `/login`.
///
/// The page (`Outlet`) is rendered outside the account's `Suspense`: nesting
/// the routed page inside a suspended branch made hydration walk a different
/// tree than the server rendered whenever the page's own resources resolved
/// first (tachys panics with "entered unreachable code"). Only the parts
/// that need the account wait for it.
#[component]
pub fn Dashboard() -> impl IntoView {
    let merchant = Resource::new(|| (), |_| me());
    let menu_open = RwSignal::new(false);
    // On the search page the box shows what was searched for, to refine it.
    let (pathname, params) = (use_location().pathname, use_query_map());
    let searched = Signal::derive(move || {
        if pathname.get() == "/search" {
            params.read().get("q").unwrap_or_default()
        } else {
            String::new()
        }
    });
    // Escape closes the phone menu, as it closes any menu.
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::keydown, move |event| {
            if event.key() == "Escape" {
                menu_open.set(false);
            }
        });
        on_cleanup(move || handle.remove());
    }
    view! {
        <div class="app" class:menu-open=move || menu_open.get()>
            <header class="topbar">
                <button
                    type="button"
                    class="ghost menu-toggle"
                    aria-label="Menu"
                    aria-expanded=move || menu_open.get().to_string()
                    data-testid="menu-toggle"
                    on:click=move |_| menu_open.update(|open| *open = !*open)
                >
                    "☰"
                </button>
                <A href="/" attr:class="brand">
                    <span class="logo" aria-hidden="true">"H"</span>
                    <span>"Herald"</span>
                </A>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match merchant.await {
                            Ok(Some(merchant)) => view! { <Account merchant/> }.into_any(),
                            _ => view! { <Redirect path="/login"/> }.into_any(),
                        }
                    })}
                </Suspense>
                // After the account's `Suspense`, not before it: an element
                // between the brand and that `Suspense` made hydration put
                // the account's nodes onto the search box (tachys
                // "entered unreachable code"). CSS places it.
                <SearchBox action="/search" id="site-search" label="Search" value=searched/>
            </header>
            <nav class="sidebar" aria-label="Main" on:click=move |_| menu_open.set(false)>
                <A href="/" exact=true>"Overview"</A>
                <A href="/endpoints">"Endpoints"</A>
                <A href="/events">"Events"</A>
                <A href="/deliveries">"Deliveries"</A>
                <A href="/event-types">"Event types"</A>
                <A href="/api-keys">"API keys"</A>
                <A href="/notifications">"Notifications"</A>
                <A href="/audit-log">"Audit log"</A>
                <A href="/members">"Members"</A>
                <A href="/account">"Account"</A>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let admin = matches!(merchant.await, Ok(Some(ref m)) if m.is_admin());
                        admin.then(|| view! {
                            <p class="nav-group" data-testid="ops-nav">"Operations"</p>
                            <A href="/admin/deliveries">"Failed deliveries"</A>
                            <A href="/admin/search">"Search all accounts"</A>
                            <A href="/admin/endpoints">"All endpoints"</A>
                            <A href="/admin/merchants">"Merchants"</A>
                            <A href="/admin/event-types">"Event-type catalog"</A>
                            <A href="/admin/profiles">"Delivery profiles"</A>
                            <A href="/admin/storage">"Storage"</A>
                            <A href="/admin/audit-log">"Audit log"</A>
                        })
                    })}
                </Suspense>
            </nav>
            <main class="content">
                <Outlet/>
            </main>
        </div>
    }
}

/// Who is logged in, and the log-out button.
#[component]
fn Account(merchant: Merchant) -> impl IntoView {
    let log_out = ServerAction::<LogOut>::new();
    let initial = merchant
        .name
        .chars()
        .next()
        .unwrap_or('?')
        .to_uppercase()
        .to_string();
    view! {
        <div class="account">
            <span class="avatar" aria-hidden="true">{initial}</span>
            <span class="account-name" data-testid="merchant-name">
                {merchant.name.clone()}
            </span>
            {merchant.is_admin().then(|| view! { <span class="badge">"admin"</span> })}
            <ActionForm action=log_out>
                <button type="submit" class="ghost" data-testid="logout">
                    "Log out"
                </button>
            </ActionForm>
        </div>
    }
}
