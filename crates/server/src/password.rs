//! Password hashing with argon2id.
//!
//! The store never sees a password, only a PHC string such as
//! `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, which names the
//! algorithm, its cost parameters and a random salt. A stolen database then
//! yields no passwords, and each guess costs an attacker ~19 MiB of memory
//! and two passes over it (the OWASP-recommended argon2id defaults).
//!
//! That cost is also ours: hashing takes tens of milliseconds of pure CPU,
//! so it runs on a blocking thread (`spawn_blocking`) rather than stalling
//! the async runtime that serves every other request.
//!
//! The incident angle: a password change is one `set_password_hash` write.
//! A server restored from an old backup holds the *old* hash, and no peer
//! can give the new one back: password changes made in the gap are lost.

use crate::error::ApiError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Hashes `password` with a fresh random salt.
pub async fn hash(password: String) -> Result<String, ApiError> {
    blocking(move || hash_now(&password)).await?
}

/// Whether `password` matches `stored_hash`.
///
/// For an unknown user (`stored_hash` is `None`) it still spends one
/// hash's worth of time before answering `false`, so that response times
/// do not reveal which user IDs exist.
pub async fn verify(password: String, stored_hash: Option<String>) -> Result<bool, ApiError> {
    blocking(move || match stored_hash {
        Some(stored) => {
            let parsed = PasswordHash::new(&stored).map_err(|e| {
                ApiError::unknown(format!("stored password hash is unreadable: {e}"))
            })?;
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        }
        None => hash_now(&password).map(|_| false),
    })
    .await?
}

fn hash_now(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| ApiError::unknown(format!("the random source failed: {e}")))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| ApiError::unknown(format!("cannot encode a salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::unknown(format!("cannot hash the password: {e}")))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::unknown(format!("password hashing task failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() -> Result<(), ApiError> {
        let stored = hash("correct horse".to_owned()).await?;
        assert!(stored.starts_with("$argon2id$v=19$"), "{stored}");
        assert!(verify("correct horse".to_owned(), Some(stored.clone())).await?);
        assert!(!verify("battery staple".to_owned(), Some(stored.clone())).await?);
        assert!(!verify("correct horse".to_owned(), None).await?);
        // Same password, fresh salt: a different hash.
        assert_ne!(stored, hash("correct horse".to_owned()).await?);
        Ok(())
    }
}
