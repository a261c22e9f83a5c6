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
    /// Servers restored, and the label and time of the backup they got.
    pub restored: BTreeMap<String, (String, u64)>,
    /// Servers whose files the scenario destroyed or replaced (an
    /// unverified cleanup, a restore), and the number of the last step
    /// that did.
    pub destroyed: BTreeMap<String, usize>,
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
    /// The number of the step that sent it (0 for the first step).
    pub step: usize,
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
    /// The same users, by ID, with their account's creation time.
    pub users_with_accounts: BTreeMap<String, u64>,
    /// Room labels with a member joined from another server: rooms some
    /// peer holds a copy of.
    pub shared_rooms: BTreeSet<String>,
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
        if joined_elsewhere(store, &state, subject)? {
            snapshot.shared_rooms.insert(label.clone());
        }
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
            snapshot
                .users_with_accounts
                .insert(user.clone(), account.created_ts);
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

/// Whether a user of another server than `subject` is joined, per `state`.
fn joined_elsewhere(
    store: &Arc<SqliteStore>,
    state: &lostfound_protocol::state::StateMap<EventId>,
    subject: &str,
) -> Result<bool, lostfound_store::StoreError> {
    for ((kind, user), event_id) in state.iter() {
        if kind != "m.room.member" || server_of(user) == subject {
            continue;
        }
        let joined = store
            .event(event_id)?
            .is_some_and(|stored| stored.event.content()["membership"] == "join");
        if joined {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The password changes (as `@user:server (changed DATE)`) whose newest
/// password logs in to the very account it was set on: asked of the
/// server, as the user would find out. An account registered again after
/// the change is another account, whatever password it has.
async fn working_passwords(
    runner: &Runner<'_>,
    accounts: &BTreeMap<String, u64>,
) -> Result<BTreeSet<String>, LabError> {
    let mut working = BTreeSet::new();
    for (user, changed_at) in &runner.tracked.password_changes {
        match accounts.get(user) {
            Some(created) if created <= changed_at => {}
            _ => continue,
        }
        let Some(newest) = runner.newest_password(user) else {
            continue;
        };
        let base_url = runner.lab.base_url(server_of(user))?;
        match client::login(&base_url, super::localpart_of(user), &newest).await {
            Ok(_) => {
                working.insert(format!(
                    "{user} (changed {})",
                    super::dates::format(*changed_at)
                ));
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
    /// How many were found again in all.
    pub found_again_count: usize,
    /// Up to three items still missing at the end.
    pub still_lost: Vec<String>,
    /// How many are still missing in all.
    pub still_lost_count: usize,
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
    /// Items some other server held a copy of before the disaster.
    shared: Items,
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
    /// Items still lost that no other server ever held a copy of (rooms
    /// with no member from another server before the disaster).
    unshared: &'a [String],
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
        let restored_from = runner
            .tracked
            .restored
            .get(subject)
            .map(|(label, at)| format!("{label:?} of {}", dates::format(*at)));
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
    let disaster = runner.disaster_step().unwrap_or(usize::MAX);
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
                .filter(|m| m.step < disaster && labels.contains(&m.room))
                .filter(|m| snapshot.messages.contains(&m.event_id))
                .count()
        });
        Observed {
            name,
            unit: "rooms",
            items,
            messages: Some(messages),
            shared: snapshots[0].shared_rooms.clone(),
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
            shared: Items::new(),
            mechanism: media,
        },
        Observed {
            name: "accounts",
            unit: "accounts",
            items: snapshots.map(|s| s.accounts.clone()),
            messages: None,
            shared: Items::new(),
            mechanism: accounts,
        },
        Observed {
            name: "password changes",
            unit: "passwords",
            items: snapshots.map(|s| s.passwords.clone()),
            messages: None,
            shared: Items::new(),
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
            shared: snapshots[0]
                .memberships
                .iter()
                .filter(|(_, room)| snapshots[0].shared_rooms.contains(room))
                .map(|(user, room)| format!("{user} in {room}"))
                .collect(),
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
        .cloned()
        .collect();
    let still_lost: Vec<String> = before.difference(healed).cloned().collect();
    let unshared: Vec<String> = still_lost
        .iter()
        .filter(|item| !observed.shared.contains(*item))
        .cloned()
        .collect();
    let mechanism = (observed.mechanism)(&Outcome {
        outcome,
        restored_from,
        subject,
        peers,
        still_lost: &still_lost,
        unshared: &unshared,
    });
    Category {
        name: observed.name,
        unit: observed.unit,
        before: before_count,
        after_restore: restored_count,
        after_healing: healed_count,
        outcome,
        found_again_count: found_again.len(),
        found_again: found_again.into_iter().take(3).collect(),
        still_lost_count: still_lost.len(),
        still_lost: still_lost.into_iter().take(3).collect(),
        mechanism,
    }
}

/// The sentence for a category: `lost` explains a loss (used for `lost`
/// and `partly lost`), `found` what brought things back (for `healed`
/// and `partly healed`); `kept` and `none` read the same everywhere.
fn sentence(outcome: &Outcome, lost: String, found: String) -> String {
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
        "healed" | "partly healed" => found,
        _ => lost,
    }
}

/// How the subject's files were lost, for the sentences below.
fn lost_with(outcome: &Outcome) -> String {
    match outcome.restored_from {
        Some(backup) => format!("the restore from backup {backup} brought back only what it held"),
        None => format!(
            "{}'s database was lost and no backup was restored",
            outcome.subject
        ),
    }
}

/// What the scenario's later steps brought back, when the category's own
/// mechanism does not explain it; the lists say what.
fn came_back(outcome: &Outcome) -> String {
    let rest = if outcome.still_lost.is_empty() {
        String::new()
    } else {
        format!("; the rest is lost: {}", lost_with(outcome))
    };
    format!(
        "Some came back after the restore through the scenario's later steps (see found again){rest}."
    )
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
    let unshared = if outcome.unshared.is_empty() {
        String::new()
    } else {
        format!(
            " {} had no member on another server, so no peer held a copy.",
            outcome.unshared.join(", ")
        )
    };
    let text = match (outcome.outcome, outcome.still_lost) {
        ("healed", _) => healed,
        ("partly healed", []) => format!("{healed} Some messages are still missing: {asked}"),
        ("partly healed", _) => format!(
            "{healed} A room the server lost entirely comes back only when a local user joins \
             it again, and its messages when someone asks: {asked}{unshared}"
        ),
        _ if !outcome.unshared.is_empty() && outcome.unshared.len() == outcome.still_lost.len() => {
            format!("Lost: {}.{unshared}", lost_with(outcome))
        }
        _ => format!("Lost: {}. {asked}{unshared}", lost_with(outcome)),
    };
    sentence(outcome, text.clone(), text)
}

fn unfederated_rooms(outcome: &Outcome) -> String {
    sentence(
        outcome,
        format!(
            "Lost: m.federate was false, so no other server ever held a copy, and {}.",
            lost_with(outcome)
        ),
        came_back(outcome),
    )
}

fn direct_messages(outcome: &Outcome) -> String {
    let lost = if outcome.unshared.is_empty() {
        format!("Lost: {}.", lost_with(outcome))
    } else {
        format!(
            "Lost: everyone in {} lived on {}, so no other server was ever in the room to give \
             it back, and {}.",
            outcome.unshared.join(", "),
            outcome.subject,
            lost_with(outcome)
        )
    };
    let found = format!(
        "A direct message with someone on another server is a federated room like any other: \
         {} held it and gave it back.",
        outcome.peers
    );
    let found = match outcome.outcome {
        "healed" => found,
        _ => format!("{found} {}", came_back(outcome)),
    };
    sentence(outcome, lost, found)
}

fn media(outcome: &Outcome) -> String {
    sentence(
        outcome,
        format!(
            "Lost: a file lives in the media directory of the server it was uploaded to. Other \
             servers held only its mxc:// address: a room avatar's event came back with the \
             room, but the image it names is gone; {}.",
            lost_with(outcome)
        ),
        came_back(outcome),
    )
}

fn accounts(outcome: &Outcome) -> String {
    sentence(
        outcome,
        format!(
            "Lost: an account lives only on its homeserver, and {}. Registering the same name \
             again on {} makes a new account; the old password, devices and profile are gone.",
            lost_with(outcome),
            outcome.subject
        ),
        came_back(outcome),
    )
}

fn passwords(outcome: &Outcome) -> String {
    let lost = match outcome.restored_from {
        Some(_) => "Lost: the backup brought back the old password hashes, so only the \
                    password from before the change works; no other server ever had them."
            .to_owned(),
        None => format!(
            "Lost with the accounts: {}, and no other server ever had a password hash.",
            lost_with(outcome)
        ),
    };
    sentence(outcome, lost, came_back(outcome))
}

fn memberships(outcome: &Outcome) -> String {
    let found = format!(
        "Membership is room state, and {} still said these users were joined: once a room came \
         back, so did its members, re-registered users included.",
        outcome.peers
    );
    let rest = if outcome.still_lost.is_empty() {
        String::new()
    } else if outcome.unshared.len() == outcome.still_lost.len() {
        " The memberships still missing were in rooms no other server held.".to_owned()
    } else {
        " Some still missing are in rooms peers held but the server never heard from again."
            .to_owned()
    };
    sentence(
        outcome,
        format!(
            "Lost: {}, and no peer said these users were joined.{rest}",
            lost_with(outcome)
        ),
        match outcome.outcome {
            "healed" => format!("Found again: {found}"),
            _ => format!("{found}{rest}"),
        },
    )
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
                let list = listed(&category.found_again, category.found_again_count);
                out.push_str(&format!("  found again: {list}\n"));
            }
            if !category.still_lost.is_empty() {
                let list = listed(&category.still_lost, category.still_lost_count);
                out.push_str(&format!("  still lost:  {list}\n"));
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

/// `a, b, c` or, when the list was cut, `a, b, c and 4 more`.
fn listed(items: &[String], count: usize) -> String {
    let shown = items.join(", ");
    match count.saturating_sub(items.len()) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}
