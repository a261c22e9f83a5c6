//! The built-in replay of the incident, end to end: the outcome must match
//! the 2021 story, the checker must pass, the report must be the same
//! every time (a reviewed snapshot), and the counterfactual variants must
//! lose what they promise and no more.

use lostfound_lab::scenario::report::{Category, Report};
use lostfound_lab::scenario::{Finished, RunOptions, builtin, run, variant::Variant};

async fn replay(variant: Option<Variant>, seed: Option<u64>) -> Finished {
    let scenario = builtin::load("hypha-2021")
        .expect("built in")
        .expect("parses");
    let scenario = match variant {
        Some(variant) => variant.apply(scenario),
        None => scenario,
    };
    let options = RunOptions {
        seed,
        ..RunOptions::default()
    };
    run(scenario, options, |_| {})
        .await
        .expect("the scenario runs to its end")
}

fn category<'a>(report: &'a Report, name: &str) -> &'a Category {
    report
        .categories
        .iter()
        .find(|category| category.name == name)
        .unwrap_or_else(|| panic!("no category {name}"))
}

/// The outcome of the seed post, category by category.
#[tokio::test(flavor = "multi_thread")]
async fn the_incident_replays_as_it_happened() {
    let finished = replay(None, None).await;
    let report = &finished.report;
    assert!(finished.check.passed(), "{:#?}", finished.check);
    let outcome = |name| category(report, name).outcome;
    // Public federated rooms and their messages came back from the peers.
    assert_eq!(outcome("federated rooms"), "healed");
    let rooms = category(report, "federated rooms");
    assert_eq!(rooms.after_healing, rooms.before);
    assert!(rooms.after_restore.items < rooms.before.items);
    // Rooms born in the gap came back (an invite, a join through a peer).
    assert!(rooms.found_again.contains(&"spring-garden".to_owned()));
    assert!(rooms.found_again.contains(&"mesh-news".to_owned()));
    // What lived only on tomesh.lab stayed lost.
    assert_eq!(
        category(report, "unfederated rooms").still_lost,
        ["upgrade-planning"]
    );
    assert_eq!(
        category(report, "direct messages").still_lost,
        ["chloe-dario"]
    );
    let media = category(report, "media and avatars");
    assert_eq!(
        media.still_lost,
        ["@chloe:tomesh.lab's avatar", "the avatar of hypha-public"]
    );
    assert_eq!(outcome("password changes"), "lost");
    let accounts = category(report, "accounts");
    assert_eq!(
        (accounts.before.items, accounts.after_healing.items),
        (4, 2)
    );
    assert!(
        accounts
            .still_lost
            .iter()
            .all(|a| a.starts_with("@chloe") || a.starts_with("@dario"))
    );
    // Re-registered users are back in their old public rooms.
    let memberships = category(report, "memberships");
    assert!(
        memberships
            .found_again
            .contains(&"@chloe:tomesh.lab in hypha-public".to_owned())
    );
    insta::assert_snapshot!("hypha_2021_report", report.to_text());
    insta::assert_json_snapshot!("hypha_2021_report_json", report);
}

/// Same seed, same run: the same report and the same steps, to the byte.
#[tokio::test(flavor = "multi_thread")]
async fn a_replay_with_the_same_seed_is_identical() {
    let (first, second) = (replay(None, Some(7)).await, replay(None, Some(7)).await);
    assert_eq!(first.records, second.records);
    assert_eq!(first.report, second.report);
}

/// With a verified cleanup the copy is refused, the server restarts on
/// its intact database, and nothing at all is lost.
#[tokio::test(flavor = "multi_thread")]
async fn a_verified_cleanup_loses_nothing() {
    let finished = replay(Some(Variant::VerifiedCleanup), None).await;
    assert!(finished.check.passed(), "{:#?}", finished.check);
    for category in &finished.report.categories {
        assert_eq!(category.outcome, "kept", "{category:#?}");
        assert_eq!(category.after_restore, category.before, "{category:#?}");
    }
    assert!(finished.report.restored_from.is_none());
    insta::assert_snapshot!("verified_cleanup_report", finished.report.to_text());
}

/// With daily backups the restore comes from the night before the
/// upgrade: at most a day is lost, and here nothing was written that day.
#[tokio::test(flavor = "multi_thread")]
async fn daily_backups_lose_at_most_a_day() {
    let finished = replay(Some(Variant::DailyBackups), None).await;
    assert!(finished.check.passed(), "{:#?}", finished.check);
    let report = &finished.report;
    assert_eq!(
        report.restored_from.as_deref(),
        Some("\"daily-2021-06-05\" of 2021-06-05 03:00")
    );
    for category in &report.categories {
        assert_eq!(category.after_restore, category.before, "{category:#?}");
    }
    insta::assert_snapshot!("daily_backups_report", report.to_text());
}
