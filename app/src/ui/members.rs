//! `/members`: the team, with roles; owners invite (the link shown once to
//! copy, and mailed when SMTP is configured), change roles and remove.
//! `/invitations/:token`: accept an invitation with a new password.

use super::account::AuthFrame;
use super::display::{confirm_keys, CopyButton, When};
use super::form::{action_error, FormError, PasswordField, TextField};
use super::loaded::{both, Loaded};
use crate::model::member::{Account, Invitation, Member, MemberRole};
use crate::server_fn::account::whoami;
use crate::server_fn::members::{
    load_team, show_invitation, AcceptInvitation, InviteMember, RemoveMember, RevokeInvitation,
    SetMemberRole,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

/// `/members`
#[component]
pub fn MembersPage() -> impl IntoView {
    let invite = ServerAction::<InviteMember>::new();
    let revoke = ServerAction::<RevokeInvitation>::new();
    let set_role = ServerAction::<SetMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let me = Resource::new(|| (), |_| whoami());
    let team = Resource::new(
        move || {
            (
                invite.version().get(),
                revoke.version().get(),
                set_role.version().get(),
                remove.version().get(),
            )
        },
        |_| load_team(),
    );
    let change_error = Signal::derive(move || {
        set_role
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| remove.value().get().and_then(Result::err))
            .or_else(|| revoke.value().get().and_then(Result::err))
            .map(|e| e.message)
    });
    view! {
        <Title text="Members"/>
        <div class="page-header">
            <div>
                <h1>"Members"</h1>
                <p class="muted">
                    "The people who log in to this account. Owners: everything, and the team. \
                     Developers: endpoints, secrets, API keys and retries. Viewers: reads only."
                </p>
            </div>
        </div>
        <p class="alert error" role="alert" data-testid="members-error"
            hidden=move || change_error.get().is_none()>
            {move || change_error.get()}
        </p>
        <Loaded data=move || both(me, team) loading="Loading members…" let:loaded>
            {
                let (me, team) = loaded;
                let owner = me.as_ref().is_some_and(Account::can_manage_members);
                let you = team.you.clone();
                view! {
                    {owner.then(|| view! { <InviteForm invite mail=team.mail_configured/> })}
                    <section class="card">
                        <h2>"Team"</h2>
                        <table class="table" data-testid="members-table">
                            <thead><tr><th>"Email"</th><th>"Role"</th><th>"Since"</th><th></th></tr></thead>
                            <tbody>
                                {team.members.into_iter().map(|member| {
                                    let is_you = member.id == you;
                                    view! { <MemberRow member is_you owner set_role remove/> }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </section>
                    {(!team.invitations.is_empty()).then(|| view! {
                        <section class="card">
                            <h2>"Invitations"</h2>
                            <table class="table" data-testid="invitations-table">
                                <thead><tr><th>"Email"</th><th>"Role"</th><th>"Expires"</th><th></th></tr></thead>
                                <tbody>
                                    {team.invitations.into_iter().map(|invitation| view! {
                                        <InvitationRow invitation owner revoke/>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    })}
                }
            }
        </Loaded>
    }
}

/// A role `<select>` with every role, `selected` chosen.
fn role_options(selected: MemberRole) -> impl IntoView {
    MemberRole::ALL
        .into_iter()
        .map(|role| {
            view! {
                <option value=role.as_str() selected={role == selected}>{role.label()}</option>
            }
        })
        .collect_view()
}

#[component]
fn InviteForm(invite: ServerAction<InviteMember>, mail: bool) -> impl IntoView {
    let error = action_error(invite);
    let issued = Signal::derive(move || invite.value().get().and_then(Result::ok));
    let url = Signal::derive(move || issued.get().map(|i| i.url).unwrap_or_default());
    view! {
        <section class="card">
            <h2>"Invite someone"</h2>
            <ActionForm action=invite attr:data-testid="invite-form">
                <FormError error/>
                <TextField name="email" label="Email" kind="email" autocomplete="off" required=true error/>
                <div class="field">
                    <label for="invite-role">"Role"</label>
                    <select id="invite-role" name="role" data-testid="invite-role">
                        {role_options(MemberRole::Developer)}
                    </select>
                </div>
                <button type="submit" class="primary" data-testid="invite">"Invite"</button>
            </ActionForm>
            <Show when=move || issued.get().is_some()>
                <div class="alert ok" data-testid="invitation-link">
                    <p>
                        <strong>"Copy this link now: it is shown only once."</strong>
                        {if mail { " It was also mailed to them." } else { " This Herald cannot send e-mail, so send it yourself." }}
                        " It works once, for 7 days."
                    </p>
                    <div class="secret-row">
                        <code class="secret" data-testid="invitation-url">{move || url.get()}</code>
                        <CopyButton text=url testid="copy-invitation"/>
                    </div>
                </div>
            </Show>
        </section>
    }
}

#[component]
fn MemberRow(
    member: Member,
    is_you: bool,
    owner: bool,
    set_role: ServerAction<SetMemberRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let keys = confirm_keys(confirming);
    let id = member.id.to_string();
    let role_id = id.clone();
    let remove_id = id.clone();
    let select_id = format!("role-{id}");
    view! {
        <tr data-testid="member-row">
            <td>{member.email.clone()} {is_you.then(|| view! { <span class="badge">"you"</span> })}</td>
            <td>
                {if owner {
                    view! {
                        <label class="visually-hidden" for=select_id.clone()>
                            {format!("Role of {}", member.email)}
                        </label>
                        <select id=select_id data-testid="member-role"
                            on:change=move |ev| {
                                set_role.dispatch(SetMemberRole {
                                    id: role_id.clone(),
                                    role: event_target_value(&ev),
                                });
                            }>
                            {role_options(member.role)}
                        </select>
                    }
                        .into_any()
                } else {
                    view! { <span data-testid="member-role-label">{member.role.label()}</span> }.into_any()
                }}
            </td>
            <td class="small"><When at=member.created_at/></td>
            <td>
                {owner.then(move || view! {
                    <Show
                        when=move || confirming.get()
                        fallback=move || view! {
                            <button type="button" class="danger ghost" data-testid="remove-member"
                                node_ref=keys.opener
                                on:click=move |_| confirming.set(true)>"Remove"</button>
                        }
                    >
                        {
                            let id = remove_id.clone();
                            view! {
                                <span class="confirm-inline">
                                    "Logs them out at once. "
                                    <button type="button" class="danger" data-testid="confirm-remove" node_ref=keys.first
                                        on:click=move |_| { remove.dispatch(RemoveMember { id: id.clone() }); }>
                                        "Remove member"
                                    </button>
                                    <button type="button" class="ghost" on:click=move |_| confirming.set(false)>"Cancel"</button>
                                </span>
                            }
                        }
                    </Show>
                })}
            </td>
        </tr>
    }
}

#[component]
fn InvitationRow(
    invitation: Invitation,
    owner: bool,
    revoke: ServerAction<RevokeInvitation>,
) -> impl IntoView {
    let id = invitation.id.to_string();
    view! {
        <tr data-testid="invitation-row">
            <td>{invitation.email.clone()}</td>
            <td>{invitation.role.label()}</td>
            <td class="small"><When at=invitation.expires_at/></td>
            <td>
                {owner.then(move || view! {
                    <button type="button" class="ghost" data-testid="revoke-invitation"
                        on:click=move |_| { revoke.dispatch(RevokeInvitation { id: id.clone() }); }>
                        "Withdraw"
                    </button>
                })}
            </td>
        </tr>
    }
}

/// `/invitations/:token`
#[component]
pub fn AcceptInvitationPage() -> impl IntoView {
    let token = use_params_map().with_untracked(|p| p.get("token").unwrap_or_default());
    let offer = {
        let token = token.clone();
        Resource::new(move || token.clone(), show_invitation)
    };
    let accept = ServerAction::<AcceptInvitation>::new();
    let error = action_error(accept);
    view! {
        <Title text="Join a team"/>
        <AuthFrame>
            <Loaded data=move || offer let:offer>
                {
                    let (team, invitation) = offer;
                    let token = token.clone();
                    view! {
                        <h1>{format!("Join {team} on Herald")}</h1>
                        <p class="muted" data-testid="invitation-offer">
                            {format!(
                                "As {} ({}): {}",
                                invitation.role.label().to_lowercase(),
                                invitation.email,
                                invitation.role.summary()
                            )}
                        </p>
                        <ActionForm action=accept attr:data-testid="accept-invitation-form">
                            <FormError error/>
                            <input type="hidden" name="token" value=token/>
                            <PasswordField
                                name="password"
                                label="Choose a password"
                                autocomplete="new-password"
                                hint="At least 10 characters."
                                error
                            />
                            <button type="submit" class="primary wide" disabled=move || accept.pending().get()>
                                {move || if accept.pending().get() { "Joining…" } else { "Join and log in" }}
                            </button>
                        </ActionForm>
                    }
                }
            </Loaded>
            <p class="switch">"Already a member? " <A href="/login">"Log in"</A></p>
        </AuthFrame>
    }
}
