//! The incident's operations on real files: backup, the capped copy, the
//! cleanup with and without verification, restore, crash and partition.

use lostfound_lab::chaos::reference_verifier;
use lostfound_lab::{Cleanup, Lab, LabError, Quota, User};
use lostfound_store::StoreError;

async fn lab_with_a_room(seed: u64) -> Result<(Lab, User, User, String), LabError> {
    let mut lab = Lab::new(seed).server("tomesh.lab").server("matrix.lab");
    lab.start().await?;
    let alice = lab.register("tomesh.lab", "alice").await?;
    let bob = lab.register("matrix.lab", "bob").await?;
    let room = alice.create_public_room("hypha").await?;
    bob.join(&room, "tomesh.lab").await?;
    lab.settle().await?;
    Ok((lab, alice, bob, room))
}

async fn send_many(user: &User, room: &str, prefix: &str, count: usize) -> Result<(), LabError> {
    for n in 0..count {
        user.send_text(room, &format!("{prefix} {n}")).await?;
    }
    Ok(())
}

/// The whole incident on one server: the copy fails for real, the
/// unverified cleanup deletes the original, the server refuses the
/// unfinished copy, the restore brings January back, and a new message
/// from a peer pulls the gap in through the federation.
#[tokio::test(flavor = "multi_thread")]
async fn the_incident_and_its_partial_healing() -> Result<(), LabError> {
    let (mut lab, alice, bob, room) = lab_with_a_room(11).await?;
    send_many(&alice, &room, "before the backup", 3).await?;
    lab.settle().await?;
    let january = lab.backup("tomesh.lab", "january").await?;
    send_many(&alice, &room, "in the gap", 40).await?;
    lab.settle().await?;

    let copy = lab
        .migrate("tomesh.lab", Quota::FractionOfDatabase(0.5))
        .await?;
    let failure = copy.failure.expect("half the size cannot hold the copy");
    assert!(failure.contains("database or disk is full"), "{failure}");
    assert_eq!(
        lab.cleanup("tomesh.lab", None).await?,
        Cleanup::Replaced { verified: false }
    );
    match lab.start_server("tomesh.lab").await {
        Err(LabError::Store {
            source: StoreError::Unusable { reason, .. },
            ..
        }) => assert!(reason.starts_with("an unfinished copy"), "{reason}"),
        other => panic!("the server must refuse the unfinished copy, got {other:?}"),
    }
    assert!(!lab.is_running("tomesh.lab"));

    lab.restore("tomesh.lab", &january).await?;
    lab.settle().await?;
    // alice's access token dates from before the backup: still valid.
    let texts = alice.texts(&room).await?;
    assert_eq!(texts.len(), 3, "January's view: {texts:?}");

    bob.send_text(&room, "is anyone there?").await?;
    lab.settle().await?;
    let texts = alice.texts(&room).await?;
    assert_eq!(
        texts.len(),
        44,
        "healed through get_missing_events: {texts:?}"
    );
    assert_eq!(texts.last().map(String::as_str), Some("is anyone there?"));
    Ok(())
}

/// With verification, the cleanup refuses the incomplete copy, keeps the
/// original, and the server starts with everything.
#[tokio::test(flavor = "multi_thread")]
async fn a_verified_cleanup_refuses_and_nothing_is_lost() -> Result<(), LabError> {
    let (mut lab, alice, _bob, room) = lab_with_a_room(12).await?;
    send_many(&alice, &room, "message", 40).await?;
    lab.settle().await?;
    let copy = lab
        .migrate("tomesh.lab", Quota::FractionOfDatabase(0.5))
        .await?;
    assert!(!copy.is_complete());
    match lab.cleanup("tomesh.lab", Some(&reference_verifier)).await? {
        Cleanup::Refused(check) => {
            assert!(check.problems[0].contains("unfinished copy"), "{check:?}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    lab.start_server("tomesh.lab").await?;
    assert_eq!(alice.texts(&room).await?.len(), 40);

    // Given room enough, the copy verifies and replaces the original.
    let copy = lab.migrate("tomesh.lab", Quota::Unlimited).await?;
    assert!(copy.is_complete(), "{copy:?}");
    assert_eq!(
        lab.cleanup("tomesh.lab", Some(&reference_verifier)).await?,
        Cleanup::Replaced { verified: true }
    );
    lab.start_server("tomesh.lab").await?;
    assert_eq!(alice.texts(&room).await?.len(), 40);
    Ok(())
}

/// A partitioned server keeps serving its users; what they say reaches
/// the others once the partition heals, and the reverse.
#[tokio::test(flavor = "multi_thread")]
async fn a_partition_holds_messages_until_it_heals() -> Result<(), LabError> {
    let (lab, alice, bob, room) = lab_with_a_room(13).await?;
    lab.partition("tomesh.lab")?;
    alice.send_text(&room, "from inside the partition").await?;
    bob.send_text(&room, "from outside").await?;
    lab.settle().await?;
    assert_eq!(bob.texts(&room).await?, ["from outside"]);
    assert_eq!(alice.texts(&room).await?, ["from inside the partition"]);

    lab.heal("tomesh.lab")?;
    lab.settle().await?;
    let mut seen_by_bob = bob.texts(&room).await?;
    let mut seen_by_alice = alice.texts(&room).await?;
    seen_by_bob.sort();
    seen_by_alice.sort();
    assert_eq!(seen_by_bob, ["from inside the partition", "from outside"]);
    assert_eq!(seen_by_alice, seen_by_bob);
    Ok(())
}

/// A crashed server keeps every acknowledged message.
#[tokio::test(flavor = "multi_thread")]
async fn a_crash_keeps_what_was_acknowledged() -> Result<(), LabError> {
    let (mut lab, alice, _bob, room) = lab_with_a_room(14).await?;
    send_many(&alice, &room, "acknowledged", 10).await?;
    lab.crash("tomesh.lab").await?;
    assert!(!lab.is_running("tomesh.lab"));
    lab.start_server("tomesh.lab").await?;
    assert_eq!(alice.texts(&room).await?.len(), 10);
    Ok(())
}
