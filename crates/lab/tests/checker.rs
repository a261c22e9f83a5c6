//! The checker can fail: a message deleted behind a server's back is a
//! durability violation that names the room, the server, the event and
//! the step after which it went missing.

use lostfound_lab::scenario::{RunOptions, Runner, parse};

const STORY: &str = r#"
format = 1
name = "checked"
title = "A message that must not vanish"
seed = 3
start = "2021-01-01"
subject = "a.lab"
servers = ["a.lab", "b.lab"]

[[step]]
at = "2021-01-01 09:00"
do = "register"
user = "@ana:a.lab"

[[step]]
at = "2021-01-01 09:01"
do = "create-room"
user = "@ana:a.lab"
room = "notes"
kind = "unfederated"

[[step]]
at = "2021-01-01 09:02"
do = "send"
user = "@ana:a.lab"
room = "notes"
text = "remember me"

[[step]]
at = "2021-01-01 09:03"
do = "register"
user = "@bo:a.lab"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_message_lost_without_a_reason_is_a_violation() {
    let scenario = parse(STORY, "checked.toml").expect("a valid story");
    let mut runner = Runner::start(scenario, RunOptions::default())
        .await
        .expect("the lab starts");
    let steps = runner.steps();
    for step in &steps[..3] {
        runner.step(step).await.expect("the step runs");
    }
    // Behind the server's back, as a bug or a bad disk would.
    let database = runner
        .lab()
        .data_dir("a.lab")
        .expect("a.lab exists")
        .join(lostfound_store::DATABASE_FILE);
    let deleted = rusqlite::Connection::open(&database)
        .and_then(|conn| {
            conn.execute_batch("PRAGMA foreign_keys = OFF")?;
            conn.execute("DELETE FROM events WHERE json LIKE '%remember me%'", [])
        })
        .expect("the row is deleted");
    assert_eq!(deleted, 1);
    runner.step(&steps[3]).await.expect("the last step runs");

    let finished = runner.finish().await.expect("the run ends");
    assert!(!finished.check.passed());
    let violation = &finished.check.violations[0];
    assert_eq!(violation.kind, "durability");
    assert_eq!(violation.room, "notes");
    assert_eq!(violation.servers, ["a.lab"]);
    assert_eq!(violation.step_line, steps[3].line);
    assert_eq!(violation.events.len(), 1);
    assert!(
        violation.detail.contains("never destroyed its files"),
        "{violation:?}"
    );
}
