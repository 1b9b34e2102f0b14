//! Pages and components, rendered on the server and hydrated in the browser.

mod account;
mod admin;
mod api_keys;
mod audit_log;
mod bulk_retry;
mod callbacks;
mod catalog;
mod deliveries;
mod delivery_filters;
mod delivery_table;
mod display;
mod endpoint_detail;
mod endpoint_form;
mod endpoints;
mod event_filters;
mod event_table;
mod events;
mod filter_fields;
mod form;
mod layout;
mod lazy_pages;
mod loaded;
mod members;
mod notifications;
mod overview;
mod passwords;
mod profiles;
mod search;
mod storage;
mod url_query;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes, A};
use leptos_router::{path, Lazy, SsrMode};

/// The HTML document around the app; the server renders it for every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                {script_policy()}
                {until_the_app_loads()}
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // The stylesheet, WASM and script names carry their content's
                // hash (cargo-leptos `hash-files`), so browsers keep them for
                // a year and a new build is fetched under new names.
                <HashedStylesheet options=options.clone() id="herald"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The page's Content-Security-Policy for scripts and everything they load,
/// as a `<meta>` because it carries this response's nonce (the server adds
/// `frame-ancestors` and the rest as a header; a browser enforces both).
/// Only the hydration script, tagged with the nonce, and the app's own files
/// may run; WebAssembly needs `'wasm-unsafe-eval'` to compile.
fn script_policy() -> impl IntoView {
    use leptos::nonce::use_nonce;
    use_nonce().map(|nonce| {
        let policy = format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'"
        );
        view! { <meta http-equiv="Content-Security-Policy" content=policy/> }
    })
}

/// Until the WASM has loaded, a button that needs it would swallow the
/// click, and a form the app submits itself would reload the page and lose
/// what was typed. This small script (run before the page is interactive,
/// tagged with the nonce) stops those and says the page is still loading;
/// links and forms that post on their own (`ActionForm`) work as they are.
/// `App` marks `<body data-hydrated>` once interactive, which ends it. The
/// notice is put after `<body>`, not in it: hydration walks the body's
/// nodes and must find only what the server rendered there.
fn until_the_app_loads() -> impl IntoView {
    use leptos::nonce::use_nonce;
    const SCRIPT: &str = "(function(){\
        function loading(){return !document.body.hasAttribute('data-hydrated');}\
        function hold(e){e.preventDefault();e.stopImmediatePropagation();\
        if(document.getElementById('app-loading'))return;\
        var p=document.createElement('p');p.id='app-loading';p.className='app-loading';\
        p.setAttribute('role','status');p.setAttribute('data-testid','app-loading');\
        p.textContent='Herald is still loading; that will work in a moment.';\
        document.documentElement.appendChild(p);}\
        document.addEventListener('click',function(e){\
        if(loading()&&e.target.closest&&e.target.closest('button[type=button]')){hold(e);}},true);\
        document.addEventListener('submit',function(e){\
        if(loading()&&!e.target.hasAttribute('action')){hold(e);}},true);\
        })();";
    view! {
        // `inner_html`: a script's text is not HTML, so it must not be escaped.
        <script nonce=use_nonce() inner_html=SCRIPT></script>
    }
}

/// The dashboard: public account pages and the logged-in area.
///
/// The logged-in pages render `SsrMode::Async`: the server waits for every
/// resource (the account in the frame, the page's data, nested panels) and
/// sends the finished page. Out-of-order streaming raced nested suspense
/// boundaries against hydration and made it panic now and then ("entered
/// unreachable code" in tachys); these queries are fast, so waiting costs
/// little.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // `<body data-hydrated>` is set by `crate::hydrate` once hydration is done.
    view! {
        <Title formatter=|title: String| format!("{title} · Herald")/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=account::LogInPage ssr=SsrMode::Async/>
                <Route path=path!("/signup") view={Lazy::<lazy_pages::SignUp>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/forgot-password") view={Lazy::<lazy_pages::ForgotPassword>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/reset-password/:token") view={Lazy::<lazy_pages::ResetPassword>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/invitations/:token") view={Lazy::<lazy_pages::AcceptInvitation>::new()} ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=layout::Dashboard ssr=SsrMode::Async>
                    <Route path=path!("") view={Lazy::<lazy_pages::Overview>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/endpoints") view={Lazy::<lazy_pages::Endpoints>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/endpoints/new") view={Lazy::<lazy_pages::NewEndpoint>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/endpoints/:id") view={Lazy::<lazy_pages::EndpointDetail>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/endpoints/:id/edit") view={Lazy::<lazy_pages::EditEndpoint>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/events") view={Lazy::<lazy_pages::Events>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/events/:id") view={Lazy::<lazy_pages::EventDetail>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/search") view={Lazy::<lazy_pages::Search>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/deliveries") view={Lazy::<lazy_pages::Deliveries>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/deliveries/:id") view={Lazy::<lazy_pages::Delivery>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/event-types") view={Lazy::<lazy_pages::EventTypes>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/api-keys") view={Lazy::<lazy_pages::ApiKeys>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/notifications") view={Lazy::<lazy_pages::Notifications>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/audit-log") view={Lazy::<lazy_pages::AuditLog>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/account") view={Lazy::<lazy_pages::Account>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/members") view={Lazy::<lazy_pages::Members>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit-log") view={Lazy::<lazy_pages::AdminAuditLog>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/deliveries") view={Lazy::<lazy_pages::AdminDeliveries>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/deliveries/:id") view={Lazy::<lazy_pages::AdminDelivery>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/merchants") view={Lazy::<lazy_pages::AdminMerchants>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/endpoints") view={Lazy::<lazy_pages::AdminEndpoints>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/event-types") view={Lazy::<lazy_pages::AdminEventTypes>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/profiles") view={Lazy::<lazy_pages::AdminProfiles>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/events/:id") view={Lazy::<lazy_pages::AdminEvent>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/search") view={Lazy::<lazy_pages::AdminSearch>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/storage") view={Lazy::<lazy_pages::AdminStorage>::new()} ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http_status_not_found());
    }
    view! {
        <Title text="Not found"/>
        <main class="centered">
            <div class="card narrow">
                <h1>"Page not found"</h1>
                <p class="muted">"There is nothing at this address."</p>
                <A href="/">"Back to the dashboard"</A>
            </div>
        </main>
    }
}

#[cfg(feature = "ssr")]
fn http_status_not_found() -> http::StatusCode {
    http::StatusCode::NOT_FOUND
}
