//! Convergence under partitions: three homeservers share a public room,
//! their users send messages and change state while servers go down and
//! come back, in an order a seeded random generator picks. Once every
//! server is back and the federation has gone quiet, all three must hold
//! the same current state, and every message a server acknowledged must be
//! readable on every server.
//!
//! What this test teaches: a Matrix room has no leader. Each server keeps
//! accepting its own users' events while the others are unreachable, so the
//! room's history forks; the outbox delivers what was missed, and state
//! resolution makes every server pick the same winner for each conflicting
//! slot, whatever order the branches arrived in.
//!
//! A partition here is a stopped server (its data directory kept), so a
//! cut-off server accepts nothing itself; the history forks all the same:
//! servers send while a peer's copy is stale (delivery is asynchronous, and
//! a restarted server speaks before the others' retries reach it), and a
//! "burst" has every running server set the same slot at once. A failure
//! prints each failing seed with its steps and the per-server differences;
//! put that seed alone in [`SEEDS`] to replay it.

#[path = "federation_convergence/lab.rs"]
mod lab;
#[path = "federation_convergence/scenario.rs"]
mod scenario;

use lab::{Node, wait_until};
use reqwest::StatusCode;
use scenario::{Step, scenario};
use serde_json::json;

/// The seeds every run tries: fixed, so a failure can be replayed.
const SEEDS: [u64; 10] = [
    1,
    2,
    3,
    4,
    0x2021,
    0xdead_beef,
    0x5eed_cafe,
    0x1057_f0ad,
    0x7c,
    0xb0b,
];
/// What a run saw: the messages servers acknowledged, for the final check.
struct Run {
    room_id: String,
    sent: Vec<(usize, String)>,
}

async fn join_room(nodes: &[Node]) -> String {
    let (status, created) = nodes[0]
        .request(
            "POST",
            "/_matrix/client/v3/createRoom",
            Some(json!({
                "preset": "public_chat",
                // Everyone may change state, so that servers conflict.
                "power_level_content_override": {
                    "state_default": 0,
                    "events": {"m.room.name": 0, "m.room.topic": 0},
                },
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let room_id = created["room_id"].as_str().unwrap().to_owned();
    for node in &nodes[1..] {
        let path = format!("/_matrix/client/v3/join/{room_id}?server_name=a.lab");
        let (status, answer) = node.request("POST", &path, Some(json!({}))).await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", node.name);
    }
    room_id
}

/// Performs one step; events are sent through the client API of their
/// user's own server, which must accept them (it is up).
async fn perform(nodes: &mut [Node], run: &mut Run, number: usize, step: &Step) {
    match step {
        Step::Stop(i) => nodes[*i].stop().await,
        Step::Restart(i) => nodes[*i].restart().await,
        Step::Burst(key) => {
            let up: Vec<usize> = (0..nodes.len()).filter(|i| nodes[*i].is_up()).collect();
            let sends = up.iter().map(|i| {
                let event = Step::Custom(*i, key);
                send(&nodes[*i], &run.room_id, number, event)
            });
            join_all(sends).await; // state events: nothing to record
        }
        event => {
            let server = event.server();
            if let Some(event_id) = send(&nodes[server], &run.room_id, number, event.clone()).await
            {
                run.sent.push((server, event_id));
            }
        }
    }
}

/// Sends one event; the event ID if it is a message (the check follows
/// messages; state is compared as a whole).
async fn send(node: &Node, room_id: &str, number: usize, event: Step) -> Option<String> {
    let (path, content) = match &event {
        Step::Message(_) => (
            format!("send/m.room.message/s{number}"),
            json!({"msgtype": "m.text", "body": format!("step {number}")}),
        ),
        Step::Topic(_) => (
            "state/m.room.topic".to_owned(),
            json!({"topic": format!("step {number}")}),
        ),
        Step::Name(_) => (
            "state/m.room.name".to_owned(),
            json!({"name": format!("step {number}")}),
        ),
        Step::Custom(_, key) => (
            format!("state/org.lab.flag/{key}"),
            json!({"step": number, "by": node.name}),
        ),
        Step::Power(level) => (
            "state/m.room.power_levels".to_owned(),
            json!({
                "users": {"@alice:a.lab": 100}, "users_default": 0, "events_default": 0,
                "state_default": level, "ban": 50, "kick": 50, "redact": 50, "invite": 0,
                "events": {"m.room.name": level, "m.room.topic": level, "m.room.power_levels": 100},
            }),
        ),
        other => unreachable!("{other} sends no event"),
    };
    let path = format!("/_matrix/client/v3/rooms/{room_id}/{path}");
    let (status, answer) = node.request("PUT", &path, Some(content)).await;
    if status == StatusCode::FORBIDDEN && !matches!(event, Step::Message(_)) {
        return None; // state_default is 50 in this server's view
    }
    assert_eq!(
        status,
        StatusCode::OK,
        "{} step {number} ({event}): {answer}",
        node.name
    );
    let event_id = answer["event_id"].as_str().expect("an event ID").to_owned();
    matches!(event, Step::Message(_)).then_some(event_id)
}

/// Polls every future to completion, concurrently (no `futures` dependency).
async fn join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(context) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

/// Restarts every stopped server, waits for every outbox to drain, then
/// has each server in turn send a message once it holds the previous one:
/// the last names everything before it, so the branches are merged.
async fn settle(nodes: &mut [Node], run: &mut Run) -> Result<(), String> {
    let mut restarted = Vec::new();
    for node in nodes.iter_mut().filter(|node| !node.is_up()) {
        node.restart().await;
        restarted.push(node.name.clone());
    }
    // As the lab does: the peers retry now instead of waiting out their
    // backoff (up to a minute, longer than this test's patience).
    for node in nodes.iter() {
        for name in &restarted {
            node.peer_is_back(name);
        }
    }
    wait_until("every outbox is empty", || {
        nodes.iter().all(|n| n.queued() == 0)
    })
    .await?;
    let mut previous: Option<String> = None;
    for (index, round) in (0..nodes.len()).chain(0..nodes.len()).enumerate() {
        if let Some(event_id) = &previous {
            let what = format!("{} holds {event_id}", nodes[round].name);
            wait_until(&what, || nodes[round].holds(event_id)).await?;
        }
        let step = Step::Message(round);
        perform(nodes, run, 1000 + index, &step).await;
        previous = run.sent.last().map(|(_, event_id)| event_id.clone());
    }
    let last = previous.unwrap();
    wait_until("every server holds the last merge", || {
        nodes.iter().all(|n| n.holds(&last))
    })
    .await?;
    wait_until("every outbox is empty", || {
        nodes.iter().all(|n| n.queued() == 0)
    })
    .await
}

/// The differences between the servers' current states and missing
/// messages; empty when they converged.
async fn differences(nodes: &[Node], run: &Run) -> Vec<String> {
    let mut problems = Vec::new();
    let states = [
        nodes[0].state(&run.room_id).await,
        nodes[1].state(&run.room_id).await,
        nodes[2].state(&run.room_id).await,
    ];
    let mut slots: Vec<&String> = states.iter().flat_map(|state| state.keys()).collect();
    slots.sort();
    slots.dedup();
    for slot in slots {
        let values: Vec<Option<&String>> = states.iter().map(|state| state.get(slot)).collect();
        if values.iter().any(|value| *value != values[0]) {
            problems.push(format!(
                "state {slot}: a={:?} b={:?} c={:?}",
                values[0], values[1], values[2]
            ));
        }
    }
    for node in nodes {
        let timeline = node.timeline(&run.room_id).await;
        for (from, event_id) in &run.sent {
            if !timeline.contains(event_id) {
                problems.push(format!(
                    "{} lacks {}'s message {event_id} in /messages (held: {})",
                    node.name,
                    nodes[*from].name,
                    node.holds(event_id)
                ));
            }
        }
    }
    problems
}

/// Runs the scenario of `seed` on three fresh servers.
async fn check(seed: u64) -> Result<(), String> {
    let steps = scenario(seed);
    let listed: Vec<String> = steps.iter().map(ToString::to_string).collect();
    // Shown only if the test fails, even by a panic in a step.
    eprintln!("seed {seed:#x}: {}", listed.join(", "));
    let mut nodes = lab::start(&["a.lab", "b.lab", "c.lab"], &["alice", "bob", "carol"]).await;
    let room_id = join_room(&nodes).await;
    let mut run = Run {
        room_id,
        sent: Vec::new(),
    };
    for (number, step) in steps.iter().enumerate() {
        perform(&mut nodes, &mut run, number, step).await;
    }
    let settled = settle(&mut nodes, &mut run).await;
    let problems = differences(&nodes, &run).await;
    let extremities: Vec<String> = nodes
        .iter()
        .map(|node| {
            format!(
                "{} extremities: {:?}",
                node.name,
                node.extremities(&run.room_id)
            )
        })
        .collect();
    for node in &mut nodes {
        node.stop().await;
    }
    if settled.is_ok() && problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "seed {seed:#x} did not converge{}\nsteps:\n  {}\ndifferences:\n  {}\n  {}",
        settled.err().map(|e| format!(" ({e})")).unwrap_or_default(),
        listed.join("\n  "),
        problems.join("\n  "),
        extremities.join("\n  "),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_converge_after_random_partitions_and_concurrent_state_changes() {
    let mut failures = Vec::new();
    for seed in SEEDS {
        if let Err(failure) = check(seed).await {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
