//! Rule 9: power levels must be well-formed integers, and nobody may give
//! out (or take away) more power than they hold.

use super::*;

/// Rules 9.1–9.3: the shape of the content. Ada (100) sends all of these,
/// so only the shape can be at fault.
#[test]
fn power_levels_must_be_integers() {
    let lobby = Room::lobby("invite");
    let set = |key: &str, value: Value| lobby.power_levels(ADA, |content| content[key] = value);
    let report = assert_cases(vec![
        case(
            "ada changes ban to 60",
            &lobby,
            set("ban", json!(60)),
            Allowed,
        ),
        case(
            "ban written as a string, as older rooms allowed",
            &lobby,
            set("ban", json!("50")),
            Rejected("9.1"),
        ),
        case(
            "users_default as a boolean",
            &lobby,
            set("users_default", json!(true)),
            Rejected("9.1"),
        ),
        case(
            "state_default as null",
            &lobby,
            set("state_default", Value::Null),
            Rejected("9.1"),
        ),
        case(
            "an events level as a string",
            &lobby,
            set("events", json!({"m.room.name": "50"})),
            Rejected("9.2"),
        ),
        case(
            "events as a list",
            &lobby,
            set("events", json!(["m.room.name"])),
            Rejected("9.2"),
        ),
        case(
            "a notifications level as a string",
            &lobby,
            set("notifications", json!({"room": "50"})),
            Rejected("9.2"),
        ),
        case(
            "a users level as a string",
            &lobby,
            set("users", json!({ADA: "100"})),
            Rejected("9.3"),
        ),
        case(
            "a users key that is no user ID",
            &lobby,
            set("users", json!({ADA: 100, "ada": 100})),
            Rejected("9.3"),
        ),
    ]);
    insta::assert_snapshot!(report);
}

/// Floats never reach the auth rules: room v6+ canonical JSON has none,
/// so an event holding `49.5`, or even `50.0`, cannot be built or parsed.
#[test]
fn float_power_levels_are_not_even_events() {
    for float in [json!(49.5), json!(50.0)] {
        let mut content = lobby_power_levels();
        content["ban"] = float.clone();
        let built = PduBuilder::new(
            "!lobby:tomesh.lab".parse().expect("room ID"),
            ADA.parse().expect("user ID"),
            "m.room.power_levels",
            content,
        )
        .state_key("")
        .sign(&key("tomesh.lab"));
        let error = format!("{:?}", built.expect_err("a float in an event"));
        assert!(
            error.contains("Float") && error.contains("content.ban"),
            "{float}: {error}"
        );
    }
}

/// Rules 9.4–9.10: changes. Mo has 50 and may send power levels (the
/// lobby sets `events["m.room.power_levels"]` to 50), so every change
/// below is judged by rule 9 alone.
#[test]
fn no_power_escalation() {
    let fresh = {
        let mut room = Room::created("!lobby:tomesh.lab", json!({}));
        room.apply(room.member(ADA, ADA, "join"));
        room
    };
    let lobby = Room::lobby("invite");
    let mut levels = lobby_power_levels();
    levels["kick"] = json!(75);
    levels["users"][ALICE] = json!(50);
    let senior = Room::lobby_with("invite", levels);
    let mo = |room: &Room, change: fn(&mut Value)| room.power_levels(MO, change);
    let first = json!({"users": {ADA: 100, ALICE: 100}, "ban": 0});

    let report = assert_cases(vec![
        case(
            "the first power levels event may say anything",
            &fresh,
            fresh.state_event(ADA, "m.room.power_levels", "", first),
            Allowed,
        ),
        case(
            "alice (0) may not send power levels at all",
            &lobby,
            lobby.power_levels(ALICE, |_| {}),
            Rejected("7"),
        ),
        case(
            "ada (100) promotes alice to 100",
            &lobby,
            lobby.power_levels(ADA, |c| c["users"][ALICE] = json!(100)),
            Allowed,
        ),
        case(
            "mo lowers ban from 50 to 40",
            &lobby,
            mo(&lobby, |c| c["ban"] = json!(40)),
            Allowed,
        ),
        case(
            "mo removes invite (0)",
            &lobby,
            mo(&lobby, |c| {
                drop(c.as_object_mut().map(|c| c.remove("invite")))
            }),
            Allowed,
        ),
        case(
            "mo lowers kick from 75, above her",
            &senior,
            mo(&senior, |c| c["kick"] = json!(50)),
            Rejected("9.5.1"),
        ),
        case(
            "mo raises ban to 60, above her",
            &lobby,
            mo(&lobby, |c| c["ban"] = json!(60)),
            Rejected("9.5.2"),
        ),
        case(
            "mo lowers the tombstone level from 100",
            &lobby,
            mo(&lobby, |c| c["events"]["m.room.tombstone"] = json!(50)),
            Rejected("9.6.1"),
        ),
        case(
            "mo removes the tombstone level (100)",
            &lobby,
            mo(&lobby, |c| {
                drop(
                    c["events"]
                        .as_object_mut()
                        .map(|e| e.remove("m.room.tombstone")),
                )
            }),
            Rejected("9.6.1"),
        ),
        case(
            "mo adds a topic level of 50",
            &lobby,
            mo(&lobby, |c| c["events"]["m.room.topic"] = json!(50)),
            Allowed,
        ),
        case(
            "mo adds a server ACL level of 75",
            &lobby,
            mo(&lobby, |c| c["events"]["m.room.server_acl"] = json!(75)),
            Rejected("9.7.1"),
        ),
        case(
            "mo raises the @room notification level to 100",
            &lobby,
            mo(&lobby, |c| c["notifications"]["room"] = json!(100)),
            Rejected("9.7.1"),
        ),
        case(
            "mo demotes ada (100)",
            &lobby,
            mo(&lobby, |c| c["users"][ADA] = json!(0)),
            Rejected("9.8.1"),
        ),
        case(
            "mo removes ada's entry",
            &lobby,
            mo(&lobby, |c| {
                drop(c["users"].as_object_mut().map(|u| u.remove(ADA)))
            }),
            Rejected("9.8.1"),
        ),
        case(
            "mo demotes alice, her equal (50)",
            &senior,
            mo(&senior, |c| c["users"][ALICE] = json!(0)),
            Rejected("9.8.1"),
        ),
        case(
            "mo demotes herself",
            &lobby,
            mo(&lobby, |c| c["users"][MO] = json!(10)),
            Allowed,
        ),
        case(
            "mo promotes alice to 50, her own level",
            &lobby,
            mo(&lobby, |c| c["users"][ALICE] = json!(50)),
            Allowed,
        ),
        case(
            "mo promotes alice to 100",
            &lobby,
            mo(&lobby, |c| c["users"][ALICE] = json!(100)),
            Rejected("9.9.1"),
        ),
        case(
            "mo promotes herself to 100",
            &lobby,
            mo(&lobby, |c| c["users"][MO] = json!(100)),
            Rejected("9.9.1"),
        ),
    ]);
    insta::assert_snapshot!(report);
}
