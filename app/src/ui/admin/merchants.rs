//! `/admin/merchants`: every merchant with its counts, each count a link to
//! the operators' page it sums up where there is one.

use crate::model::operations::MerchantSummary;
use crate::server_fn::admin::admin_merchant_summaries;
use crate::ui::display::time;
use crate::ui::loaded::Loaded;
use crate::ui::url_query::encode;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// `/admin/merchants`
#[component]
pub fn AdminMerchantsPage() -> impl IntoView {
    let merchants = Resource::new(|| (), |_| admin_merchant_summaries());
    view! {
        <Title text="Merchants · Operations"/>
        <div class="page-header">
            <div>
                <h1>"Merchants"</h1>
                <p class="muted">"Deliveries count those made in the last 24 hours. Each count opens what it counts."</p>
            </div>
        </div>
        <Loaded data=move || merchants loading="Loading…" let:list>
            <table class="table stacked" data-testid="merchants-table">
                <thead>
                    <tr>
                        <th>"Merchant"</th>
                        <th>"Endpoints"</th>
                        <th>"Members"</th>
                        <th>"Deliveries (24 h)"</th>
                        <th>"Failed (24 h)"</th>
                        <th>"Created"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|m| view! { <MerchantRow summary=m/> }).collect_view()}
                </tbody>
            </table>
        </Loaded>
    }
}

#[component]
fn MerchantRow(summary: MerchantSummary) -> impl IntoView {
    let m = summary.merchant.clone();
    let (name, email, id_text, created) = (
        m.name.clone(),
        m.email.clone(),
        m.id.to_string(),
        time(&m.created_at),
    );
    let id = encode(m.id.as_str());
    let endpoints = format!("/admin/endpoints?merchant_id={id}");
    let disabled = format!("/admin/endpoints?merchant_id={id}&status=disabled");
    let failed = format!("/admin/deliveries?status=failed&merchant_id={id}&since=24h");
    let all = format!("/admin/deliveries?status=failed&merchant_id={id}");
    let (members, deliveries, failed_count) =
        (summary.members, summary.deliveries_24h, summary.failed_24h);
    let enabled_text = format!("{} enabled", summary.endpoints_enabled);
    let row_id = id_text.clone();
    let failed_class = if summary.failed_24h > 0 {
        "bad-count"
    } else {
        ""
    };
    let role = m
        .is_admin()
        .then(|| view! { <span class="badge">"admin"</span> });
    let disabled_count = (summary.endpoints_disabled > 0).then(|| {
        view! {
            <div class="small">
                <A href=disabled attr:data-testid="endpoints-disabled">{format!("{} disabled", summary.endpoints_disabled)}</A>
            </div>
        }
    });
    view! {
        <tr data-testid="merchant-row" data-merchant=row_id>
            <td data-label="Merchant">
                <A href=all>{name}</A> " " {role}
                <div class="muted small break">{email}</div>
                <div class="mono small muted break">{id_text}</div>
            </td>
            <td data-label="Endpoints">
                <A href=endpoints attr:data-testid="endpoints-enabled">{enabled_text}</A>
                {disabled_count}
            </td>
            <td data-label="Members" data-testid="members">{members}</td>
            <td data-label="Deliveries (24 h)" data-testid="deliveries-24h">{deliveries}</td>
            <td data-label="Failed (24 h)">
                <A href=failed attr:data-testid="failed-24h"
                    attr:class=failed_class>
                    {failed_count}
                </A>
            </td>
            <td data-label="Created" class="small">{created}</td>
        </tr>
    }
}
