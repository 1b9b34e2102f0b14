//! Creating and editing an endpoint: URL, description, event types from the
//! catalog (a whole category as `category.*`), custom headers, rate limit,
//! and how deliveries are signed, encrypted and retried.

use super::display::url_host;
use super::form::{ActionError, Field, FormError, TextField};
use super::loaded::Loaded;
use crate::model::dashboard::EndpointInput;
use crate::model::delivery_profiles::{Egress, ProfileSummary};
use crate::model::duration::format_duration;
use crate::model::endpoint::{Endpoint, EndpointMode, SignatureScheme};
use crate::model::event_type::EventType;
use crate::model::profile::SignatureAlgorithm;
use crate::server_fn::catalog::list_event_types;
use crate::server_fn::endpoints::{get_endpoint, CreateEndpoint, UpdateEndpoint};
use crate::server_fn::profiles::{delivery_egress, list_profiles};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use std::collections::{BTreeMap, BTreeSet};

/// `/endpoints/new`
#[component]
pub fn NewEndpointPage() -> impl IntoView {
    let types = Resource::new(|| (), |_| list_event_types());
    let profiles = Resource::new(|| (), |_| list_profiles());
    let senders = Resource::new(|| (), |_| delivery_egress());
    view! {
        <Title text="New endpoint"/>
        <div class="page-header">
            <div>
                <h1>"New endpoint"</h1>
                <p class="muted">"Where Herald should POST the events you choose."</p>
            </div>
        </div>
        <Loaded data=move || async move {
            let (types, profiles, senders) = (types.await, profiles.await, senders.await);
            Ok((types?, profiles?, senders.unwrap_or_default()))
        } loading="Loading the catalog…" let((types, profiles, senders))>
            <EndpointForm types profiles senders existing=None/>
        </Loaded>
    }
}

/// `/endpoints/:id/edit`
#[component]
pub fn EditEndpointPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let types = Resource::new(|| (), |_| list_event_types());
    let endpoint = Resource::new(id, get_endpoint);
    let profiles = Resource::new(|| (), |_| list_profiles());
    let senders = Resource::new(|| (), |_| delivery_egress());
    view! {
        <Title text="Edit endpoint"/>
        <div class="page-header">
            <div>
                <h1>"Edit endpoint"</h1>
            </div>
        </div>
        <Loaded data=move || async move {
            let (types, endpoint, profiles, senders) =
                (types.await, endpoint.await, profiles.await, senders.await);
            Ok((types?, endpoint?, profiles?, senders.unwrap_or_default()))
        } loading="Loading…" let((types, endpoint, profiles, senders))>
            <Title text=format!("Edit endpoint {}", url_host(&endpoint.url))/>
            <EndpointForm types profiles senders existing=Some(endpoint)/>
        </Loaded>
    }
}

/// The form itself; `existing` is the endpoint being edited.
#[component]
fn EndpointForm(
    types: Vec<EventType>,
    /// The profiles an endpoint may use.
    profiles: Vec<ProfileSummary>,
    /// Where deliveries come from (shown when the operator fixed it).
    senders: Egress,
    existing: Option<Endpoint>,
) -> impl IntoView {
    let editing = existing.clone();
    let initial = existing.clone().unwrap_or(Endpoint {
        id: crate::model::id::EndpointId::from_u128(0),
        merchant_id: crate::model::id::MerchantId::from_u128(0),
        url: String::new(),
        description: String::new(),
        event_types: Vec::new(),
        enabled: true,
        disabled_reason: None,
        disabled_by_operator: false,
        disabled_at: None,
        failing_since: None,
        disables_at: None,
        mode: EndpointMode::Live,
        rate_limit_per_s: None,
        headers: BTreeMap::new(),
        legacy_signature: false,
        retry_schedule: None,
        signature_scheme: SignatureScheme::Hmac,
        encryption: None,
        profile: crate::model::profile::STANDARD_PROFILE.to_owned(),
        timeout: crate::model::endpoint::default_timeout(),
        rsa_public_key: None,
        rsa_next_public_key: None,
        created_at: chrono::DateTime::UNIX_EPOCH,
        updated_at: chrono::DateTime::UNIX_EPOCH,
    });
    let url = RwSignal::new(initial.url.clone());
    let description = RwSignal::new(initial.description.clone());
    let headers = RwSignal::new(
        initial
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let rate_limit = RwSignal::new(
        initial
            .rate_limit_per_s
            .map(|n| n.to_string())
            .unwrap_or_default(),
    );
    let enabled = RwSignal::new(initial.enabled);
    let mode = RwSignal::new(initial.mode.as_str().to_owned());
    let signature_scheme = RwSignal::new(initial.signature_scheme.as_str().to_owned());
    let encrypted = RwSignal::new(initial.encryption.is_some());
    let legacy_signature = RwSignal::new(initial.legacy_signature);
    let retry_schedule = RwSignal::new(
        initial
            .retry_schedule
            .as_ref()
            .map(|steps| steps.join(", "))
            .unwrap_or_default(),
    );
    let profile = RwSignal::new(initial.profile.clone());
    // A new endpoint leaves it empty for the server's timeout.
    let timeout = RwSignal::new(
        existing
            .as_ref()
            .map(|e| format_duration(e.timeout))
            .unwrap_or_default(),
    );
    let secret = RwSignal::new(String::new());
    let private_key = RwSignal::new(String::new());
    let chosen: RwSignal<BTreeSet<String>> =
        RwSignal::new(initial.event_types.iter().cloned().collect());

    let create = ServerAction::<CreateEndpoint>::new();
    let update = ServerAction::<UpdateEndpoint>::new();
    let error: ActionError = Signal::derive(move || {
        create
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| update.value().get().and_then(Result::err))
    });
    let pending = Signal::derive(move || create.pending().get() || update.pending().get());
    let navigate = use_navigate();
    Effect::new(move |_| {
        let saved = create
            .value()
            .get()
            .and_then(Result::ok)
            .or_else(|| update.value().get().and_then(Result::ok));
        if let Some(endpoint) = saved {
            navigate(&format!("/endpoints/{}", endpoint.id), Default::default());
        }
    });
    let editing_id = editing.as_ref().map(|e| e.id.to_string());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = EndpointInput {
            url: url.get_untracked(),
            description: description.get_untracked(),
            event_types: chosen.get_untracked().into_iter().collect(),
            headers: headers.get_untracked(),
            rate_limit_per_s: rate_limit.get_untracked(),
            enabled: enabled.get_untracked(),
            signature_scheme: signature_scheme.get_untracked(),
            encrypted: encrypted.get_untracked(),
            legacy_signature: legacy_signature.get_untracked(),
            retry_schedule: retry_schedule.get_untracked(),
            mode: mode.get_untracked(),
            profile: profile.get_untracked(),
            timeout: timeout.get_untracked(),
            secret: secret.get_untracked(),
            private_key: private_key.get_untracked(),
        };
        match editing_id.clone() {
            Some(id) => {
                update.dispatch(UpdateEndpoint { id, input });
            }
            None => {
                create.dispatch(CreateEndpoint { input });
            }
        }
    };
    let field_error = move |name: &'static str| move || error.get().and_then(|e| e.for_field(name));

    let mut by_category: BTreeMap<String, Vec<EventType>> = BTreeMap::new();
    for event_type in types.into_iter().filter(|t| !t.archived) {
        by_category
            .entry(event_type.category.clone())
            .or_default()
            .push(event_type);
    }
    let profiles = StoredValue::new(profiles);
    // The chosen profile's description and algorithms, for the hints.
    let chosen_profile =
        move || profiles.with_value(|list| list.iter().find(|p| p.name == profile.get()).cloned());
    let signs_with = move |algorithm: SignatureAlgorithm| {
        chosen_profile().is_some_and(|p| p.algorithms.contains(&algorithm))
    };
    let offers_a_choice = move || {
        signs_with(SignatureAlgorithm::HmacSha256) && signs_with(SignatureAlgorithm::Ed25519)
    };
    let senders = senders.addresses.join(", ");
    let cancel_href = existing
        .map(|e| format!("/endpoints/{}", e.id))
        .unwrap_or_else(|| "/endpoints".to_owned());

    view! {
        <form class="card form" on:submit=submit data-testid="endpoint-form">
            <FormError error/>
            <TextField name="url" label="URL" value=url error kind="url" required=true
                placeholder="https://api.example.com/webhooks/herald"/>
            <TextField name="description" label="Description" value=description error
                placeholder="Production order service"/>
            <Field name="mode" label="Mode" error
                hint=Some("Live endpoints get the platform's live events; sandbox endpoints get its test events (live_mode: false) and never live ones. A test you send from an endpoint's page goes to that endpoint whatever its mode.")>
                <select id="mode" aria-describedby="mode-error" data-testid="endpoint-mode"
                    prop:value=move || mode.get()
                    on:change=move |ev| mode.set(event_target_value(&ev))>
                    <option value=EndpointMode::Live.as_str()>{EndpointMode::Live.label()}</option>
                    <option value=EndpointMode::Test.as_str()>{EndpointMode::Test.label()}</option>
                </select>
            </Field>
            <Field name="profile" label="Delivery profile" error
                hint=Some("The wire format: standard is Herald's own (Standard Webhooks). The others send what receivers written for another provider expect; the Event types page shows how to verify each.")>
                <select id="profile" aria-describedby="profile-error" data-testid="endpoint-profile-select"
                    prop:value=move || profile.get()
                    on:change=move |ev| profile.set(event_target_value(&ev))>
                    {profiles.get_value().into_iter().map(|p| {
                        let label = if p.bundled { p.name.clone() } else { format!("{} (operators')", p.name) };
                        view! { <option value=p.name.clone()>{label}</option> }
                    }).collect_view()}
                </select>
            </Field>
            <p class="muted small profile-description" data-testid="endpoint-profile-description">
                {move || chosen_profile().map(|p| p.description).unwrap_or_default()}
            </p>
            <fieldset class="field event-picker">
                <legend>"Events"</legend>
                <p class="hint">
                    "Choose nothing to receive every event type except Herald's own (" <code>"herald.*"</code>
                    "), which come only when chosen. A whole category also covers types added to it later."
                </p>
                {by_category
                    .into_iter()
                    .map(|(category, types)| {
                        view! { <CategoryChoice category types chosen/> }
                    })
                    .collect_view()}
                <p class="field-error" role="alert" data-testid="event_types-error">
                    {field_error("event_types")}
                </p>
            </fieldset>
            <Field name="headers" label="Custom headers" error>
                <textarea
                    id="headers"
                    rows="3"
                    placeholder="X-Merchant-Tag: blue"
                    aria-describedby="headers-error"
                    data-testid="headers-input"
                    prop:value=move || headers.get()
                    on:input=move |ev| headers.set(event_target_value(&ev))
                ></textarea>
                <p class="hint">"One " <code>"Name: value"</code> " per line, sent with every delivery."</p>
            </Field>
            <TextField name="rate_limit_per_s" label="Rate limit (requests per second)"
                value=rate_limit testid="rate-limit-input" error inputmode="numeric"
                placeholder="No limit"/>
            <fieldset class="field delivery-options">
                <legend>"Signing, encryption and retries"</legend>
                <Show when=offers_a_choice
                    fallback=move || view! {
                        <p class="small" data-testid="profile-key-note">
                            {move || match chosen_profile() {
                                Some(p) if p.algorithms.contains(&SignatureAlgorithm::RsaSha256) =>
                                    "This profile signs with RSA-SHA256: Herald makes a 2048-bit key pair (or takes your private key below) and shows the public key on the endpoint's page.".to_owned(),
                                Some(p) if p.algorithms.is_empty() => "This profile sends deliveries unsigned.".to_owned(),
                                Some(p) => format!("This profile signs with {}.", p.algorithms.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")),
                                None => String::new(),
                            }}
                        </p>
                    }>
                <Field name="signature_scheme" label="Signature" error
                    hint=Some("Changing it makes a new key; the old one keeps signing for 24 hours.")>
                    <select id="signature_scheme" aria-describedby="signature_scheme-error"
                        data-testid="signature-scheme-select"
                        prop:value=move || signature_scheme.get()
                        on:change=move |ev| signature_scheme.set(event_target_value(&ev))>
                        <option value="hmac">"HMAC-SHA256 with a shared secret (v1, default)"</option>
                        <option value="ed25519">"Ed25519 with a public key (v1a)"</option>
                    </select>
                </Field>
                </Show>
                <TextField name="timeout" label="Timeout per attempt" value=timeout
                    testid="timeout-input" error placeholder="The server's (15s unless changed)"
                    hint="How long Herald waits for your answer before it counts the attempt as failed and retries: 1s to 60s, e.g. 30s."/>
                <details class="bring-keys" data-testid="bring-keys">
                    <summary>"Bring your own secret or private key"</summary>
                    <p class="small">
                        "Moving a receiver that already holds a key? Paste it here and Herald signs with it, so the receiver's configuration stays as it is. "
                        "Leave both empty to keep the current key (or have Herald make one)."
                    </p>
                    <TextField name="secret" label="HMAC secret" value=secret testid="secret-input" error
                        autocomplete="off" hint="The secret your receiver already checks signatures with, exactly as it holds it: a whsec_… secret or another provider's string (up to 256 printable characters)."/>
                    <Field name="private_key" label="RSA private key (PEM, 2048 bits or more)" error>
                        <textarea id="private_key" class="mono" rows="4" spellcheck="false"
                            aria-describedby="private_key-error" data-testid="private-key-input"
                            placeholder="-----BEGIN PRIVATE KEY-----"
                            prop:value=move || private_key.get()
                            on:input=move |ev| private_key.set(event_target_value(&ev))></textarea>
                    </Field>
                </details>
                <label class="check">
                    <input type="checkbox" data-testid="encrypted-input"
                        prop:checked=move || encrypted.get()
                        on:change=move |ev| encrypted.set(event_target_checked(&ev))/>
                    " Encrypt the body (AES-256-CBC): send "
                    <code>"{\"data\": …, \"iv\": …}"</code>
                    " with a key shown on the endpoint's page"
                </label>
                <div class="field" class:invalid=move || field_error("legacy_signature")().is_some()>
                    <label class="check">
                        <input type="checkbox" data-testid="legacy-signature-input"
                            prop:checked=move || legacy_signature.get()
                            on:change=move |ev| legacy_signature.set(event_target_checked(&ev))/>
                        " Also send " <code>"x-herald-signature: sha256=<hex>"</code>
                        " (HMAC of the body alone, for older receivers; weaker against replays)"
                    </label>
                    <p class="field-error" role="alert" data-testid="legacy_signature-error">
                        {field_error("legacy_signature")}
                    </p>
                </div>
                <TextField name="retry_schedule" label="Retry schedule" value=retry_schedule
                    testid="retry-schedule-input" error placeholder="The server's schedule"
                    hint="Waits before each attempt, starting with 0s for the first, e.g. 0s, 30s, 5m, 1h (each at most 24h, 3 days in all). Empty: the server's schedule."/>
            </fieldset>
            {(!senders.is_empty()).then(|| view! {
                <p class="small" data-testid="form-egress">
                    "Deliveries come from " <code>{senders.clone()}</code>
                    ": allow these addresses if your receiver accepts only known senders."
                </p>
            })}
            <label class="check">
                <input
                    type="checkbox"
                    data-testid="enabled-input"
                    prop:checked=move || enabled.get()
                    on:change=move |ev| enabled.set(event_target_checked(&ev))
                />
                " Enabled: deliver events to this endpoint"
            </label>
            <div class="actions">
                <button type="submit" class="primary" data-testid="save-endpoint" disabled=move || pending.get()>
                    {move || if pending.get() { "Saving…" } else { "Save endpoint" }}
                </button>
                <A href=cancel_href attr:class="button ghost">"Cancel"</A>
            </div>
        </form>
    }
}

/// One category: "all of it" (`category.*`) or some of its types.
#[component]
fn CategoryChoice(
    category: String,
    types: Vec<EventType>,
    chosen: RwSignal<BTreeSet<String>>,
) -> impl IntoView {
    let wildcard = format!("{category}.*");
    let all = {
        let wildcard = wildcard.clone();
        move || chosen.with(|c| c.contains(&wildcard))
    };
    let toggle_all = {
        let wildcard = wildcard.clone();
        move |ev| {
            let on = event_target_checked(&ev);
            chosen.update(|c| {
                if on {
                    c.insert(wildcard.clone());
                } else {
                    c.remove(&wildcard);
                }
            });
        }
    };
    view! {
        <div class="category-choice" data-testid=format!("category-{category}")>
            <label class="check strong">
                <input
                    type="checkbox"
                    data-testid=format!("all-{category}")
                    prop:checked=all.clone()
                    on:change=toggle_all
                />
                {format!(" All {category} events ")}
                <code>{wildcard.clone()}</code>
            </label>
            <div class="type-choices">
                {types
                    .into_iter()
                    .map(|t| {
                        let name = t.name.clone();
                        let checked = {
                            let name = name.clone();
                            let all = all.clone();
                            move || all() || chosen.with(|c| c.contains(&name))
                        };
                        let toggle = {
                            let name = name.clone();
                            move |ev| {
                                let on = event_target_checked(&ev);
                                chosen.update(|c| {
                                    if on {
                                        c.insert(name.clone());
                                    } else {
                                        c.remove(&name);
                                    }
                                });
                            }
                        };
                        let all = all.clone();
                        view! {
                            <label class="check" title=t.description.clone()>
                                <input
                                    type="checkbox"
                                    data-testid=format!("type-{name}")
                                    prop:checked=checked
                                    prop:disabled=all
                                    on:change=toggle
                                />
                                " " <code>{name.clone()}</code>
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}
