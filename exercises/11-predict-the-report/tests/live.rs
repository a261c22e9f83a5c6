//! Exercise 11, live: the incident is replayed (the lab runs
//! `hypha-2021` on real servers, as `lostfound scenario run hypha-2021`
//! does) and your prediction is compared with the report, category by
//! category. For each wrong one the failure shows what the report says
//! and why, in its own words.
//!
//! Each prediction is checked on the recorded seed (2021) and on another
//! one: the outcome depends on what the servers held, not on the random
//! choices of one run, so a right prediction holds for every seed.

#[cfg(not(feature = "reference"))]
use ex11_predict_the_report as answer;
#[cfg(feature = "reference")]
mod reference;
#[cfg(feature = "reference")]
use reference as answer;

use lostfound_lab::live::INCIDENT_SEED;
use lostfound_lab::scenario::report::Report;
use lostfound_lab::scenario::variant::Variant;
use lostfound_lab::scenario::{RunOptions, builtin, run};

/// A seed other than the incident's, to show a prediction is no accident.
const OTHER_SEED: u64 = 7;

async fn replay(variant: Option<&str>, seed: u64) -> Report {
    let scenario = builtin::load("hypha-2021")
        .expect("hypha-2021 is built in")
        .expect("hypha-2021 parses");
    let scenario = match variant {
        Some(name) => Variant::named(name)
            .expect("a known variant")
            .apply(scenario),
        None => scenario,
    };
    let options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    run(scenario, options, |_| {})
        .await
        .expect("the replay runs to its end")
        .report
}

/// Every category where `report` differs from the prediction, explained.
fn wrong_predictions(variant: Option<&str>, report: &Report) -> Vec<String> {
    let predicted = answer::predict(variant);
    report
        .categories
        .iter()
        .filter_map(|category| {
            let guess = predicted.get(category.name).copied().unwrap_or("(nothing)");
            (guess != category.outcome).then(|| {
                let mut lines = format!(
                    "  {}: you predicted {guess:?}, the report says {:?} \
                     (before {}, after restore {}, after healing {})\n    why: {}",
                    category.name,
                    category.outcome,
                    category.before,
                    category.after_restore,
                    category.after_healing,
                    category.mechanism
                );
                if !category.found_again.is_empty() {
                    lines.push_str(&format!(
                        "\n    found again: {}",
                        category.found_again.join(", ")
                    ));
                }
                if !category.still_lost.is_empty() {
                    lines.push_str(&format!(
                        "\n    still lost: {}",
                        category.still_lost.join(", ")
                    ));
                }
                lines
            })
        })
        .collect()
}

/// On the recorded seed first; only a prediction right there is tried on
/// the other seed (whose report, if the lab is right, is the same).
async fn prediction_holds(variant: Option<&str>) {
    for seed in [INCIDENT_SEED, OTHER_SEED] {
        let report = replay(variant, seed).await;
        let wrong = wrong_predictions(variant, &report);
        assert!(
            wrong.is_empty(),
            "hypha-2021 ({}), seed {seed}: {} of {} categories predicted wrong:\n{}",
            variant.unwrap_or("as written"),
            wrong.len(),
            report.categories.len(),
            wrong.join("\n")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_incident_as_it_happened() {
    prediction_holds(None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_verified_cleanup() {
    prediction_holds(Some("verified-cleanup")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_daily_backups() {
    prediction_holds(Some("daily-backups")).await;
}
