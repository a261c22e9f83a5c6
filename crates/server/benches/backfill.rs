//! Backfill throughput: a server with an empty history fetches a whole
//! room's history from a peer.
//!
//! Run with `cargo bench -p lostfound-server --bench backfill` (or
//! `just bench`); the bench profile is the release profile. Two
//! homeservers run in this process on 127.0.0.1, talking real HTTP, as in
//! `tests/federation_backfill.rs`:
//!
//! - **a.lab** holds a public room of `BACKFILL_EVENTS` events (default
//!   100,000): Alice creates it, Bob of b.lab joins, then Alice's
//!   messages. The events are built and signed with `PduBuilder` and
//!   written straight into a.lab's store in two durable transactions
//!   (`persist_backfilled_events` for the history, then `persist_event`
//!   for the newest): about 3 s for 100,000 events, where `persist_event`
//!   for each, one `fsync` apiece, took 87 s on the project's machine.
//!   `BACKFILL_SETUP=one-by-one` does that instead; the figure measured
//!   is the same either way (a.lab serves by event ID and depth), and
//!   the store's durability is unchanged.
//! - **b.lab** holds what a restored server holds: the room's state as
//!   outliers, its newest event in the timeline, and Bob's account.
//!
//! The setup is timed and printed apart. Then Bob scrolls back through the
//! client API (`GET /messages?dir=b&limit=100`, following `end`) until the
//! history ends; every page past what b.lab holds makes b.lab backfill up
//! to 100 events from a.lab (`GET /backfill`), check them and store them.
//! That is the figure: events backfilled per second, end to end, as a user
//! drives it. Both stores are wrapped to time their calls, which gives a
//! cheap breakdown; the signature and hash checks are replayed alone
//! afterwards to estimate their share. At the end the bench checks that
//! b.lab holds every event of the room in its timeline and that Bob saw
//! each once, so the figure counts real work. It asserts nothing about
//! speed, because speed depends on the machine (and here on its disk).

use lostfound_protocol::auth::auth_types_for_event;
use lostfound_protocol::ids::{EventId, RoomAlias, RoomId, ServerName, UserId};
use lostfound_protocol::pdu::{Pdu, PduBuilder};
use lostfound_protocol::signing::SigningKey;
use lostfound_protocol::state::{StateMap, slot_of};
use lostfound_server::state::SystemClock;
use lostfound_server::{Config, Homeserver};
use lostfound_store::{
    Account, Device, EventWrite, Media, OutboxEntry, OutboxId, Profile, Room, SqliteStore, Store,
    StoredEvent, StreamPosition, TransactionKey,
};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const DEFAULT_EVENTS: usize = 100_000;
/// Events per `/messages` page: the most the API gives, as many as one
/// backfill fetches.
const PAGE: usize = 100;
const ALICE: &str = "@alice:a.lab";
const BOB: &str = "@bob:b.lab";
const BOB_TOKEN: &str = "bob-token";

fn main() {
    let events = match std::env::var("BACKFILL_EVENTS") {
        Ok(text) => text
            .parse::<usize>()
            .expect("BACKFILL_EVENTS is a number of events"),
        Err(_) => DEFAULT_EVENTS,
    };
    assert!(events >= 6, "BACKFILL_EVENTS must be at least 6");
    println!(
        "backfill: b.lab fetches a room's history of {events} events from a.lab, over HTTP on 127.0.0.1"
    );
    println!("  machine load before (/proc/loadavg): {}", loadavg());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench(events));
    println!("  machine load after  (/proc/loadavg): {}", loadavg());
}

async fn bench(total: usize) {
    // --- setup: build and sign the room --------------------------------
    let started = Instant::now();
    let room = build_room(total);
    let built = started.elapsed();
    println!(
        "  setup: built and signed {total} events in {:.2} s ({:.0} events/s)",
        built.as_secs_f64(),
        total as f64 / built.as_secs_f64()
    );

    // --- setup: a.lab holds everything ---------------------------------
    let a_dir = tempfile::tempdir().unwrap();
    let b_dir = tempfile::tempdir().unwrap();
    let a_store = Arc::new(Timed::new(SqliteStore::open(a_dir.path()).unwrap()));
    let b_store = Arc::new(Timed::new(SqliteStore::open(b_dir.path()).unwrap()));
    let one_by_one = std::env::var("BACKFILL_SETUP").is_ok_and(|how| how == "one-by-one");
    let started = Instant::now();
    let how = if one_by_one {
        holds_everything_one_by_one(&a_store.inner, &room);
        "persist_event, one fsync'd transaction per event"
    } else {
        holds_everything_in_one_go(&a_store.inner, &room);
        "persist_backfilled_events in one transaction, then persist_event for the newest"
    };
    let filled = started.elapsed();
    println!(
        "  setup: a.lab stored them ({how}) in {:.2} s ({:.0} events/s)",
        filled.as_secs_f64(),
        total as f64 / filled.as_secs_f64()
    );
    assert_eq!(timeline_count(&a_store.inner, &room.room_id), total);
    holds_the_end(&b_store.inner, &room);
    let held_before = timeline_count(&b_store.inner, &room.room_id);
    println!(
        "  setup: b.lab holds {held_before} timeline event(s), the room's state as {} outliers, and Bob",
        room.current_state().len()
    );

    // --- the two servers ------------------------------------------------
    let a_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let b_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a_address = a_listener.local_addr().unwrap().to_string();
    let b_address = b_listener.local_addr().unwrap().to_string();
    let _a = run(
        "a.lab",
        a_listener,
        a_dir.path(),
        &a_store,
        ("b.lab", &b_address),
    );
    let _b = run(
        "b.lab",
        b_listener,
        b_dir.path(),
        &b_store,
        ("a.lab", &a_address),
    );
    a_store.reset();
    b_store.reset();

    // --- the measurement: Bob scrolls back to the start -----------------
    let client = reqwest::Client::new();
    let base = format!(
        "http://{b_address}/_matrix/client/v3/rooms/{}/messages?dir=b&limit={PAGE}",
        lostfound_server::federation::encode(room.room_id.as_str())
    );
    let mut seen: HashSet<String> = HashSet::new();
    let mut shown = 0usize;
    let mut pages = 0usize;
    let mut from: Option<String> = None;
    let max_pages = 3 * total / PAGE + 10;
    let started = Instant::now();
    loop {
        assert!(
            pages < max_pages,
            "pagination did not end in {max_pages} pages"
        );
        let url = match &from {
            Some(token) => format!("{base}&from={token}"),
            None => base.clone(),
        };
        let answer = client.get(url).bearer_auth(BOB_TOKEN).send().await.unwrap();
        assert!(answer.status().is_success(), "{}", answer.status());
        let page: Value = answer.json().await.unwrap();
        pages += 1;
        let chunk = page["chunk"].as_array().expect("a chunk");
        shown += chunk.len();
        seen.extend(
            chunk
                .iter()
                .map(|event| event["event_id"].as_str().unwrap().to_owned()),
        );
        match page.get("end").and_then(Value::as_str) {
            Some(end) => from = Some(end.to_owned()),
            None => break,
        }
    }
    let elapsed = started.elapsed();

    // --- honesty: b.lab now holds the whole room ------------------------
    let held_after = timeline_count(&b_store.inner, &room.room_id);
    assert_eq!(held_after, total, "b.lab holds every event in its timeline");
    assert_eq!(seen.len(), total, "Bob saw every event");
    assert_eq!(shown, total, "Bob saw each event once");
    let backfilled = held_after - held_before;
    let seconds = elapsed.as_secs_f64();
    println!(
        "  measured path: the client API, GET /messages?dir=b&limit={PAGE} by Bob on b.lab, {pages} pages"
    );
    println!(
        "  backfilled {backfilled} events in {seconds:.2} s: {:.0} events/s  (b.lab now holds {held_after} of {total}; Bob saw {} distinct events)",
        backfilled as f64 / seconds,
        seen.len()
    );

    // --- breakdown ----------------------------------------------------------
    let b_persist = b_store.persist.seconds();
    let b_reads = b_store.reads.seconds();
    let a_reads = a_store.reads.seconds();
    let checks = replay_checks(&room);
    let rest = seconds - b_persist - b_reads - a_reads - checks;
    let share = |part: f64| 100.0 * part / seconds;
    println!(
        "  where the time went (of {seconds:.2} s; store times include waiting for the store's lock):"
    );
    let line = |label: String, part: f64| {
        println!("    {label:<70} {part:>7.2} s {:>5.1}%", share(part));
    };
    line(
        format!(
            "b.lab persist_backfilled_events ({} batches, fsync'd)",
            b_store.persist.calls()
        ),
        b_persist,
    );
    line(
        format!("b.lab other store calls ({})", b_store.reads.calls()),
        b_reads,
    );
    line(
        format!(
            "a.lab store calls, serving /backfill ({})",
            a_store.reads.calls()
        ),
        a_reads,
    );
    line(
        "checks 1-3 (parse + event ID, signature, content hash), replayed alone".to_owned(),
        checks,
    );
    line(
        "the rest: HTTP both ways, JSON, auth rules, paging".to_owned(),
        rest,
    );
}

/// `/proc/loadavg`, or a word saying it is not there.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.trim().to_owned())
        .unwrap_or_else(|_| "unavailable".to_owned())
}

/// A server's key seed: its name's bytes (as the tests make them).
fn seed_of(server: &str) -> [u8; 32] {
    let mut seed = [0u8; 32];
    for (byte, name) in seed.iter_mut().zip(server.bytes()) {
        *byte = name;
    }
    seed
}

fn key_of(server: &str) -> SigningKey {
    SigningKey::from_seed(
        server.parse().unwrap(),
        "ed25519:1".parse().unwrap(),
        seed_of(server),
    )
}

/// The room, in creation order: one line of events, each the parent of
/// the next. After the five state events the state no longer changes, so
/// one state map serves every message.
struct BenchRoom {
    room_id: RoomId,
    events: Vec<Pdu>,
    /// The state after each of the first events; the last one holds for
    /// all later events.
    states: Vec<StateMap<EventId>>,
}

impl BenchRoom {
    fn state_after(&self, index: usize) -> &StateMap<EventId> {
        &self.states[index.min(self.states.len() - 1)]
    }

    fn current_state(&self) -> &StateMap<EventId> {
        self.states.last().unwrap()
    }
}

/// Alice's public room: create, Alice's join, power levels, join rules,
/// Bob's join (signed by b.lab), then Alice's messages up to `total`.
fn build_room(total: usize) -> BenchRoom {
    let a_key = key_of("a.lab");
    let b_key = key_of("b.lab");
    let room_id: RoomId = "!bench:a.lab".parse().unwrap();
    let mut room = BenchRoom {
        room_id,
        events: Vec::with_capacity(total),
        states: Vec::new(),
    };
    let mut clock = 1_610_000_000_000u64;
    let mut state = StateMap::new();
    let opening = [
        (
            ALICE,
            "m.room.create",
            json!({"creator": ALICE, "room_version": "10"}),
        ),
        (ALICE, "m.room.member", json!({"membership": "join"})),
        (
            ALICE,
            "m.room.power_levels",
            json!({"users": {ALICE: 100}, "state_default": 0}),
        ),
        (ALICE, "m.room.join_rules", json!({"join_rule": "public"})),
        (BOB, "m.room.member", json!({"membership": "join"})),
    ];
    for (sender, kind, content) in opening {
        let state_key = if kind == "m.room.member" { sender } else { "" };
        let key = if sender == BOB { &b_key } else { &a_key };
        let builder = next(&room, sender, kind, content, &mut clock).state_key(state_key);
        // The auth events depend on the event's type and sender: ask the
        // rules which, from a draft, then sign for real.
        let draft = builder.clone().sign(key).unwrap();
        let auth: Vec<EventId> = auth_types_for_event(&draft)
            .into_iter()
            .filter_map(|slot| state.get(&slot).cloned())
            .collect();
        let event = builder.auth_events(auth).sign(key).unwrap();
        state.insert(slot_of(&event).unwrap(), event.event_id().clone());
        room.states.push(state.clone());
        room.events.push(event);
    }
    // Every message cites the same auth events: create, power levels, Alice.
    let draft = next(&room, ALICE, "m.room.message", json!({}), &mut clock)
        .sign(&a_key)
        .unwrap();
    let message_auth: Vec<EventId> = auth_types_for_event(&draft)
        .into_iter()
        .filter_map(|slot| state.get(&slot).cloned())
        .collect();
    for n in room.events.len()..total {
        let body = json!({
            "msgtype": "m.text",
            "body": format!("message {n}: the quick brown fox jumps over the lazy dog"),
        });
        let event = next(&room, ALICE, "m.room.message", body, &mut clock)
            .auth_events(message_auth.iter().cloned())
            .sign(&a_key)
            .unwrap();
        room.events.push(event);
    }
    room
}

/// A builder for the event after the room's newest.
fn next(room: &BenchRoom, sender: &str, kind: &str, content: Value, clock: &mut u64) -> PduBuilder {
    *clock += 1000;
    let last = room.events.last();
    PduBuilder::new(room.room_id.clone(), sender.parse().unwrap(), kind, content)
        .prev_events(last.map(|event| event.event_id().clone()))
        .depth(last.map_or(1, |event| event.depth() + 1))
        .origin_server_ts(*clock)
}

fn create_room(store: &dyn Store, room: &BenchRoom) {
    store
        .create_room(&Room {
            room_id: room.room_id.clone(),
            room_version: "10".into(),
            federate: true,
        })
        .unwrap();
}

/// a.lab: the whole room, each event written as the server writes the
/// events it creates: one durable transaction (one `fsync`) each.
fn holds_everything_one_by_one(store: &dyn Store, room: &BenchRoom) {
    create_room(store, room);
    for (index, event) in room.events.iter().enumerate() {
        let extremities = std::slice::from_ref(event.event_id());
        store
            .persist_event(&EventWrite {
                event,
                state_after: room.state_after(index),
                forward_extremities: extremities,
                current_state: None,
                outlier: false,
                transaction: None,
            })
            .unwrap();
    }
}

/// a.lab: the whole room, in two durable transactions: all but the newest
/// event as one batch of history (`persist_backfilled_events`, the
/// store's own batch write: oldest first, at positions below zero, each
/// with its state), then the newest with `persist_event`, which sets the
/// room's current state and forward extremities. a.lab then holds what a
/// server holds after backfilling the whole room, in the same order;
/// serving `/backfill` reads it the same way (by event ID and depth).
fn holds_everything_in_one_go(store: &dyn Store, room: &BenchRoom) {
    create_room(store, room);
    let (newest, history) = room.events.split_last().unwrap();
    let writes: Vec<EventWrite<'_>> = history
        .iter()
        .enumerate()
        .map(|(index, event)| EventWrite {
            event,
            state_after: room.state_after(index),
            forward_extremities: &[],
            current_state: None,
            outlier: false,
            transaction: None,
        })
        .collect();
    store.persist_backfilled_events(&writes).unwrap();
    store
        .persist_event(&EventWrite {
            event: newest,
            state_after: room.current_state(),
            forward_extremities: std::slice::from_ref(newest.event_id()),
            current_state: None,
            outlier: false,
            transaction: None,
        })
        .unwrap();
}

/// b.lab, restored: the room's current state as outliers (as `send_join`
/// or `state_ids` bring it), the newest event in the timeline, and Bob.
fn holds_the_end(store: &dyn Store, room: &BenchRoom) {
    create_room(store, room);
    let empty = StateMap::new();
    for id in room.current_state().values() {
        let event = room.events.iter().find(|e| e.event_id() == id).unwrap();
        store
            .persist_event(&EventWrite {
                event,
                state_after: &empty,
                forward_extremities: &[],
                current_state: None,
                outlier: true,
                transaction: None,
            })
            .unwrap();
    }
    let last = room.events.last().unwrap();
    store
        .persist_event(&EventWrite {
            event: last,
            state_after: room.current_state(),
            forward_extremities: std::slice::from_ref(last.event_id()),
            current_state: None,
            outlier: false,
            transaction: None,
        })
        .unwrap();
    let account = Account {
        user_id: BOB.parse().unwrap(),
        password_hash: "unused".into(),
        created_ts: 0,
    };
    store.create_account(&account).unwrap();
    store
        .upsert_device(&Device {
            user_id: account.user_id,
            device_id: "PHONE".into(),
            access_token: BOB_TOKEN.into(),
            display_name: None,
        })
        .unwrap();
}

/// The room's timeline events in `store` (outliers not counted).
fn timeline_count(store: &dyn Store, room_id: &RoomId) -> usize {
    store
        .room_events_before(room_id, StreamPosition::MAX, 10_000_000)
        .unwrap()
        .len()
}

/// Steps 1–3 of the checks on receipt (parse and event ID, signature,
/// content hash), on every event of the room, alone: an estimate of their
/// share of the backfill. Returns seconds.
fn replay_checks(room: &BenchRoom) -> f64 {
    let keys: Vec<(ServerName, SigningKey)> = ["a.lab", "b.lab"]
        .into_iter()
        .map(|name| (name.parse().unwrap(), key_of(name)))
        .collect();
    let raws: Vec<Value> = room
        .events
        .iter()
        .map(|event| Value::Object(event.json().clone()))
        .collect();
    let started = Instant::now();
    for raw in raws {
        let pdu = Pdu::from_json(raw).unwrap();
        let server = pdu.sender().server_name();
        let (_, key) = keys.iter().find(|(name, _)| *name == server).unwrap();
        pdu.verify_signature(&server, key.key_id(), &key.verify_key())
            .unwrap();
        assert!(pdu.content_hash_check().matches());
    }
    started.elapsed().as_secs_f64()
}

/// One running homeserver; dropping it stops the server.
struct Running {
    _stop: oneshot::Sender<()>,
}

fn run(
    name: &str,
    listener: TcpListener,
    dir: &std::path::Path,
    store: &Arc<Timed<SqliteStore>>,
    peer: (&str, &str),
) -> Running {
    let mut config = Config::new(name.parse().unwrap(), dir.to_path_buf(), seed_of(name));
    config
        .peers
        .insert(peer.0.parse().unwrap(), peer.1.to_owned());
    let store: Arc<dyn Store> = store.clone();
    let homeserver = Homeserver::new(config, store, Arc::new(SystemClock)).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(lostfound_server::serve(listener, homeserver, async {
        let _ = stopped.await;
    }));
    Running { _stop: stop }
}

/// Calls and time spent, summed over threads.
#[derive(Default)]
struct Meter {
    calls: AtomicU64,
    nanos: AtomicU64,
}

impl Meter {
    fn add(&self, spent: Duration) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.nanos
            .fetch_add(spent.as_nanos() as u64, Ordering::Relaxed);
    }

    fn seconds(&self) -> f64 {
        self.nanos.load(Ordering::Relaxed) as f64 / 1e9
    }

    fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn reset(&self) {
        self.calls.store(0, Ordering::Relaxed);
        self.nanos.store(0, Ordering::Relaxed);
    }
}

/// A store that times every call of the one it wraps: backfill's write
/// apart, everything else as reads (or other writes, which backfill does
/// not make).
struct Timed<S> {
    inner: S,
    persist: Meter,
    reads: Meter,
}

impl<S> Timed<S> {
    fn new(inner: S) -> Self {
        Self {
            inner,
            persist: Meter::default(),
            reads: Meter::default(),
        }
    }

    fn reset(&self) {
        self.persist.reset();
        self.reads.reset();
    }

    fn read<T>(&self, call: impl FnOnce(&S) -> T) -> T {
        let started = Instant::now();
        let answer = call(&self.inner);
        self.reads.add(started.elapsed());
        answer
    }
}

type Result<T> = lostfound_store::Result<T>;

impl<S: Store> Store for Timed<S> {
    fn create_account(&self, account: &Account) -> Result<()> {
        self.read(|s| s.create_account(account))
    }
    fn account(&self, user_id: &UserId) -> Result<Option<Account>> {
        self.read(|s| s.account(user_id))
    }
    fn set_password_hash(&self, user_id: &UserId, password_hash: &str) -> Result<()> {
        self.read(|s| s.set_password_hash(user_id, password_hash))
    }
    fn upsert_device(&self, device: &Device) -> Result<()> {
        self.read(|s| s.upsert_device(device))
    }
    fn device_by_token(&self, access_token: &str) -> Result<Option<Device>> {
        self.read(|s| s.device_by_token(access_token))
    }
    fn delete_device(&self, user_id: &UserId, device_id: &str) -> Result<()> {
        self.read(|s| s.delete_device(user_id, device_id))
    }
    fn delete_devices_except(&self, user_id: &UserId, keep: Option<&str>) -> Result<()> {
        self.read(|s| s.delete_devices_except(user_id, keep))
    }
    fn profile(&self, user_id: &UserId) -> Result<Profile> {
        self.read(|s| s.profile(user_id))
    }
    fn set_profile(&self, user_id: &UserId, profile: &Profile) -> Result<()> {
        self.read(|s| s.set_profile(user_id, profile))
    }
    fn create_room(&self, room: &Room) -> Result<()> {
        self.read(|s| s.create_room(room))
    }
    fn room(&self, room_id: &RoomId) -> Result<Option<Room>> {
        self.read(|s| s.room(room_id))
    }
    fn set_alias(&self, alias: &RoomAlias, room_id: &RoomId) -> Result<()> {
        self.read(|s| s.set_alias(alias, room_id))
    }
    fn resolve_alias(&self, alias: &RoomAlias) -> Result<Option<RoomId>> {
        self.read(|s| s.resolve_alias(alias))
    }
    fn persist_event(&self, write: &EventWrite<'_>) -> Result<StreamPosition> {
        self.read(|s| s.persist_event(write))
    }
    fn persist_backfilled_events(&self, writes: &[EventWrite<'_>]) -> Result<Vec<StreamPosition>> {
        let started = Instant::now();
        let answer = self.inner.persist_backfilled_events(writes);
        self.persist.add(started.elapsed());
        answer
    }
    fn event(&self, event_id: &EventId) -> Result<Option<StoredEvent>> {
        self.read(|s| s.event(event_id))
    }
    fn transaction_event(&self, key: &TransactionKey) -> Result<Option<EventId>> {
        self.read(|s| s.transaction_event(key))
    }
    fn current_state(&self, room_id: &RoomId) -> Result<StateMap<EventId>> {
        self.read(|s| s.current_state(room_id))
    }
    fn state_after(&self, event_id: &EventId) -> Result<Option<StateMap<EventId>>> {
        self.read(|s| s.state_after(event_id))
    }
    fn forward_extremities(&self, room_id: &RoomId) -> Result<Vec<EventId>> {
        self.read(|s| s.forward_extremities(room_id))
    }
    fn rooms_with_membership(&self, user_id: &UserId, memberships: &[&str]) -> Result<Vec<RoomId>> {
        self.read(|s| s.rooms_with_membership(user_id, memberships))
    }
    fn room_events_after(
        &self,
        room_id: &RoomId,
        after: StreamPosition,
        up_to: StreamPosition,
        limit: usize,
    ) -> Result<Vec<StoredEvent>> {
        self.read(|s| s.room_events_after(room_id, after, up_to, limit))
    }
    fn room_events_before(
        &self,
        room_id: &RoomId,
        before: StreamPosition,
        limit: usize,
    ) -> Result<Vec<StoredEvent>> {
        self.read(|s| s.room_events_before(room_id, before, limit))
    }
    fn current_position(&self) -> Result<StreamPosition> {
        self.read(|s| s.current_position())
    }
    fn put_media(&self, media: &Media, bytes: &[u8]) -> Result<()> {
        self.read(|s| s.put_media(media, bytes))
    }
    fn media(&self, origin: &ServerName, media_id: &str) -> Result<Option<(Media, Vec<u8>)>> {
        self.read(|s| s.media(origin, media_id))
    }
    fn enqueue_outgoing(&self, destination: &ServerName, event_id: &EventId) -> Result<()> {
        self.read(|s| s.enqueue_outgoing(destination, event_id))
    }
    fn outgoing(&self, destination: &ServerName, limit: usize) -> Result<Vec<OutboxEntry>> {
        self.read(|s| s.outgoing(destination, limit))
    }
    fn acknowledge_outgoing(&self, destination: &ServerName, up_to: OutboxId) -> Result<()> {
        self.read(|s| s.acknowledge_outgoing(destination, up_to))
    }
    fn outgoing_destinations(&self) -> Result<Vec<ServerName>> {
        self.read(|s| s.outgoing_destinations())
    }
}
