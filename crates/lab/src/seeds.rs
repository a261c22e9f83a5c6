//! Every random choice a lab makes, derived from one seed.
//!
//! A homeserver needs randomness in two places that show up in events:
//! its ed25519 signing key (signatures are part of every event) and the
//! opaque part of room IDs (every event names its room). The lab derives
//! both from the lab's seed and the server's name with SHA-256, so that
//! the same seed gives the same keys and the same rooms in every run, and
//! different servers (or different seeds) get unrelated ones.
//!
//! Access tokens, device IDs, media IDs and password salts stay random:
//! they never appear in an event, so they cannot change an event ID.

use lostfound_server::state::IdSource;
use sha2::{Digest, Sha256};
use std::sync::Mutex;

/// SHA-256 over the lab seed, what the bytes are for, and the server name:
/// 32 bytes that look random but are a pure function of their inputs.
pub fn derive(seed: u64, purpose: &str, server: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"lostfound-lab\0");
    hasher.update(seed.to_be_bytes());
    // Lengths first, so that ("ab", "c") and ("a", "bc") differ.
    for part in [purpose, server] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().into()
}

/// The seed of the signing key of `server` in a lab seeded with `seed`.
pub fn signing_key_seed(seed: u64, server: &str) -> [u8; 32] {
    derive(seed, "signing key", server)
}

/// A deterministic [`IdSource`]: an endless stream of bytes, SHA-256 of a
/// per-server key and a counter. The lab keeps one per server across
/// restarts, so a restarted server does not repeat a room ID it already
/// handed out.
#[derive(Debug)]
pub struct SeededIds {
    key: [u8; 32],
    /// How many 32-byte blocks have been handed out.
    blocks: Mutex<u64>,
}

impl SeededIds {
    /// The ID source of `server` in a lab seeded with `seed`.
    pub fn new(seed: u64, server: &str) -> Self {
        Self {
            key: derive(seed, "room ids", server),
            blocks: Mutex::new(0),
        }
    }
}

impl IdSource for SeededIds {
    fn fill(&self, bytes: &mut [u8]) -> Result<(), String> {
        let mut blocks = self
            .blocks
            .lock()
            .map_err(|_| "the seeded ID source is poisoned".to_owned())?;
        for chunk in bytes.chunks_mut(32) {
            let mut hasher = Sha256::new();
            hasher.update(self.key);
            hasher.update(blocks.to_be_bytes());
            let block: [u8; 32] = hasher.finalize().into();
            chunk.copy_from_slice(&block[..chunk.len()]);
            *blocks += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw(ids: &SeededIds) -> [u8; 40] {
        let mut bytes = [0; 40];
        ids.fill(&mut bytes).unwrap();
        bytes
    }

    #[test]
    fn same_seed_and_name_give_the_same_stream() {
        let (one, two) = (SeededIds::new(1, "a.lab"), SeededIds::new(1, "a.lab"));
        assert_eq!(draw(&one), draw(&two));
        assert_eq!(draw(&one), draw(&two));
    }

    #[test]
    fn the_stream_moves_on_and_differs_by_seed_and_name() {
        let ids = SeededIds::new(1, "a.lab");
        assert_ne!(draw(&ids), draw(&ids));
        assert_ne!(
            draw(&SeededIds::new(1, "a.lab")),
            draw(&SeededIds::new(2, "a.lab"))
        );
        assert_ne!(
            draw(&SeededIds::new(1, "a.lab")),
            draw(&SeededIds::new(1, "b.lab"))
        );
        assert_ne!(signing_key_seed(1, "a.lab"), derive(1, "room ids", "a.lab"));
    }
}
