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

/// Entry point of the WASM bundle: attaches the app to the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
