//! [`Federation`]: our side of talking to other servers, the real
//! implementation of [`Peers`]. It owns the directory (through the
//! client), the signed HTTP client and the key ring, and reads "now" from
//! the homeserver's clock, so keys expire on the lab's virtual time too.

use super::client::FederationClient;
use super::directory::Directory;
use super::keys::KeyRing;
use super::{FederationError, Peers, StateIds};
use crate::state::Clock;
use lostfound_protocol::ids::{EventId, KeyId, RoomId, ServerName, UserId};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::signing::{SignatureError, SigningKey, VerifyKey};
use serde_json::{Value, json};
use std::sync::Arc;

/// The federation machinery of one homeserver.
pub struct Federation {
    client: FederationClient,
    key_ring: KeyRing,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Federation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Federation")
            .field("client", &self.client)
            .field("key_ring", &self.key_ring)
            .finish_non_exhaustive()
    }
}

impl Federation {
    pub fn new(signing_key: &SigningKey, directory: Directory, clock: Arc<dyn Clock>) -> Self {
        Self {
            client: FederationClient::new(signing_key.clone(), directory),
            key_ring: KeyRing::new(signing_key),
            clock,
        }
    }

    /// The signed HTTP client, for requests the typed helpers do not cover.
    pub fn client(&self) -> &FederationClient {
        &self.client
    }

    /// The key `server` signs requests with, fetched if need be.
    pub async fn request_key(
        &self,
        server: &ServerName,
        key_id: &KeyId,
    ) -> Result<VerifyKey, FederationError> {
        let now_ms = self.clock.now_ms();
        self.key_ring
            .request_key(&self.client, server, key_id, now_ms)
            .await
    }

    /// Checks one signature of `server` on `event`: the first of its
    /// ed25519 signatures under a key in `server`'s key document must
    /// verify.
    ///
    /// The document is obtained once (cached, or fetched at most once and
    /// subject to the key ring's rate limit), and only the signature
    /// entries whose key ID it lists are tried; the others are ignored.
    /// Signature entries are written by whoever sent the event: trying
    /// each unknown key ID in turn let one event with ten bogus key IDs
    /// cost ten fetches of the server's keys.
    pub(crate) async fn verify_server_signature(
        &self,
        event: &Pdu,
        server: &ServerName,
    ) -> Result<(), FederationError> {
        let key_ids: Vec<KeyId> = event
            .json()
            .get("signatures")
            .and_then(|s| s.get(server.as_str()))
            .and_then(Value::as_object)
            .map(|by_key| by_key.keys().filter_map(|id| id.parse().ok()).collect())
            .unwrap_or_default();
        let key_ids: Vec<KeyId> = key_ids
            .into_iter()
            .filter(|id| id.algorithm() == "ed25519")
            .collect();
        if key_ids.is_empty() {
            return Err(FederationError::Signature(SignatureError::Missing {
                entity: server.to_string(),
                key_id: "ed25519:*".to_owned(),
            }));
        }
        let ts = event.origin_server_ts();
        let keys = self
            .key_ring
            .keys(&self.client, server, self.clock.now_ms(), |keys| {
                key_ids.iter().any(|id| keys.event_key(id, ts).is_some())
            })
            .await?;
        for key_id in &key_ids {
            if let Some(key) = keys.event_key(key_id, ts) {
                return Ok(event.verify_signature(server, key_id, key)?);
            }
        }
        let named: Vec<&str> = key_ids.iter().map(KeyId::as_str).collect();
        Err(FederationError::UnknownKey {
            server: server.clone(),
            key_id: named.join(", "),
        })
    }

    /// The key ring, for tests and diagnostics (how many fetches it made).
    pub fn key_ring(&self) -> &KeyRing {
        &self.key_ring
    }
}

/// The servers whose signatures an event needs: the sender's, and for a
/// restricted join the server of the user who authorised it
/// (<https://spec.matrix.org/v1.16/server-server-api/#validating-hashes-and-signatures-on-received-events>).
fn required_signers(event: &Pdu) -> Vec<ServerName> {
    let mut servers = vec![event.sender().server_name()];
    if event.event_type() == "m.room.member" && event.membership() == Some("join") {
        let authoriser = event
            .content()
            .get("join_authorised_via_users_server")
            .and_then(Value::as_str)
            .and_then(|user| user.parse::<UserId>().ok());
        if let Some(user) = authoriser {
            servers.push(user.server_name());
        }
    }
    servers.dedup();
    servers
}

/// Percent-encodes an ID for use as one path segment or query value: every
/// byte but the URL "unreserved" characters, so what we sign is exactly
/// what arrives.
pub fn encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn bad(server: &ServerName, reason: &str) -> FederationError {
    FederationError::BadResponse {
        server: server.clone(),
        reason: reason.to_owned(),
    }
}

fn event_ids(
    server: &ServerName,
    answer: &Value,
    field: &str,
) -> Result<Vec<EventId>, FederationError> {
    let ids = answer
        .get(field)
        .and_then(Value::as_array)
        .ok_or_else(|| bad(server, &format!("`{field}` is not an array")))?;
    ids.iter()
        .map(|id| {
            id.as_str()
                .and_then(|id| id.parse().ok())
                .ok_or_else(|| bad(server, &format!("`{field}` holds {id}, not an event ID")))
        })
        .collect()
}

impl Peers for Federation {
    async fn verify_event_signatures(&self, event: &Pdu) -> Result<(), FederationError> {
        for server in required_signers(event) {
            self.verify_server_signature(event, &server).await?;
        }
        Ok(())
    }

    async fn get_missing_events(
        &self,
        server: &ServerName,
        room_id: &RoomId,
        earliest_events: &[EventId],
        latest_events: &[EventId],
        limit: u32,
    ) -> Result<Vec<Value>, FederationError> {
        let path = format!(
            "/_matrix/federation/v1/get_missing_events/{}",
            encode(room_id.as_str())
        );
        let body = json!({
            "earliest_events": earliest_events,
            "latest_events": latest_events,
            "limit": limit,
        });
        let answer = self.client.post_json(server, &path, &body).await?;
        match answer.get("events").and_then(Value::as_array) {
            Some(events) => Ok(events.clone()),
            None => Err(bad(server, "`events` is not an array")),
        }
    }

    async fn get_event(
        &self,
        server: &ServerName,
        event_id: &EventId,
    ) -> Result<Value, FederationError> {
        let path = format!("/_matrix/federation/v1/event/{}", encode(event_id.as_str()));
        let answer = self.client.get_json(server, &path).await?;
        match answer
            .get("pdus")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            Some([event]) => Ok(event.clone()),
            _ => Err(bad(server, "`pdus` does not hold exactly one event")),
        }
    }

    async fn get_state_ids(
        &self,
        server: &ServerName,
        room_id: &RoomId,
        event_id: &EventId,
    ) -> Result<StateIds, FederationError> {
        let path = format!(
            "/_matrix/federation/v1/state_ids/{}?event_id={}",
            encode(room_id.as_str()),
            encode(event_id.as_str())
        );
        let answer = self.client.get_json(server, &path).await?;
        Ok(StateIds {
            pdu_ids: event_ids(server, &answer, "pdu_ids")?,
            auth_chain_ids: event_ids(server, &answer, "auth_chain_ids")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_encoded_as_one_path_segment() {
        assert_eq!(encode("!room:b.lab"), "%21room%3Ab.lab");
        assert_eq!(encode("$a+b/c_d-e"), "%24a%2Bb%2Fc_d-e");
    }
}
