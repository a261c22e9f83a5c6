//! Password hashing with argon2id.
//!
//! The store never sees a password, only a PHC string such as
//! `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, which names the
//! algorithm, its cost parameters and a random salt. A stolen database then
//! yields no passwords, and each guess costs an attacker ~19 MiB of memory
//! and two passes over it (the OWASP-recommended argon2id defaults).
//!
//! That cost is also ours: hashing takes tens of milliseconds of pure CPU,
//! so it runs off the async runtime, on a small pool of hashing threads
//! (one per core). Not on `spawn_blocking`: each hash allocates 19 MiB,
//! and glibc keeps freed memory in per-thread arenas, so hashes spread over
//! tokio's many blocking threads made the server hold gigabytes after a
//! burst of registrations (measured: 2.2 GiB after 128 registrations, 8 at
//! a time). A fixed pool bounds that to a few arenas, and bounds CPU too:
//! a login storm queues instead of starving every other request.
//!
//! The incident angle: a password change is one `set_password_hash` write.
//! A server restored from an old backup holds the *old* hash, and no peer
//! can give the new one back: password changes made in the gap are lost.

use crate::error::ApiError;
use argon2::password_hash::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use lostfound_protocol::base64;
use std::cell::RefCell;

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
        Some(stored) => verify_now(&password, &stored),
        None => hash_now(&password).map(|_| false),
    })
    .await?
}

thread_local! {
    /// argon2's 19 MiB working memory, allocated once per hashing thread
    /// and reused: allocating and freeing it per hash is what made glibc
    /// hold on to gigabytes (see the module docs).
    static WORKING_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs argon2id with `params` into `out`, in this thread's reused memory.
fn argon2id(params: &Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), ApiError> {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    WORKING_MEMORY
        .with(|memory| {
            let mut memory = memory.borrow_mut();
            let needed = params.block_count();
            if memory.len() < needed {
                memory.resize(needed, Block::default());
            }
            argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..needed])
        })
        .map_err(|e| ApiError::unknown(format!("cannot hash the password: {e}")))
}

/// A new PHC string: `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, with
/// argon2's default (OWASP) cost and a 16-byte random salt. PHC's base64 is
/// the standard alphabet without padding, as Matrix's is.
fn hash_now(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| ApiError::unknown(format!("the random source failed: {e}")))?;
    let params = Params::default();
    let mut hash = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2id(&params, password.as_bytes(), &salt, &mut hash)?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        base64::encode(salt),
        base64::encode(hash)
    ))
}

/// Recomputes the hash with the stored parameters and salt, and compares
/// in constant time (`Output`'s equality).
fn verify_now(password: &str, stored: &str) -> Result<bool, ApiError> {
    let unreadable =
        |why: String| ApiError::unknown(format!("stored password hash is unreadable: {why}"));
    let parsed = PasswordHash::new(stored).map_err(|e| unreadable(e.to_string()))?;
    if parsed.algorithm != argon2::ARGON2ID_IDENT || parsed.version != Some(0x13) {
        return Err(unreadable("not an argon2id v19 hash".into()));
    }
    let params = Params::try_from(&parsed).map_err(|e| unreadable(e.to_string()))?;
    let mut salt_buffer = [0u8; 64];
    let salt = parsed
        .salt
        .ok_or_else(|| unreadable("no salt".into()))?
        .decode_b64(&mut salt_buffer)
        .map_err(|e| unreadable(e.to_string()))?;
    let expected = parsed.hash.ok_or_else(|| unreadable("no hash".into()))?;
    let mut computed = vec![0u8; expected.len()];
    argon2id(&params, password.as_bytes(), salt, &mut computed)?;
    Ok(Output::new(&computed).is_ok_and(|computed| computed == expected))
}

/// A job for the hashing pool.
type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads, started on first use and kept for the process.
fn hashing_pool() -> &'static std::sync::mpsc::Sender<Job> {
    static POOL: std::sync::OnceLock<std::sync::mpsc::Sender<Job>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel::<Job>();
        let receiver = std::sync::Arc::new(std::sync::Mutex::new(receiver));
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
        for index in 0..threads {
            let receiver = std::sync::Arc::clone(&receiver);
            let spawned = std::thread::Builder::new()
                .name(format!("password-hash-{index}"))
                .spawn(move || run_jobs(&receiver));
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a password hashing thread");
            }
        }
        sender
    })
}

fn run_jobs(receiver: &std::sync::Mutex<std::sync::mpsc::Receiver<Job>>) {
    loop {
        // Hold the lock only to take a job, not while running it.
        let job = match receiver.lock() {
            Ok(receiver) => receiver.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(job) = job else { return };
        // A panicking job must not take the thread (and the pool) with it.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

/// Runs `work` on the hashing pool and waits for its result.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let (result, answer) = tokio::sync::oneshot::channel();
    hashing_pool()
        .send(Box::new(move || {
            let _ = result.send(work());
        }))
        .map_err(|_| ApiError::unknown("the password hashing threads are gone"))?;
    answer
        .await
        .map_err(|_| ApiError::unknown("password hashing failed"))
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
        // (The standard PHC tooling agrees with ours, both ways.)
        use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
        let parsed = PasswordHash::new(&stored).expect("a PHC string");
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        let theirs = Argon2::default()
            .hash_password(
                b"tr0ub4dor",
                &SaltString::encode_b64(&[9; 16]).expect("a salt"),
            )
            .expect("a hash")
            .to_string();
        assert!(verify("tr0ub4dor".to_owned(), Some(theirs)).await?);
        assert_ne!(stored, hash("correct horse".to_owned()).await?);
        Ok(())
    }
}
