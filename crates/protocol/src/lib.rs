//! The pure Matrix protocol core of Lost & Found (room version 10).
//!
//! Everything a homeserver must agree on with its peers lives here, and
//! nothing else: no files, no sockets, no clocks, no async. A student can
//! read any module on its own and run its tests in milliseconds.
//!
//! | module | what it is for |
//! |---|---|
//! | [`ids`] | user, room and event IDs, room aliases, server names, key IDs |
//! | [`canonical_json`] | the one byte encoding that hashes and signatures are computed over |
//! | [`base64`] | unpadded base64, the way Matrix writes hashes, keys and signatures |
//! | [`redaction`] | the room v10 redaction algorithm: what survives when content is stripped |
//! | [`hashes`] | content hashes, reference hashes and the event IDs derived from them |
//! | [`signing`] | ed25519 server keys, signing and verifying JSON objects and events |
//! | [`federation_auth`] | `X-Matrix` request signatures: how a server proves a request is its own |
//! | [`server_keys`] | the self-signed key document at `/_matrix/key/v2/server`, built and checked |
//! | [`pdu`] | the room v10 persistent data unit (event) and a builder that hashes and signs it |
//! | [`auth`] | the room v10 authorization rules, each rejection naming its rule |
//! | [`state`] | room state: a map from `(type, state_key)` to an event |
//! | [`state_res`] | state resolution v2: how servers agree on room state after a fork |
//! | [`dag`] | the event graph: gaps in `prev_events`, topological order, forward extremities, auth chains |
//! | [`retention`] | what a server deletes under a retention policy, and what its peers could still give back |
//!
//! A short tour: build an event, sign it, and check that a peer would
//! accept it.
//!
//! ```
//! use lostfound_protocol::{pdu::PduBuilder, signing::SigningKey};
//! use serde_json::json;
//!
//! let key = SigningKey::from_seed("tomesh.lab".parse()?, "ed25519:1".parse()?, [7; 32]);
//! let event = PduBuilder::new(
//!     "!lobby:tomesh.lab".parse()?,
//!     "@alice:tomesh.lab".parse()?,
//!     "m.room.message",
//!     json!({"msgtype": "m.text", "body": "hello, federation"}),
//! )
//! .depth(4)
//! .origin_server_ts(1_610_000_000_000)
//! .sign(&key)?;
//!
//! // The event ID is the hash of the redacted event: anyone can recompute it.
//! assert!(event.event_id().as_str().starts_with('$'));
//! event.verify_signature(&key.server_name(), key.key_id(), &key.verify_key())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod auth;
pub mod base64;
pub mod canonical_json;
pub mod dag;
pub mod federation_auth;
pub mod hashes;
pub mod ids;
pub mod pdu;
pub mod redaction;
pub mod retention;
pub mod server_keys;
pub mod signing;
pub mod state;
pub mod state_res;

/// A JSON object, the shape of every event and of most Matrix payloads.
pub type JsonObject = serde_json::Map<String, serde_json::Value>;
