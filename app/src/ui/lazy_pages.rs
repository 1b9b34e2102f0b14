//! Pages whose code the browser fetches only when it first shows one of them.
//!
//! `cargo leptos build --split` cuts each group below out of the main WASM
//! into its own file (`/pkg/split_merchant_page_….wasm` and so on; code two
//! groups share goes into a few `chunk_….wasm` files), so a first visit downloads the app's
//! frame (router, the dashboard's layout, the log-in and 404 pages) and the
//! group the page belongs to, not every page there is. Log-in stays in the
//! frame: it is where a first visit lands.
//!
//! Pages are split by group, not one file per page: with a split per page
//! (tried, BENCHMARKS.md) the code pages share was cut into hundreds of
//! small files, and the overview's first visit fetched 138 WASM files and took
//! 5.9 s to work on 4G. A group is what one kind of visit uses: a merchant's
//! dashboard, the operators' console, the account pages reached from an
//! email or the log-in page.
//!
//! On the server nothing changes: the route renders the whole page as
//! before, and the response preloads the files its group needs, so
//! hydrating it waits for no extra round trip. A build without `--split`
//! cannot load them.

use leptos::prelude::*;
use leptos_router::LazyRoute;

/// For each group: an enum of its pages, the one split function that
/// renders any of them (`#[lazy]`: its code, and what only it uses, is the
/// group's file), and a route type per page whose view awaits that function.
/// The route has no data of its own (the page loads its data itself).
/// This is what `#[lazy_route]` writes, except that the split function is
/// shared by the group's routes instead of one per route.
macro_rules! lazy_page_group {
    ($group:ident, $render:ident, $preload:ident: $($route:ident => $module:ident::$page:ident;)*) => {
        #[derive(Clone, Copy)]
        pub(super) enum $group {
            $($route,)*
        }

        #[leptos::lazy]
        fn $render(page: $group) -> AnyView {
            match page {
                $($group::$route => {
                    use super::$module::$page;
                    view! { <$page/> }.into_any()
                })*
            }
        }

        $(
            #[doc = concat!("The route of `", stringify!($module), "::", stringify!($page), "`, loaded with its group.")]
            pub(super) struct $route;

            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                async fn view(_this: Self) -> AnyView {
                    $render($group::$route).await
                }

                async fn preload() {
                    // Only the WASM has files to fetch; on the server the
                    // split function is a plain one.
                    #[cfg(target_arch = "wasm32")]
                    $preload().await;
                }
            }
        )*
    };
}

lazy_page_group! {
    MerchantPage, merchant_page, __preload_merchant_page:
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
    EventTypes => catalog::EventTypesPage;
    Notifications => notifications::NotificationsPage;
    AuditLog => audit_log::AuditLogPage;
    Account => passwords::AccountPage;
    Members => members::MembersPage;
}

lazy_page_group! {
    OperatorPage, operator_page, __preload_operator_page:
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
}

lazy_page_group! {
    PublicPage, public_page, __preload_public_page:
    ForgotPassword => passwords::ForgotPasswordPage;
    SignUp => account::SignUpPage;
    ResetPassword => passwords::ResetPasswordPage;
    AcceptInvitation => members::AcceptInvitationPage;
}
