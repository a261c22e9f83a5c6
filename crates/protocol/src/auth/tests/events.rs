//! Rules 5–8 and 10: everything that is not a create, member or power
//! levels event; and redactions, which the rules treat as messages.

use super::*;

#[test]
fn messages_and_state() {
    let lobby = Room::lobby("invite");
    let mut strict_levels = lobby_power_levels();
    strict_levels["invite"] = json!(50);
    strict_levels["events"]["m.room.redaction"] = json!(50);
    let strict = Room::lobby_with("invite", strict_levels);
    let status = |room: &Room, sender: &str, state_key: &str| {
        room.state_event(
            sender,
            "org.example.status",
            state_key,
            json!({"status": "away"}),
        )
    };
    let third_party_invite = |room: &Room, sender: &str| {
        let content = json!({"display_name": "c…@example.org", "key_validity_url": "https://id.example/v", "public_key": "abc"});
        room.state_event(sender, "m.room.third_party_invite", "token", content)
    };
    let redaction = |room: &Room, sender: &str| {
        let target = room.current("m.room.member", MO).event_id().clone();
        room.event_with(
            sender,
            "m.room.redaction",
            None,
            json!({"reason": "spam"}),
            |b| b.redacts(&target),
        )
    };
    let report = assert_cases(vec![
        case(
            "alice sends a message",
            &lobby,
            lobby.message(ALICE, "hello"),
            Allowed,
        ),
        case(
            "bob, from another server, sends a message",
            &lobby,
            lobby.message(BOB, "hi from hypha"),
            Allowed,
        ),
        case(
            "non-member carol sends a message",
            &lobby,
            lobby.message(CAROL, "let me in"),
            Rejected("5"),
        ),
        case(
            "invited ivan sends a message before joining",
            &lobby,
            lobby.message(IVAN, "hello?"),
            Rejected("5"),
        ),
        case(
            "banned eve sends a message",
            &lobby,
            lobby.message(EVE, "I'm back"),
            Rejected("5"),
        ),
        case(
            "alice (0) creates a third-party invite (needs 0)",
            &lobby,
            third_party_invite(&lobby, ALICE),
            Allowed,
        ),
        case(
            "alice (0) creates a third-party invite (needs 50)",
            &strict,
            third_party_invite(&strict, ALICE),
            Rejected("6.1"),
        ),
        case(
            "alice (0) renames the room (needs 50)",
            &lobby,
            lobby.state_event(ALICE, "m.room.name", "", json!({"name": "Alice's room"})),
            Rejected("7"),
        ),
        case(
            "mo (50) renames the room (needs 50)",
            &lobby,
            lobby.state_event(MO, "m.room.name", "", json!({"name": "The lobby"})),
            Allowed,
        ),
        case(
            "alice (0) sets the topic (state_default 50)",
            &lobby,
            lobby.state_event(ALICE, "m.room.topic", "", json!({"topic": "mine now"})),
            Rejected("7"),
        ),
        case(
            "alice sets her own status",
            &lobby,
            status(&lobby, ALICE, ALICE),
            Allowed,
        ),
        case(
            "alice sets mo's status",
            &lobby,
            status(&lobby, ALICE, MO),
            Rejected("8"),
        ),
        case(
            "ada (100) sets mo's status, still not hers",
            &lobby,
            status(&lobby, ADA, MO),
            Rejected("8"),
        ),
        case(
            "alice sets a status not keyed by a user",
            &lobby,
            status(&lobby, ALICE, "lobby"),
            Allowed,
        ),
        case(
            "alice (0) redacts mo's event: the redact level is not an auth rule",
            &lobby,
            redaction(&lobby, ALICE),
            Allowed,
        ),
        case(
            "alice (0) redacts where sending redactions needs 50",
            &strict,
            redaction(&strict, ALICE),
            Rejected("7"),
        ),
    ]);
    insta::assert_snapshot!(report);
}

/// Handling redactions: accepted redactions take effect only with the
/// redact level or from the redacted event's own server.
#[test]
fn redactions_take_effect_with_power_or_from_the_same_server() {
    let lobby = Room::lobby("invite");
    let levels = PowerLevels::from_state(
        Some(lobby.current("m.room.power_levels", "")),
        Some(lobby.current("m.room.create", "")),
    )
    .expect("lobby power levels");
    let bobs = lobby.message(BOB, "oops");
    let redact = |sender: &str, target: &Pdu| {
        let id = target.event_id().clone();
        lobby.event_with(sender, "m.room.redaction", None, json!({}), |b| {
            b.redacts(&id)
        })
    };
    let takes_effect = |sender: &str, target: &Pdu| {
        redaction_takes_effect(&redact(sender, target), target, &levels)
    };
    assert!(
        takes_effect(MO, &bobs),
        "a moderator may redact anyone's event"
    );
    assert!(takes_effect(BOB, &bobs), "bob may redact his own event");
    assert!(
        takes_effect(CAROL, &bobs),
        "hypha.lab may redact events from hypha.lab"
    );
    assert!(
        !takes_effect(ALICE, &bobs),
        "alice (0) may not redact bob's event"
    );
    let other = lobby.message(ALICE, "not the target");
    assert!(
        !redaction_takes_effect(&redact(MO, &other), &bobs, &levels),
        "a redaction applies only to the event it names"
    );
}
