//! Re-sealing every stored signing secret (and payload encryption key, and
//! custom header value) with the current
//! `HERALD_SECRET_KEY`: the last step of turning encryption at rest on,
//! rotating its key, or turning it off.

use super::ServiceError;
use crate::crypto::secret_box::{endpoint_row, merchant_row, SecretBox};
use crate::store::{SecretColumn, Store};
use std::collections::BTreeMap;

/// What a re-seal run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ResealReport {
    /// Secrets rewritten under the current key (or to plain text).
    pub resealed: usize,
    /// Secrets already as the current key would store them.
    pub unchanged: usize,
    /// Secrets that changed while the run read them (a rotation): run again.
    pub raced: usize,
}

/// Rewrites every stored secret that is not sealed with `secrets`' current
/// key. Fails, changing nothing more, on a value no configured key opens.
pub async fn reseal_secrets(
    store: &Store,
    secrets: &SecretBox,
) -> Result<ResealReport, ServiceError> {
    let mut report = ResealReport::default();
    for stored in store.stored_secrets().await? {
        let failed = |e: &dyn std::fmt::Display| {
            ServiceError::Internal(format!("{} ({:?}): {e}", stored.row_id, stored.column))
        };
        let replacement = match stored.column {
            SecretColumn::EndpointHeaders => {
                let headers: BTreeMap<String, String> =
                    serde_json::from_str(&stored.stored).map_err(|e| failed(&e))?;
                if secrets.headers_are_current(&headers) {
                    None
                } else {
                    let resealed = secrets
                        .reseal_headers(&stored.row_id, &headers)
                        .map_err(|e| failed(&e))?;
                    Some(serde_json::to_string(&resealed).map_err(|e| failed(&e))?)
                }
            }
            _ if secrets.is_current(&stored.stored) => None,
            SecretColumn::EndpointCurrent
            | SecretColumn::EndpointPrevious
            | SecretColumn::EndpointEncryptionKey => Some(
                secrets
                    .reseal(&stored.stored, &endpoint_row(&stored.row_id))
                    .map_err(|e| failed(&e))?,
            ),
            SecretColumn::MerchantCallback | SecretColumn::MerchantCallbackPrevious => Some(
                secrets
                    .reseal(&stored.stored, &merchant_row(&stored.row_id))
                    .map_err(|e| failed(&e))?,
            ),
        };
        let Some(replacement) = replacement else {
            report.unchanged += 1;
            continue;
        };
        if store.replace_stored_secret(&stored, &replacement).await? {
            report.resealed += 1;
        } else {
            report.raced += 1;
        }
    }
    Ok(report)
}
