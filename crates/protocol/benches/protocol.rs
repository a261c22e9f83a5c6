//! Throughput of the protocol core on ~500-byte events, one core.
//!
//! Run with `cargo bench -p lostfound-protocol` (or `just bench`); the bench
//! profile is the release profile. It prints events per second for the
//! three things a homeserver does to every event it receives or sends:
//! canonical JSON + event ID, signing, and verifying. It prints figures; it
//! asserts nothing about speed, because speed depends on the machine.

use lostfound_protocol::JsonObject;
use lostfound_protocol::signing::{self, EventSignatureCheck, SigningKey};
use lostfound_protocol::{canonical_json, hashes};
use serde_json::{Value, json};
use std::hint::black_box;
use std::time::{Duration, Instant};

const EVENTS: usize = 2_000;
const MIN_TIME: Duration = Duration::from_secs(2);

fn main() {
    let key = SigningKey::from_seed(
        "tomesh.lab".parse().unwrap(),
        "ed25519:1".parse().unwrap(),
        [42; 32],
    );
    let unsigned: Vec<JsonObject> = (0..EVENTS).map(sample_event).collect();
    let signed: Vec<JsonObject> = unsigned
        .iter()
        .map(|event| {
            let mut event = event.clone();
            signing::hash_and_sign_event(&mut event, &key).unwrap();
            event
        })
        .collect();
    let mean_bytes = signed
        .iter()
        .map(|e| {
            canonical_json::encode(&Value::Object(e.clone()))
                .unwrap()
                .len()
        })
        .sum::<usize>()
        / EVENTS;
    println!(
        "protocol core, {EVENTS} distinct events of {mean_bytes} bytes on average (canonical, signed), one thread"
    );

    let server = key.server_name();
    let verify_key = key.verify_key();
    let verify_one = |event: &JsonObject| {
        signing::verify_event_signature(event, &server, key.key_id(), &verify_key).unwrap();
    };
    report(
        "canonical JSON + event ID",
        &signed,
        1,
        each(|event| {
            black_box(hashes::event_id(event).unwrap());
        }),
    );
    report(
        "hash + sign",
        &unsigned,
        1,
        each(|event| {
            let mut event = event.clone();
            signing::hash_and_sign_event(&mut event, &key).unwrap();
            black_box(event);
        }),
    );
    report("verify signature", &signed, 1, each(verify_one));
    report(
        "verify signatures, 50 at a time (a transaction)",
        &signed,
        50,
        |batch| {
            let checks: Vec<_> = batch
                .iter()
                .map(|event| EventSignatureCheck {
                    event,
                    server: &server,
                    key_id: key.key_id(),
                    key: &verify_key,
                })
                .collect();
            assert!(
                signing::verify_event_signatures(&checks)
                    .iter()
                    .all(Result::is_ok)
            );
        },
    );
    report(
        "verify signature + content hash + event ID",
        &signed,
        1,
        each(|event| {
            verify_one(event);
            black_box(hashes::ContentHashCheck::of(event).unwrap().matches());
            black_box(hashes::event_id(event).unwrap());
        }),
    );
}

/// Runs `work` over `events`, `batch` at a time, repeatedly for at least
/// `MIN_TIME`, and prints the rate.
fn report(name: &str, events: &[JsonObject], batch: usize, mut work: impl FnMut(&[JsonObject])) {
    let start = Instant::now();
    let mut done = 0usize;
    while start.elapsed() < MIN_TIME {
        for chunk in events.chunks(batch) {
            work(chunk);
            done += chunk.len();
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "  {name:<50} {:>9.0} events/s  ({done} in {seconds:.2} s)",
        done as f64 / seconds
    );
}

/// Adapts a one-event closure to `report`.
fn each(mut work: impl FnMut(&JsonObject)) -> impl FnMut(&[JsonObject]) {
    move |chunk| chunk.iter().for_each(&mut work)
}

/// A message event of roughly 500 bytes once signed, different for each `n`.
fn sample_event(n: usize) -> JsonObject {
    let event = json!({
        "room_id": "!general:tomesh.lab",
        "sender": format!("@user{}:tomesh.lab", n % 50),
        "type": "m.room.message",
        "content": {"msgtype": "m.text", "body": format!("message {n}: the backup is old")},
        "prev_events": [format!("$prev{n:040}")],
        "auth_events": ["$createAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
        "depth": n + 10,
        "origin": "tomesh.lab",
        "origin_server_ts": 1_610_000_000_000u64 + n as u64,
    });
    match event {
        Value::Object(object) => object,
        _ => unreachable!("json! of an object"),
    }
}
