//! The rules of thumb the lost & found report follows, applied to a
//! scenario *without running it*: which outcome (`kept`, `healed`, `partly
//! healed`, `lost`, `partly lost`, `none`) each category of the report
//! will show.
//!
//! The rules, in the order they are applied:
//!
//! 1. **What the subject's database goes through.** An upgrade's copy
//!    (`migrate`) is complete only with an unlimited quota. A `cleanup`
//!    that trusts an incomplete copy leaves a database the server refuses
//!    (it is down); a verified cleanup refuses the copy and keeps the old
//!    database. A cleanup with no copy at all leaves an empty database. A
//!    `crash` loses nothing (every write was durable). A `restore` (with
//!    `only-if-down`: only if the server is down) brings back a backup:
//!    what was written after that backup is lost.
//! 2. **What existed before the disaster** (the subject's first migrate,
//!    cleanup, crash or restore) is what counts. An item written after
//!    the surviving backup is lost at the restore.
//! 3. **Only what another server held can heal.** A room that had a
//!    member on another server comes back when, after the restore, a
//!    local user joins it through a peer or is invited by a remote user
//!    (send_join returns its state); a room the subject still held is
//!    back already. Its lost messages come back in full when a local user
//!    scrolls back in it once it is back (backfill); a new message from a
//!    peer alone brings back only the newest few (get_missing_events).
//!    Memberships are room state: they come back with any event the
//!    peers send (a message, a join, an invite). Unfederated rooms,
//!    direct messages between local users, media files, accounts and
//!    password hashes lived only on the subject and never heal. (A user
//!    who registers again gets a new account, whose newest password
//!    works again: the report counts that password change as found.)
//! 4. **The outcome word** is the report's: `none` if the category had
//!    nothing before the disaster, `kept` if nothing was missing after
//!    the restore, `healed` if everything came back, `partly healed` if
//!    some of it did, `lost` if none of it is there at all, and `partly
//!    lost` if the backup kept some and nothing more came back.
//!
//! These are rules of thumb, not the lab: they ignore timing (a peer that
//! is itself down), how many events `get_missing_events` brings back, and
//! histories a joining server may or may not be given. For the built-in
//! scenario and its variants they give the report's words exactly (the
//! tests below, and the exercise *Predicting the lost & found report*,
//! check that against real runs).

use super::{Action, BackupChoice, RoomKind, Scenario, server_of};
use crate::chaos::Quota;
use std::collections::BTreeMap;

/// The report's categories, in its order.
pub const CATEGORIES: [&str; 7] = [
    "federated rooms",
    "unfederated rooms",
    "direct messages",
    "media and avatars",
    "accounts",
    "password changes",
    "memberships",
];

/// The outcome words a category can have.
pub const OUTCOMES: [&str; 6] = [
    "kept",
    "healed",
    "partly healed",
    "lost",
    "partly lost",
    "none",
];

/// The predicted outcome of every category of `scenario`'s report, by
/// category name.
pub fn predict(scenario: &Scenario) -> BTreeMap<&'static str, &'static str> {
    let fate = Fate::of(scenario);
    let story = Story::before_disaster(scenario, fate.disaster_at);
    let after = After::recovery(scenario, &fate);
    let rooms = |kinds: &[RoomKind]| room_outcome(&story, &after, &fate, kinds);
    let plain = |items: Vec<u64>| {
        outcome(
            &items.iter().map(|at| fate.keeps(*at)).collect::<Vec<_>>(),
            None,
        )
    };
    let mut outcomes = BTreeMap::new();
    outcomes.insert(CATEGORIES[0], rooms(&[RoomKind::Public, RoomKind::Private]));
    outcomes.insert(CATEGORIES[1], rooms(&[RoomKind::Unfederated]));
    outcomes.insert(CATEGORIES[2], rooms(&[RoomKind::Direct]));
    outcomes.insert(CATEGORIES[3], plain(story.uploads.clone()));
    outcomes.insert(
        CATEGORIES[4],
        plain(story.accounts.values().copied().collect()),
    );
    outcomes.insert(CATEGORIES[5], password_outcome(&story, &after, &fate));
    outcomes.insert(CATEGORIES[6], membership_outcome(&story, &after, &fate));
    outcomes
}

/// What happened to the subject's database (rule 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fate {
    disaster_at: u64,
    /// What was written after this time is gone (`None`: nothing is).
    kept_until: Option<u64>,
    /// When the subject came back with what it kept (healing starts).
    recovered_at: u64,
    /// The subject never came back: nothing can be seen at all.
    down_at_end: bool,
}

impl Fate {
    fn of(scenario: &Scenario) -> Fate {
        let subject = scenario.subject.as_str();
        let mut fate = Fate {
            disaster_at: u64::MAX,
            kept_until: None,
            recovered_at: u64::MAX,
            down_at_end: false,
        };
        let mut backups: Vec<(&str, u64)> = Vec::new();
        let mut copy_complete = None;
        for step in &scenario.steps {
            let on_subject = |server: &str| server == subject;
            match &step.action {
                Action::Backup { server, label } if on_subject(server) => {
                    backups.push((label, step.at_ms));
                }
                Action::Migrate { server, quota } if on_subject(server) => {
                    copy_complete = Some(*quota == Quota::Unlimited);
                }
                Action::Cleanup { server, verify } if on_subject(server) => {
                    match (copy_complete.take(), verify) {
                        (Some(true), _) | (Some(false), true) => {}
                        (Some(false), false) => {
                            fate.down_at_end = true;
                            fate.kept_until = Some(0);
                        }
                        (None, _) => {
                            fate.kept_until = Some(0);
                            fate.recovered_at = step.at_ms;
                        }
                    }
                }
                Action::Restore {
                    server,
                    backup,
                    only_if_down,
                } if on_subject(server) && (fate.down_at_end || !only_if_down) => {
                    let chosen = match backup {
                        BackupChoice::Latest => backups.last(),
                        BackupChoice::Labelled(label) => backups.iter().find(|(l, _)| l == label),
                    };
                    if let Some((_, taken_at)) = chosen {
                        // The database is now that backup, whatever came before.
                        fate.kept_until = Some(*taken_at);
                        fate.recovered_at = step.at_ms;
                        fate.down_at_end = false;
                    }
                }
                _ => {}
            }
            if step.action.destroys().is_some_and(on_subject)
                || matches!(&step.action, Action::Migrate { server, .. } | Action::Crash { server } if on_subject(server))
            {
                fate.disaster_at = fate.disaster_at.min(step.at_ms);
            }
        }
        fate
    }

    /// `(there after the restore, there after healing)` for an item
    /// written at `at` that cannot heal.
    fn keeps(&self, at: u64) -> (bool, bool) {
        let kept = !self.down_at_end && self.kept_until.is_none_or(|until| at <= until);
        (kept, kept)
    }

    fn lost_anything(&self) -> bool {
        self.kept_until.is_some() || self.down_at_end
    }
}

/// A room as the story made it, up to the disaster.
#[derive(Debug, Default)]
struct RoomFacts {
    kind: Option<RoomKind>,
    /// The server of its creator.
    origin: String,
    /// When a local user first joined it (the subject held it since).
    held_since: Option<u64>,
    /// Whether a user of another server was ever in it.
    remote_member: bool,
    /// When each message the subject held was sent.
    messages: Vec<u64>,
}

/// What existed on the subject before the disaster (rule 2).
#[derive(Debug, Default)]
struct Story {
    rooms: BTreeMap<String, RoomFacts>,
    /// `(local user, room)` and when they joined.
    memberships: BTreeMap<(String, String), u64>,
    /// Local users and when they registered.
    accounts: BTreeMap<String, u64>,
    /// Local users and when they last changed their password.
    passwords: BTreeMap<String, u64>,
    /// When each local upload was made.
    uploads: Vec<u64>,
}

impl Story {
    fn before_disaster(scenario: &Scenario, disaster_at: u64) -> Story {
        let subject = scenario.subject.as_str();
        let mut story = Story::default();
        for step in scenario.steps.iter().take_while(|s| s.at_ms < disaster_at) {
            let at = step.at_ms;
            match &step.action {
                Action::Register { user } if server_of(user) == subject => {
                    story.accounts.insert(user.clone(), at);
                }
                Action::SetPassword { user } if server_of(user) == subject => {
                    story.passwords.insert(user.clone(), at);
                }
                Action::SetAvatar { user, .. } if server_of(user) == subject => {
                    story.uploads.push(at);
                }
                Action::CreateRoom {
                    user,
                    room,
                    kind,
                    invite,
                } => {
                    let facts = story.rooms.entry(room.clone()).or_default();
                    facts.kind = Some(*kind);
                    facts.origin = server_of(user).to_owned();
                    for member in std::iter::once(user).chain(invite) {
                        story.joins(subject, member, room, at);
                    }
                }
                Action::Join { user, room, .. } => story.joins(subject, user, room, at),
                Action::Invite { room, invitee, .. } => story.joins(subject, invitee, room, at),
                Action::Send { room, count, .. } => {
                    let facts = story.rooms.entry(room.clone()).or_default();
                    if facts.held_since.is_some() {
                        facts
                            .messages
                            .extend(std::iter::repeat_n(at, *count as usize));
                    }
                }
                _ => {}
            }
        }
        story
    }

    fn joins(&mut self, subject: &str, user: &str, room: &str, at: u64) {
        let facts = self.rooms.entry(room.to_owned()).or_default();
        if server_of(user) == subject {
            facts.held_since.get_or_insert(at);
            self.memberships
                .entry((user.to_owned(), room.to_owned()))
                .or_insert(at);
        } else {
            facts.remote_member = true;
        }
    }
}

/// What happens after the subject came back, room by room (rule 3).
#[derive(Debug, Default)]
struct After {
    /// Rooms a peer sent an event into: the time of the first.
    peer_sent: BTreeMap<String, u64>,
    /// Rooms a local user joined through a peer, or was invited into by
    /// a remote user: the time of the first.
    rejoined: BTreeMap<String, u64>,
    /// Rooms a local user scrolled back in, and when.
    scrolled: BTreeMap<String, Vec<u64>>,
    /// Local users who registered again.
    reregistered: Vec<String>,
}

impl After {
    fn recovery(scenario: &Scenario, fate: &Fate) -> After {
        let subject = scenario.subject.as_str();
        let local = |user: &str| server_of(user) == subject;
        let mut origins: BTreeMap<&str, &str> = BTreeMap::new();
        let mut after = After::default();
        for step in &scenario.steps {
            if let Action::CreateRoom { user, room, .. } = &step.action {
                origins.insert(room, server_of(user));
            }
            if step.at_ms < fate.recovered_at {
                continue;
            }
            let at = step.at_ms;
            match &step.action {
                Action::Send { user, room, .. } if !local(user) => {
                    after.peer_sent.entry(room.clone()).or_insert(at);
                }
                Action::Join { user, room, via } if local(user) => {
                    let via = via.as_deref().or(origins.get(room.as_str()).copied());
                    if via.is_some_and(|via| via != subject) {
                        after.rejoined.entry(room.clone()).or_insert(at);
                    }
                }
                Action::Invite {
                    user,
                    room,
                    invitee,
                } if !local(user) && local(invitee) => {
                    after.rejoined.entry(room.clone()).or_insert(at);
                }
                Action::ScrollBack { user, room } if local(user) => {
                    after.scrolled.entry(room.clone()).or_default().push(at);
                }
                Action::Reregister { user } if local(user) => after.reregistered.push(user.clone()),
                _ => {}
            }
        }
        after
    }

    /// Whether any event from a peer reached `room` (its state with it).
    fn touched(&self, room: &str) -> bool {
        self.peer_sent.contains_key(room) || self.rejoined.contains_key(room)
    }
}

/// A room category: rooms are the items, and their messages count too.
fn room_outcome(story: &Story, after: &After, fate: &Fate, kinds: &[RoomKind]) -> &'static str {
    let mut items = Vec::new();
    let mut messages = [0; 3];
    let rooms = story
        .rooms
        .iter()
        .filter(|(_, facts)| facts.kind.is_some_and(|kind| kinds.contains(&kind)));
    for (label, facts) in rooms {
        let Some(held_since) = facts.held_since else {
            continue;
        };
        let (held, _) = fate.keeps(held_since);
        let can_heal = facts.remote_member && !fate.down_at_end && fate.lost_anything();
        let back_at = match (held, can_heal) {
            (true, _) => Some(fate.recovered_at),
            (false, true) => after.rejoined.get(label).copied(),
            (false, false) => None,
        };
        items.push((held, back_at.is_some()));
        let total = facts.messages.len();
        let kept = facts
            .messages
            .iter()
            .filter(|at| fate.keeps(**at).0)
            .count();
        let lost = total - kept;
        let scrolled_back = back_at.is_some_and(|back| {
            after
                .scrolled
                .get(label)
                .is_some_and(|times| times.iter().any(|at| *at >= back))
        });
        let found = match (can_heal && back_at.is_some(), scrolled_back) {
            (false, _) => 0,
            (true, true) => lost,
            (true, false) if held && after.peer_sent.contains_key(label) => lost.min(1),
            (true, false) => 0,
        };
        messages[0] += total;
        messages[1] += kept;
        messages[2] += kept + found;
    }
    outcome(&items, Some(messages))
}

fn password_outcome(story: &Story, after: &After, fate: &Fate) -> &'static str {
    let items: Vec<(bool, bool)> = story
        .passwords
        .iter()
        .map(|(user, changed_at)| {
            let (kept, _) = fate.keeps(*changed_at);
            let account_lost = story
                .accounts
                .get(user)
                .is_none_or(|registered| !fate.keeps(*registered).0);
            let registered_again = account_lost && after.reregistered.contains(user);
            (kept, kept || (registered_again && !fate.down_at_end))
        })
        .collect();
    outcome(&items, None)
}

fn membership_outcome(story: &Story, after: &After, fate: &Fate) -> &'static str {
    let items: Vec<(bool, bool)> = story
        .memberships
        .iter()
        .map(|((_, room), joined_at)| {
            let (kept, _) = fate.keeps(*joined_at);
            let federated = story
                .rooms
                .get(room)
                .is_some_and(|facts| facts.remote_member);
            let healed = federated && !fate.down_at_end && after.touched(room);
            (kept, kept || healed)
        })
        .collect();
    outcome(&items, None)
}

/// The report's outcome word (rule 4) for items that are each `(there
/// after the restore, there after healing)`, and for rooms, message
/// counts before, after the restore and after healing.
fn outcome(items: &[(bool, bool)], messages: Option<[usize; 3]>) -> &'static str {
    let restored = items.iter().filter(|(kept, _)| *kept).count();
    let healed = items.iter().filter(|(_, back)| *back).count();
    let [before_msgs, restored_msgs, healed_msgs] = messages.unwrap_or([0; 3]);
    let lost_at_restore = restored < items.len() || restored_msgs < before_msgs;
    let lost_at_end = healed < items.len() || healed_msgs < before_msgs;
    match (items.is_empty(), lost_at_restore, lost_at_end) {
        (true, _, _) => "none",
        (false, false, _) => "kept",
        (false, true, false) => "healed",
        (false, true, true) if healed > restored || healed_msgs > restored_msgs => "partly healed",
        (false, true, true) if restored == 0 && healed == 0 => "lost",
        (false, true, true) => "partly lost",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::builtin;
    use crate::scenario::variant::Variant;

    fn hypha(variant: Option<Variant>) -> BTreeMap<&'static str, &'static str> {
        let scenario = builtin::load("hypha-2021").unwrap().unwrap();
        predict(&variant.map_or(scenario.clone(), |v| v.apply(scenario)))
    }

    /// The outcomes of the reviewed report snapshots in tests/snapshots.
    #[test]
    fn the_incident_is_predicted_as_its_report_says() {
        let expected = [
            ("federated rooms", "healed"),
            ("unfederated rooms", "partly lost"),
            ("direct messages", "partly lost"),
            ("media and avatars", "partly lost"),
            ("accounts", "partly lost"),
            ("password changes", "lost"),
            ("memberships", "partly healed"),
        ];
        assert_eq!(hypha(None), BTreeMap::from(expected));
    }

    #[test]
    fn both_variants_keep_everything() {
        for variant in [Variant::VerifiedCleanup, Variant::DailyBackups] {
            let predicted = hypha(Some(variant));
            assert_eq!(predicted.len(), CATEGORIES.len());
            assert!(
                predicted.values().all(|o| *o == "kept"),
                "{variant:?}: {predicted:?}"
            );
        }
    }

    fn tiny(steps: &str) -> Scenario {
        let text = format!(
            "format = 1\nname = \"tiny\"\ntitle = \"t\"\nseed = 1\nstart = \"2021-01-01\"\n\
             subject = \"a.lab\"\nservers = [\"a.lab\", \"b.lab\"]\n{steps}"
        );
        crate::scenario::parse(&text, "<tiny>").unwrap()
    }

    const ACCOUNTS: &str = "
[[step]]
at = \"2021-01-02 10:00\"
do = \"register\"
user = \"@ann:a.lab\"

[[step]]
at = \"2021-01-02 10:00\"
do = \"register\"
user = \"@bob:b.lab\"

[[step]]
at = \"2021-01-02 10:05\"
do = \"create-room\"
user = \"@ann:a.lab\"
room = \"hall\"
kind = \"public\"

[[step]]
at = \"2021-01-02 10:06\"
do = \"join\"
user = \"@bob:b.lab\"
room = \"hall\"
";

    #[test]
    fn a_crash_loses_nothing_and_empty_categories_are_none() {
        let scenario = tiny(&format!(
            "{ACCOUNTS}\n[[step]]\nat = \"2021-01-03 10:00\"\ndo = \"crash\"\nserver = \"a.lab\"\n"
        ));
        let predicted = predict(&scenario);
        assert_eq!(predicted["accounts"], "kept");
        assert_eq!(predicted["federated rooms"], "kept");
        assert_eq!(predicted["memberships"], "kept");
        assert_eq!(predicted["direct messages"], "none");
        assert_eq!(predicted["password changes"], "none");
    }

    #[test]
    fn an_unverified_cleanup_without_a_restore_loses_everything() {
        let scenario = tiny(&format!(
            "{ACCOUNTS}
[[step]]
at = \"2021-01-03 10:00\"
do = \"migrate\"
server = \"a.lab\"
quota = \"50%\"

[[step]]
at = \"2021-01-03 11:00\"
do = \"cleanup\"
server = \"a.lab\"
"
        ));
        let predicted = predict(&scenario);
        assert_eq!(predicted["accounts"], "lost");
        assert_eq!(predicted["federated rooms"], "lost");
        assert_eq!(predicted["memberships"], "lost");
    }

    #[test]
    fn every_predicted_word_is_an_outcome() {
        for outcome in hypha(None).values() {
            assert!(OUTCOMES.contains(outcome), "{outcome}");
        }
    }
}
