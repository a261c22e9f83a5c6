//! Rules 4.4–4.8: inviting, leaving, kicking, banning and knocking.

use super::*;

/// Rule 4.4: inviting.
#[test]
fn inviting() {
    let lobby = Room::lobby("invite");
    let mut strict_levels = lobby_power_levels();
    strict_levels["invite"] = json!(50);
    let strict = Room::lobby_with("invite", strict_levels);
    let third_party = json!({
        "membership": "invite",
        "third_party_invite": {"display_name": "c…@example.org", "signed": {"mxid": CAROL, "token": "abc", "signatures": {}}},
    });
    let report = assert_cases(vec![
        case(
            "alice invites carol",
            &lobby,
            lobby.member(ALICE, CAROL, "invite"),
            Allowed,
        ),
        case(
            "a third-party (email) invite",
            &lobby,
            lobby.state_event(ALICE, "m.room.member", CAROL, third_party),
            Rejected("4.4.1"),
        ),
        case(
            "invited ivan invites carol",
            &lobby,
            lobby.member(IVAN, CAROL, "invite"),
            Rejected("4.4.2"),
        ),
        case(
            "alice invites bob, already joined",
            &lobby,
            lobby.member(ALICE, BOB, "invite"),
            Rejected("4.4.3"),
        ),
        case(
            "alice invites banned eve",
            &lobby,
            lobby.member(ALICE, EVE, "invite"),
            Rejected("4.4.3"),
        ),
        case(
            "alice (0) invites where inviting needs 50",
            &strict,
            strict.member(ALICE, CAROL, "invite"),
            Rejected("4.4.5"),
        ),
        case(
            "mo (50) invites where inviting needs 50",
            &strict,
            strict.member(MO, CAROL, "invite"),
            Allowed,
        ),
    ]);
    insta::assert_snapshot!(report);
}

/// Rule 4.5: leaving yourself, kicking and unbanning.
#[test]
fn leaving_kicking_and_unbanning() {
    let lobby = Room::lobby("invite");
    let report = assert_cases(vec![
        case(
            "alice leaves",
            &lobby,
            lobby.member(ALICE, ALICE, "leave"),
            Allowed,
        ),
        case(
            "ivan declines his invite",
            &lobby,
            lobby.member(IVAN, IVAN, "leave"),
            Allowed,
        ),
        case(
            "kim withdraws her knock",
            &lobby,
            lobby.member(KIM, KIM, "leave"),
            Allowed,
        ),
        case(
            "banned eve tries to leave her ban",
            &lobby,
            lobby.member(EVE, EVE, "leave"),
            Rejected("4.5.1"),
        ),
        case(
            "carol leaves a room she was never in",
            &lobby,
            lobby.member(CAROL, CAROL, "leave"),
            Rejected("4.5.1"),
        ),
        case(
            "non-member carol kicks alice",
            &lobby,
            lobby.member(CAROL, ALICE, "leave"),
            Rejected("4.5.2"),
        ),
        case(
            "alice (0) unbans eve",
            &lobby,
            lobby.member(ALICE, EVE, "leave"),
            Rejected("4.5.3"),
        ),
        case(
            "mo (50) unbans eve",
            &lobby,
            lobby.member(MO, EVE, "leave"),
            Allowed,
        ),
        case(
            "mo (50) kicks alice (0)",
            &lobby,
            lobby.member(MO, ALICE, "leave"),
            Allowed,
        ),
        case(
            "mo (50) rescinds ivan's invite",
            &lobby,
            lobby.member(MO, IVAN, "leave"),
            Allowed,
        ),
        case(
            "mo (50) kicks ada (100)",
            &lobby,
            lobby.member(MO, ADA, "leave"),
            Rejected("4.5.5"),
        ),
        case(
            "alice (0) kicks bob (0)",
            &lobby,
            lobby.member(ALICE, BOB, "leave"),
            Rejected("4.5.5"),
        ),
    ]);
    insta::assert_snapshot!(report);
}

/// Rules 4.6–4.8: banning, knocking, and memberships the spec never defined.
#[test]
fn banning_knocking_and_unknown_memberships() {
    let lobby = Room::lobby("invite");
    let knock = Room::lobby("knock");
    let knock_restricted = Room::lobby("knock_restricted");
    let report = assert_cases(vec![
        case(
            "non-member carol bans alice",
            &lobby,
            lobby.member(CAROL, ALICE, "ban"),
            Rejected("4.6.1"),
        ),
        case(
            "mo (50) bans alice (0)",
            &lobby,
            lobby.member(MO, ALICE, "ban"),
            Allowed,
        ),
        case(
            "mo (50) bans carol, who was never in the room",
            &lobby,
            lobby.member(MO, CAROL, "ban"),
            Allowed,
        ),
        case(
            "mo (50) bans ada (100)",
            &lobby,
            lobby.member(MO, ADA, "ban"),
            Rejected("4.6.3"),
        ),
        case(
            "alice (0) bans bob (0)",
            &lobby,
            lobby.member(ALICE, BOB, "ban"),
            Rejected("4.6.3"),
        ),
        case(
            "carol knocks on an invite-only room",
            &lobby,
            lobby.member(CAROL, CAROL, "knock"),
            Rejected("4.7.1"),
        ),
        case(
            "alice knocks on behalf of carol",
            &knock,
            knock.member(ALICE, CAROL, "knock"),
            Rejected("4.7.2"),
        ),
        case(
            "carol knocks on a knock room",
            &knock,
            knock.member(CAROL, CAROL, "knock"),
            Allowed,
        ),
        case(
            "carol knocks on a knock_restricted room",
            &knock_restricted,
            knock_restricted.member(CAROL, CAROL, "knock"),
            Allowed,
        ),
        case(
            "banned eve knocks",
            &knock,
            knock.member(EVE, EVE, "knock"),
            Rejected("4.7.4"),
        ),
        case(
            "invited ivan knocks",
            &knock,
            knock.member(IVAN, IVAN, "knock"),
            Rejected("4.7.4"),
        ),
        case(
            "membership \"sneak\"",
            &lobby,
            lobby.member(ALICE, ALICE, "sneak"),
            Rejected("4.8"),
        ),
        case(
            "membership that is not a string",
            &lobby,
            lobby.state_event(ALICE, "m.room.member", ALICE, json!({"membership": 7})),
            Rejected("4.8"),
        ),
    ]);
    insta::assert_snapshot!(report);
}
