//! The callback signing secret: what signs deliveries to an event's
//! `callback_url` (one secret per merchant, apart from any endpoint's).

use super::display::{time, CopyButton};
use super::endpoint_detail::RotateKey;
use crate::server_fn::endpoints::{RevealCallbackSecret, RotateCallbackSecret};
use leptos::prelude::*;

/// Hidden until revealed; copy; rotate with a grace period.
#[component]
pub fn CallbackSecretPanel() -> impl IntoView {
    let reveal = ServerAction::<RevealCallbackSecret>::new();
    let rotate = ServerAction::<RotateCallbackSecret>::new();
    // The newest answer of either action wins: a rotation replaces what was revealed.
    let shown = Signal::derive(move || {
        rotate
            .value()
            .get()
            .and_then(Result::ok)
            .or_else(|| reveal.value().get().and_then(Result::ok))
    });
    let secret = Signal::derive(move || shown.get().map(|s| s.secret).unwrap_or_default());
    let error = move || {
        reveal
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| rotate.value().get().and_then(Result::err))
            .map(|e| e.message)
    };
    view! {
        <section class="card" data-testid="callback-secret-panel">
            <h2>"Callback signing secret"</h2>
            <p class="muted small">
                "When the platform sends an event with its own " <code>"callback_url"</code>
                ", Herald delivers it there instead of to your endpoints, signed with this secret "
                "(Standard Webhooks: " <code>"webhook-id"</code> ", " <code>"webhook-timestamp"</code> ", "
                <code>"webhook-signature"</code> "). Verify it with any Standard Webhooks library. "
                "Those deliveries are listed under " <a href="/deliveries?endpoint_id=callbacks">"Deliveries → Callbacks"</a> "."
            </p>
            <div class="secret-row">
                <code class="secret" data-testid="callback-secret">
                    {move || shown.get().map(|s| s.secret).unwrap_or_else(|| "whsec_••••••••••••••••••••••••".to_owned())}
                </code>
                <Show
                    when=move || shown.get().is_some()
                    fallback=move || view! {
                        <button type="button" data-testid="reveal-callback-secret"
                            on:click=move |_| { reveal.dispatch(RevealCallbackSecret {}); }>
                            "Reveal"
                        </button>
                    }
                >
                    <CopyButton text=secret testid="copy-callback-secret"/>
                </Show>
            </div>
            {move || {
                shown
                    .get()
                    .and_then(|s| s.previous_secret_expires_at)
                    .map(|until| view! {
                        <p class="alert ok" data-testid="callback-rotation-note">
                            "The previous secret also signs until " {time(&until)} "."
                        </p>
                    })
            }}
            <RotateKey pending=rotate.pending()
                testids=("rotate-callback-toggle", "callback-grace-select", "rotate-callback-secret")
                rotate=move |grace_s| { rotate.dispatch(RotateCallbackSecret { grace_s }); }/>
            <p class="field-error" role="alert">{error}</p>
        </section>
    }
}
