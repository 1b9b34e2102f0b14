//! Every signing secret (and custom header value) in the database, for
//! re-sealing them under a new `HERALD_SECRET_KEY` (`herald admin reseal-secrets`).

use super::{on_pool, Store, StoreResult};

/// Where a stored secret lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretColumn {
    /// `endpoints.secret`.
    EndpointCurrent,
    /// `endpoints.previous_secret` (during a rotation's grace period).
    EndpointPrevious,
    /// `endpoints.encryption_key` (payload encryption).
    EndpointEncryptionKey,
    /// `merchants.callback_secret` (signs one-off callbacks).
    MerchantCallback,
    /// `merchants.callback_previous_secret` (during a rotation's grace period).
    MerchantCallbackPrevious,
    /// `endpoints.headers`: a JSON object whose values are sealed one by one.
    EndpointHeaders,
}

impl SecretColumn {
    /// The UPDATE that swaps one stored value for another, only if it is
    /// still the value that was read (a rotation in between wins).
    fn swap_sql(self) -> &'static str {
        match self {
            SecretColumn::EndpointCurrent => {
                "UPDATE endpoints SET secret = $3 WHERE id = $1 AND secret = $2"
            }
            SecretColumn::EndpointPrevious => {
                "UPDATE endpoints SET previous_secret = $3 WHERE id = $1 AND previous_secret = $2"
            }
            SecretColumn::EndpointEncryptionKey => {
                "UPDATE endpoints SET encryption_key = $3 WHERE id = $1 AND encryption_key = $2"
            }
            SecretColumn::MerchantCallback => {
                "UPDATE merchants SET callback_secret = $3 WHERE id = $1 AND callback_secret = $2"
            }
            SecretColumn::MerchantCallbackPrevious => {
                "UPDATE merchants SET callback_previous_secret = $3 \
                 WHERE id = $1 AND callback_previous_secret = $2"
            }
            SecretColumn::EndpointHeaders => {
                "UPDATE endpoints SET headers = $3 WHERE id = $1 AND headers = $2"
            }
        }
    }
}

/// One stored secret: its row's id, its column and the value as stored
/// (plain or sealed).
#[derive(Debug, Clone)]
pub struct StoredSecret {
    pub row_id: String,
    pub column: SecretColumn,
    pub stored: String,
}

impl Store {
    /// Every stored signing secret, and every endpoint's custom headers
    /// that has any.
    pub async fn stored_secrets(&self) -> StoreResult<Vec<StoredSecret>> {
        type EndpointSecretsRow = (String, String, Option<String>, Option<String>, String);
        let endpoints: Vec<EndpointSecretsRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, secret, previous_secret, encryption_key, headers FROM endpoints ORDER BY id",
        )
        .fetch_all(pool)
        .await)?;
        let merchants: Vec<(String, Option<String>, Option<String>)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, callback_secret, callback_previous_secret FROM merchants \
             WHERE callback_secret IS NOT NULL OR callback_previous_secret IS NOT NULL ORDER BY id",
        )
        .fetch_all(pool)
        .await)?;
        let mut secrets = Vec::with_capacity(endpoints.len() + merchants.len());
        for (id, current, previous, encryption_key, headers) in endpoints {
            if headers.trim() != "{}" {
                secrets.push(StoredSecret {
                    row_id: id.clone(),
                    column: SecretColumn::EndpointHeaders,
                    stored: headers,
                });
            }
            if let Some(encryption_key) = encryption_key {
                secrets.push(StoredSecret {
                    row_id: id.clone(),
                    column: SecretColumn::EndpointEncryptionKey,
                    stored: encryption_key,
                });
            }
            if let Some(previous) = previous {
                secrets.push(StoredSecret {
                    row_id: id.clone(),
                    column: SecretColumn::EndpointPrevious,
                    stored: previous,
                });
            }
            secrets.push(StoredSecret {
                row_id: id,
                column: SecretColumn::EndpointCurrent,
                stored: current,
            });
        }
        for (id, current, previous) in merchants {
            let columns = [
                (SecretColumn::MerchantCallbackPrevious, previous),
                (SecretColumn::MerchantCallback, current),
            ];
            secrets.extend(columns.into_iter().filter_map(|(column, stored)| {
                Some(StoredSecret {
                    row_id: id.clone(),
                    column,
                    stored: stored?,
                })
            }));
        }
        Ok(secrets)
    }

    /// Replaces `secret`'s stored value with `replacement`; false when the
    /// value changed since it was read (left for the next run).
    pub async fn replace_stored_secret(
        &self,
        secret: &StoredSecret,
        replacement: &str,
    ) -> StoreResult<bool> {
        let changed = on_pool!(self, pool => sqlx::query(secret.column.swap_sql())
            .bind(&secret.row_id)
            .bind(&secret.stored)
            .bind(replacement)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }
}
