//! The graded tests for exercise 11 that need no replay: your prediction
//! must name every category of the report, once, with one of its outcome
//! words. Whether the words are *right* is for `tests/live.rs`, which
//! replays the incident.

#[cfg(not(feature = "reference"))]
use ex11_predict_the_report as answer;
#[cfg(feature = "reference")]
mod reference;
#[cfg(feature = "reference")]
use reference as answer;

use lostfound_lab::scenario::predict::{CATEGORIES, OUTCOMES};

/// The scenario as written, and its two variants.
const VARIANTS: [Option<&str>; 3] = [None, Some("verified-cleanup"), Some("daily-backups")];

fn shown(variant: Option<&str>) -> &str {
    variant.unwrap_or("no variant")
}

#[test]
fn every_category_is_predicted() {
    for variant in VARIANTS {
        let predicted = answer::predict(variant);
        let names: Vec<&str> = predicted.keys().copied().collect();
        let mut expected = CATEGORIES.to_vec();
        expected.sort_unstable();
        assert_eq!(
            names,
            expected,
            "{}: the prediction must have exactly the report's seven categories, by name",
            shown(variant)
        );
    }
}

#[test]
fn every_prediction_is_an_outcome_word() {
    for variant in VARIANTS {
        for (category, outcome) in answer::predict(variant) {
            assert!(
                OUTCOMES.contains(&outcome),
                "{}: {category}: {outcome:?} is not an outcome; the report uses {OUTCOMES:?}",
                shown(variant)
            );
        }
    }
}
