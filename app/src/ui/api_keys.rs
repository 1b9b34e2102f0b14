//! `/api-keys`: create (shown once), list with prefix and last use, revoke.

use super::display::{confirm_keys, CopyButton, When};
use super::loaded::{both, Loaded};
use crate::model::api_key::ApiKeySummary;
use crate::model::member::Account;
use crate::server_fn::account::whoami;
use crate::server_fn::api_keys::{list_api_keys, CreateApiKey, RevokeApiKey};
use leptos::prelude::*;
use leptos_meta::Title;

/// `/api-keys`
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    let me = Resource::new(|| (), |_| whoami());
    let issued = Signal::derive(move || create.value().get().and_then(Result::ok));
    let issued_key = Signal::derive(move || issued.get().map(|k| k.key).unwrap_or_default());
    let name_error = move || {
        create
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.message)
    };
    view! {
        <Title text="API keys"/>
        <div class="page-header">
            <div>
                <h1>"API keys"</h1>
                <p class="muted">
                    "Keys for the merchant API (" <code>"Authorization: Bearer hk_…"</code>
                    "): manage endpoints, read events and deliveries from your own code."
                </p>
            </div>
        </div>
        <Loaded data=move || me let:me>
        {me.as_ref().is_some_and(Account::can_change).then(|| view! {
        <section class="card">
            <h2>"Create a key"</h2>
            <ActionForm action=create attr:class="inline-form" attr:data-testid="create-key-form">
                <label for="key-name">"Name"</label>
                <input id="key-name" name="name" type="text" required placeholder="CI deploys" data-testid="key-name"/>
                <button type="submit" class="primary" data-testid="create-key">"Create key"</button>
            </ActionForm>
            <p class="field-error" role="alert" data-testid="name-error">{name_error}</p>
            <Show when=move || issued.get().is_some()>
                <div class="alert ok" data-testid="new-key">
                    <p><strong>"Copy this key now: it is shown only once."</strong></p>
                    <div class="secret-row">
                        <code class="secret" data-testid="new-key-value">{move || issued_key.get()}</code>
                        <CopyButton text=issued_key testid="copy-key"/>
                    </div>
                </div>
            </Show>
        </section>
        })}
        </Loaded>
        <Loaded data=move || both(keys, me) loading="Loading keys…" let:loaded>
            {
            let (list, me) = loaded;
            let can_change = me.as_ref().is_some_and(Account::can_change);
            if list.is_empty() {
                view! {
                    <div class="empty" data-testid="keys-empty">
                        <h2>"No API keys yet"</h2>
                        <p class="muted">"Create one above to call the API from your code."</p>
                    </div>
                }
                    .into_any()
            } else {
                view! {
                    <table class="table" data-testid="keys-table">
                        <thead><tr><th>"Name"</th><th>"Key"</th><th>"Created"</th><th>"Last used"</th><th></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|key| view! { <KeyRow key revoke can_change/> }).collect_view()}
                        </tbody>
                    </table>
                }
                    .into_any()
            }
            }
        </Loaded>
    }
}

#[component]
fn KeyRow(
    key: ApiKeySummary,
    revoke: ServerAction<RevokeApiKey>,
    can_change: bool,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let keys = confirm_keys(confirming);
    let id = key.id.to_string();
    view! {
        <tr data-testid="key-row">
            <td>{key.name.clone()}</td>
            <td><code>{format!("{}…", key.prefix)}</code></td>
            <td class="small"><When at=key.created_at/></td>
            <td class="small">{key.last_used_at.map(|at| view! { <When at/> }.into_any()).unwrap_or_else(|| "Never".into_any())}</td>
            <td>
                {can_change.then(move || view! {
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button type="button" class="danger ghost" data-testid="revoke-key"
                            node_ref=keys.opener
                            on:click=move |_| confirming.set(true)>"Revoke"</button>
                    }
                >
                    {
                        let id = id.clone();
                        view! {
                            <span class="confirm-inline">
                                "Stops working at once. "
                                <button type="button" class="danger" data-testid="confirm-revoke" node_ref=keys.first
                                    on:click=move |_| { revoke.dispatch(RevokeApiKey { id: id.clone() }); }>
                                    "Revoke key"
                                </button>
                                <button type="button" class="ghost" on:click=move |_| confirming.set(false)>"Cancel"</button>
                            </span>
                        }
                    }
                </Show>
                }.into_any())}
            </td>
        </tr>
    }
}
