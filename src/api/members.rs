//! A merchant's team: members with roles, and invitations. Changing the
//! team is for owners (a session's member) and API keys; a viewer or a
//! developer is refused with 403 by the service.

use super::auth::MerchantAuth;
use super::id_path::IdPath;
use super::openapi::ErrorBody;
use crate::http::error::{ApiError, ApiJson};
use crate::service::pagination::Page;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use herald_app::model::id::{InvitationId, MemberId};
use herald_app::model::member::{Invitation, IssuedInvitation, Member, MemberRole};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The team routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_members))
        .routes(routes!(update_member, remove_member))
        .routes(routes!(list_invitations, create_invitation))
        .routes(routes!(revoke_invitation))
}

#[utoipa::path(get, path = "/members", tag = "members", security(("api_key" = [])),
    responses((status = 200, description = "The merchant's members, oldest first", body = Page<Member>), (status = 401, description = "Missing or wrong credentials", body = ErrorBody)))]
async fn list_members(
    auth: MerchantAuth,
    State(state): State<AppState>,
) -> Result<ApiJson<Page<Member>>, ApiError> {
    Ok(ApiJson(Page::whole(
        state.members.list(&auth.merchant_id).await?,
    )))
}

/// `PATCH /api/v1/members/{id}` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMember {
    role: MemberRole,
}

#[utoipa::path(patch, path = "/members/{id}", tag = "members", security(("api_key" = [])), request_body = UpdateMember, params(("id" = String, Path, description = "The member id")),
    responses((status = 200, description = "The member with the new role", body = Member), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Only owners manage the team", body = ErrorBody), (status = 404, description = "No such member of this merchant", body = ErrorBody), (status = 409, description = "The last owner cannot be demoted", body = ErrorBody)))]
async fn update_member(
    auth: MerchantAuth,
    State(state): State<AppState>,
    IdPath(id): IdPath<MemberId>,
    ApiJson(body): ApiJson<UpdateMember>,
) -> Result<ApiJson<Member>, ApiError> {
    Ok(ApiJson(
        state
            .members
            .set_role(&auth.merchant_id, &id, body.role)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/members/{id}", tag = "members", security(("api_key" = [])), params(("id" = String, Path, description = "The member id")),
    responses((status = 204, description = "Removed: their sessions end at once"), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Only owners manage the team", body = ErrorBody), (status = 404, description = "No such member of this merchant", body = ErrorBody), (status = 409, description = "The last owner cannot be removed", body = ErrorBody)))]
async fn remove_member(
    auth: MerchantAuth,
    State(state): State<AppState>,
    IdPath(id): IdPath<MemberId>,
) -> Result<StatusCode, ApiError> {
    state.members.remove(&auth.merchant_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/invitations", tag = "members", security(("api_key" = [])),
    responses((status = 200, description = "Invitations neither accepted nor expired, newest first", body = Page<Invitation>), (status = 401, description = "Missing or wrong credentials", body = ErrorBody)))]
async fn list_invitations(
    auth: MerchantAuth,
    State(state): State<AppState>,
) -> Result<ApiJson<Page<Invitation>>, ApiError> {
    Ok(ApiJson(Page::whole(
        state.members.invitations(&auth.merchant_id).await?,
    )))
}

/// `POST /api/v1/invitations` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitation {
    email: String,
    role: MemberRole,
}

#[utoipa::path(post, path = "/invitations", tag = "members", security(("api_key" = [])), request_body = CreateInvitation,
    responses((status = 201, description = "The invitation with its link, shown only in this answer (and mailed when SMTP is configured)", body = IssuedInvitation), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Only owners manage the team", body = ErrorBody), (status = 409, description = "The email is already a member", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn create_invitation(
    auth: MerchantAuth,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateInvitation>,
) -> Result<(StatusCode, ApiJson<IssuedInvitation>), ApiError> {
    let issued = state
        .members
        .invite(&auth.merchant_id, &body.email, body.role)
        .await?;
    Ok((StatusCode::CREATED, ApiJson(issued)))
}

#[utoipa::path(delete, path = "/invitations/{id}", tag = "members", security(("api_key" = [])), params(("id" = String, Path, description = "The invitation id")),
    responses((status = 204, description = "Withdrawn: its link opens nothing"), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Only owners manage the team", body = ErrorBody), (status = 404, description = "No such open invitation of this merchant", body = ErrorBody)))]
async fn revoke_invitation(
    auth: MerchantAuth,
    State(state): State<AppState>,
    IdPath(id): IdPath<InvitationId>,
) -> Result<StatusCode, ApiError> {
    state
        .members
        .revoke_invitation(&auth.merchant_id, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
