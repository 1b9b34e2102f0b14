//! `/admin/endpoints`: every merchant's endpoints and how each is doing
//! (failure rate over 24 h, last delivery, failing or disabled and by
//! whom), filtered, sorted and paged by the server; the filters live in the
//! URL so a view can be shared. Disable with a reason, enable again.

use crate::model::endpoint::Endpoint;
use crate::model::operations::{
    EndpointOrder, EndpointOverview, EndpointOverviewPage, EndpointOverviewQuery,
    OVERVIEW_PAGE_SIZE,
};
use crate::server_fn::admin::{admin_endpoints, AdminDisableEndpoint, AdminEnableEndpoint};
use crate::ui::display::{confirm_keys, StatusBadge, When};
use crate::ui::filter_fields::{with_value, ClearFilters};
use crate::ui::loaded::Loaded;
use crate::ui::url_query::{encode_query, param};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;

/// The overview's filters as they stand in the URL.
pub fn query_from(params: &ParamsMap) -> EndpointOverviewQuery {
    let get = |key: &str| param(params, key);
    EndpointOverviewQuery {
        merchant: get("merchant"),
        merchant_id: get("merchant_id"),
        url: get("url"),
        status: get("status"),
        sort: get("sort"),
        page: get("page"),
    }
}

/// The URL query for the overview's filters (`?merchant=acme&…`).
pub fn query_string(query: &EndpointOverviewQuery) -> String {
    encode_query(&[
        ("merchant", &query.merchant),
        ("merchant_id", &query.merchant_id),
        ("url", &query.url),
        ("status", &query.status),
        ("sort", &query.sort),
        ("page", &query.page),
    ])
}

fn overview_url(query: &EndpointOverviewQuery) -> String {
    format!("/admin/endpoints{}", query_string(query))
}

/// `/admin/endpoints`
#[component]
pub fn AdminEndpointsPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| query_from(&params.read()));
    let disable = ServerAction::<AdminDisableEndpoint>::new();
    let enable = ServerAction::<AdminEnableEndpoint>::new();
    let endpoints = Resource::new(
        move || (query.get(), disable.version().get(), enable.version().get()),
        |(q, _, _)| admin_endpoints(q),
    );
    let error = move || {
        disable
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| enable.value().get().and_then(Result::err))
            .map(|e| e.message)
    };
    let navigate = use_navigate();
    let apply =
        move |next: EndpointOverviewQuery| navigate(&overview_url(&next), Default::default());
    view! {
        <Title text="Endpoints · Operations"/>
        <div class="page-header">
            <div>
                <h1>"Endpoints across merchants"</h1>
                <p class="muted">"What is broken first: each endpoint's failure rate over the last 24 hours. Disable a misbehaving endpoint with a reason its merchant will see; enable it again when fixed."</p>
            </div>
        </div>
        <OverviewFilters query apply/>
        <p class="field-error" role="alert" data-testid="admin-error">{error}</p>
        <Loaded data=move || endpoints loading="Loading endpoints…" let:page>
            <OverviewTable page query=query.get_untracked() disable enable/>
        </Loaded>
    }
}

/// The filter bar: every change is a new URL (back to the first page).
#[component]
fn OverviewFilters(
    query: Memo<EndpointOverviewQuery>,
    apply: impl Fn(EndpointOverviewQuery) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let set = move |change: fn(&mut EndpointOverviewQuery, String)| {
        let apply = apply.clone();
        move |value: String| {
            let mut next = query.get_untracked();
            change(&mut next, value);
            next.page = None;
            apply(next);
        }
    };
    let current = move |pick: fn(&EndpointOverviewQuery) -> Option<String>| {
        Signal::derive(move || pick(&query.get()).unwrap_or_default())
    };
    let filtered = Signal::derive(move || {
        let q = query.get();
        [&q.merchant, &q.merchant_id, &q.url, &q.status]
            .iter()
            .any(|v| v.is_some())
    });
    let clear = set(|q, _| {
        *q = EndpointOverviewQuery {
            sort: q.sort.take(),
            ..EndpointOverviewQuery::default()
        }
    });
    let (merchant, url, status) = (
        current(|q| q.merchant.clone()),
        current(|q| q.url.clone()),
        current(|q| q.status.clone()),
    );
    let sort = current(|q| q.sort.clone());
    view! {
        <div class="filters" data-testid="endpoint-filters">
            <label>"Merchant name"
                <input type="search" placeholder="contains…" data-testid="filter-merchant-name"
                    prop:value=move || merchant.get()
                    on:change=with_value(set(|q, v| q.merchant = Some(v)))/>
            </label>
            <label>"URL"
                <input type="search" placeholder="contains…" data-testid="filter-url"
                    prop:value=move || url.get()
                    on:change=with_value(set(|q, v| q.url = Some(v)))/>
            </label>
            <label>"Status"
                <select data-testid="filter-endpoint-status" prop:value=move || status.get()
                    on:change=with_value(set(|q, v| q.status = Some(v)))>
                    <option value="">"Any"</option>
                    <option value="failing">"Failing"</option>
                    <option value="enabled">"Enabled"</option>
                    <option value="disabled">"Disabled"</option>
                </select>
            </label>
            <label>"Sort by"
                <select data-testid="sort-endpoints" prop:value=move || sort.get()
                    on:change=with_value(set(|q, v| q.sort = Some(v)))>
                    {EndpointOrder::ALL.into_iter().map(|order| {
                        // The default order is the URL without `sort`.
                        let value = if order == EndpointOrder::default() { "" } else { order.as_str() };
                        view! { <option value=value>{order.label()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <ClearFilters filtered clear=move || clear(String::new())/>
        </div>
    }
}

#[component]
fn OverviewTable(
    page: EndpointOverviewPage,
    query: EndpointOverviewQuery,
    disable: ServerAction<AdminDisableEndpoint>,
    enable: ServerAction<AdminEnableEndpoint>,
) -> impl IntoView {
    let shown = page.rows.len() as u64;
    let first = if shown == 0 { 0 } else { page.offset + 1 };
    let last = page.offset + shown;
    let summary = format!("Showing {first}–{last} of {} endpoints", page.total);
    let page_link = |offset: u64| {
        let number = offset / u64::from(OVERVIEW_PAGE_SIZE) + 1;
        overview_url(&EndpointOverviewQuery {
            page: (number > 1).then(|| number.to_string()),
            ..query.clone()
        })
    };
    let previous = (page.offset > 0)
        .then(|| page_link(page.offset.saturating_sub(u64::from(OVERVIEW_PAGE_SIZE))));
    let next = (last < page.total).then(|| page_link(last));
    let only_merchant = query.merchant_id.clone().map(|id| {
        let name = page
            .rows
            .first()
            .map_or_else(|| id.clone(), |r| r.merchant_name.clone());
        let all = overview_url(&EndpointOverviewQuery {
            merchant_id: None,
            page: None,
            ..query.clone()
        });
        view! {
            <p class="muted small" data-testid="merchant-only">
                "Only " <strong>{name}</strong> "’s endpoints. " <A href=all>"Show every merchant’s"</A>
            </p>
        }
    });
    if page.rows.is_empty() {
        return view! {
            {only_merchant}
            <p class="empty" data-testid="no-endpoints">"No endpoint matches these filters."</p>
        }
        .into_any();
    }
    view! {
        {only_merchant}
        <p class="muted small" data-testid="showing">{summary}</p>
        <table class="table stacked" data-testid="admin-endpoints">
            <thead>
                <tr>
                    <th>"Merchant"</th>
                    <th>"URL"</th>
                    <th>"Status"</th>
                    <th>"Failure rate (24 h)"</th>
                    <th>"Last delivery"</th>
                    <th><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {page.rows.into_iter().map(|row| view! { <OverviewRow row disable enable/> }).collect_view()}
            </tbody>
        </table>
        <div class="pager">
            {previous.map(|href| view! { <A href=href attr:class="button ghost" attr:data-testid="previous-page">"Previous"</A> })}
            {next.map(|href| view! { <A href=href attr:class="button ghost" attr:data-testid="next-page">"Next"</A> })}
        </div>
    }
    .into_any()
}

/// An endpoint's status: enabled, failing (since when), or disabled with
/// the reason and whether an operator did it.
fn status_cell(endpoint: &Endpoint) -> AnyView {
    if !endpoint.enabled {
        let by = endpoint.disabled_by_operator.then(
            || view! { <span class="badge" data-testid="by-operator">"by an operator"</span> },
        );
        return view! {
            <span class="pill off">"Disabled"</span>
            {by}
            <div class="muted small" data-testid="disabled-reason">{endpoint.disabled_reason.clone().unwrap_or_default()}</div>
        }
        .into_any();
    }
    match endpoint.failing_since {
        Some(since) => view! {
            <span class="pill warn" data-testid="failing">"Failing"</span>
            <div class="muted small">"since " <When at=since/></div>
        }
        .into_any(),
        None => view! { <span class="pill ok">"Enabled"</span> }.into_any(),
    }
}

#[component]
fn OverviewRow(
    row: EndpointOverview,
    disable: ServerAction<AdminDisableEndpoint>,
    enable: ServerAction<AdminEnableEndpoint>,
) -> impl IntoView {
    let endpoint = &row.endpoint;
    let id = StoredValue::new(endpoint.id.to_string());
    let failed_link = format!(
        "/admin/deliveries?status=failed&endpoint_id={}&since=24h",
        endpoint.id
    );
    let rate = match row.failure_percent() {
        Some(percent) => view! {
            <strong data-testid="failure-rate">{format!("{percent}%")}</strong>
            <div class="muted small" data-testid="failure-count">
                <A href=failed_link>{format!("{} of {} failed", row.failed_24h, row.finished_24h)}</A>
            </div>
        }
        .into_any(),
        None => view! { <span class="muted small" data-testid="failure-rate">"No finished deliveries"</span> }.into_any(),
    };
    let last = match row.last_delivery.clone() {
        Some(last) => view! {
            <StatusBadge status=last.status/>
            <div class="muted small"><When at=last.created_at/></div>
        }
        .into_any(),
        None => view! { <span class="muted small">"Never"</span> }.into_any(),
    };
    let merchant_only = overview_url(&EndpointOverviewQuery {
        merchant_id: Some(endpoint.merchant_id.to_string()),
        ..EndpointOverviewQuery::default()
    });
    view! {
        <tr data-testid="admin-endpoint-row" data-endpoint=id.get_value()>
            <td data-label="Merchant" data-testid="endpoint-merchant"><A href=merchant_only>{row.merchant_name.clone()}</A></td>
            <td data-label="URL" class="mono small break" data-testid="endpoint-url">{endpoint.url.clone()}</td>
            <td data-label="Status">{status_cell(endpoint)}</td>
            <td data-label="Failure rate (24 h)">{rate}</td>
            <td data-label="Last delivery" data-testid="last-delivery">{last}</td>
            <td class="row-actions"><EnableToggle enabled=endpoint.enabled id disable enable/></td>
        </tr>
    }
}

/// "Disable" (asking for the reason the merchant will see) or "Enable".
#[component]
fn EnableToggle(
    enabled: bool,
    id: StoredValue<String>,
    disable: ServerAction<AdminDisableEndpoint>,
    enable: ServerAction<AdminEnableEndpoint>,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let asking = RwSignal::new(false);
    let keys = confirm_keys(asking);
    if !enabled {
        return view! {
            <button type="button" data-testid="enable-endpoint"
                on:click=move |_| { enable.dispatch(AdminEnableEndpoint { id: id.get_value() }); }>
                "Enable"
            </button>
        }
        .into_any();
    }
    view! {
        <Show when=move || asking.get()
            fallback=move || view! {
                <button type="button" class="danger ghost" data-testid="disable-endpoint"
                    node_ref=keys.opener
                    on:click=move |_| asking.set(true)>"Disable"</button>
            }>
            <span class="confirm-inline">
                <input type="text" placeholder="Reason the merchant will see" aria-label="Reason"
                    data-testid="disable-reason"
                    on:input=move |ev| reason.set(event_target_value(&ev))/>
                <button type="button" class="danger" data-testid="confirm-disable" node_ref=keys.first
                    on:click=move |_| {
                        disable.dispatch(AdminDisableEndpoint { id: id.get_value(), reason: reason.get_untracked() });
                    }>"Disable"</button>
                <button type="button" class="ghost" on:click=move |_| asking.set(false)>"Cancel"</button>
            </span>
        </Show>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filters_travel_in_the_url() {
        let params = ParamsMap::from_iter([
            ("merchant", "Acme Shop"),
            ("url", ""),
            ("status", "failing"),
            ("sort", "last_delivery"),
            ("page", "2"),
        ]);
        let query = query_from(&params);
        assert_eq!(query.merchant.as_deref(), Some("Acme Shop"));
        assert_eq!(query.url, None, "an empty filter is no filter");
        assert_eq!(
            query_string(&query),
            "?merchant=Acme%20Shop&status=failing&sort=last_delivery&page=2"
        );
    }
}
