//! The event-type catalog page.

use crate::model::event_type::EventType;
use crate::server_fn::catalog::list_event_types;
use leptos::prelude::*;
use leptos_meta::Title;
use std::collections::BTreeMap;

/// `/event-types`: every type, grouped by category, with its example payload.
#[component]
pub fn EventTypesPage() -> impl IntoView {
    let types = Resource::new(|| (), |_| list_event_types());
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
        <Transition fallback=|| view! { <p class="muted">"Loading event types…"</p> }>
            {move || Suspend::new(async move {
                match types.await {
                    Ok(list) => view! { <Catalog types=list/> }.into_any(),
                    Err(e) => {
                        view! { <div class="alert error" role="alert">{e.message}</div> }
                            .into_any()
                    }
                }
            })}
        </Transition>
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
            view! {
                <section class="category" data-testid=format!("category-{category}")>
                    <h2>
                        {category.clone()}
                        <code class="wildcard">{format!("{category}.*")}</code>
                    </h2>
                    <ul class="type-list">
                        {types.into_iter().map(|t| view! { <TypeRow event_type=t/> }).collect_view()}
                    </ul>
                </section>
            }
        })
        .collect_view()
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

/// How to verify a delivery, in three languages.
#[component]
fn Verify() -> impl IntoView {
    let shown = RwSignal::new("node");
    let tab = move |id: &'static str, label: &'static str| {
        view! {
            <button type="button" class="tab" class:active=move || shown.get() == id
                aria-pressed=move || (shown.get() == id).to_string()
                data-testid=format!("verify-{id}") on:click=move |_| shown.set(id)>
                {label}
            </button>
        }
    };
    let code = move || match shown.get() {
        "python" => PYTHON,
        "rust" => RUST,
        _ => NODE,
    };
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
            <div class="tabs">{tab("node", "Node")}{tab("python", "Python")}{tab("rust", "Rust")}</div>
            <pre class="json" data-testid="verify-code">{code}</pre>
        </section>
    }
}
