//! The lost & found report: what the subject server held before the
//! disaster, right after it came back, and after the federation healed it,
//! category by category, with examples and the mechanism behind each
//! outcome.
//!
//! Snapshots are *observations*: the lab reads the subject's store and
//! asks its client API, and never writes. The runner remembers what the
//! story created (rooms, messages, uploads, accounts, password changes)
//! in [`Tracked`], so that the report can say what is missing, not only
//! what is there.

use super::run::Runner;
use super::{RoomKind, dates, server_of};
use crate::client;
use crate::error::LabError;
use lostfound_protocol::ids::{EventId, RoomId, ServerName, UserId};
use lostfound_store::{SqliteStore, Store};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What the story made, as the runner remembers it.
#[derive(Debug, Default)]
pub struct Tracked {
    /// Users registered, and when.
    pub accounts: BTreeMap<String, u64>,
    /// Users who changed their password, and when last.
    pub password_changes: BTreeMap<String, u64>,
    pub media: Vec<Upload>,
    pub messages: Vec<Message>,
    /// Room labels and when each was created.
    pub rooms: BTreeMap<String, u64>,
    /// Servers restored, and the time of the backup they got.
    pub restored: BTreeMap<String, u64>,
    /// Servers whose files the scenario destroyed or replaced (an
    /// unverified cleanup, a restore), and when it last did.
    pub destroyed: BTreeMap<String, u64>,
}

#[derive(Debug, Clone)]
pub struct Upload {
    /// "@alice:tomesh.lab's avatar", "the avatar of hypha-public".
    pub what: String,
    pub uri: String,
    pub at_ms: u64,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub event_id: String,
    pub room: String,
    pub sender: String,
    pub body: String,
    pub at_ms: u64,
}

/// What the subject held at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Whether the subject was running (a stopped server holds nothing a
    /// user can reach).
    pub running: bool,
    /// Room labels the subject holds (any state at all).
    pub rooms: BTreeSet<String>,
    /// Event IDs of the story's messages the subject holds in a timeline.
    pub messages: BTreeSet<String>,
    /// Local users with an account, as `@user:server (registered DATE)`:
    /// an account registered again under the same name is another one.
    pub accounts: BTreeSet<String>,
    /// The same users, by ID only.
    pub users_with_accounts: BTreeSet<String>,
    /// Local users whose newest password logs in.
    pub passwords: BTreeSet<String>,
    /// Uploads (by `what`) whose file the subject still serves.
    pub media: BTreeSet<String>,
    /// `(user, room label)`: local users joined, per the subject's state.
    pub memberships: BTreeSet<(String, String)>,
}

/// The runner's snapshots of the subject.
#[derive(Debug, Default)]
pub struct Snapshots {
    pub before: Option<Snapshot>,
    pub after_restore: Option<Snapshot>,
}

/// Observes the subject of `runner`.
pub(crate) async fn snapshot(runner: &Runner<'_>) -> Result<Snapshot, LabError> {
    let subject = runner.scenario.subject.clone();
    if !runner.lab.is_running(&subject) {
        return Ok(Snapshot::default());
    }
    let store = runner.lab.store(&subject)?;
    let rooms: Vec<(String, String)> = runner
        .rooms
        .iter()
        .map(|(label, room)| (label.clone(), room.room_id.clone()))
        .collect();
    let messages = runner.tracked.messages.clone();
    let users: Vec<String> = runner
        .tracked
        .accounts
        .keys()
        .filter(|user| server_of(user) == subject)
        .cloned()
        .collect();
    let media = runner.tracked.media.clone();
    let stored = {
        let name = subject.clone();
        tokio::task::spawn_blocking(move || {
            read_store(&store, &name, &rooms, &messages, &users, &media)
        })
        .await
        .map_err(|e| LabError::Stopped {
            server: subject.clone(),
            message: e.to_string(),
        })?
        .map_err(|source| LabError::Store {
            server: subject.clone(),
            source,
        })?
    };
    let mut snapshot = stored;
    snapshot.running = true;
    snapshot.passwords = working_passwords(runner, &snapshot.users_with_accounts).await?;
    Ok(snapshot)
}

fn read_store(
    store: &Arc<SqliteStore>,
    subject: &str,
    rooms: &[(String, String)],
    messages: &[Message],
    users: &[String],
    media: &[Upload],
) -> Result<Snapshot, lostfound_store::StoreError> {
    let mut snapshot = Snapshot::default();
    let mut room_labels = BTreeMap::new();
    for (label, room_id) in rooms {
        let Ok(room_id) = room_id.parse::<RoomId>() else {
            continue;
        };
        let state = store.current_state(&room_id)?;
        if state.is_empty() {
            continue;
        }
        snapshot.rooms.insert(label.clone());
        room_labels.insert(room_id.clone(), label.clone());
        for user in users {
            let Ok(user_id) = user.parse::<UserId>() else {
                continue;
            };
            let member = state.get(&("m.room.member".to_owned(), user_id.to_string()));
            let Some(member) = member else { continue };
            let joined = store
                .event(member)?
                .is_some_and(|stored| stored.event.content()["membership"] == "join");
            if joined {
                snapshot.memberships.insert((user.clone(), label.clone()));
            }
        }
    }
    for message in messages {
        let Ok(event_id) = message.event_id.parse::<EventId>() else {
            continue;
        };
        if store
            .event(&event_id)?
            .is_some_and(|stored| !stored.outlier)
        {
            snapshot.messages.insert(message.event_id.clone());
        }
    }
    for user in users {
        let Ok(user_id) = user.parse::<UserId>() else {
            continue;
        };
        if let Some(account) = store.account(&user_id)? {
            let registered = super::dates::format(account.created_ts);
            snapshot
                .accounts
                .insert(format!("{user} (registered {registered})"));
            snapshot.users_with_accounts.insert(user.clone());
        }
    }
    for upload in media {
        let Some((origin, media_id)) = upload
            .uri
            .strip_prefix("mxc://")
            .and_then(|rest| rest.split_once('/'))
        else {
            continue;
        };
        if origin != subject {
            continue;
        }
        let Ok(origin) = origin.parse::<ServerName>() else {
            continue;
        };
        if store.media(&origin, media_id)?.is_some() {
            snapshot.media.insert(upload.what.clone());
        }
    }
    Ok(snapshot)
}

/// The users (among `accounts`) who changed their password and can log in
/// with the newest one: asked of the server, as the user would find out.
async fn working_passwords(
    runner: &Runner<'_>,
    accounts: &BTreeSet<String>,
) -> Result<BTreeSet<String>, LabError> {
    let mut working = BTreeSet::new();
    for user in runner.tracked.password_changes.keys() {
        if !accounts.contains(user) {
            continue;
        }
        let Some(newest) = runner.newest_password(user) else {
            continue;
        };
        let base_url = runner.lab.base_url(server_of(user))?;
        match client::login(&base_url, super::localpart_of(user), &newest).await {
            Ok(_) => {
                working.insert(user.clone());
            }
            Err(LabError::Refused { errcode, .. }) if errcode == "M_FORBIDDEN" => {}
            Err(other) => return Err(other),
        }
    }
    Ok(working)
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Category {
    /// `federated rooms`, `unfederated rooms`, ...
    pub name: &'static str,
    /// What is counted: `rooms`, `accounts`, ...
    pub unit: &'static str,
    pub before: Count,
    pub after_restore: Count,
    pub after_healing: Count,
    /// `kept`, `healed`, `partly healed`, `lost`, `partly lost`, or
    /// `none` (the story had nothing of this kind before the disaster).
    pub outcome: &'static str,
    /// Up to three items lost after the restore and found again.
    pub found_again: Vec<String>,
    /// Up to three items still missing at the end.
    pub still_lost: Vec<String>,
    /// Why it went this way, in a sentence.
    pub mechanism: String,
}

/// How many items (and, for rooms, messages) a snapshot had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Count {
    pub items: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<usize>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub scenario: String,
    pub subject: String,
    pub seed: u64,
    /// `"january" of 2021-01-04 03:00`, if the subject was restored.
    pub restored_from: Option<String>,
    /// When the disaster began (the subject's first migrate, cleanup,
    /// crash or restore).
    pub disaster_at: Option<String>,
    pub categories: Vec<Category>,
}

/// The items of one category in one snapshot, by a printable name.
type Items = BTreeSet<String>;

/// One category's items in each snapshot, and how to speak of them.
struct Observed {
    name: &'static str,
    unit: &'static str,
    items: [Items; 3],
    messages: Option<[usize; 3]>,
    mechanism: fn(&Outcome) -> String,
}

/// What happened to one category, for its mechanism sentence.
struct Outcome<'a> {
    outcome: &'static str,
    /// The backup the subject was restored from, if it was.
    restored_from: Option<&'a str>,
    subject: &'a str,
    peers: &'a str,
    still_lost: &'a [String],
}

impl Report {
    pub(crate) fn build(runner: &Runner<'_>, after_healing: Snapshot) -> Report {
        let before = runner.snapshots.before.clone().unwrap_or_default();
        let after_restore = runner.snapshots.after_restore.clone().unwrap_or_default();
        let snapshots = [&before, &after_restore, &after_healing];
        let subject = runner.scenario.subject.as_str();
        let peers: Vec<&str> = runner
            .scenario
            .servers
            .iter()
            .map(String::as_str)
            .filter(|server| *server != subject)
            .collect();
        let peers = peers.join(" and ");
        let restored_from = runner.tracked.restored.get(subject).map(|at| {
            let label = runner
                .lab
                .backups(subject)
                .iter()
                .rev()
                .find(|backup| backup.taken_at_ms == *at)
                .map_or("?", |backup| backup.label.as_str());
            format!("{label:?} of {}", dates::format(*at))
        });
        let categories = observe(runner, &snapshots)
            .into_iter()
            .map(|observed| categorise(observed, subject, &peers, restored_from.as_deref()))
            .collect();
        Report {
            scenario: runner.scenario.name.clone(),
            subject: subject.to_owned(),
            seed: runner.lab.seed(),
            restored_from,
            disaster_at: runner.disaster_at().map(dates::format),
            categories,
        }
    }
}

/// Every category's items in the three snapshots.
fn observe(runner: &Runner<'_>, snapshots: &[&Snapshot; 3]) -> Vec<Observed> {
    let disaster = runner.disaster_at().unwrap_or(u64::MAX);
    let rooms_of = |kinds: &[RoomKind]| -> Vec<String> {
        runner
            .rooms
            .iter()
            .filter(|(_, room)| kinds.contains(&room.kind))
            .filter(|(label, _)| snapshots[0].rooms.contains(*label))
            .map(|(label, _)| label.clone())
            .collect()
    };
    let room_category = |name, kinds: &[RoomKind], mechanism| {
        let labels = rooms_of(kinds);
        let items = snapshots.map(|snapshot| {
            labels
                .iter()
                .filter(|label| snapshot.rooms.contains(*label))
                .cloned()
                .collect()
        });
        let messages = snapshots.map(|snapshot| {
            runner
                .tracked
                .messages
                .iter()
                .filter(|m| m.at_ms < disaster && labels.contains(&m.room))
                .filter(|m| snapshot.messages.contains(&m.event_id))
                .count()
        });
        Observed {
            name,
            unit: "rooms",
            items,
            messages: Some(messages),
            mechanism,
        }
    };
    vec![
        room_category(
            "federated rooms",
            &[RoomKind::Public, RoomKind::Private],
            federated_rooms,
        ),
        room_category(
            "unfederated rooms",
            &[RoomKind::Unfederated],
            unfederated_rooms,
        ),
        room_category("direct messages", &[RoomKind::Direct], direct_messages),
        Observed {
            name: "media and avatars",
            unit: "files",
            items: snapshots.map(|s| s.media.clone()),
            messages: None,
            mechanism: media,
        },
        Observed {
            name: "accounts",
            unit: "accounts",
            items: snapshots.map(|s| s.accounts.clone()),
            messages: None,
            mechanism: accounts,
        },
        Observed {
            name: "password changes",
            unit: "passwords",
            items: snapshots.map(|s| s.passwords.clone()),
            messages: None,
            mechanism: passwords,
        },
        Observed {
            name: "memberships",
            unit: "memberships",
            items: snapshots.map(|s| {
                s.memberships
                    .iter()
                    .map(|(user, room)| format!("{user} in {room}"))
                    .collect()
            }),
            messages: None,
            mechanism: memberships,
        },
    ]
}

fn categorise(
    observed: Observed,
    subject: &str,
    peers: &str,
    restored_from: Option<&str>,
) -> Category {
    let [before, restored, healed] = &observed.items;
    // Only what existed before counts: a new account under an old name is
    // not the old account found again.
    let count = |index: usize, items: &Items| Count {
        items: items.intersection(before).count(),
        messages: observed.messages.map(|counts| counts[index]),
    };
    let before_count = count(0, before);
    let restored_count = count(1, restored);
    let healed_count = count(2, healed);
    let lost_at_restore =
        before.difference(restored).count() > 0 || restored_count.messages < before_count.messages;
    let lost_at_end =
        before.difference(healed).count() > 0 || healed_count.messages < before_count.messages;
    let outcome = match (before.is_empty(), lost_at_restore, lost_at_end) {
        (true, _, _) => "none",
        (false, false, _) => "kept",
        (false, true, false) => "healed",
        (false, true, true)
            if healed_count.items > restored_count.items
                || healed_count.messages > restored_count.messages =>
        {
            "partly healed"
        }
        (false, true, true) if restored_count.items == 0 && healed_count.items == 0 => "lost",
        (false, true, true) => "partly lost",
    };
    let found_again: Vec<String> = before
        .iter()
        .filter(|item| !restored.contains(*item) && healed.contains(*item))
        .take(3)
        .cloned()
        .collect();
    let still_lost: Vec<String> = before.difference(healed).take(3).cloned().collect();
    let mechanism = (observed.mechanism)(&Outcome {
        outcome,
        restored_from,
        subject,
        peers,
        still_lost: &still_lost,
    });
    Category {
        name: observed.name,
        unit: observed.unit,
        before: before_count,
        after_restore: restored_count,
        after_healing: healed_count,
        outcome,
        found_again,
        still_lost,
        mechanism,
    }
}

fn kept_or(outcome: &Outcome, otherwise: String) -> String {
    match outcome.outcome {
        "none" => "The story had none before the disaster.".to_owned(),
        "kept" => match outcome.restored_from {
            Some(backup) => format!(
                "Nothing lost: the backup {backup} held everything written before the disaster."
            ),
            None => format!(
                "Nothing lost: {} never lost its database, so there was nothing to heal.",
                outcome.subject
            ),
        },
        _ => otherwise,
    }
}

fn federated_rooms(outcome: &Outcome) -> String {
    let healed = format!(
        "{} held these rooms too. A new message whose prev_events {} lacked made it ask for \
         the gap (get_missing_events), scrolling back fetched older history (backfill), and \
         rooms born in the gap came back when a local user joined them again, invited or \
         through a peer (send_join returns the room's state).",
        outcome.peers, outcome.subject
    );
    let asked = format!(
        "{} learns of a gap after its newest event only when a peer sends a new message into \
         the room, and scrolling back (backfill) fetches only what came before its oldest one.",
        outcome.subject
    );
    let text = match (outcome.outcome, outcome.still_lost) {
        ("healed", _) => healed,
        (_, []) => format!("{healed} Some messages are still missing: {asked}"),
        (_, missing) => format!(
            "{healed} Still missing: {}. {asked} A room the server lost entirely comes back \
             only when a local user joins it again.",
            missing.join(", ")
        ),
    };
    kept_or(outcome, text)
}

fn unfederated_rooms(outcome: &Outcome) -> String {
    kept_or(
        outcome,
        format!(
            "Lost: m.federate was false, so no other server ever held a copy; the only one \
             was in {}'s database.",
            outcome.subject
        ),
    )
}

fn direct_messages(outcome: &Outcome) -> String {
    kept_or(
        outcome,
        format!(
            "Lost: both people lived on {}, so no other server was ever in these rooms to \
             give them back.",
            outcome.subject
        ),
    )
}

fn media(outcome: &Outcome) -> String {
    kept_or(
        outcome,
        format!(
            "Lost: a file lives in the media directory of the server it was uploaded to. Other \
             servers held only its mxc:// address: a room avatar's event came back with the \
             room, but the image it names is gone. Only what the {} backup held is back.",
            outcome.subject
        ),
    )
}

fn accounts(outcome: &Outcome) -> String {
    kept_or(
        outcome,
        format!(
            "Lost: an account lives only on its homeserver. Re-registering the same name on \
             {} makes a new account; the old password, devices and profile are gone.",
            outcome.subject
        ),
    )
}

fn passwords(outcome: &Outcome) -> String {
    kept_or(
        outcome,
        "Lost: the backup brought back the old password hashes, so only the password from \
         before the gap works; no other server ever had them."
            .to_owned(),
    )
}

fn memberships(outcome: &Outcome) -> String {
    let text = format!(
        "Membership is room state, and {} still said these users were joined: once a room came \
         back, so did its members, re-registered users included.",
        outcome.peers
    );
    let text = match outcome.outcome {
        "healed" => format!("Found again: {text}"),
        _ => format!(
            "{text} Memberships of rooms no other server held stay lost ({}).",
            outcome.still_lost.join(", ")
        ),
    };
    kept_or(outcome, text)
}

impl Report {
    /// The report as the terminal shows it.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "Lost & found report for {} (scenario {}, seed {})\n",
            self.subject, self.scenario, self.seed
        );
        match (&self.disaster_at, &self.restored_from) {
            (Some(at), Some(backup)) => out.push_str(&format!(
                "disaster began {at}; restored from backup {backup}\n"
            )),
            (Some(at), None) => out.push_str(&format!("disaster began {at}; no restore\n")),
            _ => out.push_str("no disaster in this scenario\n"),
        }
        out.push_str(&format!(
            "\n{:<19} {:>16} {:>16} {:>16}  {}\n",
            "category", "before", "after restore", "after healing", "outcome"
        ));
        for category in &self.categories {
            out.push_str(&format!(
                "{:<19} {:>16} {:>16} {:>16}  {}\n",
                category.name,
                category.before.to_string(),
                category.after_restore.to_string(),
                category.after_healing.to_string(),
                category.outcome
            ));
        }
        for category in &self.categories {
            out.push_str(&format!(
                "\n{} ({}): {}\n",
                category.name, category.outcome, category.mechanism
            ));
            if !category.found_again.is_empty() {
                out.push_str(&format!(
                    "  found again: {}\n",
                    category.found_again.join(", ")
                ));
            }
            if !category.still_lost.is_empty() {
                out.push_str(&format!(
                    "  still lost:  {}\n",
                    category.still_lost.join(", ")
                ));
            }
        }
        out
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.messages {
            Some(1) => write!(f, "{} (1 msg)", self.items),
            Some(messages) => write!(f, "{} ({messages} msgs)", self.items),
            None => write!(f, "{}", self.items),
        }
    }
}
