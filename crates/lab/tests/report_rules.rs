//! The report's rules on small stories: a password set on an account that
//! was lost is not "found again" by registering the name anew, and a
//! federated room no other server joined is lost, and said to be.

use lostfound_lab::scenario::report::Category;
use lostfound_lab::scenario::{RunOptions, parse, run};

const STORY: &str = r#"
format = 1
name = "rules"
title = "Two traps for a report"
seed = 11
start = "2021-01-01"
subject = "a.lab"
servers = ["a.lab", "b.lab"]

[[step]]
at = "2021-01-01 09:00"
do = "register"
user = "@ana:a.lab"

[[step]]
at = "2021-01-01 10:00"
do = "backup"
server = "a.lab"
label = "morning"

[[step]]
at = "2021-01-02 09:00"
do = "register"
user = "@bo:a.lab"

[[step]]
at = "2021-01-02 09:05"
do = "set-password"
user = "@bo:a.lab"

[[step]]
at = "2021-01-02 09:10"
do = "create-room"
user = "@ana:a.lab"
room = "back-office"
kind = "private"
invite = ["@bo:a.lab"]

[[step]]
at = "2021-01-02 09:11"
do = "send"
user = "@bo:a.lab"
room = "back-office"
text = "only here"

[[step]]
at = "2021-01-03 09:00"
do = "migrate"
server = "a.lab"
quota = "10%"

[[step]]
at = "2021-01-03 09:01"
do = "cleanup"
server = "a.lab"

[[step]]
at = "2021-01-03 09:02"
do = "restore"
server = "a.lab"
backup = "morning"

[[step]]
at = "2021-01-03 09:10"
do = "reregister"
user = "@bo:a.lab"
"#;

fn category<'a>(categories: &'a [Category], name: &str) -> &'a Category {
    categories
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no category {name}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn new_accounts_do_not_bring_back_old_passwords_and_unshared_rooms_are_named() {
    let scenario = parse(STORY, "rules.toml").expect("a valid story");
    let finished = run(scenario, RunOptions::default(), |_| {})
        .await
        .expect("the story runs");
    assert!(finished.check.passed(), "{:#?}", finished.check);
    let categories = &finished.report.categories;

    // bo registered again: a new account, whose password is not the one
    // bo set on the account the restore lost.
    let passwords = category(categories, "password changes");
    assert_eq!(passwords.outcome, "lost", "{passwords:#?}");
    assert_eq!(
        passwords.still_lost,
        ["@bo:a.lab (changed 2021-01-02 09:05)"]
    );
    assert!(passwords.found_again.is_empty());

    // A private, federated-kind room with members on a.lab only.
    let rooms = category(categories, "federated rooms");
    assert_eq!(rooms.outcome, "lost", "{rooms:#?}");
    assert_eq!(rooms.still_lost, ["back-office"]);
    assert!(
        rooms
            .mechanism
            .contains("back-office had no member on another server"),
        "{}",
        rooms.mechanism
    );
    assert!(
        !rooms.mechanism.contains("held these rooms too"),
        "{}",
        rooms.mechanism
    );
}
