//! Two homeservers that know each other, `a.lab` and `b.lab`
//! ([`TestServer::start_federation`]), with `@alice:a.lab` registered, and
//! a client that signs requests as `b.lab`, with the key `b.lab`'s server
//! really has (so `a.lab` can fetch it from `b.lab` and check).

use crate::common::{TestServer, federation_seed};
use crate::matrix_client::User;
use lostfound_protocol::ids::ServerName;
use lostfound_protocol::signing::SigningKey;
use lostfound_server::federation::FederationError;
use lostfound_server::federation::client::FederationClient;
use lostfound_server::federation::directory::Directory;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// A room on `a.lab` and the messages Alice sent in it, oldest first.
pub struct TestRoom {
    pub room_id: String,
    pub messages: Vec<String>,
}

pub struct Pair {
    pub a: TestServer,
    _b: TestServer,
    alice: User,
    as_b: FederationClient,
}

fn name(text: &str) -> ServerName {
    text.parse().expect("a server name")
}

impl Pair {
    /// Starts both servers and registers `@alice:a.lab`.
    pub async fn start() -> Self {
        let mut servers = TestServer::start_federation(&["a.lab", "b.lab"]).await;
        let peers: BTreeMap<ServerName, String> = servers
            .iter()
            .map(|server| (name(&server.server_name), server.base_url.clone()))
            .collect();
        let key_id = "ed25519:1".parse().expect("a key ID");
        let key = SigningKey::from_seed(name("b.lab"), key_id, federation_seed("b.lab"));
        let b = servers.pop().expect("b.lab");
        let a = servers.pop().expect("a.lab");
        let alice = User::register(&a, "alice").await;
        Self {
            a,
            _b: b,
            alice,
            as_b: FederationClient::new(key, Directory::new(&peers)),
        }
    }

    /// A request from `b.lab` to `a.lab`, signed with `b.lab`'s key.
    pub async fn b_asks_a(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, FederationError> {
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        let a = name("a.lab");
        self.as_b
            .request_json(method, &a, path, body.as_ref())
            .await
    }

    /// An unsigned request to `a.lab`: the status and the JSON body.
    pub async fn a_unsigned(&self, path: &str) -> (StatusCode, Value) {
        self.a.get(path, None).await
    }

    /// A room made with `create` (a `createRoom` body) with one message,
    /// and `@bob:b.lab` invited first if `invite_bob` (so that `b.lab` has
    /// a member in it).
    pub async fn create_room(&self, create: Value, invite_bob: bool) -> TestRoom {
        let room_id = self.alice.create_room(create).await;
        if invite_bob {
            let member =
                format!("/_matrix/client/v3/rooms/{room_id}/state/m.room.member/@bob:b.lab");
            let (status, answer) = self
                .alice
                .put(&member, json!({"membership": "invite"}))
                .await;
            assert_eq!(status, StatusCode::OK, "{answer}");
        }
        let hello = self.alice.send_text(&room_id, "hello").await;
        TestRoom {
            room_id,
            messages: vec![hello],
        }
    }

    /// A public room with `@bob:b.lab` invited and `count` messages.
    pub async fn room_with_messages(&self, count: usize) -> TestRoom {
        let mut room = self
            .create_room(json!({"preset": "public_chat"}), true)
            .await;
        for n in 2..=count {
            let sent = self
                .alice
                .send_text(&room.room_id, &format!("message {n}"))
                .await;
            room.messages.push(sent);
        }
        room
    }

    /// The event IDs of the room's current state, as Alice sees it.
    pub async fn a_state_ids(&self, room: &TestRoom) -> BTreeSet<String> {
        let path = format!("/_matrix/client/v3/rooms/{}/state", room.room_id);
        let (status, state) = self.alice.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{state}");
        let events = state.as_array().expect("state is a list");
        events
            .iter()
            .map(|e| e["event_id"].as_str().expect("an ID").to_owned())
            .collect()
    }
}

/// Percent-encodes an ID as one path segment or query value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}
