//! Re-sealing every stored signing secret (and payload encryption key) with the current
//! `HERALD_SECRET_KEY`: the last step of turning encryption at rest on,
//! rotating its key, or turning it off.

use super::ServiceError;
use crate::crypto::secret_box::{endpoint_row, merchant_row, SecretBox};
use crate::store::{SecretColumn, Store};

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
        if secrets.is_current(&stored.stored) {
            report.unchanged += 1;
            continue;
        }
        let row = match stored.column {
            SecretColumn::EndpointCurrent
            | SecretColumn::EndpointPrevious
            | SecretColumn::EndpointEncryptionKey => endpoint_row(&stored.row_id),
            SecretColumn::MerchantCallback => merchant_row(&stored.row_id),
        };
        let replacement = secrets.reseal(&stored.stored, &row).map_err(|e| {
            ServiceError::Internal(format!("{} ({:?}): {e}", stored.row_id, stored.column))
        })?;
        if store.replace_stored_secret(&stored, &replacement).await? {
            report.resealed += 1;
        } else {
            report.raced += 1;
        }
    }
    Ok(report)
}
