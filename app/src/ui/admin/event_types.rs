//! `/admin/event-types`: the catalog, with adding, editing a type's
//! description and example payload in place, and archiving (after saying
//! what it does and whom it reaches) or restoring.

use crate::model::event_type::EventType;
use crate::server_fn::admin::{
    admin_event_types, AdminArchiveEventType, AdminCreateEventType, AdminEventTypeReceivers,
    AdminUpdateEventType,
};
use crate::ui::display::confirm_keys;
use crate::ui::form::{action_error, ActionError, Field, FormError, TextField};
use crate::ui::loaded::Loaded;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/admin/event-types`
#[component]
pub fn AdminEventTypesPage() -> impl IntoView {
    let create = ServerAction::<AdminCreateEventType>::new();
    let archive = ServerAction::<AdminArchiveEventType>::new();
    let update = ServerAction::<AdminUpdateEventType>::new();
    // Edits saved so far: the list is fetched again after a save, not after
    // a refused one, which would draw the open form again from the stored
    // type and lose what the operator typed.
    let saves = RwSignal::new(0u32);
    let types = Resource::new(
        move || (create.version().get(), archive.version().get(), saves.get()),
        |_| admin_event_types(),
    );
    // The type whose edit form is open (one at a time); a saved edit closes it.
    let editing: RwSignal<Option<String>> = RwSignal::new(None);
    Effect::new(move |_| {
        if let Some(Ok(_)) = update.value().get() {
            editing.set(None);
            saves.update(|n| *n += 1);
        }
    });
    let error = action_error(create);
    let created = move || create.value().get().and_then(Result::ok).map(|t| t.name);
    let saved = move || update.value().get().and_then(Result::ok).map(|t| t.name);
    view! {
        <Title text="Event types · Operations"/>
        <div class="page-header">
            <div>
                <h1>"Event-type catalog"</h1>
                <p class="muted">"Archived types cannot be subscribed to or sent; their past events and deliveries stay."</p>
            </div>
        </div>
        <Loaded data=move || types loading="Loading…" let:list>
            <section class="card form">
                <h2>"Add a type"</h2>
                <ActionForm action=create attr:data-testid="create-type-form">
                    <FormError error/>
                    <TextField name="name" label="Name" required=true
                        hint="Lowercase words joined by dots: payout.reversed" error/>
                    <TextField name="description" label="Description" required=true error/>
                    <Field name="example" label="Example payload (JSON object)" error>
                        <textarea id="example" name="example" rows="4" aria-describedby="example-error"
                            data-testid="example-input" placeholder="{\"payoutId\": \"po_123\"}"></textarea>
                    </Field>
                    <button type="submit" class="primary" data-testid="create-type">"Add type"</button>
                </ActionForm>
                {move || created().map(|name| view! { <p class="alert ok" data-testid="type-created">"Added " <code>{name}</code> "."</p> })}
            </section>
            {move || saved().map(|name| view! { <p class="alert ok" role="status" data-testid="type-saved">"Saved " <code>{name}</code> "."</p> })}
            <table class="table stacked" data-testid="admin-types">
                <thead><tr><th>"Name"</th><th>"Description"</th><th>"State"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>
                    {list.into_iter().map(|t| view! { <TypeRows event_type=t archive update editing/> }).collect_view()}
                </tbody>
            </table>
        </Loaded>
    }
}

/// A type's row, and under it its edit form while open.
#[component]
fn TypeRows(
    event_type: EventType,
    archive: ServerAction<AdminArchiveEventType>,
    update: ServerAction<AdminUpdateEventType>,
    editing: RwSignal<Option<String>>,
) -> impl IntoView {
    let name = StoredValue::new(event_type.name.clone());
    let archived = event_type.archived;
    let is_editing = move || editing.get().as_deref() == Some(name.get_value().as_str());
    let state = if archived {
        view! { <span class="pill off">"Archived"</span> }.into_any()
    } else {
        view! { <span class="pill ok">"Active"</span> }.into_any()
    };
    let toggle = if archived {
        view! {
            <button type="button" class="ghost" data-testid="toggle-archive"
                on:click=move |_| { archive.dispatch(AdminArchiveEventType { name: name.get_value(), archived: false }); }>
                "Restore"
            </button>
        }
        .into_any()
    } else {
        view! { <ArchiveConfirm name archive/> }.into_any()
    };
    let form_type = event_type.clone();
    view! {
        <tr data-testid="admin-type-row" data-type=event_type.name.clone()>
            <td data-label="Name"><code>{event_type.name.clone()}</code></td>
            <td data-label="Description" class="small" data-testid="type-description">{event_type.description.clone()}</td>
            <td data-label="State">{state}</td>
            <td class="row-actions">
                <button type="button" class="ghost" data-testid="edit-type"
                    aria-expanded=move || is_editing().to_string()
                    on:click=move |_| {
                        update.clear();
                        editing.set(if is_editing() { None } else { Some(name.get_value()) });
                    }>
                    "Edit"
                </button>
                " "
                {toggle}
            </td>
        </tr>
        <Show when=is_editing>
            <tr class="edit-row" data-testid="edit-type-row">
                <td colspan="4"><EditType event_type=form_type.clone() update editing/></td>
            </tr>
        </Show>
    }
}

/// The inline form that changes a type's description and example.
#[component]
fn EditType(
    event_type: EventType,
    update: ServerAction<AdminUpdateEventType>,
    editing: RwSignal<Option<String>>,
) -> impl IntoView {
    let name = event_type.name.clone();
    let description = RwSignal::new(event_type.description.clone());
    let example = RwSignal::new(
        serde_json::to_string_pretty(&event_type.example).unwrap_or_else(|_| "{}".to_owned()),
    );
    let error: ActionError = action_error(update);
    let field_error =
        move |field: &'static str| move || error.get().and_then(|e| e.for_field(field));
    let title = format!("Edit {name}");
    let submit_name = name.clone();
    view! {
        <form class="form edit-type" aria-label=title data-testid="edit-type-form"
            on:submit=move |ev| {
                ev.prevent_default();
                update.dispatch(AdminUpdateEventType {
                    name: submit_name.clone(),
                    description: description.get_untracked(),
                    example: example.get_untracked(),
                });
            }>
            <FormError error/>
            <div class="field" class:invalid=move || field_error("description")().is_some()>
                <label for="edit-description">"Description"</label>
                <input id="edit-description" type="text" required=true data-testid="edit-description"
                    aria-describedby="edit-description-error"
                    prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev))/>
                <p class="field-error" id="edit-description-error" role="alert">{field_error("description")}</p>
            </div>
            <div class="field" class:invalid=move || field_error("example")().is_some()>
                <label for="edit-example">"Example payload (JSON object)"</label>
                <textarea id="edit-example" rows="6" class="mono" data-testid="edit-example"
                    aria-describedby="edit-example-error"
                    prop:value=move || example.get()
                    on:input=move |ev| example.set(event_target_value(&ev))></textarea>
                <p class="hint">"Test events of this type send it. Empty is " <code>"{}"</code> "."</p>
                <p class="field-error" id="edit-example-error" role="alert" data-testid="edit-example-error">{field_error("example")}</p>
            </div>
            <div class="actions">
                <button type="submit" class="primary" data-testid="save-type">"Save"</button>
                <button type="button" class="ghost" data-testid="cancel-edit"
                    on:click=move |_| { update.clear(); editing.set(None); }>"Cancel"</button>
            </div>
        </form>
    }
}

/// "Archive", which first says what archiving does and how many endpoints
/// receive the type now; Escape or Cancel closes it with nothing changed.
#[component]
fn ArchiveConfirm(
    name: StoredValue<String>,
    archive: ServerAction<AdminArchiveEventType>,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    let keys = confirm_keys(asking);
    let receivers = ServerAction::<AdminEventTypeReceivers>::new();
    let reach = move || match receivers.value().get() {
        None => "Counting the endpoints that receive it…".to_owned(),
        Some(Ok(0)) => "No endpoint receives it now.".to_owned(),
        Some(Ok(1)) => "1 endpoint receives it now.".to_owned(),
        Some(Ok(n)) => format!("{n} endpoints receive it now."),
        Some(Err(e)) => e.message,
    };
    view! {
        <Show when=move || asking.get()
            fallback=move || view! {
                <button type="button" class="ghost" data-testid="toggle-archive" node_ref=keys.opener
                    on:click=move |_| {
                        receivers.dispatch(AdminEventTypeReceivers { name: name.get_value() });
                        asking.set(true);
                    }>
                    "Archive"
                </button>
            }>
            <div class="confirm archive" role="group" aria-label="Archive this type?" data-testid="confirm-archive">
                <p class="small">
                    "Archive " <code>{name.get_value()}</code> "? The platform can no longer send it and no endpoint can subscribe to it; its past events and deliveries stay, and you can restore it. "
                    <strong data-testid="archive-reach">{reach}</strong>
                </p>
                <button type="button" class="danger" data-testid="confirm-archive-button" node_ref=keys.first
                    on:click=move |_| {
                        archive.dispatch(AdminArchiveEventType { name: name.get_value(), archived: true });
                        asking.set(false);
                    }>"Archive"</button>
                " "
                <button type="button" class="ghost" data-testid="cancel-archive"
                    on:click=move |_| asking.set(false)>"Cancel"</button>
            </div>
        </Show>
    }
}
