use super::*;

#[test]
fn user_ids_split_into_localpart_and_server() {
    let user: UserId = "@alice:tomesh.lab:8448".parse().unwrap();
    assert_eq!(user.localpart(), "alice");
    assert_eq!(user.server_name().as_str(), "tomesh.lab:8448");
    assert_eq!(user.server_name().host(), "tomesh.lab");
    assert_eq!(user.server_name().port(), Some(8448));
}

#[test]
fn errors_say_what_is_wrong() {
    let cases = [
        ("", "identifier is empty"),
        (
            "alice:tomesh.lab",
            "user ID must start with '@', got \"alice:tomesh.lab\"",
        ),
        ("@alice", "user ID \"@alice\" is missing ':server_name'"),
        (
            "@:tomesh.lab",
            "user ID \"@:tomesh.lab\" has an empty local part",
        ),
        (
            "@al ice:tomesh.lab",
            "user ID local part \"al ice\" contains ' ', which is not allowed",
        ),
        (
            "@alice:tomesh.lab:http",
            "server name \"tomesh.lab:http\" is invalid: the port must be 1 to 5 digits",
        ),
        (
            "@alice:tom_esh",
            "server name \"tom_esh\" is invalid: a host may hold only letters, digits, '-' and '.'",
        ),
    ];
    for (input, message) in cases {
        assert_eq!(
            input.parse::<UserId>().unwrap_err().to_string(),
            message,
            "input {input:?}"
        );
    }
    let long = format!("@{}:a.b", "x".repeat(260));
    assert!(matches!(
        long.parse::<UserId>(),
        Err(IdError::TooLong { len: 265, .. })
    ));
}

#[test]
fn server_names_cover_dns_ipv4_and_ipv6() {
    for ok in [
        "tomesh.lab",
        "1.2.3.4",
        "1.2.3.4:1234",
        "[1234:5678::abcd]",
        "[::1]:8448",
        "localhost",
    ] {
        assert!(ok.parse::<ServerName>().is_ok(), "{ok}");
    }
    for bad in ["", "[::1", "a:", "a:123456", "[]", "exa mple.com"] {
        assert!(bad.parse::<ServerName>().is_err(), "{bad}");
    }
    let v6: ServerName = "[::1]:8448".parse().unwrap();
    assert_eq!((v6.host(), v6.port()), ("[::1]", Some(8448)));
}

#[test]
fn registration_rules_are_stricter_than_parsing() {
    assert!("@Alice:hs.lab".parse::<UserId>().is_ok());
    assert!(!UserId::is_valid_for_registration("Alice"));
    assert!(UserId::is_valid_for_registration("alice.b_c=d-e/f+g"));
}

#[test]
fn event_ids_in_both_formats() {
    assert!(
        "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"
            .parse::<EventId>()
            .is_ok()
    );
    assert!("$0:domain".parse::<EventId>().is_ok());
    assert!("$".parse::<EventId>().is_err());
    assert!("$a b".parse::<EventId>().is_err());
    assert!("Rqnc".parse::<EventId>().is_err());
}

#[test]
fn rooms_aliases_and_keys() {
    let room: RoomId = "!lobby:tomesh.lab".parse().unwrap();
    assert_eq!(room.server_name().as_str(), "tomesh.lab");
    let alias: RoomAlias = "#hypha:tomesh.lab".parse().unwrap();
    assert_eq!(alias.server_name().as_str(), "tomesh.lab");
    let key: KeyId = "ed25519:a_1".parse().unwrap();
    assert_eq!((key.algorithm(), key.version()), ("ed25519", "a_1"));
    assert!("ed25519".parse::<KeyId>().is_err());
    assert!("ed25519:a-1".parse::<KeyId>().is_err());
}

#[test]
fn serde_validates() {
    let ok: Result<UserId, _> = serde_json::from_str("\"@a:b.c\"");
    assert!(ok.is_ok());
    let bad: Result<UserId, _> = serde_json::from_str("\"nope\"");
    assert!(bad.unwrap_err().to_string().contains("must start with '@'"));
}
