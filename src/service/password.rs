//! Password hashing with argon2id, off the async runtime (it is deliberately slow).

use super::ServiceError;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Passwords hashed or checked at once in this process. Each argon2 run
/// takes ~19 MiB and a core for tens of milliseconds: unbounded, a burst of
/// log-ins grows the process by gigabytes and starves everything else.
pub const HASHING_AT_ONCE: usize = 4;
/// How long a password check waits for a turn before the caller is told
/// to come back (a burst beyond what the cores can hash).
const WAIT_FOR_TURN: Duration = Duration::from_secs(10);

/// The turns, process-wide: argon2's memory and CPU are the process's.
static HASHING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(HASHING_AT_ONCE));

/// Waits for a turn to run argon2, or refuses when the wait is too long.
async fn turn() -> Result<SemaphorePermit<'static>, ServiceError> {
    match tokio::time::timeout(WAIT_FOR_TURN, HASHING.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(closed)) => Err(ServiceError::Internal(format!("hashing turns: {closed}"))),
        Err(_) => Err(ServiceError::RateLimited {
            message: "Herald is checking too many passwords at once. Try again in a few seconds."
                .into(),
            retry_after: Duration::from_secs(5),
        }),
    }
}

/// A valid hash of a password nobody knows: verifying against it when the
/// email does not exist costs the same time as a real check, so response
/// times do not reveal which emails have accounts.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2hnuSE3GqiQMdoGsq3UZnWlTgD4h7Y8Lq7bT5S2ZC0s";

/// Hashes a new password (argon2id, default parameters, random salt).
pub async fn hash(password: String) -> Result<String, ServiceError> {
    let _turn = turn().await?;
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
    let _turn = turn().await?;
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_than_the_bound_hash_at_once() {
        let hash = hash("correct horse battery".into()).await.unwrap();
        let checks: Vec<_> = (0..3 * HASHING_AT_ONCE)
            .map(|_| tokio::spawn(verify("wrong".into(), Some(hash.clone()))))
            .collect();
        // While they run, every turn is taken and the rest wait. (Other
        // tests in this process share the turns, so only "all taken" is
        // checked, not how many are free afterwards.)
        let mut fewest_free = HASHING_AT_ONCE;
        while !checks.iter().all(|c| c.is_finished()) {
            fewest_free = fewest_free.min(HASHING.available_permits());
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(fewest_free, 0, "the checks used every turn");
        for check in checks {
            assert!(!check.await.unwrap().unwrap());
        }
    }
}
