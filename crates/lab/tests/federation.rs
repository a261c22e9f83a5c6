//! The lab as a test bench: two servers federating over real HTTP,
//! settling, stopping and restarting.

use lostfound_lab::{Lab, LabError};
use std::time::{Duration, Instant};

/// Two servers, a user on each, both in one public room created on the
/// first.
async fn two_servers_in_one_room(
    seed: u64,
) -> Result<(Lab, lostfound_lab::User, lostfound_lab::User, String), LabError> {
    let mut lab = Lab::new(seed).server("tomesh.lab").server("hypha.lab");
    lab.start().await?;
    let alice = lab.register("tomesh.lab", "alice").await?;
    let bob = lab.register("hypha.lab", "bob").await?;
    let room = alice.create_public_room("garden").await?;
    bob.join(&room, "tomesh.lab").await?;
    lab.settle().await?;
    Ok((lab, alice, bob, room))
}

/// What alice says on her server reaches bob on his, through the
/// federation sender: once the lab has settled, nothing is in flight.
#[tokio::test(flavor = "multi_thread")]
async fn messages_reach_the_other_server_once_settled() -> Result<(), LabError> {
    let (lab, alice, bob, room) = two_servers_in_one_room(1).await?;
    let sent: Vec<String> = (1..=5).map(|n| format!("message {n}")).collect();
    for text in &sent {
        alice.send_text(&room, text).await?;
    }
    lab.settle().await?;
    assert_eq!(bob.texts(&room).await?, sent);
    assert_eq!(alice.texts(&room).await?, sent);
    Ok(())
}

/// A quiet lab settles at once: two polls, not a timeout.
#[tokio::test(flavor = "multi_thread")]
async fn settling_an_idle_lab_returns_promptly() -> Result<(), LabError> {
    let (lab, _alice, _bob, _room) = two_servers_in_one_room(2).await?;
    let started = Instant::now();
    lab.settle().await?;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "settling took {took:?}");
    Ok(())
}

/// Settle ignores what is owed to a stopped server (it cannot be
/// delivered yet); once the server is back, the backlog is delivered.
#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_server_catches_up_after_its_restart() -> Result<(), LabError> {
    let (mut lab, alice, bob, room) = two_servers_in_one_room(3).await?;
    lab.stop("hypha.lab").await?;
    assert!(!lab.is_running("hypha.lab"));
    alice.send_text(&room, "while you were away").await?;
    lab.settle().await?;

    lab.restart("hypha.lab").await?;
    lab.settle().await?;
    assert_eq!(bob.texts(&room).await?, ["while you were away"]);
    Ok(())
}

/// A restart keeps the data directory: accounts, tokens and the room
/// survive, because acknowledged means durable.
#[tokio::test(flavor = "multi_thread")]
async fn a_restart_keeps_the_data() -> Result<(), LabError> {
    let (mut lab, alice, _bob, room) = two_servers_in_one_room(4).await?;
    alice.send_text(&room, "before the restart").await?;
    lab.settle().await?;
    let data_dir = lab.data_dir("tomesh.lab")?.to_path_buf();

    lab.restart("tomesh.lab").await?;
    assert_eq!(lab.data_dir("tomesh.lab")?, data_dir);
    assert_eq!(alice.texts(&room).await?, ["before the restart"]);
    alice.send_text(&room, "after the restart").await?;
    lab.settle().await?;
    assert_eq!(
        alice.texts(&room).await?,
        ["before the restart", "after the restart"]
    );
    Ok(())
}

/// Mistakes in a lab's setup are errors that say what is wrong.
#[tokio::test(flavor = "multi_thread")]
async fn setup_mistakes_are_named() {
    let mut twice = Lab::new(5).server("a.lab").server("a.lab");
    assert!(matches!(
        twice.start().await,
        Err(LabError::DuplicateServer(name)) if name == "a.lab"
    ));
    let lab = Lab::new(5);
    assert!(matches!(
        lab.register("nowhere.lab", "alice").await,
        Err(LabError::NotRunning(_))
    ));
    assert!(matches!(
        lab.base_url("nowhere.lab"),
        Err(LabError::UnknownServer(_))
    ));
}
