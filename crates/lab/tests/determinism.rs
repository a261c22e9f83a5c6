//! The property the lab exists for: the same seed and the same script
//! give the same room IDs and the same event IDs, run after run, so that
//! a scenario's report can be snapshotted. A different seed gives a
//! different (but equally reproducible) history.

use lostfound_lab::clock::START_OF_2021_MS;
use lostfound_lab::{Lab, LabError};
use std::time::Duration;

/// What a run produced: the room's ID and the ID of every event bob's
/// server holds in its timeline, oldest first.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    room_id: String,
    sent: Vec<String>,
    timeline: Vec<String>,
    /// `origin_server_ts` of the messages, as bob's server shows them.
    message_times: Vec<u64>,
}

/// Two fresh servers; alice creates a room, bob joins from the other
/// server, alice sends five messages a minute apart (virtual minutes).
async fn script(seed: u64) -> Result<Run, LabError> {
    let mut lab = Lab::new(seed).server("tomesh.lab").server("hypha.lab");
    lab.start().await?;
    let alice = lab.register("tomesh.lab", "alice").await?;
    let bob = lab.register("hypha.lab", "bob").await?;
    let room_id = alice.create_public_room("garden").await?;
    lab.advance(Duration::from_secs(60));
    bob.join(&room_id, "tomesh.lab").await?;
    lab.settle().await?;
    let mut sent = Vec::new();
    for n in 1..=5 {
        lab.advance(Duration::from_secs(60));
        sent.push(alice.send_text(&room_id, &format!("message {n}")).await?);
    }
    lab.settle().await?;
    let timeline = bob.messages(&room_id).await?;
    let message_times = timeline
        .iter()
        .filter(|event| event["type"] == "m.room.message")
        .filter_map(|event| event["origin_server_ts"].as_u64())
        .collect();
    let timeline = timeline
        .iter()
        .filter_map(|event| event["event_id"].as_str().map(str::to_owned))
        .collect();
    Ok(Run {
        room_id,
        sent,
        timeline,
        message_times,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_seed_gives_the_same_ids() -> Result<(), LabError> {
    let first = script(2021).await?;
    let second = script(2021).await?;
    assert_eq!(first, second);
    // Bob's server holds the whole room: the creation events, his join,
    // and the five messages, each with the ID alice's server gave it.
    assert!(first.timeline.ends_with(&first.sent), "{first:?}");
    assert!(first.room_id.ends_with(":tomesh.lab"));
    // The timestamps are the lab's virtual minutes, not the wall clock.
    let minutes: Vec<u64> = (2..=6).map(|n| START_OF_2021_MS + n * 60_000).collect();
    assert_eq!(first.message_times, minutes);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn another_seed_gives_other_ids() -> Result<(), LabError> {
    let (one, other) = (script(2021).await?, script(2022).await?);
    assert_ne!(one.room_id, other.room_id);
    for (a, b) in one.sent.iter().zip(&other.sent) {
        assert_ne!(a, b);
    }
    Ok(())
}
