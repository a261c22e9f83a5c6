use super::*;

const HEADER: &str = r#"format = 1
name = "t"
title = "A test"
seed = 1
start = "2021-01-01"
subject = "a.lab"
servers = ["a.lab", "b.lab"]
"#;

fn with_steps(steps: &str) -> String {
    format!("{HEADER}{steps}")
}

fn refused(text: &str) -> ScenarioError {
    parse(text, "t.toml").expect_err("the file must be refused")
}

#[test]
fn a_good_file_parses_into_steps_with_their_lines() {
    let text = with_steps(
        r#"
[[step]]
at = "2021-01-02 10:00"
do = "register"
user = "@alice:a.lab"

[[step]]
at = "2021-01-02 10:05"
do = "create-room"
user = "@alice:a.lab"
room = "garden"
kind = "unfederated"

[[step]]
at = "2021-01-03"
do = "migrate"
server = "a.lab"
quota = "50%"
"#,
    );
    let scenario = parse(&text, "t.toml").unwrap();
    assert_eq!(scenario.steps.len(), 3);
    assert_eq!(scenario.steps[0].line, 9);
    assert_eq!(
        scenario.steps[1].action,
        Action::CreateRoom {
            user: "@alice:a.lab".into(),
            room: "garden".into(),
            kind: RoomKind::Unfederated,
            invite: vec![],
        }
    );
    assert_eq!(
        scenario.steps[2].action,
        Action::Migrate {
            server: "a.lab".into(),
            quota: Quota::FractionOfDatabase(0.5)
        }
    );
}

/// Each bad file, the line it is refused at, and the start of the reason.
#[test]
fn bad_files_are_refused_with_their_line_and_what_was_expected() {
    let register = "\n[[step]]\nat = \"2021-01-02\"\ndo = \"register\"\nuser = \"@alice:a.lab\"\n";
    let cases: Vec<(String, usize, &str)> = vec![
        (
            with_steps("\n[[step]]\nat = \"2021-01-02\"\ndo = \"sned\"\n"),
            9,
            "unknown operation \"sned\"; expected one of: backup, migrate",
        ),
        (
            with_steps("\n[[step]]\nat = \"2021-01-02\"\ndo = \"crash\"\nserver = \"c.lab\"\n"),
            9,
            "unknown server c.lab; the scenario's servers are: a.lab, b.lab",
        ),
        (
            with_steps(
                "\n[[step]]\nat = \"2021-01-02\"\ndo = \"join\"\nuser = \"@bob:a.lab\"\nroom = \"x\"\n",
            ),
            9,
            "unknown user @bob:a.lab: register them",
        ),
        (
            with_steps(&format!(
                "{register}\n[[step]]\nat = \"2021-01-02\"\ndo = \"join\"\nuser = \"@alice:a.lab\"\nroom = \"x\"\n"
            )),
            14,
            "unknown room \"x\"",
        ),
        (
            with_steps("\n[[step]]\nat = \"June 6th\"\ndo = \"crash\"\nserver = \"a.lab\"\n"),
            9,
            "at: \"June 6th\" is not a date",
        ),
        (
            with_steps(&format!(
                "{register}\n[[step]]\nat = \"2021-01-01 09:00\"\ndo = \"crash\"\nserver = \"a.lab\"\n"
            )),
            14,
            "step out of order: 2021-01-01 09:00 is before the step on line 9",
        ),
        (
            with_steps("\n[[step]]\nat = \"2020-12-31\"\ndo = \"crash\"\nserver = \"a.lab\"\n"),
            9,
            "step out of order: 2020-12-31 00:00 is before the scenario's start",
        ),
        (
            with_steps(
                "\n[[step]]\nat = \"2021-01-02\"\ndo = \"crash\"\nserver = \"a.lab\"\nroom = \"x\"\n",
            ),
            9,
            "`crash` does not take `room` (it takes: server)",
        ),
        (
            with_steps("\n[[step]]\nat = \"2021-01-02\"\ndo = \"crash\"\n"),
            9,
            "`crash` needs `server`",
        ),
        (
            with_steps("\n[[step]]\nat = \"2021-01-02\"\ndo = \"crash\"\nservr = \"a.lab\"\n"),
            12,
            "unknown field `servr`",
        ),
        (
            with_steps(
                "\n[[step]]\nat = \"2021-01-02\"\ndo = \"migrate\"\nserver = \"a.lab\"\nquota = \"lots\"\n",
            ),
            9,
            "quota is \"50%\"",
        ),
        (
            with_steps(
                "\n[[step]]\nat = \"2021-01-02\"\ndo = \"restore\"\nserver = \"a.lab\"\nbackup = \"june\"\n",
            ),
            9,
            "unknown backup \"june\"",
        ),
        (
            with_steps(&format!("{register}{register}")),
            14,
            "@alice:a.lab is already registered; use `reregister`",
        ),
        (
            with_steps(&format!(
                "{register}\n[[step]]\nat = \"2021-01-02\"\ndo = \"create-room\"\nuser = \"@alice:a.lab\"\nroom = \"dm\"\nkind = \"dm\"\n"
            )),
            14,
            "a `dm` room invites exactly one user",
        ),
        (
            with_steps("\n[[step]]\nat = \"2021-01-02\"\ndo = \"register\"\nuser = \"alice\"\n"),
            9,
            "\"alice\" is not a user ID",
        ),
        (
            with_steps(&format!(
                "{register}\n[[step]]\nat = \"2021-01-02\"\ndo = \"register\"\nuser = \"@bo:b.lab\"\n\n\
                 [[step]]\nat = \"2021-01-02\"\ndo = \"create-room\"\nuser = \"@alice:a.lab\"\n\
                 room = \"r\"\ninvite = [\"@bo:b.lab\"]\n"
            )),
            19,
            "`create-room` invites only users of a.lab (as our createRoom does); invite @bo:b.lab",
        ),
        (
            with_steps(
                "\n[[step]]\nat = \"2021-01-02\"\ndo = \"backup\"\nserver = \"a.lab\"\nlabel = \"../../etc\"\n",
            ),
            9,
            "backup label \"../../etc\": use 1 to 64 letters",
        ),
        (
            with_steps("\n[[step]]\nat = \"2021-01-02\"\ndo = \"cleanup\"\nserver = \"a.lab\"\n"),
            9,
            "`cleanup` of a.lab needs a `migrate` of a.lab before it",
        ),
        (
            with_steps(
                "\n[[step]]\nat = \"2021-01-02\"\ndo = \"backup\"\nserver = \"b.lab\"\nlabel = \"jan\"\n\n[[step]]\nat = \"2021-01-03\"\ndo = \"restore\"\nserver = \"a.lab\"\n",
            ),
            15,
            "no backup of a.lab is taken before this `restore`",
        ),
        (
            HEADER.replace("format = 1", "format = 2"),
            1,
            "format 2 is not one this program reads",
        ),
        (
            HEADER.replace("subject = \"a.lab\"", "subject = \"z.lab\""),
            6,
            "the subject z.lab is not among the servers",
        ),
        (HEADER.replace("seed = 1\n", ""), 1, "missing field `seed`"),
        (
            "format = 1\nname = [\n".to_owned(),
            2,
            "unclosed array, expected `]`",
        ),
    ];
    for (text, line, message) in cases {
        let error = refused(&text);
        assert!(
            error.message.starts_with(message),
            "expected {message:?}, got {:?}\nin:\n{text}",
            error.message
        );
        assert_eq!(error.line, line, "line of {:?}", error.message);
        assert_eq!(error.origin, "t.toml");
    }
}

#[test]
fn quotas_in_every_spelling() {
    let value = |text: &str| toml::Value::String(text.to_owned());
    assert_eq!(quota(None), Ok(Quota::Unlimited));
    assert_eq!(quota(Some(&value("unlimited"))), Ok(Quota::Unlimited));
    assert_eq!(quota(Some(&value("300 KiB"))), Ok(Quota::Bytes(307_200)));
    assert_eq!(quota(Some(&value("2 MiB"))), Ok(Quota::Bytes(2_097_152)));
    assert_eq!(
        quota(Some(&toml::Value::Integer(4096))),
        Ok(Quota::Bytes(4096))
    );
    assert_eq!(
        quota(Some(&value("25%"))),
        Ok(Quota::FractionOfDatabase(0.25))
    );
    assert!(quota(Some(&toml::Value::Integer(-1))).is_err());
    assert!(quota(Some(&value("3 GB"))).is_err());
}
