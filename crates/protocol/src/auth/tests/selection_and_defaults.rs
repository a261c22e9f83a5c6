//! Which auth events an event must cite, and the power levels a room has
//! when its power levels event leaves things out (or does not exist).

use super::*;

/// The slots of `auth_types_for_event`, written `type state_key`.
fn selected(event: &Pdu) -> Vec<String> {
    auth_types_for_event(event)
        .into_iter()
        .map(|(kind, state_key)| format!("{kind} {state_key}"))
        .collect()
}

#[test]
fn auth_events_selection() {
    let lobby = Room::lobby("restricted");
    let base = |sender: &str| {
        vec![
            "m.room.create ".to_owned(),
            "m.room.power_levels ".to_owned(),
            format!("m.room.member {sender}"),
        ]
    };
    let with = |mut slots: Vec<String>, more: &[&str]| {
        slots.extend(more.iter().map(|slot| slot.to_string()));
        slots
    };
    let create = lobby.event_with(
        ADA,
        "m.room.create",
        Some(""),
        json!({"creator": ADA}),
        |b| b.prev_events([]),
    );
    let vouched = json!({"membership": "join", "join_authorised_via_users_server": MO});
    let third_party =
        json!({"membership": "invite", "third_party_invite": {"signed": {"token": "abc"}}});
    let cases = [
        ("the create event cites nothing", create, vec![]),
        ("a message", lobby.message(ALICE, "hi"), base(ALICE)),
        (
            "a join adds the join rules (the target is the sender)",
            lobby.member(CAROL, CAROL, "join"),
            with(base(CAROL), &["m.room.join_rules "]),
        ),
        (
            "a vouched join adds the authoriser's membership",
            lobby.state_event(CAROL, "m.room.member", CAROL, vouched),
            with(
                base(CAROL),
                &["m.room.join_rules ", "m.room.member @mo:tomesh.lab"],
            ),
        ),
        (
            "an invite adds the target's membership and the join rules",
            lobby.member(ALICE, CAROL, "invite"),
            with(
                base(ALICE),
                &["m.room.member @carol:hypha.lab", "m.room.join_rules "],
            ),
        ),
        (
            "a third-party invite adds the invitation its token names",
            lobby.state_event(ALICE, "m.room.member", CAROL, third_party),
            with(
                base(ALICE),
                &[
                    "m.room.member @carol:hypha.lab",
                    "m.room.join_rules ",
                    "m.room.third_party_invite abc",
                ],
            ),
        ),
        (
            "a kick needs no join rules",
            lobby.member(MO, ALICE, "leave"),
            with(base(MO), &["m.room.member @alice:tomesh.lab"]),
        ),
    ];
    for (name, event, expected) in cases {
        assert_eq!(selected(&event), expected, "{name}");
    }
}

#[test]
fn power_levels_without_an_event_favour_the_creator() {
    let room = Room::created("!lobby:tomesh.lab", json!({}));
    let levels = PowerLevels::from_state(None, Some(room.current("m.room.create", ""))).unwrap();
    let level = |user: &str| levels.user_level(&user.parse().unwrap());
    assert_eq!((level(ADA), level(ALICE)), (100, 0));
    assert_eq!(
        (
            levels.ban(),
            levels.kick(),
            levels.redact(),
            levels.invite()
        ),
        (50, 50, 50, 0)
    );
    assert_eq!(levels.event_level("m.room.message", false), 0);
    assert_eq!(levels.event_level("m.room.name", true), 50);
}

#[test]
fn power_levels_fill_in_defaults_and_the_creator_is_just_a_user() {
    let lobby = Room::lobby("invite");
    let create = Some(lobby.current("m.room.create", ""));
    let levels =
        PowerLevels::from_state(Some(lobby.current("m.room.power_levels", "")), create).unwrap();
    let level = |user: &str| levels.user_level(&user.parse().unwrap());
    assert_eq!((level(ADA), level(MO), level(CAROL)), (100, 50, 0));
    assert_eq!(levels.event_level("m.room.tombstone", true), 100);
    assert_eq!(levels.event_level("org.example.status", true), 0);
    assert_eq!(
        levels.event_level("m.room.topic", true),
        50,
        "state_default"
    );
    assert_eq!(
        levels.event_level("m.room.message", false),
        0,
        "events_default"
    );

    // Once a power levels event exists, only it counts: an empty one
    // leaves the creator with users_default, like everyone else.
    let empty = lobby.state_event(ADA, "m.room.power_levels", "", json!({}));
    let levels = PowerLevels::from_state(Some(&empty), create).unwrap();
    assert_eq!(levels.user_level(&ADA.parse().unwrap()), 0);
    assert_eq!(
        (
            levels.ban(),
            levels.kick(),
            levels.redact(),
            levels.invite()
        ),
        (50, 50, 50, 0)
    );

    let stringy = lobby.state_event(ADA, "m.room.power_levels", "", json!({"kick": "50"}));
    let failure = PowerLevels::from_state(Some(&stringy), create).unwrap_err();
    assert_eq!(failure.rule, "9.1");
}
