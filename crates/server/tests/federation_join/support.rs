//! What the join tests share: users' views of a room, a client signing as
//! a given server, and bounded polling.

use crate::common::{TestServer, federation_seed};
use crate::matrix_client::{self, User};
use lostfound_protocol::ids::ServerName;
use lostfound_protocol::signing::SigningKey;
use lostfound_server::federation::client::FederationClient;
use lostfound_server::federation::directory::Directory;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

pub fn name(text: &str) -> ServerName {
    text.parse().expect("a server name")
}

/// A federation client that signs as `server`, with the key that server
/// really has (so the servers it talks to can check it).
pub fn signing_as(server: &str, servers: &[TestServer]) -> FederationClient {
    let peers: BTreeMap<ServerName, String> = servers
        .iter()
        .map(|s| (name(&s.server_name), s.base_url.clone()))
        .collect();
    let key_id = "ed25519:1".parse().expect("a key ID");
    let key = SigningKey::from_seed(name(server), key_id, federation_seed(server));
    FederationClient::new(key, Directory::new(&peers))
}

/// The user IDs `user` sees joined to `room_id` on its server.
pub async fn joined_members(user: &User, room_id: &str) -> BTreeSet<String> {
    let (status, answer) = user
        .get(&format!(
            "/_matrix/client/v3/rooms/{room_id}/joined_members"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["joined"]
        .as_object()
        .expect("joined is an object")
        .keys()
        .cloned()
        .collect()
}

pub fn set(users: &[&str]) -> BTreeSet<String> {
    users.iter().map(|user| (*user).to_owned()).collect()
}

/// Polls `condition` every 50 ms for at most 10 s: events cross servers
/// asynchronously, but a test must neither hang nor depend on timing.
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("gave up waiting: {what}");
}

/// The bodies of the text messages `user` can read in `room_id`, oldest first.
pub async fn message_bodies(user: &User, room_id: &str) -> Vec<String> {
    let answer = user.messages(room_id, "dir=b&limit=100").await;
    let mut bodies = matrix_client::bodies(&answer["chunk"]);
    bodies.reverse();
    bodies
}

/// The stripped state events of the invite to `room_id` in `user`'s sync.
pub async fn invite_state(user: &User, room_id: &str) -> Vec<Value> {
    let sync = user.sync("timeout=0").await;
    sync["rooms"]["invite"][room_id]["invite_state"]["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// `user`'s view of `member`'s membership in `room_id`, if any.
pub async fn membership_of(user: &User, room_id: &str, member: &str) -> Option<String> {
    let (status, content) = user
        .get(&format!(
            "/_matrix/client/v3/rooms/{room_id}/state/m.room.member/{member}"
        ))
        .await;
    (status == StatusCode::OK).then(|| content["membership"].as_str().unwrap_or("?").to_owned())
}
