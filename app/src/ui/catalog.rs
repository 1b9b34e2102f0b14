//! The event-type catalog page.

use super::display::CopyButton;
use super::loaded::{both, Loaded};
use crate::model::alert::is_herald_type;
use crate::model::delivery_profiles::{ProfileSummary, StoredProfile};
use crate::model::error::AppError;
use crate::model::event_type::EventType;
use crate::model::profile::{DeliveryProfile, Envelope, STANDARD_PROFILE};
use crate::model::profile_snippet::{verification_snippet, SnippetLanguage};
use crate::server_fn::catalog::list_event_types;
use crate::server_fn::profiles::{get_profile, list_profiles};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use std::collections::BTreeMap;

/// `/event-types`: every type, grouped by category, with its example payload.
#[component]
pub fn EventTypesPage() -> impl IntoView {
    let types = Resource::new(|| (), |_| list_event_types());
    // Every resource of the page is made here, outside the `Loaded`s that
    // show them (resources made while another resolves race hydration).
    let profiles = Resource::new(|| (), |_| list_profiles());
    let chosen = RwSignal::new(STANDARD_PROFILE.to_owned());
    let profile = Resource::new(move || chosen.get(), get_profile);
    view! {
        <Title text="Event types"/>
        <div class="page-header">
            <div>
                <h1>"Event types"</h1>
                <p class="muted">
                    "What Herald can send you. Subscribe an endpoint to exact names, or to a whole category with "
                    <code>"payin.*"</code> "."
                </p>
            </div>
        </div>
        <Verify/>
        <ProfileSnippets profiles profile types chosen/>
        <Loaded data=move || types loading="Loading event types…" let:types>
            <Catalog types/>
        </Loaded>
    }
}

#[component]
fn Catalog(types: Vec<EventType>) -> impl IntoView {
    let mut by_category: BTreeMap<String, Vec<EventType>> = BTreeMap::new();
    for event_type in types.into_iter().filter(|t| !t.archived) {
        by_category
            .entry(event_type.category.clone())
            .or_default()
            .push(event_type);
    }
    by_category
        .into_iter()
        .map(|(category, types)| {
            let own = types.iter().any(|t| is_herald_type(&t.name));
            view! {
                <section class="category" data-testid=format!("category-{category}")>
                    <h2>
                        {category.clone()}
                        <code class="wildcard">{format!("{category}.*")}</code>
                    </h2>
                    {own.then(|| view! { <HeraldTypesNote/> })}
                    <ul class="type-list">
                        {types.into_iter().map(|t| view! { <TypeRow event_type=t/> }).collect_view()}
                    </ul>
                </section>
            }
        })
        .collect_view()
}

/// What sets Herald's own types apart from the platform's.
#[component]
fn HeraldTypesNote() -> impl IntoView {
    view! {
        <p class="muted small" data-testid="herald-types-note">
            <code>"herald.*"</code>
            " events are Herald's own: about your endpoints, never sent to the endpoint they are about, "
            "and not sent to endpoints that subscribe to all types unless named. "
            "The " <A href="/notifications">"notifications page"</A> " lists those told to you."
        </p>
    }
}

#[component]
fn TypeRow(event_type: EventType) -> impl IntoView {
    let open = RwSignal::new(false);
    let example = serde_json::to_string_pretty(&event_type.example).unwrap_or_default();
    let name = event_type.name.clone();
    view! {
        <li class="type" data-testid=format!("type-{name}")>
            <div class="type-head">
                <div>
                    <code class="type-name">{event_type.name}</code>
                    <p class="muted small">{event_type.description}</p>
                </div>
                <button
                    type="button"
                    class="ghost"
                    aria-expanded=move || open.get().to_string()
                    data-testid=format!("example-toggle-{name}")
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    {move || if open.get() { "Hide example" } else { "Show example" }}
                </button>
            </div>
            <Show when=move || open.get()>
                <pre class="json" data-testid="example">{example.clone()}</pre>
            </Show>
        </li>
    }
}

const NODE: &str = r#"// npm install standardwebhooks
import { Webhook } from "standardwebhooks";

const wh = new Webhook(process.env.HERALD_SECRET); // "whsec_..."
app.post("/webhooks/herald", express.raw({ type: "application/json" }), (req, res) => {
  try {
    const event = wh.verify(req.body, req.headers); // throws if forged or stale
    // de-duplicate on event.id (the webhook-id), then handle event.type
    res.sendStatus(204);
  } catch {
    res.sendStatus(400);
  }
});"#;

const PYTHON: &str = r#"# pip install standardwebhooks
from standardwebhooks.webhooks import Webhook

wh = Webhook(os.environ["HERALD_SECRET"])  # "whsec_..."

@app.post("/webhooks/herald")
def receive(request):
    event = wh.verify(request.body, dict(request.headers))  # raises if forged or stale
    # de-duplicate on event["id"] (the webhook-id), then handle event["type"]
    return "", 204"#;

const RUST: &str = r#"// cargo add standardwebhooks
use standardwebhooks::Webhook;

let wh = Webhook::new(&std::env::var("HERALD_SECRET")?)?; // "whsec_..."
// body: the raw request bytes; headers: the request's http::HeaderMap
wh.verify(&body, &headers)?; // Err if forged or older than 5 minutes
let event: serde_json::Value = serde_json::from_slice(&body)?;"#;

const ED25519_NODE: &str = r#"// Node's built-in crypto; HERALD_PUBLIC_KEY is "whpk_..."
import crypto from "node:crypto";

const raw = Buffer.from(process.env.HERALD_PUBLIC_KEY.slice("whpk_".length), "base64");
const publicKey = crypto.createPublicKey({
  key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), raw]),
  format: "der",
  type: "spki",
});

// body: the raw request bytes (express.raw)
function verify(headers, body) {
  const id = headers["webhook-id"], ts = headers["webhook-timestamp"];
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false; // stale or replayed
  const signed = Buffer.concat([Buffer.from(`${id}.${ts}.`), body]);
  return headers["webhook-signature"].split(" ")
    .filter((s) => s.startsWith("v1a,"))
    .some((s) => crypto.verify(null, signed, publicKey, Buffer.from(s.slice(4), "base64")));
}

// Encrypted endpoints: verify the body as received, then decrypt it.
function decrypt(body) {
  const { data, iv } = JSON.parse(body);
  const key = Buffer.from(process.env.HERALD_ENCRYPTION_KEY, "base64");
  const d = crypto.createDecipheriv("aes-256-cbc", key, Buffer.from(iv, "base64"));
  return JSON.parse(Buffer.concat([d.update(data, "base64"), d.final()])); // the envelope
}"#;

const ED25519_PYTHON: &str = r#"# pip install cryptography; HERALD_PUBLIC_KEY is "whpk_..."
import base64, json, os, time
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

public_key = Ed25519PublicKey.from_public_bytes(
    base64.b64decode(os.environ["HERALD_PUBLIC_KEY"].removeprefix("whpk_")))

def verify(headers, body: bytes) -> bool:
    msg_id, ts = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(ts)) > 300:
        return False  # stale or replayed
    signed = f"{msg_id}.{ts}.".encode() + body
    for sig in headers["webhook-signature"].split():
        if sig.startswith("v1a,"):
            try:
                public_key.verify(base64.b64decode(sig[4:]), signed)
                return True
            except InvalidSignature:
                pass
    return False

# Encrypted endpoints: verify the body as received, then decrypt it.
def decrypt(body: bytes) -> dict:
    sent = json.loads(body)
    key = base64.b64decode(os.environ["HERALD_ENCRYPTION_KEY"])
    dec = Cipher(algorithms.AES(key), modes.CBC(base64.b64decode(sent["iv"]))).decryptor()
    padded = dec.update(base64.b64decode(sent["data"])) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return json.loads(unpadder.update(padded) + unpadder.finalize())  # the envelope"#;

/// Code in a few languages, one shown at a time.
#[component]
fn SnippetTabs(
    /// `(id, label, code)`; the first is shown first.
    snippets: &'static [(&'static str, &'static str, &'static str)],
    /// Prefix of the tabs' and the code's `data-testid`.
    testid: &'static str,
) -> impl IntoView {
    let shown = RwSignal::new(snippets.first().map(|s| s.0).unwrap_or_default());
    let code = move || {
        snippets
            .iter()
            .find(|s| s.0 == shown.get())
            .map(|s| s.2)
            .unwrap_or_default()
    };
    view! {
        <div class="tabs">
            {snippets
                .iter()
                .map(|&(id, label, _)| {
                    view! {
                        <button type="button" class="tab" class:active=move || shown.get() == id
                            aria-pressed=move || (shown.get() == id).to_string()
                            data-testid=format!("{testid}-{id}") on:click=move |_| shown.set(id)>
                            {label}
                        </button>
                    }
                })
                .collect_view()}
        </div>
        <pre class="json" data-testid=format!("{testid}-code")>{code}</pre>
    }
}

/// How to verify a delivery: Standard Webhooks HMAC in three languages,
/// then Ed25519 and decryption for endpoints that chose them.
#[component]
fn Verify() -> impl IntoView {
    view! {
        <section class="card" data-testid="verify">
            <h2>"Verifying a delivery"</h2>
            <p class="small">
                "Every POST carries " <code>"webhook-id"</code> ", " <code>"webhook-timestamp"</code>
                " and " <code>"webhook-signature"</code> ": "
                <code>"v1,"</code> " + base64 of HMAC-SHA256 over " <code>"{id}.{timestamp}.{raw body}"</code>
                ", keyed with the base64-decoded part of your endpoint's secret after " <code>"whsec_"</code>
                ". During a secret rotation there are two signatures, separated by a space; accept either. "
                "Any Standard Webhooks library does all of this, including refusing old timestamps:"
            </p>
            <SnippetTabs testid="verify"
                snippets=&[("node", "Node", NODE), ("python", "Python", PYTHON), ("rust", "Rust", RUST)]/>
        </section>
        <section class="card" data-testid="verify-ed25519">
            <h2>"Ed25519 signatures and encrypted bodies"</h2>
            <p class="small">
                "An endpoint can sign with Ed25519 instead: " <code>"v1a,"</code>
                " + base64 of the Ed25519 signature of the same " <code>"{id}.{timestamp}.{raw body}"</code>
                ", verified with the endpoint's public key (" <code>"whpk_"</code>
                " + base64 of 32 bytes). Herald keeps the private key, so nobody holding the public key can forge a delivery. "
                "An endpoint can also have its body encrypted: it then receives "
                <code>"{\"data\": base64(AES-256-CBC(envelope)), \"iv\": base64(16 bytes)}"</code>
                " (PKCS#7 padding, a new IV each time), with the key shown on the endpoint's page. "
                "The signature covers the body as sent: verify it first, then decrypt."
            </p>
            <SnippetTabs testid="verify-ed25519"
                snippets=&[("node", "Node", ED25519_NODE), ("python", "Python", ED25519_PYTHON)]/>
        </section>
        <section class="card" data-testid="verify-legacy">
            <h2>"The legacy body signature"</h2>
            <p class="small">
                "For receivers written for providers that sign the body alone, an endpoint can also send "
                <code>"x-herald-signature: sha256=<hex>"</code> " (HMAC-SHA256 of the raw body, keyed with the secret's text "
                "exactly as shown, " <code>"whsec_…"</code> " included) and " <code>"x-herald-timestamp"</code>
                ". It does not cover the timestamp or the id, so a recorded request can be replayed: "
                "keep the " <code>"webhook-id"</code> "s you have handled and refuse repeats, or move to the "
                "Standard Webhooks signature above, which is always sent beside it."
            </p>
            <pre class="json">{LEGACY_NODE}</pre>
        </section>
    }
}

/// Checking the legacy header in Node, as such receivers already do.
const LEGACY_NODE: &str = r#"const crypto = require("crypto");
// rawBody: the request body as received, before any JSON parsing.
const expected = "sha256=" + crypto.createHmac("sha256", secret).update(rawBody).digest("hex");
const given = req.headers["x-herald-signature"] ?? "";
const ok = given.length === expected.length &&
  crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected));"#;

/// Verification code for each delivery profile: pick a profile and a
/// language, copy the code; and the type names the profile spells its own way.
#[component]
fn ProfileSnippets(
    profiles: Resource<Result<Vec<ProfileSummary>, AppError>>,
    profile: Resource<Result<StoredProfile, AppError>>,
    types: Resource<Result<Vec<EventType>, AppError>>,
    chosen: RwSignal<String>,
) -> impl IntoView {
    // Outside the profile's view, so that picking another profile keeps the language.
    let language = RwSignal::new(SnippetLanguage::Node);
    view! {
        <section class="card" data-testid="profile-snippets">
            <h2>"Verifying a delivery profile's signature"</h2>
            <p class="small">
                "An endpoint can use a delivery profile: another provider's format, for a receiver already written against "
                "that provider's docs. Pick the endpoint's profile to see what it sends and code that verifies it."
            </p>
            <Loaded data=move || profiles loading="Loading profiles…" let:list>
                <div class="field">
                    <label for="snippet-profile">"Profile"</label>
                    <select id="snippet-profile" data-testid="snippet-profile"
                        on:change=move |ev| chosen.set(event_target_value(&ev))>
                        {list.into_iter().map(|p| {
                            let selected = p.name == chosen.get_untracked();
                            view! { <option value=p.name.clone() selected=selected>{p.name.clone()}</option> }
                        }).collect_view()}
                    </select>
                </div>
            </Loaded>
            <Loaded data=move || both(profile, types) let((stored, types))>
                <ProfileSnippet profile=stored.profile types language/>
            </Loaded>
        </section>
    }
}

/// One profile: its description, the code in the language picked, and its
/// own type names.
#[component]
fn ProfileSnippet(
    profile: DeliveryProfile,
    types: Vec<EventType>,
    language: RwSignal<SnippetLanguage>,
) -> impl IntoView {
    let profile = StoredValue::new(profile);
    let code =
        Signal::derive(move || profile.with_value(|p| verification_snippet(p, language.get())));
    let description = profile.with_value(|p| p.description.clone());
    let renamed = profile.with_value(|p| renamed_types(p, &types));
    let type_note = profile.with_value(type_location);
    view! {
        <p class="muted small" data-testid="snippet-profile-description">{description}</p>
        <div class="tabs">
            {SnippetLanguage::ALL.into_iter().map(|l| view! {
                <button type="button" class="tab" class:active=move || language.get() == l
                    aria-pressed=move || (language.get() == l).to_string()
                    data-testid=format!("snippet-lang-{}", l.as_str())
                    on:click=move |_| language.set(l)>
                    {l.label()}
                </button>
            }).collect_view()}
        </div>
        <pre class="json" data-testid="snippet-code">{code}</pre>
        <div class="actions">
            <CopyButton text=code testid="copy-snippet"/>
        </div>
        <h3>"Event type names"</h3>
        <p class="small" data-testid="snippet-type-note">{type_note}</p>
        {if renamed.is_empty() {
            view! { <p class="muted small" data-testid="no-renamed-types">"Every type keeps Herald's name."</p> }.into_any()
        } else {
            view! {
                <ul class="renamed-types" data-testid="renamed-types">
                    {renamed.into_iter().map(|(herald, theirs)| view! {
                        <li data-testid=format!("renamed-{herald}")>
                            <code>{herald.clone()}</code> " → " <code>{theirs}</code>
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}

/// The catalog's types (not archived) that `profile` spells differently.
fn renamed_types(profile: &DeliveryProfile, types: &[EventType]) -> Vec<(String, String)> {
    types
        .iter()
        .filter(|t| !t.archived)
        .filter_map(|t| {
            let spelled = profile.type_spelling.spell(&t.name);
            (spelled != t.name).then(|| (t.name.clone(), spelled))
        })
        .collect()
}

/// Where a receiver finds the event type in this profile's deliveries.
fn type_location(profile: &DeliveryProfile) -> String {
    let in_body = match &profile.envelope {
        Envelope::DataOnly {
            type_field: Some(field),
        } => Some(format!("the body's \"{field}\"")),
        Envelope::DataOnly { type_field: None } => None,
        Envelope::Standard | Envelope::Renamed { .. } => profile
            .envelope_fields()
            .and_then(|f| f.event_type)
            .map(|field| format!("the body's \"{field}\"")),
    };
    let in_header = profile
        .headers
        .event_type
        .as_ref()
        .map(|h| format!("the {h} header"));
    match (in_body, in_header) {
        (Some(body), Some(header)) => format!("The type is in {body} and {header}."),
        (Some(body), None) => format!("The type is in {body}."),
        (None, Some(header)) => format!("The type is in {header}."),
        (None, None) => "This profile does not send the type: tell events apart by their payload (or give each kind its own endpoint).".to_owned(),
    }
}
