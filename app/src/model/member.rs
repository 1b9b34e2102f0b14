//! A merchant's team: the people who log in to its dashboard, each with a
//! role, and the invitations not yet accepted.

use super::id::{InvitationId, MemberId};
use super::merchant::Merchant;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    /// Everything, and the team: invites, roles, removals.
    Owner,
    /// Endpoints, secrets, API keys, retries: everything but the team.
    Developer,
    /// Reads only: never reveals a secret or key, changes nothing.
    Viewer,
}

/// What an operation asks of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Seeing a signing secret or key in full.
    Reveal,
    /// Changing anything: endpoints, secrets, keys, retries, settings.
    Change,
    /// Inviting, removing and changing the roles of members.
    ManageMembers,
}

impl MemberRole {
    /// Every role, most rights first.
    pub const ALL: [MemberRole; 3] = [MemberRole::Owner, MemberRole::Developer, MemberRole::Viewer];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Owner => "owner",
            MemberRole::Developer => "developer",
            MemberRole::Viewer => "viewer",
        }
    }

    /// The role named `s`.
    pub fn parse(s: &str) -> Option<MemberRole> {
        MemberRole::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// How the dashboard names it.
    pub fn label(self) -> &'static str {
        match self {
            MemberRole::Owner => "Owner",
            MemberRole::Developer => "Developer",
            MemberRole::Viewer => "Viewer",
        }
    }

    /// What it may do, as the members page says it.
    pub fn summary(self) -> &'static str {
        match self {
            MemberRole::Owner => "Everything, and the team.",
            MemberRole::Developer => "Endpoints, secrets, API keys and retries.",
            MemberRole::Viewer => "Reads only: no secrets, no changes.",
        }
    }

    /// Whether this role may do what `permission` names.
    pub fn allows(self, permission: Permission) -> bool {
        match self {
            MemberRole::Owner => true,
            MemberRole::Developer => permission != Permission::ManageMembers,
            MemberRole::Viewer => false,
        }
    }

    /// Whether it may change things (the dashboard shows the buttons).
    pub fn can_change(self) -> bool {
        self.allows(Permission::Change)
    }
}

/// A member of a merchant's team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Member {
    pub id: MemberId,
    pub email: String,
    pub role: MemberRole,
    pub created_at: DateTime<Utc>,
}

/// An invitation not yet accepted (the token itself is never shown again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Invitation {
    pub id: InvitationId,
    pub email: String,
    pub role: MemberRole,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An invitation just made: the only time its link exists in full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IssuedInvitation {
    #[serde(flatten)]
    pub invitation: Invitation,
    /// The link that accepts it: shown once, to copy.
    pub url: String,
    /// Whether it was also mailed (SMTP is configured).
    pub mailed: bool,
}

/// The team page: members, open invitations, and who is looking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    pub members: Vec<Member>,
    pub invitations: Vec<Invitation>,
    /// The member looking at the page.
    pub you: MemberId,
    /// Whether invitations are mailed too.
    pub mail_configured: bool,
}

/// Who is logged in: the merchant, and which of its members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub merchant: Merchant,
    pub member: Member,
}

impl Account {
    /// Whether the dashboard shows this member the buttons that change things.
    pub fn can_change(&self) -> bool {
        self.member.role.can_change()
    }

    /// Whether the dashboard shows this member the team controls.
    pub fn can_manage_members(&self) -> bool {
        self.member.role.allows(Permission::ManageMembers)
    }
}
