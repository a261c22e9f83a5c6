//! `PUT /_matrix/federation/v1/send/{txnId}` between two real homeservers
//! on 127.0.0.1: a.lab pushes an event to b.lab, which was restored from
//! an old backup, and b.lab heals over HTTP: it checks a.lab's signatures
//! with the key it fetches from a.lab, and asks a.lab for the events it
//! lacks with `get_missing_events`, every request signed with X-Matrix.

#[path = "receive/fake.rs"]
#[allow(dead_code)] // this binary uses only `give`
mod fake;
#[path = "receive/room.rs"]
#[allow(dead_code)]
mod room;

use lostfound_protocol::ids::ServerName;
use lostfound_server::state::SystemClock;
use lostfound_server::{Config, Homeserver};
use lostfound_store::{SqliteStore, Store};
use reqwest::Method;
use room::{TestRoom, seed_of};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const ALICE: &str = "@alice:a.lab";
const BEA: &str = "@bea:b.lab";

/// One running homeserver; dropping it stops the server.
struct Running {
    homeserver: Homeserver,
    store: Arc<SqliteStore>,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

/// a.lab and b.lab, each knowing where the other lives, holding the first
/// `a_holds` and `b_holds` events of `room`.
async fn start_pair(room: &TestRoom, a_holds: usize, b_holds: usize) -> (Running, Running) {
    let a_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let b_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a_address = a_listener.local_addr().unwrap().to_string();
    let b_address = b_listener.local_addr().unwrap().to_string();
    let a = run("a.lab", a_listener, ("b.lab", b_address), room, a_holds);
    let b = run("b.lab", b_listener, ("a.lab", a_address), room, b_holds);
    (a, b)
}

fn run(
    name: &str,
    listener: TcpListener,
    peer: (&str, String),
    room: &TestRoom,
    holds: usize,
) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(
        name.parse().unwrap(),
        dir.path().to_path_buf(),
        seed_of(name),
    );
    config.peers.insert(peer.0.parse().unwrap(), peer.1);
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    fake::give(store.as_ref(), room, holds);
    let homeserver = Homeserver::new(config, store.clone(), Arc::new(SystemClock)).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(lostfound_server::serve(
        listener,
        homeserver.clone(),
        async {
            let _ = stopped.await;
        },
    ));
    Running {
        homeserver,
        store,
        _stop: stop,
        _dir: dir,
    }
}

/// Alice's room on a.lab, which Bea of b.lab joined, then five messages.
fn room_b_missed() -> (TestRoom, usize) {
    let mut room = TestRoom::public(ALICE, true);
    room.state(BEA, "m.room.member", BEA, json!({"membership": "join"}));
    let backup = room.order.len();
    for n in 1..=5 {
        room.message(ALICE, &format!("message {n}, which b.lab will forget"));
    }
    (room, backup)
}

/// a.lab sends `body` to b.lab as a signed transaction.
async fn send(
    a: &Running,
    body: &Value,
) -> Result<Value, lostfound_server::federation::FederationError> {
    let b: ServerName = "b.lab".parse().unwrap();
    let path = "/_matrix/federation/v1/send/txn-1";
    a.homeserver
        .federation()
        .client()
        .request_json(Method::PUT, &b, path, Some(body))
        .await
}

#[tokio::test]
async fn a_transaction_heals_a_restored_server_over_http() {
    let (mut room, backup) = room_b_missed();
    let sixth = room.message(ALICE, "b.lab, are you back?");
    let (a, b) = start_pair(&room, room.order.len(), backup).await;

    let body = json!({"origin": "a.lab", "origin_server_ts": 1, "pdus": [sixth.json()]});
    let answer = send(&a, &body).await.expect("200");

    assert_eq!(answer, json!({"pdus": {sixth.event_id().as_str(): {}}}));
    let timeline: Vec<_> = b
        .store
        .room_events_after(&room.room_id, 0, i64::MAX, 100)
        .unwrap()
        .into_iter()
        .map(|stored| stored.event.event_id().clone())
        .collect();
    assert_eq!(timeline, room.order, "b.lab's history is whole again");
}

#[tokio::test]
async fn a_rejected_pdu_gets_an_error_entry_and_the_transaction_still_succeeds() {
    let (mut room, _) = room_b_missed();
    let intruder = room.message("@eve:a.lab", "let me in");
    let (a, _b) = start_pair(&room, room.order.len(), room.order.len() - 1).await;

    let body = json!({"origin": "a.lab", "origin_server_ts": 1, "pdus": [intruder.json()]});
    let answer = send(&a, &body).await.expect("200");

    let error = &answer["pdus"][intruder.event_id().as_str()]["error"];
    assert!(
        error
            .as_str()
            .unwrap()
            .starts_with("rejected by auth rule 5:"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_transaction_must_come_from_its_signer_and_respect_the_limits() {
    let (room, backup) = room_b_missed();
    let (a, _b) = start_pair(&room, room.order.len(), backup).await;

    let impostor = json!({"origin": "c.lab", "origin_server_ts": 1, "pdus": []});
    let refused = send(&a, &impostor).await.unwrap_err().to_string();
    assert!(
        refused.contains("403") && refused.contains("M_FORBIDDEN"),
        "{refused}"
    );

    let too_many = vec![json!({}); 51];
    let oversized = json!({"origin": "a.lab", "origin_server_ts": 1, "pdus": too_many});
    let refused = send(&a, &oversized).await.unwrap_err().to_string();
    assert!(
        refused.contains("400") && refused.contains("M_BAD_JSON"),
        "{refused}"
    );
}
