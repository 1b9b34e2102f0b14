//! `/admin/profiles`: the operators' delivery profiles. A profile is JSON
//! (API.md, "Delivery profiles"); operators write it in a textarea, the
//! server checks every rule and names the field of the first one broken.
//! Bundled profiles are read-only (the server refreshes them at each
//! start): an operator copies one under a new name to change it.

use super::loaded::Loaded;
use crate::model::delivery_profiles::{ProfileSummary, StoredProfile};
use crate::model::error::AppError;
use crate::server_fn::profiles::{
    list_profiles, AdminCreateProfile, AdminUpdateProfile, GetProfile,
};
use leptos::prelude::*;
use leptos_meta::Title;

/// What the editor's Save does.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Editing {
    /// Adds a new profile.
    New,
    /// Changes an operator's profile of this name.
    Existing(String),
}

/// A profile to start from: every part named once, so an operator sees
/// what there is to fill in.
const TEMPLATE: &str = r#"{
  "name": "acme",
  "description": "Acme's format: hex HMAC-SHA256 of the body in X-Acme-Signature",
  "envelope": { "kind": "standard" },
  "type_spelling": { "style": "as_is", "renames": { "payin.succeeded": "payment.completed" } },
  "headers": {
    "event_type": "X-Acme-Event",
    "timestamp": { "header": "X-Acme-Timestamp", "format": "unix_seconds" }
  },
  "signatures": [
    {
      "header": "X-Acme-Signature",
      "prefix": "sha256=",
      "algorithm": "hmac-sha256",
      "encoding": "hex",
      "signed": { "kind": "body" },
      "hmac_key": "text"
    }
  ]
}"#;

#[component]
pub fn AdminProfilesPage() -> impl IntoView {
    let create = ServerAction::<AdminCreateProfile>::new();
    let update = ServerAction::<AdminUpdateProfile>::new();
    let open = ServerAction::<GetProfile>::new();
    let profiles = Resource::new(
        move || (create.version().get(), update.version().get()),
        |_| list_profiles(),
    );
    let json = RwSignal::new(TEMPLATE.to_owned());
    let editing = RwSignal::new(Editing::New);
    // The answer of the last save (each save clears the other action):
    // its error, shown next to the textarea, or the profile saved.
    let saved: Signal<Option<Result<StoredProfile, AppError>>> =
        Signal::derive(move || create.value().get().or_else(|| update.value().get()));
    // Opening a profile puts its JSON in the editor: to change an
    // operator's own, or to copy a bundled one under a new name.
    Effect::new(move |_| {
        if let Some(Ok(stored)) = open.value().get() {
            let mut profile = stored.profile.clone();
            if stored.bundled {
                profile.name = format!("{}-copy", profile.name);
                editing.set(Editing::New);
            } else {
                editing.set(Editing::Existing(profile.name.clone()));
            }
            json.set(serde_json::to_string_pretty(&profile).unwrap_or_default());
            create.clear();
            update.clear();
        }
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match editing.get_untracked() {
            Editing::New => {
                update.clear();
                create.dispatch(AdminCreateProfile {
                    json: json.get_untracked(),
                });
            }
            Editing::Existing(name) => {
                create.clear();
                update.dispatch(AdminUpdateProfile {
                    name,
                    json: json.get_untracked(),
                });
            }
        }
    };
    let start_new = move |_| {
        editing.set(Editing::New);
        json.set(TEMPLATE.to_owned());
        create.clear();
        update.clear();
    };
    let problem = move || saved.get().and_then(Result::err);
    view! {
        <Title text="Delivery profiles · Operations"/>
        <div class="page-header">
            <div>
                <h1>"Delivery profiles"</h1>
                <p class="muted">
                    "Wire formats merchants can pick per endpoint, for receivers written against another provider's docs. "
                    "Bundled profiles come with Herald and are refreshed at each start: open one to copy it under a new name."
                </p>
            </div>
        </div>
        <Loaded data=move || profiles loading="Loading profiles…" let:list>
            <ProfileTable list open/>
        </Loaded>
        <section class="card form" data-testid="profile-editor">
            <h2 data-testid="profile-editor-title">
                {move || match editing.get() {
                    Editing::New => "New profile".to_owned(),
                    Editing::Existing(name) => format!("Edit {name}"),
                }}
            </h2>
            <p class="small muted">
                "The profile as JSON: " <code>"name"</code> ", " <code>"description"</code> ", "
                <code>"envelope"</code> " (" <code>"standard"</code> ", " <code>"renamed"</code> " with "
                <code>"fields"</code> ", or " <code>"data_only"</code> "), " <code>"type_spelling"</code> ", "
                <code>"headers"</code> " and " <code>"signatures"</code>
                " (each: header, prefix, algorithm hmac-sha256 | rsa-sha256 | ed25519, encoding hex | base64, and "
                <code>"signed"</code> ": body, standard, or data_fields with rules). The README explains each part."
            </p>
            <form on:submit=save data-testid="profile-form">
                <div class="field" class:invalid=move || problem().is_some()>
                    <label for="profile-json">"Profile (JSON)"</label>
                    <textarea id="profile-json" class="mono" rows="22" spellcheck="false"
                        aria-describedby="profile-json-error" data-testid="profile-json"
                        prop:value=move || json.get()
                        on:input=move |ev| json.set(event_target_value(&ev))></textarea>
                    <div class="field-error" id="profile-json-error" role="alert" data-testid="profile-error">
                        {move || problem().map(|e| view! { <ProfileProblem error=e/> })}
                    </div>
                </div>
                <div class="actions">
                    <button type="submit" class="primary" data-testid="save-profile"
                        disabled=move || create.pending().get() || update.pending().get()>
                        {move || match editing.get() {
                            Editing::New => "Add profile",
                            Editing::Existing(_) => "Save changes",
                        }}
                    </button>
                    <button type="button" class="ghost" data-testid="new-profile" on:click=start_new>
                        "Start a new profile"
                    </button>
                </div>
            </form>
            {move || saved.get().and_then(Result::ok).map(|stored| view! {
                <p class="alert ok" data-testid="profile-saved">
                    "Saved " <code>{stored.profile.name.clone()}</code>
                    ". Merchants can pick it in their endpoint form now."
                </p>
            })}
        </section>
    }
}

/// Every profile: name, description, algorithms, bundled or the operators'.
#[component]
fn ProfileTable(list: Vec<ProfileSummary>, open: ServerAction<GetProfile>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table" data-testid="profiles-table">
                <thead>
                    <tr><th>"Name"</th><th>"Signs with"</th><th>"Kind"</th><th></th></tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|p| {
                        let name = StoredValue::new(p.name.clone());
                        let algorithms = p.algorithms.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ");
                        let algorithms = if algorithms.is_empty() { "unsigned".to_owned() } else { algorithms };
                        view! {
                            <tr data-testid="profile-row" data-profile=p.name.clone()>
                                <td>
                                    <code>{p.name.clone()}</code>
                                    <p class="muted small profile-description">{p.description.clone()}</p>
                                </td>
                                <td class="small">{algorithms}</td>
                                <td>
                                    {if p.bundled {
                                        view! { <span class="pill">"Bundled"</span> }.into_any()
                                    } else {
                                        view! { <span class="pill ok">"Operators'"</span> }.into_any()
                                    }}
                                </td>
                                <td>
                                    <button type="button" class="ghost" data-testid="open-profile"
                                        on:click=move |_| { open.dispatch(GetProfile { name: name.get_value() }); }>
                                        {if p.bundled { "Copy" } else { "Edit" }}
                                    </button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// A refused profile in plain words: which part, and what is wrong with it.
#[component]
fn ProfileProblem(error: AppError) -> impl IntoView {
    match error.field {
        Some(field) => view! {
            <p>"In " <code data-testid="profile-error-field">{field}</code> ": " {error.message}</p>
        }
        .into_any(),
        None => view! { <p>{error.message}</p> }.into_any(),
    }
}
