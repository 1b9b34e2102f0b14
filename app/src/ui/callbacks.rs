//! The callback signing secret: what signs deliveries to an event's
//! `callback_url` (one secret per merchant, apart from any endpoint's), and
//! the delivery profile those deliveries are sent in.

use super::display::{time, CopyButton};
use super::endpoint_detail::RotateKey;
use crate::model::delivery_profiles::ProfileSummary;
use crate::model::endpoint::CallbackSettings;
use crate::model::profile::SignatureAlgorithm;
use crate::server_fn::endpoints::{RevealCallbackSecret, RotateCallbackSecret, SetCallbackProfile};
use leptos::prelude::*;

/// Hidden until revealed; copy; rotate with a grace period; the profile.
#[component]
pub fn CallbackSecretPanel(
    settings: CallbackSettings,
    /// Every profile; those that sign with HMAC (or not at all) are offered.
    profiles: Vec<ProfileSummary>,
) -> impl IntoView {
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
                "in the delivery profile chosen below (" <code>"standard"</code> ": Standard Webhooks' "
                <code>"webhook-id"</code> ", " <code>"webhook-timestamp"</code> ", "
                <code>"webhook-signature"</code> ", for any Standard Webhooks library). "
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
            <CallbackProfile settings profiles/>
        </section>
    }
}

/// The profile callbacks are sent in. The callback secret is an HMAC key,
/// so profiles signing with RSA or Ed25519 (an endpoint's own key) are not
/// offered; the server refuses them too.
#[component]
fn CallbackProfile(settings: CallbackSettings, profiles: Vec<ProfileSummary>) -> impl IntoView {
    let save = ServerAction::<SetCallbackProfile>::new();
    let current = settings.profile;
    let chosen = RwSignal::new(current.clone());
    let offered: Vec<ProfileSummary> = profiles
        .into_iter()
        .filter(|p| {
            p.algorithms.is_empty() || p.algorithms.contains(&SignatureAlgorithm::HmacSha256)
        })
        .collect();
    let error = move || save.value().get().and_then(Result::err).map(|e| e.message);
    let saved = move || {
        save.value().get().and_then(Result::ok).map(|s| {
            format!(
                "Saved: callbacks are sent as {} from their next attempt.",
                s.profile
            )
        })
    };
    view! {
        <form class="form" data-testid="callback-profile-form"
            on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                save.dispatch(SetCallbackProfile { profile: chosen.get_untracked() });
            }>
            <div class="field">
                <label for="callback-profile">"Delivery profile"</label>
                <select id="callback-profile" data-testid="callback-profile-select"
                    prop:value=move || chosen.get()
                    on:change=move |ev| {
                        chosen.set(event_target_value(&ev));
                        save.clear();
                    }>
                    {offered.into_iter().map(|p| {
                        let selected = p.name == current;
                        let label = p.name.clone();
                        view! { <option value=p.name selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
                <p class="hint">
                    "Profiles that sign with RSA or Ed25519 need an endpoint's own key, so only those signing with HMAC are offered."
                </p>
            </div>
            <div class="actions">
                <button type="submit" data-testid="save-callback-profile" disabled=move || save.pending().get()>
                    "Save"
                </button>
                <span class="saved-note" role="status" data-testid="callback-profile-saved">{saved}</span>
            </div>
            <p class="field-error" role="alert" data-testid="callback-profile-error">{error}</p>
        </form>
    }
}
