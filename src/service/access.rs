//! What a member's role lets them do, checked by each operation that
//! reveals or changes something, so the REST API (with a session) and the
//! dashboard's server functions refuse alike, with one 403.
//!
//! The role is the request's (`audit::RequestContext`, set by the edge from
//! the session's member). A request authenticated by a credential (a
//! merchant API key, the platform token) has the merchant's or the
//! platform's full rights, as does work outside any request (the engine,
//! the CLI): roles are for people in the dashboard.

use super::audit::acting_role;
use super::ServiceError;
use herald_app::model::member::{MemberRole, Permission};

/// Refuses with `Forbidden` unless this request's role allows `permission`.
pub fn require(permission: Permission) -> Result<(), ServiceError> {
    match acting_role() {
        Some(role) if !role.allows(permission) => {
            Err(ServiceError::Forbidden(refusal(role, permission)))
        }
        _ => Ok(()),
    }
}

/// What a refusal says.
fn refusal(role: MemberRole, permission: Permission) -> String {
    let what = match permission {
        Permission::Reveal => "see secrets or keys",
        Permission::Change => "change anything",
        Permission::ManageMembers => "manage the team",
    };
    format!(
        "A {} cannot {what}: ask an owner of this account.",
        role.label().to_lowercase()
    )
}
