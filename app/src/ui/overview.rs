//! `/`: the last 24 hours at a glance: the endpoints that are failing, each
//! endpoint's health, deliveries per hour by outcome, and the latest failures.

use super::display::{refresh_every, time, FailingWarning};
use super::endpoints::NoEndpoints;
use super::loaded::Loaded;
use crate::model::dashboard::DeliveryQuery;
use crate::model::endpoint::Endpoint;
use crate::model::error::AppError;
use crate::model::stats::{EndpointStats, HourStats, Stats};
use crate::server_fn::deliveries::{list_deliveries, overview_stats};
use crate::server_fn::endpoints::list_endpoints;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

/// `/`
#[component]
pub fn OverviewPage() -> impl IntoView {
    // `?mode=live` leaves test-mode events out of the chart, health and failures.
    let query = use_query_map();
    let live_only = move || query.read().get("mode").as_deref() == Some("live");
    let stats = Resource::new(live_only, overview_stats);
    let endpoints = Resource::new(|| (), |_| list_endpoints());
    let failures = Resource::new(
        move || DeliveryQuery {
            status: Some("failed".into()),
            mode: live_only().then(|| "live".to_owned()),
            ..DeliveryQuery::default()
        },
        list_deliveries,
    );
    refresh_every(15, move || {
        stats.refetch();
        failures.refetch();
    });
    view! {
        <Title text="Overview"/>
        <div class="page-header">
            <div>
                <h1>"Overview"</h1>
                <p class="muted">
                    "The last 24 hours of your webhooks"
                    {move || if live_only() { ", live events only. " } else { ", test events included. " }}
                    {move || {
                        if live_only() {
                            view! { <A href="/" attr:data-testid="toggle-test-events">"Include test events"</A> }
                        } else {
                            view! { <A href="/?mode=live" attr:data-testid="toggle-test-events">"Live events only"</A> }
                        }
                    }}
                </p>
            </div>
            <A href="/endpoints/new" attr:class="button primary" attr:data-testid="new-endpoint">
                "New endpoint"
            </A>
        </div>
        <Loaded data=move || endpoints_with_stats(endpoints, stats) loading="Loading…" let:loaded>
            {match loaded {
                None => view! { <NoEndpoints/> }.into_any(),
                Some((list, stats)) => view! {
                    {list.iter().cloned().map(|endpoint| view! { <FailingWarning endpoint linked=true/> }).collect_view()}
                    <section class="card" data-testid="chart-card">
                        <h2>"Deliveries per hour"</h2>
                        <Chart hours=stats.hours.clone()/>
                    </section>
                    <Health endpoints=list stats/>
                }
                    .into_any(),
            }}
        </Loaded>
        <section class="card" data-testid="recent-failures">
            <h2>"Latest failures"</h2>
            // The card points at failures, it is not their record: if they
            // cannot be loaded it stays quiet; the deliveries page says why.
            <Loaded data=move || async move { Ok(failures.await.map(|p| p.items).unwrap_or_default()) } let:items>
                {
                    if items.is_empty() {
                        view! { <p class="muted" data-testid="no-failures">"No failed deliveries. "</p> }.into_any()
                    } else {
                        view! {
                            <ul class="failures">
                                {items.into_iter().take(5).map(|d| view! {
                                    <li data-testid="failure">
                                        <A href=format!("/deliveries/{}", d.id)><code>{d.event_type.clone()}</code></A>
                                        {(!d.live_mode).then(|| view! { <span class="badge test">"test"</span> })}
                                        <span class="mono small break">{d.url.clone()}</span>
                                        <span class="muted small">
                                            {format!("{} · {} attempts · last answer {}", time(&d.created_at), d.attempt_count,
                                                d.last_status_code.map(|c| c.to_string()).unwrap_or_else(|| "none".into()))}
                                        </span>
                                    </li>
                                }).collect_view()}
                            </ul>
                            <A href="/deliveries?status=failed">"All failed deliveries"</A>
                        }
                            .into_any()
                    }
                }
            </Loaded>
        </section>
    }
}

/// The endpoints and their statistics; `None` when there are no endpoints
/// (then there is nothing to chart, whatever the statistics say).
async fn endpoints_with_stats(
    endpoints: Resource<Result<Vec<Endpoint>, AppError>>,
    stats: Resource<Result<Stats, AppError>>,
) -> Result<Option<(Vec<Endpoint>, Stats)>, AppError> {
    let (endpoints, stats) = (endpoints.await, stats.await);
    let endpoints = endpoints?;
    if endpoints.is_empty() {
        return Ok(None);
    }
    Ok(Some((endpoints, stats?)))
}

/// Each endpoint: enabled or why not, success rate and p95 over 24 h.
#[component]
fn Health(endpoints: Vec<Endpoint>, stats: Stats) -> impl IntoView {
    let find = move |e: &Endpoint| -> Option<EndpointStats> {
        stats
            .endpoints
            .iter()
            .find(|s| s.endpoint_id == e.id)
            .cloned()
    };
    view! {
        <section class="card" data-testid="health">
            <h2>"Endpoint health"</h2>
            <table class="table compact">
                <thead><tr><th>"Endpoint"</th><th>"Status"</th><th>"Success (24 h)"</th><th>"p95 latency"</th><th>"Delivered / failed / pending"</th></tr></thead>
                <tbody>
                    {endpoints.into_iter().map(|e| {
                        let s = find(&e);
                        let rate = s.as_ref().and_then(|s| s.success_rate)
                            .map(|r| format!("{:.1}%", r * 100.0))
                            .unwrap_or_else(|| "—".into());
                        let p95 = s.as_ref().and_then(|s| s.p95_ms).map(|ms| format!("{ms} ms")).unwrap_or_else(|| "—".into());
                        let counts = s.as_ref()
                            .map(|s| format!("{} / {} / {}", s.succeeded, s.failed, s.pending))
                            .unwrap_or_else(|| "0 / 0 / 0".into());
                        view! {
                            <tr data-testid="health-row">
                                <td><A href=format!("/endpoints/{}", e.id) attr:class="mono small break">{e.url.clone()}</A></td>
                                <td>
                                    {if e.enabled {
                                        view! { <span class="pill ok">"Enabled"</span> }.into_any()
                                    } else {
                                        view! { <span class="pill off">"Disabled"</span> <div class="muted small">{e.disabled_reason.clone().unwrap_or_default()}</div> }.into_any()
                                    }}
                                </td>
                                <td data-testid="success-rate">{rate}</td>
                                <td>{p95}</td>
                                <td class="small">{counts}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

const CHART_W: f64 = 720.0;
const CHART_H: f64 = 180.0;
const TOP: f64 = 10.0;
const LEFT: f64 = 36.0;

/// Stacked bars per hour: succeeded, failed, pending. Drawn here as SVG.
#[component]
fn Chart(hours: Vec<HourStats>) -> impl IntoView {
    let max = hours
        .iter()
        .map(|h| h.succeeded + h.failed + h.pending)
        .max()
        .unwrap_or(0)
        .max(1);
    let n = hours.len().max(1) as f64;
    let slot = (CHART_W - LEFT) / n;
    let bar = (slot - 3.0).max(1.0);
    let scale = (CHART_H - TOP) / max as f64;
    let total: u64 = hours
        .iter()
        .map(|h| h.succeeded + h.failed + h.pending)
        .sum();
    let bars = hours
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let x = LEFT + i as f64 * slot + 1.5;
            let mut y = CHART_H;
            let mut segment = |count: u64, class: &'static str| {
                let height = count as f64 * scale;
                y -= height;
                (count > 0).then(|| view! { <rect x=format!("{x:.1}") y=format!("{y:.1}") width=format!("{bar:.1}") height=format!("{height:.1}") class=class/> })
            };
            let ok = segment(h.succeeded, "bar-ok");
            let bad = segment(h.failed, "bar-failed");
            let waiting = segment(h.pending, "bar-pending");
            let label = (i % 6 == 0).then(|| {
                view! { <text x=format!("{x:.1}") y=format!("{:.1}", CHART_H + 14.0) class="axis">{h.hour.format("%H:00").to_string()}</text> }
            });
            let title = format!(
                "{} — {} delivered, {} failed, {} pending",
                h.hour.format("%Y-%m-%d %H:00 UTC"),
                h.succeeded,
                h.failed,
                h.pending
            );
            view! { <g><title>{title}</title>{ok}{bad}{waiting}{label}</g> }
        })
        .collect_view();
    view! {
        <svg class="chart" viewBox=format!("0 0 {CHART_W} {}", CHART_H + 20.0) role="img"
            aria-label=format!("{total} deliveries in the last 24 hours") data-testid="chart">
            <line x1=LEFT.to_string() y1=CHART_H.to_string() x2=CHART_W.to_string() y2=CHART_H.to_string() class="axis-line"/>
            <text x="0" y=format!("{:.1}", TOP + 4.0) class="axis">{max.to_string()}</text>
            <text x="0" y=CHART_H.to_string() class="axis">"0"</text>
            {bars}
        </svg>
        <p class="legend small">
            <span class="swatch ok"></span>"Delivered "
            <span class="swatch failed"></span>"Failed "
            <span class="swatch pending"></span>"Pending"
            <span class="muted">{format!(" · {total} in all")}</span>
        </p>
    }
}
