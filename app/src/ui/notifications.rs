//! `/notifications`: what Herald told the merchant about its endpoints, and
//! which of it is also mailed.

use super::display::{time, When};
use super::form::{action_error, FormError};
use super::loaded::Loaded;
use crate::model::alert::{Alert, AlertKind, MailPreferences, Notifications};
use crate::model::member::Account;
use crate::server_fn::account::whoami;
use crate::server_fn::notifications::{load_notifications, SetMailPreferences};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use std::collections::BTreeSet;

/// `/notifications`
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let loaded = Resource::new(|| (), |_| load_notifications());
    let me = Resource::new(|| (), |_| whoami());
    // A viewer sees the settings but cannot save them (the server refuses).
    let with_role = move || async move {
        let (notifications, me) = (loaded.await, me.await);
        Ok((
            notifications?,
            me?.as_ref().is_some_and(Account::can_change),
        ))
    };
    view! {
        <Title text="Notifications"/>
        <div class="page-header">
            <div>
                <h1>"Notifications"</h1>
                <p class="muted">
                    "Herald tells you when one of your endpoints starts failing, is disabled or recovers, "
                    "and when a delivery fails for good."
                </p>
            </div>
        </div>
        <Loaded data=with_role loading="Loading notifications…" let((notifications, can_change))>
            {
                let Notifications { email, mail_configured, preferences, alerts } = notifications;
                view! {
                    <MailSettings email mail_configured preferences can_change/>
                    <AsEvents/>
                    <Told alerts/>
                }
            }
        </Loaded>
    }
}

/// Where mail goes, whether any can go, and which alerts the merchant wants mailed.
#[component]
fn MailSettings(
    email: String,
    mail_configured: bool,
    preferences: MailPreferences,
    /// Whether this member may save them (a viewer may not).
    can_change: bool,
) -> impl IntoView {
    let save = ServerAction::<SetMailPreferences>::new();
    let error = action_error(save);
    let chosen: RwSignal<BTreeSet<AlertKind>> =
        RwSignal::new(preferences.kinds.into_iter().collect());
    let saved = move || save.value().get().is_some_and(|result| result.is_ok());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let kinds = chosen.get_untracked().into_iter().collect();
        save.dispatch(SetMailPreferences {
            preferences: MailPreferences { kinds },
        });
    };
    view! {
        <section class="card" data-testid="mail-settings">
            <h2>"Mail"</h2>
            <p>"Mails go to " <strong data-testid="mail-address">{email}</strong> "."</p>
            {(!mail_configured).then(|| view! {
                <p class="alert warn" data-testid="mail-not-configured">
                    "This Herald has no mail server configured (HERALD_SMTP_URL), so nothing is mailed; "
                    "the events below are still delivered to endpoints subscribed to them."
                </p>
            })}
            <form class="form" on:submit=submit data-testid="mail-form">
                <FormError error/>
                <fieldset class="field mail-kinds">
                    <legend>"Mail me when"</legend>
                    {AlertKind::ALL
                        .into_iter()
                        .map(|kind| {
                            view! {
                                <div class="mail-kind">
                                    <label class="check">
                                        <input
                                            type="checkbox"
                                            disabled=!can_change
                                            data-testid=format!("mail-{}", kind.as_str())
                                            prop:checked=move || chosen.with(|c| c.contains(&kind))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                chosen.update(|c| {
                                                    if on {
                                                        c.insert(kind);
                                                    } else {
                                                        c.remove(&kind);
                                                    }
                                                });
                                                // "Saved." is about what was saved, not about this.
                                                save.clear();
                                            }
                                        />
                                        {kind.label()}
                                    </label>
                                    <code class="small">{kind.event_type()}</code>
                                </div>
                            }
                        })
                        .collect_view()}
                    <p class="hint">
                        "“Delivery failed for good” is one mail per delivery, and an endpoint that is down fails many at once."
                    </p>
                    <p class="field-error" role="alert" data-testid="kinds-error">
                        {move || error.get().and_then(|e| e.for_field("kinds"))}
                    </p>
                </fieldset>
                {if can_change {
                    view! {
                        <div class="actions">
                            <button type="submit" class="primary" data-testid="save-mail" disabled=move || save.pending().get()>
                                "Save"
                            </button>
                            <span class="saved-note" role="status" data-testid="mail-saved">
                                {move || saved().then_some("Saved.")}
                            </span>
                        </div>
                    }
                        .into_any()
                } else {
                    view! {
                        <p class="muted small" data-testid="mail-read-only">
                            "Viewers cannot change these: ask an owner or a developer of this account."
                        </p>
                    }
                        .into_any()
                }}
            </form>
        </section>
    }
}

/// The same changes as events, for code rather than people.
#[component]
fn AsEvents() -> impl IntoView {
    view! {
        <section class="card" data-testid="as-events">
            <h2>"As events"</h2>
            <p class="small">
                "Endpoints subscribed to " <code>"herald.*"</code> " (or to one of its types by name) get each of these as an event, "
                "signed like any other; never the endpoint it is about. An endpoint that takes every type does not get them. "
                "Their payloads are in the " <A href="/event-types">"event types"</A> "."
            </p>
        </section>
    }
}

/// Every change told, newest first.
#[component]
fn Told(alerts: Vec<Alert>) -> impl IntoView {
    view! {
        <section class="card" data-testid="alerts">
            <h2>"Told so far"</h2>
            {if alerts.is_empty() {
                view! {
                    <p class="muted" data-testid="no-alerts">
                        "Nothing to tell yet: Herald tells you here when an endpoint starts failing, is disabled or recovers."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <ul class="told">
                        {alerts.into_iter().map(|alert| view! { <ToldRow alert/> }).collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
}

/// One change: what, when, about which endpoint, and how it was told.
#[component]
fn ToldRow(alert: Alert) -> impl IntoView {
    let told = alert
        .told_at
        .as_ref()
        .map(time)
        .unwrap_or_else(|| "pending".to_owned());
    let mailed = if alert.mailed { "yes" } else { "no" };
    view! {
        <li data-testid="alert-row">
            <div class="told-head">
                <strong data-testid="alert-kind">{alert.kind.label()}</strong>
                <span class="muted small"><When at=alert.created_at/></span>
            </div>
            <p>{alert.summary()}</p>
            {alert.reason.clone().map(|reason| view! { <p class="muted small">{reason}</p> })}
            <p class="muted small">
                "Endpoint "
                <A href=format!("/endpoints/{}", alert.endpoint_id) attr:class="mono break" attr:data-testid="alert-endpoint">
                    {alert.url.clone()}
                </A>
                {alert.delivery_id.as_ref().map(|id| view! {
                    " · " <A href=format!("/deliveries/{id}")>"the delivery"</A>
                })}
            </p>
            <p class="muted small" data-testid="alert-told">
                {format!("Told: {told} · mailed: {mailed}")}
            </p>
        </li>
    }
}
