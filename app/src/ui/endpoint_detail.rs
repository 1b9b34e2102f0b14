//! `/endpoints/:id`: one endpoint, its signing secret, test events, replay
//! and recover, and its latest deliveries.

use super::deliveries::page_changed;
use super::display::{
    confirm_keys, refresh_when_changed, time, url_host, CopyButton, FailingWarning, StatusBadge,
    When,
};
use super::form::{ActionError, FormError, TextField};
use super::loaded::Loaded;
use crate::model::dashboard::{DeliveryPage, DeliveryQuery, RecoverInput};
use crate::model::delivery_profiles::Egress;
use crate::model::duration::format_duration;
use crate::model::endpoint::{
    Endpoint, Missed, NextRsaPublicKey, PayloadEncryption, RsaPublicKey, SignatureScheme,
};
use crate::model::error::AppError;
use crate::model::event_type::EventType;
use crate::model::member::Account;
use crate::model::profile::STANDARD_PROFILE;
use crate::server_fn::account::whoami;
use crate::server_fn::catalog::list_event_types;
use crate::server_fn::deliveries::list_deliveries;
use crate::server_fn::endpoints::{
    get_endpoint, DeleteEndpoint, RecoverMissed, ReplayFailed, RevealSecret, RotateSecret,
    SendTestEvent, SetEndpointEnabled,
};
use crate::server_fn::profiles::delivery_egress;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

/// `/endpoints/:id`
#[component]
pub fn EndpointDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    // Every resource of the page is made here, not inside the `Loaded`
    // that shows the endpoint: resources made while an outer one resolves
    // raced hydration (a panic on reloading this page, about one load in eight).
    // Enabling and disabling live here, not in the endpoint's view: the
    // endpoint is read again after either, and the offer to send what it
    // missed must outlive that.
    let set_enabled = ServerAction::<SetEndpointEnabled>::new();
    let endpoint = Resource::new(
        move || (id(), set_enabled.version().get()),
        |(id, _)| get_endpoint(id),
    );
    let types = Resource::new(|| (), |_| list_event_types());
    let senders = Resource::new(|| (), |_| delivery_egress());
    let me = Resource::new(|| (), |_| whoami());
    let of_endpoint = move || DeliveryQuery {
        endpoint_id: Some(id()),
        ..DeliveryQuery::default()
    };
    let deliveries = Resource::new(of_endpoint, list_deliveries);
    refresh_when_changed(
        2,
        move || async move { page_changed(deliveries, of_endpoint()).await },
        move || deliveries.refetch(),
    );
    view! {
        <Title text="Endpoint"/>
        // Not knowing the senders hides their panel; it does not fail the page.
        <Loaded data=move || async move {
            let (endpoint, senders, me) = (endpoint.await, senders.await, me.await);
            Ok((endpoint?, senders.unwrap_or_default(), me?))
        } loading="Loading the endpoint…" let((endpoint, senders, me))>
            {
                // A viewer sees the endpoint, never its keys or a button that changes it.
                let can_change = me.as_ref().is_some_and(Account::can_change);
                let title = format!("Endpoint {}", url_host(&endpoint.url));
                view! {
                    <Title text=title/>
                    <EndpointDetail endpoint senders types deliveries set_enabled can_change/>
                }
            }
        </Loaded>
    }
}

#[component]
fn EndpointDetail(
    endpoint: Endpoint,
    /// Where deliveries come from, for receivers that allow-list senders.
    senders: Egress,
    types: Resource<Result<Vec<EventType>, AppError>>,
    deliveries: Resource<Result<DeliveryPage, AppError>>,
    set_enabled: ServerAction<SetEndpointEnabled>,
    can_change: bool,
) -> impl IntoView {
    let id = endpoint.id.to_string();
    let events = if endpoint.event_types.is_empty() {
        "Every event type except herald.*".to_owned()
    } else {
        endpoint.event_types.join(", ")
    };
    let headers = if endpoint.headers.is_empty() {
        "None".to_owned()
    } else {
        endpoint
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let status = if endpoint.enabled {
        view! { <span class="pill ok" data-testid="endpoint-status">"Enabled"</span> }.into_any()
    } else {
        view! {
            <span class="pill off" data-testid="endpoint-status">"Disabled"</span>
            <p class="alert warn">{endpoint.disabled_reason.clone().unwrap_or_default()}</p>
        }
        .into_any()
    };
    let toggle_id = id.clone();
    let enabled = endpoint.enabled;
    let toggle = view! {
        <button type="button" class=if enabled { "ghost" } else { "primary" }
            data-testid=if enabled { "disable-endpoint" } else { "enable-endpoint" }
            disabled=move || set_enabled.pending().get()
            on:click=move |_| {
                set_enabled.dispatch(SetEndpointEnabled { id: toggle_id.clone(), enabled: !enabled });
            }>
            {if enabled { "Disable" } else { "Enable" }}
        </button>
    };
    let toggle_error = move || {
        set_enabled.value().get().and_then(Result::err).map(|e| {
            view! {
                <p class="alert error" role="alert" data-testid="enable-error">{e.message}</p>
            }
        })
    };
    // What it missed while disabled, from the enable that just happened.
    let offer_id = id.clone();
    let missed = Signal::derive(move || {
        set_enabled
            .value()
            .get()
            .and_then(Result::ok)
            .and_then(|outcome| outcome.missed)
    });
    view! {
        <div class="page-header">
            <div>
                <p class="muted small"><A href="/endpoints">"Endpoints"</A> " / endpoint"</p>
                <h1 class="mono break" data-testid="endpoint-url">{endpoint.url.clone()}</h1>
                <p class="muted" data-testid="endpoint-description">{endpoint.description.clone()}</p>
                {status}
                <FailingWarning endpoint=endpoint.clone()/>
            </div>
            {can_change.then(|| view! {
                <div class="header-actions">
                    {toggle}
                    <A href=format!("/endpoints/{id}/edit") attr:class="button" attr:data-testid="edit-endpoint">
                        "Edit"
                    </A>
                    <DeleteButton id=id.clone() url=endpoint.url.clone()/>
                </div>
            })}
        </div>
        {toggle_error}
        {move || missed.get().map(|missed| view! { <MissedOffer id=offer_id.clone() missed/> })}
        <div class="grid two">
            <section class="card">
                <h2>"Settings"</h2>
                <dl class="facts">
                    <dt>"Profile"</dt>
                    <dd data-testid="endpoint-profile">
                        <code>{endpoint.profile.clone()}</code>
                        " · " <A href="/event-types">"how to verify it"</A>
                    </dd>
                    <dt>"Timeout"</dt>
                    <dd data-testid="endpoint-timeout">{format!("{} per attempt", format_duration(endpoint.timeout))}</dd>
                    <dt>"Mode"</dt>
                    <dd data-testid="endpoint-mode-fact">{endpoint.mode.label()}</dd>
                    <dt>"Events"</dt>
                    <dd data-testid="endpoint-events">{events}</dd>
                    <dt>"Custom headers"</dt>
                    <dd><pre class="plain" data-testid="endpoint-headers">{headers}</pre></dd>
                    <dt>"Rate limit"</dt>
                    <dd>
                        {endpoint
                            .rate_limit_per_s
                            .map(|n| format!("{n} per second"))
                            .unwrap_or_else(|| "None".to_owned())}
                    </dd>
                    <dt>"Signature"</dt>
                    <dd data-testid="endpoint-signature">
                        {signature_summary(&endpoint)}
                        {endpoint.legacy_signature.then_some(", plus x-herald-signature (legacy)")}
                    </dd>
                    <dt>"Body"</dt>
                    <dd data-testid="endpoint-encryption">
                        {match endpoint.encryption {
                            Some(PayloadEncryption::Aes256Cbc) => "Encrypted (AES-256-CBC)",
                            None => "Plain JSON",
                        }}
                    </dd>
                    <dt>"Retries"</dt>
                    <dd data-testid="endpoint-retry-schedule">
                        {endpoint
                            .retry_schedule
                            .as_ref()
                            .map(|steps| steps.join(", "))
                            .unwrap_or_else(|| "The server's schedule".to_owned())}
                    </dd>
                    <dt>"Created"</dt>
                    <dd><When at=endpoint.created_at/></dd>
                </dl>
            </section>
            {if can_change {
                view! { <SecretPanel id=id.clone() scheme=endpoint.signature_scheme rsa=endpoint.rsa_public_key.is_some()/> }.into_any()
            } else {
                view! {
                    <section class="card" data-testid="secret-panel">
                        <h2>"Signing key"</h2>
                        <p class="muted" data-testid="secret-hidden-for-role">
                            "Viewers cannot see signing secrets or keys. Ask a developer or an owner of this account."
                        </p>
                    </section>
                }
                    .into_any()
            }}
        </div>
        {endpoint.rsa_public_key.clone().map(|key| {
            let next = endpoint.rsa_next_public_key.clone();
            view! { <RsaKeyPanel key next/> }
        })}
        {(!senders.addresses.is_empty()).then(|| view! { <EgressPanel senders/> })}
        {can_change.then(|| view! {
            <TestEventPanel id=id.clone() enabled=endpoint.enabled types/>
            <RecoveryPanel id=id.clone()/>
        })}
        <RecentDeliveries deliveries/>
    }
    // Erased: the page's view type is otherwise deeper than the server
    // crate's recursion limit lets rustc lay out.
    .into_any()
}

/// After enabling: "it missed N events since …", and the button that sends them.
#[component]
fn MissedOffer(id: String, missed: Missed) -> impl IntoView {
    let send = ServerAction::<RecoverMissed>::new();
    let Missed { count, since } = missed;
    let window = RecoverInput {
        since: since.to_rfc3339(),
        until: String::new(),
    };
    view! {
        <div class="alert warn" data-testid="missed-offer">
            <p>{format!("It missed {count} {} since {}.", events(count), time(&since))}</p>
            {move || match send.value().get() {
                Some(Ok(queued)) => view! {
                    <p data-testid="recover-result">{format!("{queued} {} queued.", events(queued))}</p>
                }
                    .into_any(),
                Some(Err(e)) => view! { <p class="field-error" role="alert">{e.message}</p> }.into_any(),
                None => {
                    let (id, window) = (id.clone(), window.clone());
                    view! {
                        <button type="button" class="primary" data-testid="send-missed"
                            disabled=move || send.pending().get()
                            on:click=move |_| {
                                send.dispatch(RecoverMissed { id: id.clone(), window: window.clone(), dry_run: false });
                            }>
                            {format!("Send the {count} missed {}", events(count))}
                        </button>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}

/// "event" or "events".
fn events(n: u64) -> &'static str {
    if n == 1 {
        "event"
    } else {
        "events"
    }
}

/// Replay (send again what failed) and recover (send what it never got).
#[component]
fn RecoveryPanel(id: String) -> impl IntoView {
    let replay = ServerAction::<ReplayFailed>::new();
    let count = ServerAction::<RecoverMissed>::new();
    let send = ServerAction::<RecoverMissed>::new();
    let replay_since = RwSignal::new("24h".to_owned());
    let since = RwSignal::new("24h".to_owned());
    let until = RwSignal::new(String::new());
    let id = StoredValue::new(id);
    let window = move || RecoverInput {
        since: since.get_untracked(),
        until: until.get_untracked(),
    };
    let error: ActionError = Signal::derive(move || {
        send.value()
            .get()
            .and_then(Result::err)
            .or_else(|| count.value().get().and_then(Result::err))
    });
    // A new count replaces the last result, so "Send" always sends what was counted.
    let counted = Signal::derive(move || count.value().get().and_then(Result::ok));
    view! {
        <section class="card" data-testid="recovery-panel">
            <h2>"Replay and recover"</h2>
            <div class="grid two">
                <div>
                    <h3>"Replay failed deliveries"</h3>
                    <p class="muted small">
                        "Sends again every delivery to this endpoint that failed for good in the period, "
                        "e.g. after an outage on your side. Each keeps its event id (" <code>"webhook-id"</code> ")."
                    </p>
                    <div class="field">
                        <label for="replay-since">"Failed in the last"</label>
                        <select id="replay-since" data-testid="replay-since"
                            on:change=move |ev| replay_since.set(event_target_value(&ev))>
                            <option value="1h">"hour"</option>
                            <option value="24h" selected>"24 hours"</option>
                            <option value="7d">"7 days"</option>
                            <option value="30d">"30 days"</option>
                        </select>
                    </div>
                    <button type="button" data-testid="replay-failed"
                        disabled=move || replay.pending().get()
                        on:click=move |_| {
                            replay.dispatch(ReplayFailed { id: id.get_value(), since: replay_since.get_untracked() });
                        }>
                        "Replay failed deliveries"
                    </button>
                    {move || replay.value().get().map(|result| match result {
                        Ok(n) => view! { <p class="alert ok" data-testid="replay-result">{format!("{n} deliveries queued again.")}</p> }.into_any(),
                        Err(e) => view! { <p class="alert error" role="alert">{e.message}</p> }.into_any(),
                    })}
                </div>
                <div>
                    <h3>"Recover missed events"</h3>
                    <p class="muted small">
                        "Sends this endpoint the events it never got: those that came while it was disabled, "
                        "or before it existed, that match its event types and mode. Nothing is sent twice. "
                        "Each box takes a time (RFC 3339) or a lookback such as 24h; an empty To means now."
                    </p>
                    <FormError error/>
                    <TextField name="since" label="From" value=since error testid="recover-since"/>
                    <TextField name="until" label="To" value=until error testid="recover-until" placeholder="Now"/>
                    <button type="button" data-testid="count-missed"
                        disabled=move || count.pending().get()
                        on:click=move |_| {
                            send.clear();
                            count.dispatch(RecoverMissed { id: id.get_value(), window: window(), dry_run: true });
                        }>
                        "Count missed events"
                    </button>
                    {move || counted.get().map(|n| {
                        let sent = send.value().get().and_then(Result::ok);
                        view! {
                            <p data-testid="recover-count">{format!("{n} {} missed in this window.", events(n))}</p>
                            {match sent {
                                Some(queued) => view! {
                                    <p class="alert ok" data-testid="recover-result">{format!("{queued} {} queued.", events(queued))}</p>
                                }
                                    .into_any(),
                                None => view! {
                                    <button type="button" class="primary" data-testid="recover-missed"
                                        disabled=move || send.pending().get() || n == 0
                                        on:click=move |_| {
                                            send.dispatch(RecoverMissed { id: id.get_value(), window: window(), dry_run: false });
                                        }>
                                        {format!("Send {n} {}", events(n))}
                                    </button>
                                }
                                    .into_any(),
                            }}
                        }
                    })}
                </div>
            </div>
        </section>
    }
}

/// Delete, after an explicit confirmation naming the URL.
#[component]
fn DeleteButton(id: String, url: String) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let keys = confirm_keys(confirming);
    let delete = ServerAction::<DeleteEndpoint>::new();
    let (id, url) = (StoredValue::new(id), StoredValue::new(url));
    view! {
        <Show
            when=move || confirming.get()
            fallback=move || {
                view! {
                    <button type="button" class="danger ghost" data-testid="delete-endpoint"
                        node_ref=keys.opener
                        on:click=move |_| confirming.set(true)>
                        "Delete"
                    </button>
                }
            }
        >
            <div class="confirm" role="alertdialog" data-testid="confirm-delete">
                <p>"Delete " <code>{url.get_value()}</code> "? Its pending deliveries are dropped."</p>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id.get_value()/>
                    <button type="submit" class="danger" data-testid="confirm-delete-button" node_ref=keys.first>
                        "Delete endpoint"
                    </button>
                    <button type="button" class="ghost" on:click=move |_| confirming.set(false)>
                        "Cancel"
                    </button>
                </ActionForm>
            </div>
        </Show>
    }
}

/// The signing key (HMAC secret or Ed25519 public key) and the encryption
/// key: hidden until revealed, copy, rotate with a grace period.
#[component]
fn SecretPanel(
    id: String,
    scheme: SignatureScheme,
    /// The endpoint's profile signs with RSA: the key shown is its public key.
    rsa: bool,
) -> impl IntoView {
    let reveal = ServerAction::<RevealSecret>::new();
    let rotate = ServerAction::<RotateSecret>::new();
    // The newest answer of either action wins: a rotation replaces what was revealed.
    let keys = Signal::derive(move || {
        rotate
            .value()
            .get()
            .and_then(Result::ok)
            .or_else(|| reveal.value().get().and_then(Result::ok))
    });
    let signing_key = Signal::derive(move || keys.get().and_then(|k| k.secret.or(k.public_key)));
    let encryption_key = Signal::derive(move || keys.get().and_then(|k| k.encryption_key));
    let grace_until = Signal::derive(move || keys.get().and_then(|k| k.previous_secret_expires_at));
    let shown = Signal::derive(move || signing_key.get().unwrap_or_default());
    let shown_encryption_key = Signal::derive(move || encryption_key.get().unwrap_or_default());
    let error = move || {
        reveal
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| rotate.value().get().and_then(Result::err))
            .map(|e| e.message)
    };
    let (title, hidden, how) = match scheme {
        _ if rsa => (
            "Signing key (RSA)",
            "-----BEGIN PUBLIC KEY----- ••••",
            "with this public key (the RSA key panel below has it in both forms). Herald keeps the private key.",
        ),
        SignatureScheme::Hmac => (
            "Signing secret",
            "whsec_••••••••••••••••••••••••",
            "with this secret and any Standard Webhooks library.",
        ),
        SignatureScheme::Ed25519 => (
            "Public key",
            "whpk_••••••••••••••••••••••••",
            "(v1a, Ed25519) with this public key. Herald keeps the private key; nobody else can sign.",
        ),
    };
    let reveal_id = id.clone();
    let rotate_id = id.clone();
    view! {
        <section class="card" data-testid="secret-panel">
            <h2>{title}</h2>
            <p class="muted small">
                "Verify each delivery's signature " {how}
            </p>
            <div class="secret-row">
                <code class="secret" data-testid="secret">
                    {move || signing_key.get().unwrap_or_else(|| hidden.to_owned())}
                </code>
                <Show
                    when=move || signing_key.get().is_some()
                    fallback=move || {
                        let id = reveal_id.clone();
                        view! {
                            <button type="button" data-testid="reveal-secret"
                                on:click=move |_| { reveal.dispatch(RevealSecret { id: id.clone() }); }>
                                "Reveal"
                            </button>
                        }
                    }
                >
                    <CopyButton text=shown testid="copy-secret"/>
                </Show>
            </div>
            <Show when=move || encryption_key.get().is_some()>
                <p class="muted small">"Decrypt each body's " <code>"data"</code> " (AES-256-CBC, with its " <code>"iv"</code> ") with this key:"</p>
                <div class="secret-row">
                    <code class="secret" data-testid="encryption-key">{move || shown_encryption_key.get()}</code>
                    <CopyButton text=shown_encryption_key testid="copy-encryption-key"/>
                </div>
            </Show>
            {move || {
                grace_until
                    .get()
                    .map(|until| {
                        view! {
                            <p class="alert ok" data-testid="rotation-note">
                                "The previous key also signs until " {time(&until)} "."
                            </p>
                        }
                    })
            }}
            <RotateKey pending=rotate.pending() testids=("rotate-toggle", "grace-select", "rotate-secret")
                rotate=move |grace_s| { rotate.dispatch(RotateSecret { id: rotate_id.clone(), grace_s }); }/>
            <p class="field-error" role="alert">{error}</p>
        </section>
    }
}

/// "Rotate the key": a grace period to pick and the button; `rotate` gets
/// the grace period in seconds. `testids`: the toggle, the select, the button.
#[component]
pub(super) fn RotateKey(
    #[prop(into)] pending: Signal<bool>,
    testids: (&'static str, &'static str, &'static str),
    rotate: impl Fn(u64) + 'static,
) -> impl IntoView {
    let grace = RwSignal::new("86400".to_owned());
    let (toggle, select, button) = testids;
    view! {
        <details class="rotate">
            <summary data-testid=toggle>"Rotate the key"</summary>
            <p class="small">
                "Rotation makes a new key at once. During the grace period Herald signs every delivery with both "
                "keys (two signatures in " <code>"webhook-signature"</code>
                "), so you can deploy the new one without missing a webhook; after it, only the new one signs."
            </p>
            <label for=select>"Keep the old key valid for"</label>
            <select id=select data-testid=select
                on:change=move |ev| grace.set(event_target_value(&ev))>
                <option value="0">"No grace period (stop now)"</option>
                <option value="3600">"1 hour"</option>
                <option value="86400" selected>"24 hours"</option>
                <option value="604800">"7 days"</option>
            </select>
            <button type="button" class="primary" data-testid=button
                disabled=move || pending.get()
                on:click=move |_| rotate(grace.get_untracked().parse().unwrap_or(86_400))>
                "Rotate now"
            </button>
        </details>
    }
}

/// Pick a type, edit its example, send it to this endpoint in test mode.
#[component]
fn TestEventPanel(
    id: String,
    enabled: bool,
    types: Resource<Result<Vec<EventType>, AppError>>,
) -> impl IntoView {
    let chosen = RwSignal::new("payin.succeeded".to_owned());
    // What the merchant typed; `None` until they edit, then the example of
    // the chosen type shows (and picking another type starts over).
    let edited: RwSignal<Option<String>> = RwSignal::new(None);
    let send = ServerAction::<SendTestEvent>::new();
    let id = StoredValue::new(id);
    view! {
        <section class="card" data-testid="test-event-panel">
            <h2>"Send a test event"</h2>
            <p class="muted small">
                "Sends the payload below to this endpoint only, marked "
                <code>"live_mode: false"</code> " (a " <span class="badge test">"test"</span>
                " badge everywhere, and left out when you filter for live events). It appears in the deliveries below."
            </p>
            // The catalog only fills the picker: without it the picker is empty
            // and the default type is still sent, so there is nothing to alert.
            <Loaded data=move || async move { Ok(types.await.unwrap_or_default()) } loading="Loading…" let:types>
                {
                    let examples: Vec<(String, String)> = types
                        .iter()
                        .filter(|t| !t.archived)
                        .map(|t| {
                            (t.name.clone(), serde_json::to_string_pretty(&t.example).unwrap_or_default())
                        })
                        .collect();
                    let names: Vec<String> = examples.iter().map(|(n, _)| n.clone()).collect();
                    let payload = move || {
                        edited.get().unwrap_or_else(|| {
                            let name = chosen.get();
                            examples
                                .iter()
                                .find(|(n, _)| *n == name)
                                .map(|(_, e)| e.clone())
                                .unwrap_or_default()
                        })
                    };
                    view! {
                        <div class="field">
                            <label for="test-type">"Event type"</label>
                            <select id="test-type" data-testid="test-type"
                                on:change=move |ev| {
                                    chosen.set(event_target_value(&ev));
                                    edited.set(None);
                                }>
                                {names
                                    .into_iter()
                                    .map(|n| {
                                        let selected = n == "payin.succeeded";
                                        view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
                                    })
                                    .collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for="test-payload">"Payload (" <code>"data"</code> ")"</label>
                            <textarea id="test-payload" class="mono" rows="10" spellcheck="false"
                                data-testid="test-payload"
                                prop:value=payload.clone()
                                on:input=move |ev| edited.set(Some(event_target_value(&ev)))></textarea>
                        </div>
                        <button type="button" class="primary" data-testid="send-test"
                            disabled=move || send.pending().get() || !enabled
                            on:click=move |_| {
                                send.dispatch(SendTestEvent {
                                    id: id.get_value(),
                                    event_type: chosen.get_untracked(),
                                    data: payload(),
                                });
                            }>
                            {move || if send.pending().get() { "Sending…" } else { "Send test event" }}
                        </button>
                        {(!enabled).then(|| view! {
                            <p class="hint muted small" data-testid="send-test-unavailable">
                                "A disabled endpoint gets nothing, tests included: enable it to send a test event."
                            </p>
                        })}
                    }
                }
            </Loaded>
            {move || {
                send.value().get().map(|result| match result {
                    Ok(event) => view! {
                        <p class="alert ok" data-testid="test-sent">"Sent " <code>{event}</code> "."</p>
                    }
                        .into_any(),
                    Err(e) => view! { <p class="alert error" role="alert" data-testid="test-error">{e.message}</p> }.into_any(),
                })
            }}
        </section>
    }
}

/// The endpoint's latest deliveries, refreshed every two seconds.
#[component]
fn RecentDeliveries(deliveries: Resource<Result<DeliveryPage, AppError>>) -> impl IntoView {
    view! {
        <section class="card" data-testid="recent-deliveries">
            <h2>"Latest deliveries"</h2>
            <Loaded data=move || deliveries loading="Loading…" let:page>
                {if page.items.is_empty() {
                    view! { <p class="muted" data-testid="no-deliveries">"Nothing sent yet. Send a test event above."</p> }
                        .into_any()
                } else {
                    view! {
                        <table class="table compact">
                            <thead><tr><th>"Event"</th><th>"Status"</th><th>"Attempts"</th><th>"Created"</th></tr></thead>
                            <tbody>
                                {page.items.into_iter().map(|d| view! {
                                    <tr data-testid="delivery-row">
                                        <td><A href=format!("/deliveries/{}", d.id)><code>{d.event_type.clone()}</code></A>
                                            {(!d.live_mode).then(|| view! { <span class="badge test">"test"</span> })}
                                        </td>
                                        <td><StatusBadge status=d.status/></td>
                                        <td>{d.attempt_count}</td>
                                        <td class="small"><When at=d.created_at/></td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }
                        .into_any()
                }}
            </Loaded>
        </section>
    }
}

/// An RSA profile's public key, as PEM and as the base64 X.509 (DER) that
/// Java's `X509EncodedKeySpec` takes, each with a copy button.
/// During a rotation's grace period, the key that takes over comes below,
/// with when: the receiver must have it by then.
#[component]
fn RsaKeyPanel(key: RsaPublicKey, next: Option<NextRsaPublicKey>) -> impl IntoView {
    let pem = Signal::stored(key.pem.clone());
    let base64 = Signal::stored(key.base64.clone());
    let next = next.map(|next| {
        let next_base64 = Signal::stored(next.base64.clone());
        view! {
            <div class="next-key" data-testid="rsa-next-key">
                <h3>"Next key: signs from " {time(&next.signs_from)}</h3>
                <p class="muted small">
                    "A rotation is under way: the key above keeps signing until then, and this one alone after. "
                    "Install it on your receiver before that moment."
                </p>
                <pre class="plain key" data-testid="rsa-next-public-key-base64">{next.base64}</pre>
                <div class="actions"><CopyButton text=next_base64 testid="copy-rsa-next-base64"/></div>
            </div>
        }
    });
    view! {
        <section class="card" data-testid="rsa-key-panel">
            <h2>"RSA public key"</h2>
            <p class="muted small">
                "This endpoint's profile signs with RSA-SHA256 (Java's " <code>"SHA256withRSA"</code>
                "). Verify with this public key; Herald keeps the private key."
            </p>
            <h3>"PEM (Node, Python, PHP)"</h3>
            <pre class="plain key" data-testid="rsa-public-key-pem">{key.pem}</pre>
            <div class="actions"><CopyButton text=pem testid="copy-rsa-pem"/></div>
            <h3>"Base64 X.509, for Java's " <code>"X509EncodedKeySpec"</code></h3>
            <pre class="plain key" data-testid="rsa-public-key-base64">{key.base64}</pre>
            <div class="actions"><CopyButton text=base64 testid="copy-rsa-base64"/></div>
            {next}
        </section>
    }
}

/// The addresses deliveries come from, for receivers that allow-list senders.
#[component]
fn EgressPanel(senders: Egress) -> impl IntoView {
    let list = Signal::stored(senders.addresses.join("\n"));
    view! {
        <section class="card" data-testid="egress-panel">
            <h2>"Where deliveries come from"</h2>
            <p class="muted small">"If your receiver accepts only known senders, allow these addresses:"</p>
            <pre class="plain key" data-testid="egress-addresses">{senders.addresses.join("\n")}</pre>
            <div class="actions"><CopyButton text=list testid="copy-egress"/></div>
        </section>
    }
}

/// How the endpoint's deliveries are signed, as the Settings card says it:
/// Standard Webhooks' versions for `standard`, else the key's algorithm in
/// the headers the profile names (its snippets are on the Event types page).
fn signature_summary(endpoint: &Endpoint) -> String {
    let algorithm = match (endpoint.rsa_public_key.is_some(), endpoint.signature_scheme) {
        (true, _) => "RSA-SHA256",
        (false, SignatureScheme::Hmac) if endpoint.profile == STANDARD_PROFILE => {
            "HMAC-SHA256 (v1)"
        }
        (false, SignatureScheme::Ed25519) if endpoint.profile == STANDARD_PROFILE => {
            "Ed25519 (v1a)"
        }
        (false, SignatureScheme::Hmac) => "HMAC-SHA256",
        (false, SignatureScheme::Ed25519) => "Ed25519",
    };
    if endpoint.profile == STANDARD_PROFILE {
        algorithm.to_owned()
    } else {
        format!(
            "{algorithm}, in the headers of the {} profile",
            endpoint.profile
        )
    }
}
