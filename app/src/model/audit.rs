//! The audit log: who did what to a merchant's account, when, and from
//! which address. Entries are appended, never changed, and kept when
//! delivery history is purged.

use super::id::{AuditEntryId, MerchantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A person logged in to the dashboard (named by email).
    Member,
    /// A merchant API key (named by its id).
    ApiKey,
    /// The platform: its token, or an operator's dashboard session.
    Operator,
    /// Herald itself (the delivery engine disabling a failing endpoint, say).
    Herald,
}

impl ActorKind {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Member => "member",
            ActorKind::ApiKey => "api_key",
            ActorKind::Operator => "operator",
            ActorKind::Herald => "herald",
        }
    }

    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<ActorKind> {
        [
            ActorKind::Member,
            ActorKind::ApiKey,
            ActorKind::Operator,
            ActorKind::Herald,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == s)
    }
}

/// What was done: a closed list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum AuditAction {
    #[serde(rename = "login.succeeded")]
    LogIn,
    #[serde(rename = "login.failed")]
    LogInFailed,
    #[serde(rename = "login_link.used")]
    LoginLinkUsed,
    #[serde(rename = "secret.revealed")]
    SecretRevealed,
    #[serde(rename = "secret.rotated")]
    SecretRotated,
    #[serde(rename = "endpoint.created")]
    EndpointCreated,
    /// `detail` says which settings changed (`url`, `event_types`, `settings`).
    #[serde(rename = "endpoint.updated")]
    EndpointUpdated,
    #[serde(rename = "endpoint.enabled")]
    EndpointEnabled,
    #[serde(rename = "endpoint.disabled")]
    EndpointDisabled,
    #[serde(rename = "endpoint.deleted")]
    EndpointDeleted,
    #[serde(rename = "api_key.created")]
    ApiKeyCreated,
    #[serde(rename = "api_key.revoked")]
    ApiKeyRevoked,
    /// By the account itself, with its current password.
    #[serde(rename = "password.changed")]
    PasswordChanged,
    /// A reset link was mailed to the account's address.
    #[serde(rename = "password.reset_requested")]
    PasswordResetRequested,
    /// With a mailed reset link.
    #[serde(rename = "password.reset")]
    PasswordReset,
    /// `object_id` is the invited email; `detail` the role.
    #[serde(rename = "member.invited")]
    MemberInvited,
    /// By the new member, accepting an invitation; `detail` the role.
    #[serde(rename = "member.joined")]
    MemberJoined,
    /// `object_id` is the member's email; `detail` the old and new role.
    #[serde(rename = "member.role_changed")]
    MemberRoleChanged,
    /// `object_id` is the member's email.
    #[serde(rename = "member.removed")]
    MemberRemoved,
    #[serde(rename = "invitation.revoked")]
    InvitationRevoked,
    /// `detail` says what changed (the callback deliveries' profile).
    #[serde(rename = "callback_settings.updated")]
    CallbackSettingsUpdated,
}

impl AuditAction {
    /// Every action, in the order the docs list them.
    pub const ALL: [AuditAction; 21] = [
        AuditAction::LogIn,
        AuditAction::LogInFailed,
        AuditAction::LoginLinkUsed,
        AuditAction::SecretRevealed,
        AuditAction::SecretRotated,
        AuditAction::EndpointCreated,
        AuditAction::EndpointUpdated,
        AuditAction::EndpointEnabled,
        AuditAction::EndpointDisabled,
        AuditAction::EndpointDeleted,
        AuditAction::ApiKeyCreated,
        AuditAction::ApiKeyRevoked,
        AuditAction::PasswordChanged,
        AuditAction::PasswordResetRequested,
        AuditAction::PasswordReset,
        AuditAction::MemberInvited,
        AuditAction::MemberJoined,
        AuditAction::MemberRoleChanged,
        AuditAction::MemberRemoved,
        AuditAction::InvitationRevoked,
        AuditAction::CallbackSettingsUpdated,
    ];

    /// The stored and wire name (`endpoint.updated`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::LogIn => "login.succeeded",
            AuditAction::LogInFailed => "login.failed",
            AuditAction::LoginLinkUsed => "login_link.used",
            AuditAction::SecretRevealed => "secret.revealed",
            AuditAction::SecretRotated => "secret.rotated",
            AuditAction::EndpointCreated => "endpoint.created",
            AuditAction::EndpointUpdated => "endpoint.updated",
            AuditAction::EndpointEnabled => "endpoint.enabled",
            AuditAction::EndpointDisabled => "endpoint.disabled",
            AuditAction::EndpointDeleted => "endpoint.deleted",
            AuditAction::ApiKeyCreated => "api_key.created",
            AuditAction::ApiKeyRevoked => "api_key.revoked",
            AuditAction::PasswordChanged => "password.changed",
            AuditAction::PasswordResetRequested => "password.reset_requested",
            AuditAction::PasswordReset => "password.reset",
            AuditAction::MemberInvited => "member.invited",
            AuditAction::MemberJoined => "member.joined",
            AuditAction::MemberRoleChanged => "member.role_changed",
            AuditAction::MemberRemoved => "member.removed",
            AuditAction::InvitationRevoked => "invitation.revoked",
            AuditAction::CallbackSettingsUpdated => "callback_settings.updated",
        }
    }

    /// The action named `s`.
    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// How the dashboard says it.
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::LogIn => "Logged in",
            AuditAction::LogInFailed => "Failed log-in",
            AuditAction::LoginLinkUsed => "Logged in with a login link",
            AuditAction::SecretRevealed => "Revealed a secret",
            AuditAction::SecretRotated => "Rotated a secret",
            AuditAction::EndpointCreated => "Created an endpoint",
            AuditAction::EndpointUpdated => "Changed an endpoint",
            AuditAction::EndpointEnabled => "Enabled an endpoint",
            AuditAction::EndpointDisabled => "Disabled an endpoint",
            AuditAction::EndpointDeleted => "Deleted an endpoint",
            AuditAction::ApiKeyCreated => "Created an API key",
            AuditAction::ApiKeyRevoked => "Revoked an API key",
            AuditAction::PasswordChanged => "Changed the password",
            AuditAction::PasswordResetRequested => "Asked for a password reset link",
            AuditAction::PasswordReset => "Reset the password with a link",
            AuditAction::MemberInvited => "Invited a member",
            AuditAction::MemberJoined => "Joined the team",
            AuditAction::MemberRoleChanged => "Changed a member's role",
            AuditAction::MemberRemoved => "Removed a member",
            AuditAction::InvitationRevoked => "Withdrew an invitation",
            AuditAction::CallbackSettingsUpdated => "Changed how callbacks are sent",
        }
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: AuditEntryId,
    pub at: DateTime<Utc>,
    /// The account acted on; `null` for a failed log-in with an unknown email.
    pub merchant_id: Option<MerchantId>,
    pub actor_kind: ActorKind,
    /// The member's email or the API key's id; `null` for the platform
    /// token and Herald itself.
    pub actor: Option<String>,
    pub action: AuditAction,
    /// What was acted on (`ep_…`, `key_…`, `callback_secret`).
    pub object_id: Option<String>,
    /// More about it: which settings an update changed, why it was disabled.
    pub detail: Option<String>,
    /// The client's address, when the action came over HTTP.
    pub client_address: Option<String>,
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub data: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}
