//! The team: members, their roles, invitations.

use crate::model::error::AppError;
use crate::model::member::{Invitation, IssuedInvitation, Member, Team};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::session;

/// A role as a form sends it.
#[cfg(feature = "ssr")]
fn role(text: &str) -> Result<crate::model::member::MemberRole, AppError> {
    crate::model::member::MemberRole::parse(text)
        .ok_or_else(|| AppError::field("role", "Choose owner, developer or viewer."))
}

/// The members and open invitations of the logged-in merchant.
#[server(prefix = "/_fn", endpoint = "members/team")]
pub async fn load_team() -> Result<Team, AppError> {
    session::respond(
        async move {
            let account = session::current_account()
                .await?
                .ok_or_else(AppError::unauthenticated)?;
            session::backend()?
                .team(&account.merchant.id, &account.member.id)
                .await
        }
        .await,
    )
}

/// Invites someone by e-mail (owners only): the link, shown once.
#[server(prefix = "/_fn", endpoint = "members/invite")]
pub async fn invite_member(email: String, role: String) -> Result<IssuedInvitation, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .invite_member(&merchant.id, &email, self::role(&role)?)
            .await
    })
    .await
}

/// Withdraws an open invitation (owners only).
#[server(prefix = "/_fn", endpoint = "members/revoke_invitation")]
pub async fn revoke_invitation(id: String) -> Result<(), AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .revoke_invitation(&merchant.id, &session::id(&id)?)
            .await
    })
    .await
}

/// Gives a member another role (owners only).
#[server(prefix = "/_fn", endpoint = "members/set_role")]
pub async fn set_member_role(id: String, role: String) -> Result<Member, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .set_member_role(&merchant.id, &session::id(&id)?, self::role(&role)?)
            .await
    })
    .await
}

/// Removes a member (owners only); their sessions end at once.
#[server(prefix = "/_fn", endpoint = "members/remove")]
pub async fn remove_member(id: String) -> Result<(), AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .remove_member(&merchant.id, &session::id(&id)?)
            .await
    })
    .await
}

/// What an invitation link offers: the team's name and the invitation.
#[server(prefix = "/_fn", endpoint = "invitations/show")]
pub async fn show_invitation(token: String) -> Result<(String, Invitation), AppError> {
    session::respond(async move { session::backend()?.invitation(&token).await }.await)
}

/// Accepts an invitation with a new password and logs in.
#[server(prefix = "/_fn", endpoint = "invitations/accept")]
pub async fn accept_invitation(token: String, password: String) -> Result<(), AppError> {
    session::respond(
        async move {
            let account = session::backend()?
                .accept_invitation(&token, &password)
                .await?;
            session::start(&account).await?;
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}
