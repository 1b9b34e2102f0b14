//! The public account pages: log in and sign up.

use super::form::{action_error, FormError, PasswordField, TextField};
use crate::model::merchant::MIN_PASSWORD_LEN;
use crate::server_fn::account::{LogIn, SignUp};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// `/login`
#[component]
pub fn LogInPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let error = action_error(action);
    view! {
        <Title text="Log in"/>
        <AuthFrame>
            <h1>"Log in to Herald"</h1>
            <p class="muted">"Webhooks for your payments, delivered and accounted for."</p>
            <ActionForm action=action attr:data-testid="login-form">
                <FormError error/>
                <TextField name="email" label="Email" kind="email" autocomplete="username" required=true error/>
                <PasswordField
                    name="password"
                    label="Password"
                    autocomplete="current-password"
                    error
                />
                <button type="submit" class="primary wide" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Logging in…" } else { "Log in" }}
                </button>
            </ActionForm>
            <p class="switch">"New to Herald? " <A href="/signup">"Create an account"</A></p>
        </AuthFrame>
    }
}

/// `/signup`
#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let error = action_error(action);
    let password_hint = if MIN_PASSWORD_LEN == 10 {
        "At least 10 characters."
    } else {
        "Long enough to be hard to guess."
    };
    view! {
        <Title text="Create an account"/>
        <AuthFrame>
            <h1>"Create your Herald account"</h1>
            <p class="muted">
                "Register endpoints, choose the events you need, and see every delivery attempt."
            </p>
            <ActionForm action=action attr:data-testid="signup-form">
                <FormError error/>
                <TextField name="name" label="Company name" autocomplete="organization" required=true error/>
                <TextField name="email" label="Work email" kind="email" autocomplete="email" required=true error/>
                <PasswordField
                    name="password"
                    label="Password"
                    autocomplete="new-password"
                    hint=password_hint
                    error
                />
                <button type="submit" class="primary wide" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p class="switch">"Already have an account? " <A href="/login">"Log in"</A></p>
        </AuthFrame>
    }
}

#[component]
fn AuthFrame(children: Children) -> impl IntoView {
    view! {
        <main class="auth">
            <div class="brand">
                <span class="logo" aria-hidden="true">"H"</span>
                <span>"Herald"</span>
            </div>
            <div class="card narrow">{children()}</div>
        </main>
    }
}
