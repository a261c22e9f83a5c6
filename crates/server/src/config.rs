//! What a homeserver is: a name, a key, a place on disk, and its limits.

use crate::hooks::Hooks;
use lostfound_protocol::ids::ServerName;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The configuration of one homeserver.
#[derive(Debug, Clone)]
pub struct Config {
    /// The server's name: the part after `:` in its users' and rooms' IDs.
    pub server_name: ServerName,
    /// The 32-byte seed of its ed25519 signing key. Seeded keys make lab
    /// runs reproducible; `lostfound serve` derives one from the data
    /// directory's key file.
    pub signing_key_seed: [u8; 32],
    /// Where the database and the media directory live.
    pub data_dir: PathBuf,
    /// Whether `/register` accepts new accounts.
    pub registration_enabled: bool,
    /// The largest request body accepted, in bytes (uploads included).
    pub max_request_bytes: usize,
    /// Where other servers live: name → `HOST:PORT` or `http://HOST:PORT`
    /// (plain HTTP, no `.well-known`: see `federation::directory`). Our
    /// own name may appear too, for requests to ourselves.
    pub peers: BTreeMap<ServerName, String>,
    /// Exercise hooks: a student's code in place of parts of federation
    /// (see [`crate::hooks`]). None by default: the reference behaviour.
    pub hooks: Hooks,
}

impl Config {
    /// A configuration with the defaults `lostfound serve` uses.
    pub fn new(server_name: ServerName, data_dir: PathBuf, signing_key_seed: [u8; 32]) -> Self {
        Self {
            server_name,
            signing_key_seed,
            data_dir,
            registration_enabled: true,
            max_request_bytes: 10 * 1024 * 1024,
            peers: BTreeMap::new(),
            hooks: Hooks::default(),
        }
    }
}
