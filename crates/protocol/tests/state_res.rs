//! State resolution v2, case by case, through its public boundary:
//! events and state maps in, resolved state out.
//!
//! Each case is a JSON fixture in `tests/fixtures/state_res/`. It adds
//! events to a shared starting room (`base_room.json`) and lists what each
//! branch of a fork added to the room's state. Events are written with
//! *names* (`BAN_DAVE`) rather than IDs; the harness builds and signs real
//! PDUs, whose IDs are hashes, and translates back to names for the
//! snapshots, so that a reviewer can read:
//!
//! ```text
//! m.room.member|@dave:d.lab -> BAN_DAVE
//! ```
//!
//! Every case is also resolved with its state sets in every order: the
//! answer must never depend on which branch we heard about first.
//! <https://spec.matrix.org/v1.16/rooms/v10/#state-resolution>

#[path = "state_res/fixture.rs"]
mod fixture;
#[path = "state_res/generated_forks.rs"]
mod generated_forks;

use fixture::check;

/// Two branches that agree: nothing is in dispute and nothing changes.
#[test]
fn no_conflict() {
    check("no_conflict");
}

/// Alice bans Dave while Dave joins. Power events are replayed first, so
/// the ban is in place before Dave's join is checked, and the join fails.
/// (A ban beats a bare join in either order; the next case is where the
/// order shows.)
#[test]
fn ban_beats_concurrent_join() {
    check("ban_vs_concurrent_join");
}

/// Alice bans Bob while Bob changes the topic, a moment earlier. Bob's
/// topic passed the auth rules on his branch, but not against the resolved
/// state, where the ban was replayed first: it is dropped.
#[test]
fn event_failing_auth_against_resolved_state_is_dropped() {
    check("ban_drops_concurrent_topic");
}

/// Alice (100) demotes Bob while Bob (50) edits the power levels. Alice's
/// edit strips Bob of the power his edit needs, so Bob's edit fails.
#[test]
fn concurrent_power_levels_demotion_voids_the_other_edit() {
    check("concurrent_power_levels_demotion");
}

/// Alice and Bob make compatible power level edits, Bob's earlier. The
/// higher-powered sender's edit is replayed first, whatever the clock says;
/// Bob's is still allowed after it, so it is applied and replaces Alice's
/// whole event: state resolution picks events, it never merges contents.
#[test]
fn concurrent_power_levels_higher_sender_first_and_not_merged() {
    check("concurrent_power_levels_both_valid");
}

/// Two topics under different power levels: the one authorised under the
/// newer power levels (closer to the resolved one on the mainline) is
/// replayed last and wins, even though the other has a later timestamp.
#[test]
fn topic_conflict_resolved_by_mainline() {
    check("topic_by_mainline");
}

/// Two topics under the same power levels: the later timestamp wins; the
/// senders' power does not order non-power events.
#[test]
fn topic_tie_goes_to_later_timestamp() {
    check("topic_same_mainline_position");
}

/// Alice closes the room (public -> invite) and invites Erin, who joins,
/// while Dave joins uninvited. Dave's join is dropped; Erin's invite is
/// pulled in through the auth difference and makes her join valid.
#[test]
fn join_rules_change_rejects_uninvited_join() {
    check("join_rules_invite_vs_uninvited_join");
}

/// A room that was invite-only once and is public again: the old join
/// rules are in every branch's auth chain, so they are not replayed and
/// cannot shadow the public ones while an unrelated fork is resolved.
#[test]
fn old_join_rules_stay_buried() {
    check("old_join_rules_stay_buried");
}

/// An event in no state set, only in one branch's auth chain, still takes
/// part: the auth difference brings Erin's second invite back, and her
/// join depends on it.
#[test]
fn auth_difference_replays_a_superseded_invite() {
    check("auth_difference_replays_a_superseded_invite");
}

/// A slot the auth rules need but the partial state lacks is filled from
/// the event's own auth events.
#[test]
fn auth_events_fill_missing_slots() {
    check("auth_events_fill_missing_slots");
}

/// Events the server rejected on receipt are replayed like any other, but
/// never used to fill a missing slot from another event's auth events.
#[test]
fn rejected_events_are_replayed_but_never_fill_slots() {
    check("rejected_events_are_replayed_but_never_fill_slots");
}

/// A newly promoted moderator and the admin change the join rules at
/// once: equal power, so the later one wins. This is also where reading
/// the spec's "auth difference" literally would disagree with Synapse and
/// ruma; see `Events::auth_difference` in `src/state_res/conflict.rs`.
#[test]
fn promoted_moderator_races_the_admin() {
    check("promoted_moderator_races_the_admin");
}

/// Three branches; all six orders of the state sets give the same state.
#[test]
fn three_way_fork_is_order_independent() {
    check("three_way_fork");
}
