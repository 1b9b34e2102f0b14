//! Pages whose code the browser fetches only when it shows one of them.
//!
//! `cargo leptos build --split` cuts each `#[lazy_route]` view below out of
//! the main WASM into its own file (`/pkg/split_….wasm`; code that several
//! of them share goes into `chunk_….wasm` files), so a first visit downloads
//! the app's frame (router, the dashboard's layout, the log-in and 404
//! pages) and the page it opens, not every page there is. Every page but
//! log-in is here: log-in is where a first visit lands. On the server
//! nothing changes: the route renders the whole page as before, and the
//! response preloads the files that page needs, so hydrating it waits for
//! no extra round trip. A build without `--split` cannot load them.
//!
//! Each route here only wraps a page component; the pages themselves stay in
//! their own modules.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// A lazily loaded route for each page: `Route => module::Page`. The route
/// has no data of its own (the page loads its data itself), so it is a unit
/// struct.
macro_rules! lazy_pages {
    ($($route:ident => $module:ident::$page:ident;)*) => {$(
        #[doc = concat!("The lazily loaded `", stringify!($module), "::", stringify!($page), "`.")]
        pub(super) struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                use super::$module::$page;
                view! { <$page/> }.into_any()
            }
        }
    )*};
}

lazy_pages! {
    // The merchants' dashboard.
    Overview => overview::OverviewPage;
    Endpoints => endpoints::EndpointsPage;
    NewEndpoint => endpoint_form::NewEndpointPage;
    EndpointDetail => endpoint_detail::EndpointDetailPage;
    EditEndpoint => endpoint_form::EditEndpointPage;
    Events => events::EventsPage;
    EventDetail => events::EventDetailPage;
    Search => search::SearchPage;
    Deliveries => deliveries::DeliveriesPage;
    Delivery => deliveries::DeliveryPage;
    ApiKeys => api_keys::ApiKeysPage;
    // Operators' console.
    AdminAuditLog => audit_log::AdminAuditLogPage;
    AdminDeliveries => admin::AdminDeliveriesPage;
    AdminDelivery => admin::AdminDeliveryPage;
    AdminMerchants => admin::AdminMerchantsPage;
    AdminEndpoints => admin::AdminEndpointsPage;
    AdminEventTypes => admin::AdminEventTypesPage;
    AdminProfiles => profiles::AdminProfilesPage;
    AdminEvent => admin::AdminEventPage;
    AdminSearch => search::AdminSearchPage;
    AdminStorage => storage::StoragePage;
    // Merchants' pages visited now and then.
    EventTypes => catalog::EventTypesPage;
    Notifications => notifications::NotificationsPage;
    AuditLog => audit_log::AuditLogPage;
    Account => passwords::AccountPage;
    Members => members::MembersPage;
    // Account pages outside the dashboard, each visited once in a while.
    ForgotPassword => passwords::ForgotPasswordPage;
    SignUp => account::SignUpPage;
    ResetPassword => passwords::ResetPasswordPage;
    AcceptInvitation => members::AcceptInvitationPage;
}
