//! Passwords: `/account` (change it, the current one required),
//! `/forgot-password` (ask for a mailed reset link, or be told plainly that
//! this Herald cannot mail) and `/reset-password/:token` (choose a new one).

use super::account::AuthFrame;
use super::form::{action_error, FormError, PasswordField, TextField};
use super::loaded::Loaded;
use crate::server_fn::account::{
    me, password_reset_by_mail, ChangePassword, RequestPasswordReset, ResetPassword,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

const NEW_PASSWORD_HINT: &str = "At least 10 characters. Your other sessions are logged out.";

/// `/account`: who is logged in, and changing the password.
#[component]
pub fn AccountPage() -> impl IntoView {
    let account = Resource::new(|| (), |_| me());
    let change = ServerAction::<ChangePassword>::new();
    let error = action_error(change);
    let changed = move || matches!(change.value().get(), Some(Ok(())));
    view! {
        <Title text="Account"/>
        <div class="page-header">
            <div>
                <h1>"Account"</h1>
                <Loaded data=move || account let:merchant>
                    {merchant.map(|m| view! {
                        <p class="muted" data-testid="account-email">
                            {m.name} " · " {m.email}
                        </p>
                    })}
                </Loaded>
            </div>
        </div>
        <section class="card account-card">
            <h2>"Change your password"</h2>
            <Show when=changed>
                <p class="alert ok" role="status" data-testid="password-changed">
                    "Your password is changed. Every other session of this account is logged out."
                </p>
            </Show>
            <ActionForm action=change attr:data-testid="change-password-form">
                <FormError error/>
                <PasswordField
                    name="current_password"
                    label="Current password"
                    autocomplete="current-password"
                    error
                />
                <PasswordField
                    name="new_password"
                    label="New password"
                    autocomplete="new-password"
                    hint=NEW_PASSWORD_HINT
                    error
                />
                <button type="submit" class="primary" disabled=move || change.pending().get()>
                    {move || if change.pending().get() { "Changing…" } else { "Change password" }}
                </button>
            </ActionForm>
        </section>
    }
}

/// `/forgot-password`
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let by_mail = Resource::new(|| (), |_| password_reset_by_mail());
    view! {
        <Title text="Forgot your password"/>
        <AuthFrame>
            <h1>"Forgot your password?"</h1>
            <Loaded data=move || by_mail let:by_mail>
                {if by_mail {
                    view! { <ResetRequestForm/> }.into_any()
                } else {
                    view! {
                        <p data-testid="reset-unavailable">
                            "This Herald cannot send e-mail (no SMTP server is configured), so a \
                             forgotten password cannot be reset by mail here. Ask your platform's \
                             operators for a login link, then choose a new password under Account."
                        </p>
                    }
                        .into_any()
                }}
            </Loaded>
            <p class="switch">"Remembered it? " <A href="/login">"Log in"</A></p>
        </AuthFrame>
    }
}

#[component]
fn ResetRequestForm() -> impl IntoView {
    let request = ServerAction::<RequestPasswordReset>::new();
    let error = action_error(request);
    let sent = move || matches!(request.value().get(), Some(Ok(())));
    view! {
        <p class="muted">"We mail a link to choose a new one. It works once, for 30 minutes."</p>
        <Show when=sent>
            <p class="alert ok" role="status" data-testid="reset-sent">
                "If an account uses this address, a reset link is on its way. Check your inbox."
            </p>
        </Show>
        <ActionForm action=request attr:data-testid="forgot-password-form">
            <FormError error/>
            <TextField name="email" label="Email" kind="email" autocomplete="username" required=true error/>
            <button type="submit" class="primary wide" disabled=move || request.pending().get()>
                {move || if request.pending().get() { "Sending…" } else { "Mail me a link" }}
            </button>
        </ActionForm>
    }
}

/// `/reset-password/:token`
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let token = use_params_map().with_untracked(|p| p.get("token").unwrap_or_default());
    let reset = ServerAction::<ResetPassword>::new();
    let error = action_error(reset);
    view! {
        <Title text="Choose a new password"/>
        <AuthFrame>
            <h1>"Choose a new password"</h1>
            <ActionForm action=reset attr:data-testid="reset-password-form">
                <FormError error/>
                <input type="hidden" name="token" value=token/>
                <PasswordField
                    name="password"
                    label="New password"
                    autocomplete="new-password"
                    hint="At least 10 characters. Every session of this account is logged out."
                    error
                />
                <button type="submit" class="primary wide" disabled=move || reset.pending().get()>
                    {move || if reset.pending().get() { "Saving…" } else { "Set password" }}
                </button>
            </ActionForm>
            <p class="switch"><A href="/forgot-password">"Ask for a new link"</A></p>
        </AuthFrame>
    }
}
