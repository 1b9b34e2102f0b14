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

/// A labelled input whose server-side error shows right under it.
#[component]
pub fn Field(
    /// The form field's name, also its id and the key server errors use.
    name: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "")] autocomplete: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    error: ActionError,
) -> impl IntoView {
    let message = move || error.get().and_then(|e| e.for_field(name));
    let error_id = format!("{name}-error");
    view! {
        <div class="field" class:invalid=move || message().is_some()>
            <label for=name>{label}</label>
            <input
                id=name
                name=name
                type=kind
                autocomplete=autocomplete
                required
                aria-describedby=error_id.clone()
                data-testid=format!("{name}-input")
            />
            {hint.map(|hint| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=error_id role="alert" data-testid=format!("{name}-error")>
                {message}
            </p>
        </div>
    }
}

/// A labelled text input bound to a signal (forms submitted from code,
/// not as an HTML form), with its server-side error right under it.
#[component]
pub fn BoundField(
    /// The key server errors use for this field; also the input's id.
    name: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    /// The input's `data-testid`.
    testid: &'static str,
    error: ActionError,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "")] placeholder: &'static str,
    #[prop(default = "text")] inputmode: &'static str,
    #[prop(default = false)] required: bool,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let message = move || error.get().and_then(|e| e.for_field(name));
    let error_id = format!("{name}-error");
    view! {
        <div class="field" class:invalid=move || message().is_some()>
            <label for=name>{label}</label>
            <input
                id=name
                type=kind
                inputmode=inputmode
                required=required
                placeholder=placeholder
                aria-describedby=error_id.clone()
                data-testid=testid
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            {hint.map(|hint| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=error_id role="alert" data-testid=format!("{name}-error")>
                {message}
            </p>
        </div>
    }
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
    let message = move || error.get().and_then(|e| e.for_field(name));
    let error_id = format!("{name}-error");
    view! {
        <div class="field" class:invalid=move || message().is_some()>
            <label for=name>{label}</label>
            <div class="input-with-button">
                <input
                    id=name
                    name=name
                    type=move || if visible.get() { "text" } else { "password" }
                    autocomplete=autocomplete
                    required
                    aria-describedby=error_id.clone()
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
            {hint.map(|hint| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=error_id role="alert" data-testid=format!("{name}-error")>
                {message}
            </p>
        </div>
    }
}

/// An error that belongs to the whole form rather than one field.
#[component]
pub fn FormError(error: ActionError) -> impl IntoView {
    let message = move || error.get().filter(|e| e.field.is_none()).map(|e| e.message);
    view! {
        <Show when=move || message().is_some()>
            <div class="alert error" role="alert" data-testid="form-error">{message}</div>
        </Show>
    }
}
