//! Counterfactuals: the same story with one thing done differently, to
//! show what would have saved the data.

use super::{Action, Scenario, Step, dates};

/// A way to change a scenario before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Every `cleanup` verifies the copy first, and refuses an incomplete
    /// one: the old database survives and nothing is lost.
    VerifiedCleanup,
    /// The subject is backed up every day at 03:00 from its first backup
    /// until the disaster, and a restore takes the newest: at most a day
    /// is lost.
    DailyBackups,
}

/// Every variant: its name on the command line and what it changes.
pub const VARIANTS: &[(&str, Variant, &str)] = &[
    (
        "verified-cleanup",
        Variant::VerifiedCleanup,
        "every cleanup checks the copy first and refuses an incomplete one",
    ),
    (
        "daily-backups",
        Variant::DailyBackups,
        "the subject is backed up every day at 03:00 until the disaster",
    ),
];

impl Variant {
    /// The variant called `name`, or the list of names.
    pub fn named(name: &str) -> Result<Variant, String> {
        VARIANTS
            .iter()
            .find(|(known, _, _)| *known == name)
            .map(|(_, variant, _)| *variant)
            .ok_or_else(|| {
                let names: Vec<&str> = VARIANTS.iter().map(|(name, _, _)| *name).collect();
                format!(
                    "unknown variant {name:?}; expected one of: {}",
                    names.join(", ")
                )
            })
    }

    pub fn name(self) -> &'static str {
        VARIANTS
            .iter()
            .find(|(_, variant, _)| *variant == self)
            .map_or("?", |(name, _, _)| name)
    }

    /// `scenario`, changed.
    pub fn apply(self, mut scenario: Scenario) -> Scenario {
        match self {
            Variant::VerifiedCleanup => {
                for step in &mut scenario.steps {
                    if let Action::Cleanup { verify, .. } = &mut step.action {
                        *verify = true;
                    }
                }
            }
            Variant::DailyBackups => add_daily_backups(&mut scenario),
        }
        scenario
    }
}

const DAY_MS: u64 = 24 * 60 * 60 * 1000;
const THREE_AM_MS: u64 = 3 * 60 * 60 * 1000;

fn add_daily_backups(scenario: &mut Scenario) {
    let subject = scenario.subject.clone();
    let first_backup = scenario
        .steps
        .iter()
        .find(|step| matches!(&step.action, Action::Backup { server, .. } if *server == subject));
    let disaster = scenario.steps.iter().find(|step| match &step.action {
        Action::Migrate { server, .. } | Action::Cleanup { server, .. } => *server == subject,
        _ => false,
    });
    let (Some(first_backup), Some(disaster)) = (first_backup, disaster) else {
        return; // nothing to back up before, or no disaster to survive
    };
    let mut at = first_backup.at_ms - first_backup.at_ms % DAY_MS + DAY_MS + THREE_AM_MS;
    let mut backups = Vec::new();
    while at < disaster.at_ms {
        backups.push(Step {
            line: 0,
            at_ms: at,
            action: Action::Backup {
                server: subject.clone(),
                label: format!("daily-{}", dates::format_day(at)),
            },
            note: None,
        });
        at += DAY_MS;
    }
    scenario.steps.extend(backups);
    // Stable: a backup at the same minute as a written step runs first.
    scenario
        .steps
        .sort_by_key(|step| (step.at_ms, step.line != 0));
}
