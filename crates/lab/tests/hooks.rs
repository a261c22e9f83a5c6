//! Exercise hooks in a running lab: the student's function is what the
//! peers run, it is counted, and a panicking one costs an error answer,
//! not the server.

use lostfound_lab::live::{
    FAIRYDUST, HYPHA, LiveError, TOMESH, describe_missing, missing_on, restored_hypha, scroll_back,
};
use lostfound_lab::{Hooks, Lab, LabError};
use lostfound_server::hooks::reference;
use std::time::Duration;

/// The peers serve history with the reference walks, installed as hooks:
/// the restored server heals, and the hooks were called.
#[tokio::test(flavor = "multi_thread")]
async fn hooks_run_in_place_of_the_reference_and_are_counted() -> Result<(), LiveError> {
    let hooks = Hooks::new()
        .backfill(reference::backfill)
        .missing_events(reference::get_missing_events);
    let peers = [(TOMESH, hooks.clone()), (FAIRYDUST, hooks.clone())];
    let restored = restored_hypha(2021, &peers, 25).await?;
    let (lab, cast) = (&restored.lab, &restored.cast);
    assert_eq!(missing_on(lab, HYPHA, &restored.lost)?.len(), 25);

    lab.advance(Duration::from_secs(60));
    cast.alice.send_text(&cast.room, "after the restore").await?;
    lab.settle().await?;
    let seen = scroll_back(&cast.bob, &cast.room).await?;
    let missing: Vec<_> = restored
        .lost
        .iter()
        .filter(|message| !seen.contains(&message.body))
        .collect();
    assert!(missing.is_empty(), "{}", describe_missing(HYPHA, &missing, 25));
    let calls = hooks.calls();
    assert!(calls.missing_events.calls > 0, "{calls:?}");
    assert!(calls.backfill.calls > 0, "{calls:?}");
    assert_eq!(calls.backfill.panics + calls.missing_events.panics, 0);
    Ok(())
}

/// A hook that panics (the untouched `todo!()` of an exercise) is an
/// error answer: the restored server stays without its history, and the
/// peers keep running.
#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_hook_is_an_error_answer_not_a_crash() -> Result<(), LiveError> {
    let hooks = Hooks::new().backfill(|_, _, _, _| todo!("write backfill"));
    let peers = [(TOMESH, hooks.clone()), (FAIRYDUST, hooks.clone())];
    let restored = restored_hypha(7, &peers, 25).await?;
    let (lab, cast) = (&restored.lab, &restored.cast);
    lab.advance(Duration::from_secs(60));
    cast.alice.send_text(&cast.room, "after the restore").await?;
    lab.settle().await?;
    let seen = scroll_back(&cast.bob, &cast.room).await?;
    let missing = restored
        .lost
        .iter()
        .filter(|message| !seen.contains(&message.body))
        .count();
    // get_missing_events (the reference) brought the newest few back;
    // backfill, which would have brought the rest, panicked every time.
    assert!(missing > 0, "all messages came back without backfill");
    let calls = hooks.calls().backfill;
    assert!(calls.calls > 0 && calls.panics == calls.calls, "{calls:?}");
    // The peers are still up and still federating.
    cast.alice.send_text(&cast.room, "still here").await?;
    lab.settle().await?;
    assert!(cast.bob.texts(&cast.room).await?.contains(&"still here".to_owned()));
    Ok(())
}

/// The hooks given to a server are the ones it runs, and survive a
/// restart; other servers run none.
#[tokio::test(flavor = "multi_thread")]
async fn hooks_belong_to_one_server_and_survive_a_restart() -> Result<(), LabError> {
    let hooks = Hooks::new().gap_detection(|_, _| Default::default());
    let mut lab = Lab::new(11)
        .server("tomesh.lab")
        .server_with_hooks("hypha.lab", hooks.clone());
    lab.start().await?;
    assert!(lab.hooks("tomesh.lab").is_empty());
    assert!(!lab.hooks("hypha.lab").is_empty());
    let alice = lab.register("tomesh.lab", "alice").await?;
    let bob = lab.register("hypha.lab", "bob").await?;
    let room = alice.create_public_room("garden").await?;
    bob.join(&room, "tomesh.lab").await?;
    lab.settle().await?;
    lab.restart("hypha.lab").await?;
    let before = hooks.calls().gap_detection.calls;
    alice.send_text(&room, "hello").await?;
    lab.settle().await?;
    assert!(hooks.calls().gap_detection.calls > before);
    assert_eq!(bob.texts(&room).await?, ["hello"]);
    Ok(())
}
