//! Password hashing with argon2id, off the async runtime (it is deliberately slow).

use super::ServiceError;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

/// A valid hash of a password nobody knows: verifying against it when the
/// email does not exist costs the same time as a real check, so response
/// times do not reveal which emails have accounts.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2hnuSE3GqiQMdoGsq3UZnWlTgD4h7Y8Lq7bT5S2ZC0s";

/// Hashes a new password (argon2id, default parameters, random salt).
pub async fn hash(password: String) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| ServiceError::Internal(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("password task: {e}")))?
}

/// Checks a password against a stored hash; with no hash, burns the same
/// time against a dummy and answers false.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, ServiceError> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| ServiceError::Internal(format!("stored password hash: {e}")))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("password task: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_the_dummy_never_matches() {
        let hash = hash("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), Some(hash.clone()))
            .await
            .unwrap());
        assert!(!verify("wrong".into(), Some(hash)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
    }
}
