//! Replaying a [`Scenario`] on a live [`Lab`]: one step at a time, the
//! clock set to the step's time, the federation settled after each.
//!
//! Users act through the client-server API only. The runner keeps what a
//! person would remember (their password, the rooms they were in) and
//! nothing a server should hold: when a server forgets an access token
//! (it was restored from a backup), the user logs in again with the
//! newest password that still works, as a person would.

use super::report::{self, Snapshot, Tracked};
use super::{Action, BackupChoice, RoomKind, Scenario, Step, dates, localpart_of, server_of};
use crate::chaos::{Cleanup, Verifier, reference_verifier};
use crate::client::{self, PASSWORD, User};
use crate::{Lab, LabError};
use lostfound_store::StoreError;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// What one step did, in a line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StepRecord {
    /// Its line in the scenario file (0: added by a variant).
    pub line: usize,
    /// `2021-06-06 09:00`.
    pub at: String,
    pub operation: &'static str,
    pub summary: String,
    pub note: Option<String>,
}

/// Why a run stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The source is the cause; callers print the chain (`{:#}` with
    /// anyhow), so it is not repeated here.
    #[error("line {line} ({operation})")]
    Step {
        line: usize,
        operation: &'static str,
        #[source]
        source: LabError,
    },
    #[error("line {line} ({operation}): {message}")]
    Story {
        line: usize,
        operation: &'static str,
        message: String,
    },
    #[error(transparent)]
    Lab(#[from] LabError),
}

/// A user as the runner remembers them.
struct Person {
    session: Option<User>,
    /// Every password they set, oldest first.
    passwords: Vec<String>,
    /// Their access token may be gone (their server lost data).
    doubtful: bool,
}

/// A room as the runner remembers it.
pub(crate) struct RoomMemory {
    pub room_id: String,
    pub kind: RoomKind,
    /// The server of the user who created it.
    pub origin: String,
}

/// Options of one run.
pub struct RunOptions<'a> {
    /// Replaces the scenario's seed.
    pub seed: Option<u64>,
    /// The check `cleanup --verify` uses (the reference by default).
    pub verifier: Verifier<'a>,
    /// How long settling may take after a step.
    pub patience: Duration,
}

impl Default for RunOptions<'_> {
    fn default() -> Self {
        Self {
            seed: None,
            verifier: &reference_verifier,
            patience: crate::DEFAULT_PATIENCE,
        }
    }
}

/// A scenario being replayed.
pub struct Runner<'a> {
    pub(crate) lab: Lab,
    pub(crate) scenario: Scenario,
    options: RunOptions<'a>,
    people: BTreeMap<String, Person>,
    pub(crate) rooms: BTreeMap<String, RoomMemory>,
    pub(crate) tracked: Tracked,
    pub(crate) snapshots: report::Snapshots,
    /// Whether the disaster (the subject's first migrate, cleanup, crash
    /// or restore) has begun, and whether the subject is back since.
    disaster_began: bool,
    /// When the disaster began.
    disaster_at_ms: Option<u64>,
    /// The number of the step where it began.
    disaster_step: Option<usize>,
    records: Vec<StepRecord>,
    check: super::check::CheckResult,
}

impl<'a> Runner<'a> {
    /// Starts the scenario's servers.
    pub async fn start(scenario: Scenario, options: RunOptions<'a>) -> Result<Self, RunError> {
        let seed = options.seed.unwrap_or(scenario.seed);
        let mut lab = Lab::new(seed).with_patience(options.patience);
        for server in &scenario.servers {
            lab = lab.server(server);
        }
        lab.clock().set(scenario.start_ms);
        lab.start().await?;
        Ok(Self {
            lab,
            scenario,
            options,
            people: BTreeMap::new(),
            rooms: BTreeMap::new(),
            tracked: Tracked::default(),
            snapshots: report::Snapshots::default(),
            disaster_began: false,
            disaster_at_ms: None,
            disaster_step: None,
            records: Vec::new(),
            check: super::check::CheckResult::default(),
        })
    }

    /// The lab the scenario runs on.
    pub fn lab(&self) -> &Lab {
        &self.lab
    }

    /// The steps still to run, in order.
    pub fn steps(&self) -> Vec<Step> {
        self.scenario.steps.clone()
    }

    /// What the steps so far did.
    pub fn records(&self) -> &[StepRecord] {
        &self.records
    }

    /// Runs one step and settles the federation; returns what it did.
    pub async fn step(&mut self, step: &Step) -> Result<StepRecord, RunError> {
        let now = self.lab.clock().now();
        self.lab.clock().set(now.max(step.at_ms));
        let operation = step.action.operation();
        let at_step = |source: LabError| RunError::Step {
            line: step.line,
            operation,
            source,
        };
        if self.is_disaster(&step.action) && !self.disaster_began {
            self.snapshots.before = Some(self.snapshot().await.map_err(at_step)?);
            self.disaster_began = true;
            self.disaster_at_ms = Some(step.at_ms);
            self.disaster_step = Some(self.records.len());
        }
        let summary = self.act(step).await.map_err(|error| match error {
            Acting::Lab(source) => at_step(source),
            Acting::Story(message) => RunError::Story {
                line: step.line,
                operation,
                message,
            },
        })?;
        self.lab.settle().await.map_err(at_step)?;
        let mut check = std::mem::take(&mut self.check);
        let checked = super::check::durability(self, step.line, &mut check).await;
        self.check = check;
        checked.map_err(at_step)?;
        if self.disaster_began
            && self.snapshots.after_restore.is_none()
            && self.lab.is_running(&self.scenario.subject)
        {
            self.snapshots.after_restore = Some(self.snapshot().await.map_err(at_step)?);
        }
        let record = StepRecord {
            line: step.line,
            at: dates::format(step.at_ms),
            operation,
            summary,
            note: step.note.clone(),
        };
        self.records.push(record.clone());
        Ok(record)
    }

    /// Takes the last snapshot and stops every server.
    pub async fn finish(mut self) -> Result<Finished, RunError> {
        let after_healing = self.snapshot().await?;
        let last_line = self.records.last().map_or(0, |record| record.line);
        let mut check = std::mem::take(&mut self.check);
        super::check::convergence(&self, last_line, &mut check).await?;
        let report = report::Report::build(&self, after_healing);
        for server in self.scenario.servers.clone() {
            self.lab.stop(&server).await?;
        }
        Ok(Finished {
            records: self.records,
            report,
            check,
        })
    }

    /// When the disaster began, if it has.
    pub fn disaster_at(&self) -> Option<u64> {
        self.disaster_at_ms
    }

    /// The number of the step where the disaster began, if it has.
    pub fn disaster_step(&self) -> Option<usize> {
        self.disaster_step
    }

    /// The newest password `user` set (the one they would type).
    pub(crate) fn newest_password(&self, user: &str) -> Option<String> {
        self.people.get(user)?.passwords.last().cloned()
    }

    fn is_disaster(&self, action: &Action) -> bool {
        let subject = self.scenario.subject.as_str();
        match action {
            Action::Migrate { server, .. }
            | Action::Cleanup { server, .. }
            | Action::Crash { server }
            | Action::Restore { server, .. } => server == subject,
            _ => false,
        }
    }

    async fn snapshot(&self) -> Result<Snapshot, LabError> {
        report::snapshot(self).await
    }

    async fn act(&mut self, step: &Step) -> Result<String, Acting> {
        match &step.action {
            Action::Backup { server, label } => {
                let backup = self.lab.backup(server, label).await?;
                Ok(format!("backup of {server} kept as {:?}", backup.label))
            }
            Action::Migrate { server, quota } => {
                let copy = self.lab.migrate(server, *quota).await?;
                Ok(describe_copy(server, &copy))
            }
            Action::Cleanup { server, verify } => {
                let verifier = verify.then_some(self.options.verifier);
                let outcome = self.lab.cleanup(server, verifier).await?;
                self.doubt_sessions_on(server);
                if outcome == (Cleanup::Replaced { verified: false }) {
                    let step = self.records.len();
                    self.tracked.destroyed.insert(server.clone(), step);
                }
                Ok(match outcome {
                    Cleanup::Replaced { verified: false } => format!(
                        "cleanup on {server}: old database deleted, the copy put in its place unchecked"
                    ),
                    Cleanup::Replaced { verified: true } => format!(
                        "cleanup on {server}: the copy checked out and replaced the old database"
                    ),
                    Cleanup::Refused(check) => format!(
                        "cleanup on {server} REFUSED, old database kept: {}",
                        check.problems.join("; ")
                    ),
                })
            }
            Action::Crash { server } => {
                self.lab.crash(server).await?;
                Ok(format!("{server} crashed"))
            }
            Action::Restart { server } => self.restart(server).await,
            Action::Restore {
                server,
                backup,
                only_if_down,
            } => self.restore(server, backup, *only_if_down).await,
            Action::Partition { server } => {
                self.lab.partition(server)?;
                Ok(format!("{server} is cut off from the other servers"))
            }
            Action::Heal { server } => {
                self.lab.heal(server)?;
                Ok(format!("{server} is reconnected"))
            }
            Action::Register { user } => {
                let session = client::register(&self.base_url(user)?, localpart_of(user)).await?;
                self.people.insert(
                    user.clone(),
                    Person {
                        session: Some(session),
                        passwords: vec![PASSWORD.to_owned()],
                        doubtful: false,
                    },
                );
                self.tracked
                    .accounts
                    .insert(user.clone(), self.lab.clock().now());
                Ok(format!("{user} registered"))
            }
            Action::Reregister { user } => self.reregister(user).await,
            Action::SetPassword { user } => self.set_password(user).await,
            Action::SetAvatar { user, room } => self.set_avatar(user, room.as_deref()).await,
            Action::CreateRoom {
                user,
                room,
                kind,
                invite,
            } => self.create_room(user, room, *kind, invite).await,
            Action::Invite {
                user,
                room,
                invitee,
            } => self.invite(user, room, invitee).await,
            Action::Join { user, room, via } => {
                let via = match via {
                    Some(via) => via.clone(),
                    None => self.room(room)?.origin.clone(),
                };
                self.join(user, room, &via).await
            }
            Action::Send {
                user,
                room,
                text,
                count,
            } => self.send(user, room, text, *count).await,
            Action::ScrollBack { user, room } => self.scroll_back(user, room).await,
        }
    }

    fn base_url(&self, user: &str) -> Result<String, Acting> {
        Ok(self.lab.base_url(server_of(user))?)
    }

    fn room(&self, label: &str) -> Result<&RoomMemory, Acting> {
        self.rooms
            .get(label)
            .ok_or_else(|| Acting::Story(format!("room {label:?} was never created")))
    }

    /// The user's session, logged in again first if their server may
    /// have forgotten it.
    async fn session(&mut self, user: &str) -> Result<&User, Acting> {
        let base_url = self.base_url(user)?;
        let person = self
            .people
            .get_mut(user)
            .ok_or_else(|| Acting::Story(format!("{user} has no account")))?;
        let still_valid = match (&person.session, person.doubtful) {
            (Some(session), true) => session.is_logged_in().await?,
            (Some(_), false) => true,
            (None, _) => false,
        };
        if !still_valid {
            person.session = Some(log_in(&base_url, user, &person.passwords).await?);
        }
        person.doubtful = false;
        person
            .session
            .as_ref()
            .ok_or_else(|| Acting::Story(format!("{user} cannot log in")))
    }

    fn doubt_sessions_on(&mut self, server: &str) {
        for (user, person) in &mut self.people {
            if server_of(user) == server {
                person.doubtful = true;
            }
        }
    }

    async fn restart(&mut self, server: &str) -> Result<String, Acting> {
        self.doubt_sessions_on(server);
        match self.lab.start_server(server).await {
            Ok(()) => Ok(format!("{server} is up")),
            Err(LabError::Store {
                source: StoreError::Unusable { reason, .. },
                ..
            }) => Ok(format!("{server} REFUSES to start: {reason}")),
            Err(other) => Err(other.into()),
        }
    }

    async fn restore(
        &mut self,
        server: &str,
        choice: &BackupChoice,
        only_if_down: bool,
    ) -> Result<String, Acting> {
        if only_if_down && self.lab.is_running(server) {
            return Ok(format!("{server} is running: nothing to restore"));
        }
        let backups = self.lab.backups(server);
        let backup = match choice {
            BackupChoice::Latest => backups.last(),
            BackupChoice::Labelled(label) => backups.iter().rev().find(|b| b.label == *label),
        }
        .cloned()
        .ok_or_else(|| Acting::Story(format!("{server} has no such backup")))?;
        self.doubt_sessions_on(server);
        self.lab.restore(server, &backup).await?;
        self.tracked.restored.insert(
            server.to_owned(),
            (backup.label.clone(), backup.taken_at_ms),
        );
        self.tracked
            .destroyed
            .insert(server.to_owned(), self.records.len());
        Ok(format!(
            "{server} restored from backup {:?} of {}",
            backup.label,
            dates::format(backup.taken_at_ms)
        ))
    }

    async fn reregister(&mut self, user: &str) -> Result<String, Acting> {
        let base_url = self.base_url(user)?;
        match client::register(&base_url, localpart_of(user)).await {
            Ok(session) => {
                self.people.insert(
                    user.to_owned(),
                    Person {
                        session: Some(session),
                        passwords: vec![PASSWORD.to_owned()],
                        doubtful: false,
                    },
                );
                Ok(format!(
                    "{user} registered again: a new account with the old name"
                ))
            }
            Err(LabError::Refused { errcode, .. }) if errcode == "M_USER_IN_USE" => {
                self.session(user).await?;
                Ok(format!("{user} still has an account: nothing to register"))
            }
            Err(other) => Err(other.into()),
        }
    }

    async fn set_password(&mut self, user: &str) -> Result<String, Acting> {
        self.session(user).await?;
        let person = &self.people[user];
        let current = person.passwords.last().cloned().unwrap_or_default();
        let new = format!(
            "{} password {}",
            localpart_of(user),
            person.passwords.len() + 1
        );
        let session = person
            .session
            .as_ref()
            .ok_or_else(|| Acting::Story(format!("{user} is not logged in")))?;
        session.change_password(&current, &new).await?;
        if let Some(person) = self.people.get_mut(user) {
            person.passwords.push(new);
        }
        self.tracked
            .password_changes
            .insert(user.to_owned(), self.lab.clock().now());
        Ok(format!("{user} changed their password"))
    }

    async fn set_avatar(&mut self, user: &str, room: Option<&str>) -> Result<String, Acting> {
        let room_id = room.map(|label| self.room(label).map(|r| r.room_id.clone()));
        let room_id = room_id.transpose()?;
        let what = match room {
            Some(label) => format!("the avatar of {label}"),
            None => format!("{user}'s avatar"),
        };
        let session = self.session(user).await?;
        let image = format!("\u{89}PNG lab image: {what}").into_bytes();
        let uri = session.upload(image, "image/png").await?;
        match &room_id {
            Some(room_id) => {
                let path = format!("/_matrix/client/v3/rooms/{room_id}/state/m.room.avatar/");
                session
                    .request(Method::PUT, &path, Some(json!({"url": uri})))
                    .await?;
            }
            None => {
                let path = format!("/_matrix/client/v3/profile/{user}/avatar_url");
                session
                    .request(Method::PUT, &path, Some(json!({"avatar_url": uri})))
                    .await?;
            }
        }
        let now = self.lab.clock().now();
        self.tracked.media.push(report::Upload {
            what: what.clone(),
            uri,
            at_ms: now,
        });
        Ok(format!("{user} uploaded {what}"))
    }

    async fn create_room(
        &mut self,
        user: &str,
        label: &str,
        kind: RoomKind,
        invite: &[String],
    ) -> Result<String, Acting> {
        let mut body = match kind {
            RoomKind::Public => json!({"preset": "public_chat"}),
            RoomKind::Private => json!({"preset": "private_chat"}),
            RoomKind::Direct => json!({"preset": "trusted_private_chat", "is_direct": true}),
            RoomKind::Unfederated => {
                json!({"preset": "private_chat", "creation_content": {"m.federate": false}})
            }
        };
        body["name"] = json!(label);
        body["invite"] = json!(invite);
        let session = self.session(user).await?;
        let room_id = session.create_room(body).await?;
        let origin = server_of(user).to_owned();
        self.rooms.insert(
            label.to_owned(),
            RoomMemory {
                room_id: room_id.clone(),
                kind,
                origin: origin.clone(),
            },
        );
        self.tracked
            .rooms
            .insert(label.to_owned(), self.lab.clock().now());
        for invitee in invite {
            self.lab.settle().await?;
            self.join(invitee, label, &origin).await?;
        }
        let invited = if invite.is_empty() {
            String::new()
        } else {
            format!(", {} invited and joined", invite.join(", "))
        };
        Ok(format!(
            "{user} created the {} room {label}{invited}",
            kind.as_str()
        ))
    }

    /// The user's membership in the room, as their own server sees it.
    async fn membership(&mut self, user: &str, label: &str) -> Result<Option<String>, Acting> {
        let room_id = self.room(label)?.room_id.clone();
        let session = self.session(user).await?;
        let path = format!("/_matrix/client/v3/rooms/{room_id}/state/m.room.member/{user}");
        match session.request(Method::GET, &path, None).await {
            Ok(content) => Ok(content["membership"].as_str().map(str::to_owned)),
            Err(LabError::Refused {
                status: 403 | 404, ..
            }) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    async fn invite(&mut self, user: &str, label: &str, invitee: &str) -> Result<String, Acting> {
        if self.membership(invitee, label).await?.as_deref() == Some("join") {
            return Ok(format!("{invitee} is already in {label}: no invite needed"));
        }
        let room_id = self.room(label)?.room_id.clone();
        let session = self.session(user).await?;
        let path = format!("/_matrix/client/v3/rooms/{room_id}/invite");
        session
            .request(Method::POST, &path, Some(json!({"user_id": invitee})))
            .await?;
        self.lab.settle().await?;
        self.join(invitee, label, server_of(user)).await?;
        Ok(format!("{user} invited {invitee} into {label}, who joined"))
    }

    async fn join(&mut self, user: &str, label: &str, via: &str) -> Result<String, Acting> {
        if self.membership(user, label).await?.as_deref() == Some("join") {
            return Ok(format!("{user} is already in {label}"));
        }
        let room_id = self.room(label)?.room_id.clone();
        let session = self.session(user).await?;
        session.join(&room_id, via).await?;
        Ok(format!("{user} joined {label}"))
    }

    async fn send(
        &mut self,
        user: &str,
        label: &str,
        text: &str,
        count: u32,
    ) -> Result<String, Acting> {
        let room_id = self.room(label)?.room_id.clone();
        let start = self.lab.clock().now();
        for n in 1..=count {
            self.lab.clock().set(start + u64::from(n - 1) * 1000);
            let body = if count > 1 {
                format!("{text} ({n}/{count})")
            } else {
                text.to_owned()
            };
            let session = self.session(user).await?;
            let event_id = session.send_text(&room_id, &body).await?;
            self.tracked.messages.push(report::Message {
                event_id,
                room: label.to_owned(),
                sender: user.to_owned(),
                body,
                at_ms: self.lab.clock().now(),
                step: self.records.len(),
            });
        }
        let what = if count == 1 {
            format!("{text:?}")
        } else {
            format!("{count} messages ({text:?})")
        };
        Ok(format!("{user} sent {what} to {label}"))
    }

    async fn scroll_back(&mut self, user: &str, label: &str) -> Result<String, Acting> {
        let room_id = self.room(label)?.room_id.clone();
        let session = self.session(user).await?;
        let mut from: Option<String> = None;
        let (mut pages, mut messages) = (0, 0);
        loop {
            let mut path = format!("/_matrix/client/v3/rooms/{room_id}/messages?dir=b&limit=100");
            if let Some(token) = &from {
                path.push_str(&format!("&from={token}"));
            }
            let page: Value = session.request(Method::GET, &path, None).await?;
            let chunk = page["chunk"].as_array().cloned().unwrap_or_default();
            pages += 1;
            messages += chunk
                .iter()
                .filter(|event| event["type"] == "m.room.message")
                .count();
            match page["end"].as_str() {
                Some(end) if !chunk.is_empty() && pages < 1000 => from = Some(end.to_owned()),
                _ => break,
            }
        }
        Ok(format!(
            "{user} scrolled back through {label}: {messages} messages in {pages} pages"
        ))
    }
}

/// Logs `user` in with the newest of `passwords` that works.
async fn log_in(base_url: &str, user: &str, passwords: &[String]) -> Result<User, Acting> {
    for password in passwords.iter().rev() {
        match client::login(base_url, localpart_of(user), password).await {
            Ok(session) => return Ok(session),
            Err(LabError::Refused { errcode, .. }) if errcode == "M_FORBIDDEN" => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(Acting::Story(format!(
        "{user} cannot log in: their server knows none of their passwords"
    )))
}

fn describe_copy(server: &str, copy: &lostfound_store::CopyReport) -> String {
    let Some(failure) = &copy.failure else {
        return format!(
            "database of {server} copied in full ({} bytes)",
            copy.bytes_written
        );
    };
    let partial = copy
        .tables
        .iter()
        .find(|table| table.rows_copied < table.rows_in_original);
    let where_ = partial.map_or_else(String::new, |table| {
        format!(
            " at table {} ({} of {} rows copied)",
            table.table, table.rows_copied, table.rows_in_original
        )
    });
    format!("the copy of {server}'s database stopped{where_}: {failure}")
}

/// Why a step could not be done.
enum Acting {
    Lab(LabError),
    Story(String),
}

impl From<LabError> for Acting {
    fn from(error: LabError) -> Self {
        Acting::Lab(error)
    }
}

/// A finished run.
#[derive(Debug)]
pub struct Finished {
    pub records: Vec<StepRecord>,
    pub report: report::Report,
    pub check: super::check::CheckResult,
}

/// Runs `scenario` from start to end, calling `progress` after each step.
pub async fn run(
    scenario: Scenario,
    options: RunOptions<'_>,
    mut progress: impl FnMut(&StepRecord),
) -> Result<Finished, RunError> {
    let mut runner = Runner::start(scenario, options).await?;
    for step in runner.steps() {
        let record = runner.step(&step).await?;
        progress(&record);
    }
    runner.finish().await
}
