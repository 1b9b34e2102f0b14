//! Form pieces shared by every page: labelled fields and where errors show.

use crate::model::error::AppError;
use leptos::prelude::*;

/// The last result of a server action, as a signal of its error.
pub type ActionError = Signal<Option<AppError>>;

/// The error of an action's latest result, if it failed.
pub fn action_error<I, O>(action: ServerAction<I>) -> ActionError
where
    I: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(|result| result.err()))
}

/// A labelled control with its hint and its server-side error under it: the
/// frame of every form field. The control (`children`) must have `id=name`.
#[component]
pub fn Field(
    /// The key server errors use for this field; also the control's id.
    name: &'static str,
    label: &'static str,
    #[prop(optional_no_strip)] hint: Option<&'static str>,
    error: ActionError,
    children: Children,
) -> impl IntoView {
    let message = move || error.get().and_then(|e| e.for_field(name));
    view! {
        <div class="field" class:invalid=move || message().is_some()>
            <label for=name>{label}</label>
            {children()}
            {hint.map(|hint| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=error_id(name) role="alert" data-testid=error_id(name)>
                {message}
            </p>
        </div>
    }
}

/// The id of a field's error, which its control names as its description.
fn error_id(name: &str) -> String {
    format!("{name}-error")
}

/// A labelled text input. Without `value` it is a plain form input, sent
/// by its `name`; with `value` it is bound to that signal, for forms
/// submitted from code, and has no `name`, so a submit before hydration
/// sends nothing. A plain input gets no `prop:value`, so hydration does not
/// clear what was typed before the page became interactive.
#[component]
pub fn TextField(
    /// The form field's name, its id and the key server errors use.
    name: &'static str,
    label: &'static str,
    error: ActionError,
    #[prop(optional)] value: Option<RwSignal<String>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] placeholder: Option<&'static str>,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional)] hint: Option<&'static str>,
    /// The input's `data-testid`; `{name}-input` when absent.
    #[prop(optional)]
    testid: Option<&'static str>,
) -> impl IntoView {
    let testid = testid.map_or_else(|| format!("{name}-input"), str::to_owned);
    let input = view! {
        <input
            id=name
            name=value.is_none().then_some(name)
            type=kind
            required=required
            autocomplete=autocomplete
            placeholder=placeholder
            inputmode=inputmode
            aria-describedby=error_id(name)
            data-testid=testid
        />
    };
    let input = match value {
        Some(value) => input
            .into_inner()
            .prop("value", move || value.get())
            .on(leptos::ev::input, move |ev| {
                value.set(event_target_value(&ev))
            })
            .into_any(),
        None => input.into_any(),
    };
    view! { <Field name label hint error>{input}</Field> }
}

/// A password input with a show/hide toggle (works once the page has hydrated).
#[component]
pub fn PasswordField(
    name: &'static str,
    label: &'static str,
    autocomplete: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    error: ActionError,
) -> impl IntoView {
    let visible = RwSignal::new(false);
    view! {
        <Field name label hint error>
            <div class="input-with-button">
                <input
                    id=name
                    name=name
                    type=move || if visible.get() { "text" } else { "password" }
                    autocomplete=autocomplete
                    required
                    aria-describedby=error_id(name)
                    data-testid=format!("{name}-input")
                />
                <button
                    type="button"
                    class="ghost"
                    aria-pressed=move || visible.get().to_string()
                    data-testid="toggle-password"
                    on:click=move |_| visible.update(|v| *v = !*v)
                >
                    {move || if visible.get() { "Hide" } else { "Show" }}
                </button>
            </div>
        </Field>
    }
}

/// An error that belongs to the whole form rather than one field.
#[component]
pub fn FormError(error: ActionError) -> impl IntoView {
    let message = move || error.get().filter(AppError::is_for_form).map(|e| e.message);
    view! {
        <Show when=move || message().is_some()>
            <div class="alert error" role="alert" data-testid="form-error">{message}</div>
        </Show>
    }
}
