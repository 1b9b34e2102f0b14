//! Bulk retry over a deliveries list, for merchants and operators alike:
//! the ticked rows, or everything the filters match, each counted on its
//! button and confirmed before anything is sent.

use super::display::confirm_keys_with;
use crate::model::error::AppError;
use leptos::prelude::*;
use std::collections::BTreeSet;

/// What the confirmation is about.
#[derive(Debug, Clone, PartialEq)]
enum Bulk {
    /// These delivery ids.
    Selected(Vec<String>),
    /// Everything the filters match: this many.
    Matching(u64),
}

/// The two buttons, the confirmation and the outcome.
#[component]
pub fn BulkRetry(
    /// The ticked rows' delivery ids.
    selected: RwSignal<BTreeSet<String>>,
    /// How many deliveries the filters match (up to one retry's worth).
    matching: Resource<Result<u64, AppError>>,
    /// Retries these ids.
    #[prop(into)]
    retry_selected: Callback<Vec<String>>,
    /// Retries everything the filters match.
    #[prop(into)]
    retry_matching: Callback<()>,
    /// The last retry's answer: how many were queued.
    #[prop(into)]
    outcome: Signal<Option<Result<u64, AppError>>>,
) -> impl IntoView {
    let confirming: RwSignal<Option<Bulk>> = RwSignal::new(None);
    // Focus goes to the confirmation, Escape cancels it, and focus returns
    // to "Retry selected" (the usual opener) when it closes.
    let keys = confirm_keys_with(
        Signal::derive(move || confirming.with(Option::is_some)),
        move || confirming.set(None),
    );
    let count = move |bulk: &Bulk| match bulk {
        Bulk::Selected(ids) => ids.len() as u64,
        Bulk::Matching(n) => *n,
    };
    let confirm = move |_| {
        match confirming.get_untracked() {
            Some(Bulk::Selected(ids)) => {
                selected.set(BTreeSet::new());
                retry_selected.run(ids);
            }
            Some(Bulk::Matching(_)) => retry_matching.run(()),
            None => {}
        }
        confirming.set(None);
    };
    view! {
        <div class="bulk-actions">
            <button type="button" data-testid="retry-selected" node_ref=keys.opener
                disabled=move || selected.with(BTreeSet::is_empty)
                on:click=move |_| {
                    confirming.set(Some(Bulk::Selected(selected.get_untracked().into_iter().collect())));
                }>
                {move || format!("Retry selected ({})", selected.with(BTreeSet::len))}
            </button>
            <Transition fallback=|| view! { <button type="button" class="ghost" disabled>"Retry all matching"</button> }>
                {move || matching.get().map(|result| {
                    let n = result.unwrap_or(0);
                    view! {
                        <button type="button" class="ghost" data-testid="retry-matching"
                            disabled=n == 0
                            on:click=move |_| confirming.set(Some(Bulk::Matching(n)))>
                            {format!("Retry all matching ({n})")}
                        </button>
                    }
                })}
            </Transition>
        </div>
        {move || confirming.get().map(|bulk| {
            let n = count(&bulk);
            view! {
                <div class="confirm" role="alertdialog" data-testid="confirm-retry">
                    <p>
                        {format!("Retry {n} deliveries?")}
                        " Each gets a new attempt now, whatever its status; those being attempted "
                        "right now, or whose endpoint is disabled, are left as they are."
                    </p>
                    <button type="button" class="primary" data-testid="confirm-retry-button" node_ref=keys.first on:click=confirm>
                        {format!("Retry {n} deliveries")}
                    </button>
                    <button type="button" class="ghost" on:click=move |_| confirming.set(None)>"Cancel"</button>
                </div>
            }
        })}
        {move || outcome.get().map(|result| match result {
            Ok(n) => view! { <p class="alert ok" data-testid="queued">{format!("{n} deliveries queued for a new attempt now.")}</p> }.into_any(),
            Err(e) => view! { <p class="alert error" role="alert">{e.message}</p> }.into_any(),
        })}
    }
}
