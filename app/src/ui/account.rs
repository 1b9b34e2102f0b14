//! The public account pages: log in and sign up.

use super::form::{action_error, FormError, PasswordField, TextField};
use super::loaded::Loaded;
use crate::model::merchant::{SignUpMode, MIN_PASSWORD_LEN};
use crate::server_fn::account::{get_sign_up_mode, LogIn, SignUp};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

/// `/login`
#[component]
pub fn LogInPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let error = action_error(action);
    let sign_up_open = Resource::new(|| (), |_| get_sign_up_mode());
    let refused_link = use_query_map()
        .with_untracked(|query| query.get("link"))
        .map(|reason| refused_link_message(&reason));
    let reset_done = use_query_map()
        .with_untracked(|query| query.get("reset"))
        .is_some();
    view! {
        <Title text="Log in"/>
        <AuthFrame>
            <h1>"Log in to Herald"</h1>
            <p class="muted">"Webhooks for your payments, delivered and accounted for."</p>
            {refused_link.map(|text| view! {
                <p class="alert error" role="alert" data-testid="login-link-refused">{text}</p>
            })}
            {reset_done.then(|| view! {
                <p class="alert ok" role="status" data-testid="password-reset-done">
                    "Your password is set. Log in with it."
                </p>
            })}
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
            <p class="switch"><A href="/forgot-password">"Forgot your password?"</A></p>
            <Loaded data=move || sign_up_open let:mode>
                {(mode == SignUpMode::Open).then(|| view! {
                    <p class="switch">"New to Herald? " <A href="/signup">"Create an account"</A></p>
                })}
            </Loaded>
        </AuthFrame>
    }
}

/// What the log-in page says after a login link opened nothing
/// (`/login?link=used|expired|invalid`).
fn refused_link_message(reason: &str) -> &'static str {
    match reason {
        "used" => "This login link has been used already: each link opens Herald once. Ask your platform for a new one.",
        "expired" => "This login link has expired: links work for 10 minutes. Ask your platform for a new one.",
        _ => "This login link is not valid. Ask your platform for a new one.",
    }
}

/// `/signup`: the form when sign-up is open, and only a way to log in when
/// it is closed (`HERALD_SIGNUP=closed`).
#[component]
pub fn SignUpPage() -> impl IntoView {
    let mode = Resource::new(|| (), |_| get_sign_up_mode());
    view! {
        <Title text="Create an account"/>
        <AuthFrame>
            <Loaded data=move || mode let:mode>
                {match mode {
                    SignUpMode::Open => view! { <SignUpForm/> }.into_any(),
                    SignUpMode::Closed => view! { <SignUpClosed/> }.into_any(),
                }}
            </Loaded>
        </AuthFrame>
    }
}

#[component]
fn SignUpClosed() -> impl IntoView {
    view! {
        <h1>"Sign-up is closed"</h1>
        <p data-testid="signup-closed">
            "Accounts on this Herald come from your payments platform. Open Herald from its \
             dashboard, or ask it for a login link."
        </p>
        <p class="switch">"Already have an account? " <A href="/login">"Log in"</A></p>
    }
}

#[component]
fn SignUpForm() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let error = action_error(action);
    let password_hint = if MIN_PASSWORD_LEN == 10 {
        "At least 10 characters."
    } else {
        "Long enough to be hard to guess."
    };
    view! {
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
    }
}

/// The frame of the public account pages.
#[component]
pub(super) fn AuthFrame(children: Children) -> impl IntoView {
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
