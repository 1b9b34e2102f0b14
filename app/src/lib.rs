//! `herald-app`: the shared models and the Leptos dashboard. No SQL here:
//! the server crate implements [`backend::Backend`] and provides it in context.

// The hydrate build's view types nest deeply (tables of rows of optional
// buttons): deeper than the default limit of 128.
#![recursion_limit = "256"]

pub mod model;
pub mod server_fn;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod backend;

pub use ui::{shell, App};

/// Entry point of the WASM bundle: attaches the app to the server-rendered
/// page. Asynchronously (what `leptos::mount::hydrate_lazy` does), because a
/// page whose code is split off (`ui::lazy_pages`) can only hydrate once its
/// file has arrived.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Futures run on wasm-bindgen's executor; an error only says it is set already.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let body = leptos::tachys::dom::body();
        leptos::mount::hydrate_from_async(body.clone(), App)
            .await
            .forget();
        // The page works from here on: browser tests and the first-visit
        // bench wait for this mark instead of sleeping. Set here, not by an
        // effect in the app, because effects already run while a split-off
        // page's file is still on its way.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
