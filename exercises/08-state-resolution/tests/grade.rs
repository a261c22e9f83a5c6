//! The graded tests for exercise 8. Most cases are the workbench's own
//! state resolution fixtures (see `fixture/mod.rs`): a fork of a small
//! room, the state each branch ended with, and the reviewed resolved
//! state. Every case is also resolved with its branches in every order.

#[cfg(not(feature = "reference"))]
use ex08_state_resolution as answer;
#[cfg(feature = "reference")]
mod reference;
#[cfg(feature = "reference")]
use reference as answer;

mod fixture;

use ex08_state_resolution::ResolveError;
use lostfound_protocol::ids::EventId;
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::{StateMap, slot};

/// Resolves fixture `name`; checks the slots the case is about, the whole
/// resolved state, and that the order of the branches does not matter.
fn check(name: &str) {
    let (fixture, room, state_sets) = fixture::load(name);
    assert!(
        fixture.rejected.is_empty(),
        "{name}: cases with rejected events are not part of this exercise"
    );
    let resolve = |sets: &[StateMap<EventId>]| {
        answer::resolve(sets, &room.lookup())
            .unwrap_or_else(|error| panic!("{name}: resolve failed: {error}"))
    };
    let resolved = resolve(&state_sets);
    for (slot, expected) in &fixture.expect {
        let (event_type, state_key) = slot.split_once('|').expect("keys are type|state_key");
        let got = resolved
            .get(&(event_type.to_owned(), state_key.to_owned()))
            .map(|id| room.name(id));
        assert_eq!(
            got,
            expected.as_deref(),
            "{name}: slot {slot}\n(the case: {})",
            fixture.description
        );
    }
    assert_eq!(
        room.render(&resolved),
        fixture::expected_state(name),
        "{name}: the whole resolved state\n(the case: {})",
        fixture.description
    );
    for order in fixture::permutations(&state_sets) {
        assert_eq!(
            room.render(&resolve(&order)),
            room.render(&resolved),
            "{name}: the answer changed with the order of the state sets"
        );
    }
}

/// Two branches that agree: nothing is in dispute and nothing changes.
#[test]
fn no_conflict() {
    check("no_conflict");
}

/// Alice bans Dave while Dave joins. Power events are replayed first, so
/// the ban is in place before Dave's join is checked, and the join fails.
#[test]
fn ban_beats_concurrent_join() {
    check("ban_vs_concurrent_join");
}

/// Alice bans Bob while Bob changes the topic. The topic passed the rules
/// on Bob's branch, but not against the resolved state: it is dropped.
#[test]
fn ban_drops_concurrent_topic() {
    check("ban_drops_concurrent_topic");
}

/// Alice (100) demotes Bob while Bob (50) edits the power levels: Alice's
/// edit strips Bob of the power his edit needs.
#[test]
fn concurrent_power_levels_demotion() {
    check("concurrent_power_levels_demotion");
}

/// Two compatible power level edits: the higher-powered sender's goes
/// first whatever the clock says, and the later one replaces it whole.
/// State resolution picks events; it never merges their contents.
#[test]
fn concurrent_power_levels_both_valid() {
    check("concurrent_power_levels_both_valid");
}

/// Two topics under different power levels: the one authorised under the
/// newer power levels wins, even with the older timestamp.
#[test]
fn topic_by_mainline() {
    check("topic_by_mainline");
}

/// Two topics under the same power levels: the later timestamp wins.
#[test]
fn topic_same_mainline_position() {
    check("topic_same_mainline_position");
}

/// The room goes invite-only while Dave joins uninvited: his join fails,
/// and Erin's invite, pulled in by the auth difference, lets her join.
#[test]
fn join_rules_invite_vs_uninvited_join() {
    check("join_rules_invite_vs_uninvited_join");
}

/// Old invite-only join rules that every branch's auth chain holds are not
/// in dispute and cannot shadow today's public join rules.
#[test]
fn old_join_rules_stay_buried() {
    check("old_join_rules_stay_buried");
}

/// An event in no state set, only in one branch's auth chain, still takes
/// part through the auth difference.
#[test]
fn auth_difference_replays_a_superseded_invite() {
    check("auth_difference_replays_a_superseded_invite");
}

/// A slot the auth rules need but the state so far lacks is filled from
/// the event's own auth events.
#[test]
fn auth_events_fill_missing_slots() {
    check("auth_events_fill_missing_slots");
}

/// A newly promoted moderator and the admin change the join rules at once.
/// Here the auth difference must count each branch's own events.
#[test]
fn promoted_moderator_races_the_admin() {
    check("promoted_moderator_races_the_admin");
}

/// Three branches; all six orders give the same state.
#[test]
fn three_way_fork() {
    check("three_way_fork");
}

/// What every branch agrees on stands, even when the replay says
/// otherwise. Both branches have today's public join rules; only the first
/// has Dave, whose join cites the old invite-only join rules. Those old
/// rules are in one branch's auth chain, so they are replayed (and, as a
/// power event, first): for the rest of the replay the room looks
/// invite-only again, and Frank's uninvited join fails. But the join rules
/// themselves were never in dispute, so the last step puts the public ones
/// back.
#[test]
fn the_agreed_state_is_put_back_on_top() {
    let (_, room, _) = fixture::load("old_join_rules_stay_buried");
    let names = |list: &[&str]| list.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    let with_dave = room.state_after(&names(&[
        "JR_INVITE",
        "INVITE_DAVE",
        "JOIN_DAVE",
        "JR_PUBLIC",
    ]));
    let with_frank = room.state_after(&names(&["JR_PUBLIC", "JOIN_FRANK"]));
    for sets in [
        [with_dave.clone(), with_frank.clone()],
        [with_frank, with_dave],
    ] {
        let resolved = answer::resolve(&sets, &room.lookup()).expect("resolvable");
        let at = |slot: (String, String)| resolved.get(&slot).map(|id| room.name(id).to_owned());
        assert_eq!(
            at(slot("m.room.join_rules", "")).as_deref(),
            Some("JR_PUBLIC")
        );
        assert_eq!(
            at(slot("m.room.member", "@dave:d.lab")).as_deref(),
            Some("JOIN_DAVE")
        );
        assert_eq!(at(slot("m.room.member", "@frank:f.lab")), None);
    }
}

#[test]
fn no_state_sets_give_empty_state() {
    let resolved = answer::resolve(&[], &|_| None).expect("nothing to resolve");
    assert!(resolved.is_empty());
}

/// With nothing in dispute there is nothing to look up: a server can
/// answer without the events.
#[test]
fn without_conflict_the_events_are_not_needed() {
    let (_, _, state_sets) = fixture::load("no_conflict");
    let one = state_sets[0].clone();
    let nothing = |_: &EventId| -> Option<Pdu> { None };
    assert_eq!(
        answer::resolve(std::slice::from_ref(&one), &nothing),
        Ok(one.clone())
    );
    assert_eq!(
        answer::resolve(&[one.clone(), one.clone(), one.clone()], &nothing),
        Ok(one)
    );
}

/// Resolving with `missing` withheld from the lookup.
fn resolve_without(
    case: &str,
    missing: &str,
) -> (Result<StateMap<EventId>, ResolveError>, EventId) {
    let (_, room, state_sets) = fixture::load(case);
    let missing = room.id(missing);
    let lookup = |id: &EventId| {
        (*id != missing)
            .then(|| room.events.get(id).cloned())
            .flatten()
    };
    (answer::resolve(&state_sets, &lookup), missing)
}

#[test]
fn a_missing_conflicted_event_is_an_error() {
    let (result, missing) = resolve_without("ban_vs_concurrent_join", "JOIN_DAVE");
    assert_eq!(result, Err(ResolveError::MissingEvent(missing)));
}

#[test]
fn a_missing_event_of_the_agreed_state_is_an_error_when_there_is_a_conflict() {
    let (result, missing) = resolve_without("ban_vs_concurrent_join", "IPOWER");
    assert_eq!(result, Err(ResolveError::MissingEvent(missing)));
}

/// Dave's invite is in no state map, only in the auth chain of his join.
/// Without it, the auth chains are incomplete and the answer could differ
/// from a peer's: refuse rather than guess.
#[test]
fn a_missing_auth_chain_event_is_an_error() {
    let (result, missing) = resolve_without("old_join_rules_stay_buried", "INVITE_DAVE");
    assert_eq!(result, Err(ResolveError::MissingEvent(missing)));
}

#[test]
fn an_event_in_the_wrong_slot_is_an_error() {
    let (_, room, mut state_sets) = fixture::load("ban_vs_concurrent_join");
    // The second branch claims Dave's join is the room's topic.
    let join = room.id("JOIN_DAVE");
    state_sets[1].remove(&slot("m.room.member", "@dave:d.lab"));
    state_sets[1].insert(slot("m.room.topic", ""), join.clone());
    assert_eq!(
        answer::resolve(&state_sets, &room.lookup()),
        Err(ResolveError::WrongSlot {
            slot: slot("m.room.topic", ""),
            event_id: join,
        })
    );
}

/// The incident: the restored server's state of a room is its January
/// view; the federation's is June's. Resolving the two gives the June
/// state wherever June changed something the rules still allow, and keeps
/// what both agree on. Here: the January view lacks Dave's ban, June has
/// it, and a join Dave sent to the stale server cannot undo it.
#[test]
fn a_stale_view_and_the_federations_view_agree_on_one_state() {
    let (_, room, state_sets) = fixture::load("ban_vs_concurrent_join");
    let ban = room.id("BAN_DAVE");
    let resolved = answer::resolve(&state_sets, &room.lookup()).expect("resolvable");
    assert_eq!(
        resolved.get(&slot("m.room.member", "@dave:d.lab")),
        Some(&ban)
    );
    // Nothing both branches agreed on was changed.
    for (slot, id) in &state_sets[0] {
        if state_sets[1].get(slot) == Some(id) {
            assert_eq!(resolved.get(slot), Some(id), "agreed slot {slot:?} changed");
        }
    }
}
