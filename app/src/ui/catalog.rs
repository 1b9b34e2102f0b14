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
