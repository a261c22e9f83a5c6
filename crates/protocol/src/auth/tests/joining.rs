//! Rules 4.1–4.3: who may join, and how the join rule decides.

use super::*;

fn join_via(room: &Room, joiner: &str, authoriser: Value) -> Pdu {
    let content = json!({"membership": "join", "join_authorised_via_users_server": authoriser});
    room.state_event(joiner, "m.room.member", joiner, content)
}

/// Rules 4.1–4.3, one join rule after another.
#[test]
fn joining() {
    let empty = Room::created("!lobby:tomesh.lab", json!({}));
    let public = Room::lobby("public");
    let invite = Room::lobby("invite");
    let knock = Room::lobby("knock");
    let restricted = Room::lobby("restricted");
    let knock_restricted = Room::lobby("knock_restricted");
    let private = Room::lobby("private");
    let mut strict_levels = lobby_power_levels();
    strict_levels["invite"] = json!(50);
    let strict = Room::lobby_with("restricted", strict_levels);
    // A resident server (tomesh.lab) vouches for carol by signing her join.
    let vouched = |room: &Room, authoriser: &str| {
        cosigned(join_via(room, CAROL, json!(authoriser)), "tomesh.lab")
    };

    let report = assert_cases(vec![
        case(
            "member event without a state_key",
            &public,
            public.event(CAROL, "m.room.member", None, json!({"membership": "join"})),
            Rejected("4.1"),
        ),
        case(
            "member event without a membership",
            &public,
            public.state_event(
                CAROL,
                "m.room.member",
                CAROL,
                json!({"displayname": "Carol"}),
            ),
            Rejected("4.1"),
        ),
        case(
            "restricted join whose authoriser's server did not sign it",
            &restricted,
            join_via(&restricted, CAROL, json!(MO)),
            Rejected("4.2"),
        ),
        case(
            "restricted join naming an authoriser that is no user ID",
            &restricted,
            join_via(&restricted, CAROL, json!(["not", "a", "user"])),
            Rejected("4.2"),
        ),
        case(
            "creator's first join, right after create",
            &empty,
            empty.member(ADA, ADA, "join"),
            Allowed,
        ),
        case(
            "someone else's join right after create",
            &empty,
            empty.member(CAROL, CAROL, "join"),
            Rejected("4.3.7"),
        ),
        case(
            "alice tries to join carol",
            &public,
            public.member(ALICE, CAROL, "join"),
            Rejected("4.3.2"),
        ),
        case(
            "banned eve joins a public room",
            &public,
            public.member(EVE, EVE, "join"),
            Rejected("4.3.3"),
        ),
        case(
            "invited ivan joins an invite-only room",
            &invite,
            invite.member(IVAN, IVAN, "join"),
            Allowed,
        ),
        case(
            "joined alice re-joins (e.g. a new display name)",
            &invite,
            invite.member(ALICE, ALICE, "join"),
            Allowed,
        ),
        case(
            "uninvited carol joins an invite-only room",
            &invite,
            invite.member(CAROL, CAROL, "join"),
            Rejected("4.3.7"),
        ),
        case(
            "knocking kim joins before being invited",
            &knock,
            knock.member(KIM, KIM, "join"),
            Rejected("4.3.7"),
        ),
        case(
            "invited ivan joins a restricted room",
            &restricted,
            restricted.member(IVAN, IVAN, "join"),
            Allowed,
        ),
        case(
            "carol joins a restricted room with no authoriser",
            &restricted,
            restricted.member(CAROL, CAROL, "join"),
            Rejected("4.3.5.2"),
        ),
        case(
            "carol joins a restricted room vouched for by moderator mo",
            &restricted,
            vouched(&restricted, MO),
            Allowed,
        ),
        case(
            "carol joins a knock_restricted room vouched for by alice",
            &knock_restricted,
            vouched(&knock_restricted, ALICE),
            Allowed,
        ),
        case(
            "carol vouched for by someone who is not joined",
            &restricted,
            cosigned(join_via(&restricted, CAROL, json!(IVAN)), "hypha.lab"),
            Rejected("4.3.5.2"),
        ),
        case(
            "carol vouched for by alice, below the invite level 50",
            &strict,
            vouched(&strict, ALICE),
            Rejected("4.3.5.2"),
        ),
        case(
            "carol vouched for by mo, at the invite level 50",
            &strict,
            vouched(&strict, MO),
            Allowed,
        ),
        case(
            "carol joins a public room",
            &public,
            public.member(CAROL, CAROL, "join"),
            Allowed,
        ),
        case(
            "carol joins a room with an unknown join rule",
            &private,
            private.member(CAROL, CAROL, "join"),
            Rejected("4.3.7"),
        ),
    ]);
    insta::assert_snapshot!(report);
}
