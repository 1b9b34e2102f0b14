//! `/audit-log` (the merchant's own) and `/admin/audit-log` (every
//! merchant's): who did what, when, from where. Newest first, a page at a
//! time (`?cursor=`).

use super::display::When;
use super::loaded::Loaded;
use crate::model::audit::{AuditEntry, AuditPage};
use crate::server_fn::audit_log::{admin_audit_log, audit_log};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

/// `/audit-log`
#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let entries = Resource::new(move || query.with(|q| q.get("cursor")), audit_log);
    view! {
        <Title text="Audit log"/>
        <div class="page-header">
            <div>
                <h1>"Audit log"</h1>
                <p class="muted">"Who logged in, revealed or rotated a secret, and changed endpoints or API keys: kept when delivery history is deleted."</p>
            </div>
        </div>
        <Loaded data=move || entries loading="Loading…" let:page>
            <AuditTable page show_merchant=false base="/audit-log"/>
        </Loaded>
    }
}

/// `/admin/audit-log`
#[component]
pub fn AdminAuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let entries = Resource::new(
        move || query.with(|q| (q.get("merchant_id"), q.get("cursor"))),
        |(merchant_id, cursor)| admin_audit_log(merchant_id, cursor),
    );
    view! {
        <Title text="Audit log · Operations"/>
        <div class="page-header">
            <div>
                <h1>"Audit log"</h1>
                <p class="muted">"Every merchant's audit log, newest first."</p>
            </div>
        </div>
        <Loaded data=move || entries loading="Loading…" let:page>
            <AuditTable page show_merchant=true base="/admin/audit-log"/>
        </Loaded>
    }
}

#[component]
fn AuditTable(page: AuditPage, show_merchant: bool, base: &'static str) -> impl IntoView {
    if page.data.is_empty() {
        return view! { <div class="empty" data-testid="audit-empty"><p>"Nothing recorded yet."</p></div> }
            .into_any();
    }
    let older = page
        .next_cursor
        .map(|cursor| view! { <A href=format!("{base}?cursor={cursor}")>"Older entries"</A> });
    view! {
        <div class="card">
            <table class="table" data-testid="audit-table">
                <thead><tr>
                    <th>"When"</th>
                    {show_merchant.then(|| view! { <th>"Merchant"</th> })}
                    <th>"Who"</th><th>"What"</th><th>"On"</th><th>"Address"</th>
                </tr></thead>
                <tbody>
                    {page.data.into_iter().map(|entry| view! { <AuditRow entry show_merchant/> }).collect_view()}
                </tbody>
            </table>
            {older}
        </div>
    }
    .into_any()
}

#[component]
fn AuditRow(entry: AuditEntry, show_merchant: bool) -> impl IntoView {
    let who = match &entry.actor {
        Some(name) => format!("{} ({})", name, entry.actor_kind.as_str().replace('_', " ")),
        None => entry.actor_kind.as_str().replace('_', " "),
    };
    let what = match &entry.detail {
        Some(detail) => format!("{}: {detail}", entry.action.label()),
        None => entry.action.label().to_owned(),
    };
    view! {
        <tr data-testid="audit-entry" data-action=entry.action.as_str()>
            <td class="small"><When at=entry.at/></td>
            {show_merchant.then(|| view! {
                <td class="small"><code>{entry.merchant_id.as_ref().map(|m| m.to_string()).unwrap_or_default()}</code></td>
            })}
            <td>{who}</td>
            <td>{what}</td>
            <td><code>{entry.object_id.clone().unwrap_or_default()}</code></td>
            <td class="small">{entry.client_address.clone().unwrap_or_default()}</td>
        </tr>
    }
}
