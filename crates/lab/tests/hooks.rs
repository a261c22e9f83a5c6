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
    cast.alice
        .send_text(&cast.room, "after the restore")
        .await?;
    lab.settle().await?;
    let seen = scroll_back(&cast.bob, &cast.room).await?;
    let missing: Vec<_> = restored
        .lost
        .iter()
        .filter(|message| !seen.contains(&message.body))
        .collect();
    assert!(
        missing.is_empty(),
        "{}",
        describe_missing(HYPHA, &missing, 25)
    );
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
    cast.alice
        .send_text(&cast.room, "after the restore")
        .await?;
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
    assert!(
        cast.bob
            .texts(&cast.room)
            .await?
            .contains(&"still here".to_owned())
    );
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

/// The fork story with the reference resolution installed as a hook on
/// fairydust: all three servers agree on the room's state, hold every
/// event, and the hook was called.
#[tokio::test(flavor = "multi_thread")]
async fn the_fork_story_resolves_with_a_resolve_hook() -> Result<(), LiveError> {
    use lostfound_lab::live::{disagreements, fork, room_states};
    use lostfound_protocol::state_res::resolve;
    let hooks = Hooks::new().resolve(|sets, lookup| {
        // The state events and their auth chains, through the lookup.
        let mut loaded = std::collections::BTreeMap::new();
        let mut to_load: Vec<_> = sets.iter().flat_map(|set| set.values().cloned()).collect();
        while let Some(id) = to_load.pop() {
            if loaded.contains_key(&id) {
                continue;
            }
            if let Some(event) = lookup(&id) {
                to_load.extend(event.auth_events().iter().cloned());
                loaded.insert(id, event);
            }
        }
        resolve(sets, |id| loaded.get(id)).map_err(|e| e.to_string())
    });
    let forked = fork(2021, &[(FAIRYDUST, hooks.clone())]).await?;
    let states = room_states(&forked.lab, &forked.cast.room)?;
    let differ = disagreements(&states);
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    for server in [TOMESH, HYPHA, FAIRYDUST] {
        let missing = missing_on(&forked.lab, server, &forked.sent)?;
        assert!(
            missing.is_empty(),
            "{}",
            describe_missing(server, &missing, forked.sent.len())
        );
    }
    let calls = hooks.calls().resolve;
    assert!(calls.calls > 0 && calls.panics == 0, "{calls:?}");
    Ok(())
}

/// A wrong resolution (the first state set wins) on fairydust leaves it
/// disagreeing with the others for some seed: the story is sharp enough
/// to catch it.
#[tokio::test(flavor = "multi_thread")]
async fn the_fork_story_catches_a_wrong_resolution() -> Result<(), LiveError> {
    use lostfound_lab::live::{SEEDS, disagreements, fork, room_states};
    let mut caught = 0;
    for seed in SEEDS {
        let hooks = Hooks::new().resolve(|sets, _| sets.first().cloned().ok_or_else(String::new));
        let forked = fork(seed, &[(FAIRYDUST, hooks.clone())]).await?;
        let states = room_states(&forked.lab, &forked.cast.room)?;
        if !disagreements(&states).is_empty() {
            caught += 1;
        }
        assert!(hooks.calls().resolve.calls > 0);
    }
    assert!(
        caught > 0,
        "a first-set-wins resolution agreed on every seed"
    );
    Ok(())
}
