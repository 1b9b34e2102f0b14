//! The platform token: the bearer credential for ingest and the admin API.
//! Only its SHA-256 is stored; when none is configured, one is generated at
//! first start and printed once.

use super::hash_api_key;
use super::ServiceError;
use crate::config::SecretString;
use crate::store::Store;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use subtle::ConstantTimeEq;

const SETTING: &str = "platform_token_sha256";

/// The hash the platform's bearer token must match.
#[derive(Clone)]
pub struct PlatformToken {
    sha256_hex: String,
}

impl std::fmt::Debug for PlatformToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlatformToken([redacted])")
    }
}

impl PlatformToken {
    /// Whether `presented` is the platform token (constant-time).
    pub fn matches(&self, presented: &str) -> bool {
        hash_api_key(presented)
            .as_bytes()
            .ct_eq(self.sha256_hex.as_bytes())
            .into()
    }
}

/// Resolves the platform token: the configured one if set (its hash is
/// stored), else the stored one; else generates one. Returns the token and,
/// only when it was generated now, its text to print once.
pub async fn ensure_platform_token(
    store: &Store,
    configured: Option<&SecretString>,
) -> Result<(PlatformToken, Option<SecretString>), ServiceError> {
    if let Some(token) = configured {
        let sha256_hex = hash_api_key(token.expose());
        store.put_setting(SETTING, &sha256_hex).await?;
        return Ok((PlatformToken { sha256_hex }, None));
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let generated = format!("hpt_{}", URL_SAFE_NO_PAD.encode(bytes));
    let sha256_hex = hash_api_key(&generated);
    // Insert-if-absent: when two processes start together, one token wins
    // and only its starter prints it.
    if store.insert_setting_if_absent(SETTING, &sha256_hex).await? {
        return Ok((
            PlatformToken { sha256_hex },
            Some(SecretString::new(generated)),
        ));
    }
    let stored = store
        .setting(SETTING)
        .await?
        .ok_or_else(|| ServiceError::Internal("platform token setting vanished".into()))?;
    Ok((PlatformToken { sha256_hex: stored }, None))
}
