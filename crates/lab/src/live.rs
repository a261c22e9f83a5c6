//! The stories the live exercises run a student's hook in (see [`hooks`]),
//! and the checks that say, on failure, which messages stay missing where.
//!
//! Three servers, as in 2021: `tomesh.lab` holds the room (alice),
//! `hypha.lab` is the one that fails (bob), `fairydust.lab` is a third
//! member (carol).
//!
//! - [`restored_hypha`]: hypha's data directory is copied aside (the
//!   backup), the room goes on for a while, then hypha is restored from
//!   the copy: it has lost what was said since. Whether it heals is up to
//!   the healing code, reference or student's.
//! - [`fork`]: tomesh and hypha each change the room while cut off from
//!   each other, and fairydust, cut off too, later receives both branches:
//!   it must resolve them to the state the others resolved them to.
//!
//! Every random choice comes from the seed, so a failing seed fails the
//! same way every time.
//!
//! [`hooks`]: crate::hooks

use crate::{Hooks, Lab, LabError, User};
use lostfound_protocol::ids::{EventId, RoomId};
use lostfound_protocol::state::StateMap;
use lostfound_store::Store;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The room's home server: alice's.
pub const TOMESH: &str = "tomesh.lab";
/// The server that fails and is restored from a backup: bob's.
pub const HYPHA: &str = "hypha.lab";
/// A third member server: carol's.
pub const FAIRYDUST: &str = "fairydust.lab";

/// The seed of the recorded incident; live exercises run it and others.
pub const INCIDENT_SEED: u64 = 2021;
/// The seeds a live exercise is graded on: the incident and three more.
pub const SEEDS: [u64; 4] = [INCIDENT_SEED, 1, 2, 3];

/// How long a live story's settles may take: far more than they need.
const PATIENCE: Duration = Duration::from_secs(30);

/// Why a live story could not be told.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(transparent)]
    Lab(#[from] LabError),
    #[error("{0}")]
    Story(String),
}

/// One message a story sent, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The server of its sender.
    pub server: &'static str,
    pub event_id: String,
    pub body: String,
}

/// The three users of a story, in a room of tomesh's.
pub struct Cast {
    pub alice: User,
    pub bob: User,
    pub carol: User,
    pub room: String,
}

/// A small seeded generator (splitmix64): the stories' only randomness.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % sides.max(1)
    }
}

/// A started lab of the three servers, `hooks` installed where named.
pub async fn three_servers(seed: u64, hooks: &[(&str, Hooks)]) -> Result<Lab, LiveError> {
    let mut lab = Lab::new(seed).with_patience(PATIENCE);
    for name in [TOMESH, HYPHA, FAIRYDUST] {
        lab = match hooks.iter().find(|(server, _)| *server == name) {
            Some((_, hooks)) => lab.server_with_hooks(name, hooks.clone()),
            None => lab.server(name),
        };
    }
    lab.start().await?;
    Ok(lab)
}

/// alice creates a public room on tomesh; bob and carol join it.
pub async fn cast(lab: &Lab) -> Result<Cast, LiveError> {
    let alice = lab.register(TOMESH, "alice").await?;
    let bob = lab.register(HYPHA, "bob").await?;
    let carol = lab.register(FAIRYDUST, "carol").await?;
    let room = alice.create_public_room("garden").await?;
    lab.advance(Duration::from_secs(60));
    bob.join(&room, TOMESH).await?;
    lab.settle().await?;
    lab.advance(Duration::from_secs(60));
    carol.join(&room, TOMESH).await?;
    lab.settle().await?;
    Ok(Cast {
        alice,
        bob,
        carol,
        room,
    })
}

/// A lab whose hypha was restored from a backup after `lost` messages.
pub struct Restored {
    pub lab: Lab,
    pub cast: Cast,
    /// Acknowledged messages sent after the backup: hypha held them once
    /// and lost them in the restore.
    pub lost: Vec<Message>,
}

/// The incident in small: a backup of hypha, `lost` messages from alice
/// and carol in seeded batches (each batch settled, so the history is one
/// line and the same every run), then hypha restored from the backup.
pub async fn restored_hypha(
    seed: u64,
    hooks: &[(&str, Hooks)],
    lost: usize,
) -> Result<Restored, LiveError> {
    let mut lab = three_servers(seed, hooks).await?;
    let cast = cast(&lab).await?;
    cast.alice
        .send_text(&cast.room, "before the backup")
        .await?;
    lab.settle().await?;

    let backup = lab.backup(HYPHA, "january").await?;
    lab.settle().await?;

    let mut dice = Dice(seed);
    let mut sent = Vec::new();
    while sent.len() < lost {
        let (user, server) = if dice.roll(2) == 0 {
            (&cast.alice, TOMESH)
        } else {
            (&cast.carol, FAIRYDUST)
        };
        let batch = (1 + dice.roll(4) as usize).min(lost - sent.len());
        for _ in 0..batch {
            lab.advance(Duration::from_secs(60 * (1 + dice.roll(30))));
            let body = format!("lost message {} (seed {seed})", sent.len() + 1);
            let event_id = user.send_text(&cast.room, &body).await?;
            sent.push(Message {
                server,
                event_id,
                body,
            });
        }
        lab.settle().await?;
    }
    let held = missing_on(&lab, HYPHA, &sent)?;
    if !held.is_empty() {
        return Err(LiveError::Story(format!(
            "before the restore, {}",
            describe_missing(HYPHA, &held, sent.len())
        )));
    }

    lab.restore(HYPHA, &backup).await?;
    lab.settle().await?;
    Ok(Restored {
        lab,
        cast,
        lost: sent,
    })
}

/// The messages `server` does not hold as timeline events (what a client
/// cannot see there).
pub fn missing_on<'a>(
    lab: &Lab,
    server: &str,
    messages: &'a [Message],
) -> Result<Vec<&'a Message>, LiveError> {
    let store = lab.store(server)?;
    let mut missing = Vec::new();
    for message in messages {
        let event_id: EventId = message
            .event_id
            .parse()
            .map_err(|e| LiveError::Story(format!("bad event ID {}: {e}", message.event_id)))?;
        let held = store
            .event(&event_id)
            .map_err(|source| LabError::Store {
                server: server.to_owned(),
                source,
            })?
            .is_some_and(|stored| !stored.outlier);
        if !held {
            missing.push(message);
        }
    }
    Ok(missing)
}

/// "hypha.lab still lacks 3 of 20 events: …", for an assertion.
pub fn describe_missing(server: &str, missing: &[&Message], of: usize) -> String {
    let list: Vec<String> = missing
        .iter()
        .map(|m| format!("{:?} from {} ({})", m.body, m.server, m.event_id))
        .collect();
    format!(
        "{server} still lacks {} of {of} events:\n  {}",
        missing.len(),
        list.join("\n  ")
    )
}

/// Every message body `user` can read in `room`, scrolling back page by
/// page (each page may make the server backfill) until the start.
pub async fn scroll_back(user: &User, room: &str) -> Result<Vec<String>, LiveError> {
    let mut bodies = Vec::new();
    let mut from: Option<String> = None;
    let started = Instant::now();
    for _ in 0..100 {
        let mut path = format!("/_matrix/client/v3/rooms/{room}/messages?dir=b&limit=20");
        if let Some(token) = &from {
            path.push_str(&format!("&from={token}"));
        }
        let page = user.request(Method::GET, &path, None).await?;
        let chunk = page["chunk"].as_array().cloned().unwrap_or_default();
        bodies.extend(
            chunk
                .iter()
                .filter(|event| event["type"] == "m.room.message")
                .filter_map(|event| event["content"]["body"].as_str().map(str::to_owned)),
        );
        match page["end"].as_str() {
            Some(end) if started.elapsed() < PATIENCE => from = Some(end.to_owned()),
            _ => break,
        }
    }
    Ok(bodies)
}

/// Sets a state event as `user`.
pub async fn set_state(
    user: &User,
    room: &str,
    kind: &str,
    content: Value,
) -> Result<String, LiveError> {
    let path = format!("/_matrix/client/v3/rooms/{room}/state/{kind}/");
    let answer = user.request(Method::PUT, &path, Some(content)).await?;
    answer["event_id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| LiveError::Story(format!("no event_id setting {kind}: {answer}")))
}

/// A lab in which fairydust received two concurrent branches of the room.
pub struct Forked {
    pub lab: Lab,
    pub cast: Cast,
    /// Every message and state event the story sent, on both branches and
    /// after.
    pub sent: Vec<Message>,
}

/// What one side of the fork does, in order.
const BRANCH: [&str; 4] = ["m.room.topic", "message", "m.room.name", "message"];

/// Two branches: with fairydust and hypha cut off, alice (on tomesh) and
/// bob (on hypha; alice made him an admin first) each set the topic and
/// the name and send messages, interleaved in a seeded order, neither
/// seeing the other's. Then hypha's partition heals (tomesh and hypha
/// resolve the fork), alice sends a message that merges the branches, and
/// last fairydust's partition heals: it receives both branches and the
/// merge, and must resolve them as the others did.
pub async fn fork(seed: u64, hooks: &[(&str, Hooks)]) -> Result<Forked, LiveError> {
    let lab = three_servers(seed, hooks).await?;
    let cast = cast(&lab).await?;
    let bob_admin = json!({
        "users": { cast.alice.user_id.clone(): 100, cast.bob.user_id.clone(): 100 },
    });
    set_state(&cast.alice, &cast.room, "m.room.power_levels", bob_admin).await?;
    lab.settle().await?;

    lab.partition(FAIRYDUST)?;
    lab.partition(HYPHA)?;
    let mut dice = Dice(seed);
    let mut sent = Vec::new();
    let (mut alice_done, mut bob_done) = (0, 0);
    while alice_done < BRANCH.len() || bob_done < BRANCH.len() {
        let alice_turn =
            bob_done == BRANCH.len() || (alice_done < BRANCH.len() && dice.roll(2) == 0);
        let (user, server, name, step) = if alice_turn {
            alice_done += 1;
            (&cast.alice, TOMESH, "alice", BRANCH[alice_done - 1])
        } else {
            bob_done += 1;
            (&cast.bob, HYPHA, "bob", BRANCH[bob_done - 1])
        };
        lab.advance(Duration::from_secs(60 * (1 + dice.roll(10))));
        let (event_id, body) = match step {
            "m.room.topic" => {
                let body = format!("{name}'s topic");
                let content = json!({"topic": body});
                (set_state(user, &cast.room, step, content).await?, body)
            }
            "m.room.name" => {
                let body = format!("{name}'s garden");
                let content = json!({"name": body});
                (set_state(user, &cast.room, step, content).await?, body)
            }
            _ => {
                let body = format!("{name} says hello from {server}");
                (user.send_text(&cast.room, &body).await?, body)
            }
        };
        sent.push(Message {
            server,
            event_id,
            body,
        });
    }
    lab.settle().await?;
    lab.heal(HYPHA)?;
    lab.settle().await?;
    lab.advance(Duration::from_secs(60));
    let body = "alice merges the branches".to_owned();
    let event_id = cast.alice.send_text(&cast.room, &body).await?;
    sent.push(Message {
        server: TOMESH,
        event_id,
        body,
    });
    lab.settle().await?;
    lab.heal(FAIRYDUST)?;
    lab.settle().await?;
    Ok(Forked { lab, cast, sent })
}

/// The room's current state on each server, by server name.
pub fn room_states(
    lab: &Lab,
    room: &str,
) -> Result<BTreeMap<String, StateMap<EventId>>, LiveError> {
    let room_id: RoomId = room
        .parse()
        .map_err(|e| LiveError::Story(format!("bad room ID {room}: {e}")))?;
    let mut states = BTreeMap::new();
    for name in [TOMESH, HYPHA, FAIRYDUST] {
        let state = lab
            .store(name)?
            .current_state(&room_id)
            .map_err(|source| LabError::Store {
                server: name.to_owned(),
                source,
            })?;
        states.insert(name.to_owned(), state);
    }
    Ok(states)
}

/// The slots on which the servers' states differ, one line each with
/// every server's event ID there: empty when all agree.
pub fn disagreements(states: &BTreeMap<String, StateMap<EventId>>) -> Vec<String> {
    let mut slots: Vec<_> = states.values().flat_map(|state| state.keys()).collect();
    slots.sort();
    slots.dedup();
    let mut lines = Vec::new();
    for slot in slots {
        let held: Vec<Option<&EventId>> = states.values().map(|state| state.get(slot)).collect();
        if held.windows(2).any(|pair| pair[0] != pair[1]) {
            let each: Vec<String> = states
                .iter()
                .map(|(server, state)| match state.get(slot) {
                    Some(id) => format!("{server}: {id}"),
                    None => format!("{server}: (none)"),
                })
                .collect();
            lines.push(format!("{slot:?} → {}", each.join(", ")));
        }
    }
    lines
}

/// [`disagreements`], each event shown with what it says (a topic, a
/// name, a membership), as far as the server holding it can tell.
pub fn explain_disagreements(
    lab: &Lab,
    states: &BTreeMap<String, StateMap<EventId>>,
) -> Result<Vec<String>, LiveError> {
    let mut lines = disagreements(states);
    if lines.is_empty() {
        return Ok(lines);
    }
    let mut said = Vec::new();
    let mut shown = std::collections::BTreeSet::new();
    for (server, state) in states {
        let store = lab.store(server)?;
        for event_id in state.values() {
            if !shown.insert(event_id.clone())
                || !lines.iter().any(|l| l.contains(event_id.as_str()))
            {
                continue;
            }
            let event = store.event(event_id).map_err(|source| LabError::Store {
                server: server.clone(),
                source,
            })?;
            if let Some(stored) = event {
                let content = Value::Object(stored.event.content().clone());
                said.push(format!(
                    "{event_id} = {} by {}: {content}",
                    stored.event.event_type(),
                    stored.event.sender()
                ));
            }
        }
    }
    lines.push("where:".to_owned());
    lines.extend(said.into_iter().map(|line| format!("  {line}")));
    Ok(lines)
}
