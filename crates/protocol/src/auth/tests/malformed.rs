//! Event content comes from peers, and peers may send anything. Whatever
//! they send, the rules must answer with a verdict, never a panic.

use super::*;

/// Every auth-relevant content key, filled with every kind of JSON value.
#[test]
fn any_content_gets_a_verdict() {
    let garbage = [
        Value::Null,
        json!(true),
        json!(-1),
        json!(9_007_199_254_740_991_i64),
        json!("x"),
        json!("@"),
        json!([]),
        json!([ALICE]),
        json!({}),
        json!({ALICE: "x", "token": {}}),
    ];
    let slots = [
        ("m.room.create", "", "room_version"),
        ("m.room.create", "", "creator"),
        ("m.room.create", "", "m.federate"),
        ("m.room.member", CAROL, "membership"),
        ("m.room.member", CAROL, "join_authorised_via_users_server"),
        ("m.room.member", ALICE, "third_party_invite"),
        ("m.room.join_rules", "", "join_rule"),
        ("m.room.power_levels", "", "users"),
        ("m.room.power_levels", "", "events"),
        ("m.room.power_levels", "", "notifications"),
        ("m.room.power_levels", "", "ban"),
    ];
    let mut verdicts = 0;
    for room in [Room::lobby("invite"), Room::lobby("restricted")] {
        for value in &garbage {
            for (kind, state_key, key) in slots {
                let mut content = json!({"membership": "join", "creator": ADA});
                content[key] = value.clone();
                let sender = if kind == "m.room.member" {
                    state_key
                } else {
                    ADA
                };
                let event = room.event_with(sender, kind, Some(state_key), content, |b| {
                    if kind == "m.room.create" {
                        b.prev_events([])
                    } else {
                        b
                    }
                });
                let verdict = check(&room, &event);
                assert!(verdict.as_ref().err().is_none_or(|f| !f.reason.is_empty()));
                verdicts += 1;
            }
        }
    }
    assert_eq!(verdicts, 2 * 10 * 11);
}

/// Malformed events that reached the state anyway (say, through a buggy
/// peer's state resolution) are read defensively too.
#[test]
fn malformed_state_gets_a_verdict() {
    let mut odd = Room::lobby("public");
    // Auth rules do not check join rules content, so this is allowed...
    odd.apply(odd.state_event(ADA, "m.room.join_rules", "", json!({"join_rule": 5})));
    // ...and leaves a room nobody can join or knock on.
    assert_eq!(
        check(&odd, &odd.member(CAROL, CAROL, "join"))
            .unwrap_err()
            .rule,
        "4.3.7"
    );
    assert_eq!(
        check(&odd, &odd.member(CAROL, CAROL, "knock"))
            .unwrap_err()
            .rule,
        "4.7.1"
    );

    // A membership that is not a string counts as no membership at all.
    let bad_member = odd.state_event(BOB, "m.room.member", BOB, json!({"membership": ["join"]}));
    odd.force(bad_member);
    assert_eq!(check(&odd, &odd.message(BOB, "hi")).unwrap_err().rule, "5");

    // Power levels written as strings cannot be read in a v10 room.
    let stringy = odd.state_event(ADA, "m.room.power_levels", "", json!({"ban": "50"}));
    odd.force(stringy);
    let failure = check(&odd, &odd.message(ALICE, "hi")).unwrap_err();
    assert_eq!(failure.rule, "9.1");
    assert!(failure.reason.contains("power levels event"), "{failure}");
}
