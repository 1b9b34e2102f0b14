//! The audit log pages' reads.

use crate::model::audit::AuditPage;
use crate::model::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::session;

/// A page of the logged-in merchant's audit log, newest first.
#[server(prefix = "/_fn", endpoint = "audit_log")]
pub async fn audit_log(cursor: Option<String>) -> Result<AuditPage, AppError> {
    session::as_merchant(|backend, merchant| async move {
        backend
            .audit_log(&merchant.own_scope(), None, cursor.as_deref())
            .await
    })
    .await
}

/// A page of every merchant's audit log (or `merchant_id`'s), for operators.
#[server(prefix = "/_fn", endpoint = "admin/audit_log")]
pub async fn admin_audit_log(
    merchant_id: Option<String>,
    cursor: Option<String>,
) -> Result<AuditPage, AppError> {
    session::as_admin(|backend| async move {
        backend
            .audit_log(
                &crate::model::scope::Scope::Operator,
                merchant_id.as_deref(),
                cursor.as_deref(),
            )
            .await
    })
    .await
}
