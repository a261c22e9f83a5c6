//! From TOML text to a checked [`Scenario`], or a [`ScenarioError`] that
//! names the line and says what was expected.
//!
//! Two passes. The first is TOML itself and the shape of each step (which
//! fields exist at all); the second follows the story in order and checks
//! what only the story knows: that a server is declared, a user was
//! registered and a room created before they are used, and that steps do
//! not go back in time.

use super::{
    Action, BackupChoice, FORMAT, RoomKind, Scenario, ScenarioError, Step, dates, server_of,
};
use crate::chaos::Quota;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    format: u64,
    name: String,
    title: String,
    #[serde(default)]
    description: String,
    seed: u64,
    start: String,
    subject: String,
    servers: Vec<String>,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawStep {
    at: Option<String>,
    #[serde(rename = "do")]
    operation: Option<String>,
    server: Option<String>,
    user: Option<String>,
    room: Option<String>,
    label: Option<String>,
    quota: Option<toml::Value>,
    verify: Option<bool>,
    kind: Option<String>,
    invite: Option<Vec<String>>,
    invitee: Option<String>,
    via: Option<String>,
    text: Option<String>,
    count: Option<u32>,
    backup: Option<String>,
    only_if_down: Option<bool>,
    note: Option<String>,
}

impl RawStep {
    /// The optional fields that are present, by their names in the file.
    fn present(&self) -> Vec<&'static str> {
        let fields = [
            ("server", self.server.is_some()),
            ("user", self.user.is_some()),
            ("room", self.room.is_some()),
            ("label", self.label.is_some()),
            ("quota", self.quota.is_some()),
            ("verify", self.verify.is_some()),
            ("kind", self.kind.is_some()),
            ("invite", self.invite.is_some()),
            ("invitee", self.invitee.is_some()),
            ("via", self.via.is_some()),
            ("text", self.text.is_some()),
            ("count", self.count.is_some()),
            ("backup", self.backup.is_some()),
            ("only-if-down", self.only_if_down.is_some()),
        ];
        fields
            .into_iter()
            .filter(|(_, present)| *present)
            .map(|(name, _)| name)
            .collect()
    }
}

/// Every operation and the fields it takes (beyond `at`, `do`, `note`).
const OPERATIONS: &[(&str, &[&str])] = &[
    ("backup", &["server", "label"]),
    ("migrate", &["server", "quota"]),
    ("cleanup", &["server", "verify"]),
    ("crash", &["server"]),
    ("restart", &["server"]),
    ("restore", &["server", "backup", "only-if-down"]),
    ("partition", &["server"]),
    ("heal", &["server"]),
    ("register", &["user"]),
    ("reregister", &["user"]),
    ("set-password", &["user"]),
    ("set-avatar", &["user", "room"]),
    ("create-room", &["user", "room", "kind", "invite"]),
    ("invite", &["user", "room", "invitee"]),
    ("join", &["user", "room", "via"]),
    ("send", &["user", "room", "text", "count"]),
    ("scroll-back", &["user", "room"]),
];

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |before| before.matches('\n').count())
        + 1
}

/// The line of the top-level `name = ...` in `text` (0 if absent).
fn key_line(text: &str, name: &str) -> usize {
    text.lines()
        .position(|line| {
            line.trim_start()
                .strip_prefix(name)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(0, |index| index + 1)
}

/// Parses and checks the scenario in `text`; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    let error = |line: usize, message: String| ScenarioError {
        origin: origin.to_owned(),
        line,
        message,
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |span| line_of(text, span.start));
        error(line, e.message().trim().to_owned())
    })?;
    let key = |name: &str| key_line(text, name);
    if raw.format != FORMAT {
        return Err(error(
            key("format"),
            format!(
                "format {} is not one this program reads (it reads format {FORMAT})",
                raw.format
            ),
        ));
    }
    let start_ms =
        dates::parse(&raw.start).map_err(|e| error(key("start"), format!("start: {e}")))?;
    let mut story = Story::new(&raw.servers).map_err(|e| error(key("servers"), e))?;
    if !story.servers.contains(&raw.subject) {
        return Err(error(
            key("subject"),
            format!("the subject {} is not among the servers", raw.subject),
        ));
    }
    let mut steps = Vec::new();
    let mut previous: Option<(usize, u64)> = None;
    for spanned in &raw.step {
        let line = line_of(text, spanned.span().start);
        let at = |e: String| error(line, e);
        let raw_step = spanned.get_ref();
        let at_text = raw_step
            .at
            .as_deref()
            .ok_or_else(|| at("a step needs `at`".into()))?;
        let at_ms = dates::parse(at_text).map_err(|e| at(format!("at: {e}")))?;
        if at_ms < start_ms {
            return Err(at(format!(
                "step out of order: {} is before the scenario's start, {}",
                dates::format(at_ms),
                dates::format(start_ms)
            )));
        }
        if let Some((previous_line, previous_ms)) = previous
            && at_ms < previous_ms
        {
            return Err(at(format!(
                "step out of order: {} is before the step on line {previous_line} ({})",
                dates::format(at_ms),
                dates::format(previous_ms)
            )));
        }
        previous = Some((line, at_ms));
        let action = story.action(raw_step).map_err(at)?;
        steps.push(Step {
            line,
            at_ms,
            action,
            note: raw_step.note.clone(),
        });
    }
    Ok(Scenario {
        name: raw.name,
        title: raw.title,
        description: raw.description,
        seed: raw.seed,
        start_ms,
        subject: raw.subject,
        servers: raw.servers,
        steps,
    })
}

/// What the story has established so far, to check each step against.
struct Story {
    servers: BTreeSet<String>,
    users: BTreeSet<String>,
    rooms: BTreeMap<String, RoomKind>,
    /// Backup labels, per server.
    backups: BTreeMap<String, BTreeSet<String>>,
    /// Servers with a `migrate` not yet cleaned up.
    migrated: BTreeSet<String>,
}

impl Story {
    fn new(servers: &[String]) -> Result<Self, String> {
        if servers.is_empty() {
            return Err("a scenario needs at least one server in `servers`".into());
        }
        let mut declared = BTreeSet::new();
        for server in servers {
            server
                .parse::<lostfound_protocol::ids::ServerName>()
                .map_err(|e| format!("servers: {server:?} is not a server name: {e}"))?;
            if !declared.insert(server.clone()) {
                return Err(format!("servers: {server} is listed twice"));
            }
        }
        Ok(Self {
            servers: declared,
            users: BTreeSet::new(),
            rooms: BTreeMap::new(),
            backups: BTreeMap::new(),
            migrated: BTreeSet::new(),
        })
    }

    fn action(&mut self, raw: &RawStep) -> Result<Action, String> {
        let operation = raw.operation.as_deref().ok_or("a step needs `do`")?;
        let Some((_, takes)) = OPERATIONS.iter().find(|(name, _)| *name == operation) else {
            let known: Vec<&str> = OPERATIONS.iter().map(|(name, _)| *name).collect();
            return Err(format!(
                "unknown operation {operation:?}; expected one of: {}",
                known.join(", ")
            ));
        };
        if let Some(extra) = raw
            .present()
            .into_iter()
            .find(|field| !takes.contains(field))
        {
            return Err(format!(
                "`{operation}` does not take `{extra}` (it takes: {})",
                takes.join(", ")
            ));
        }
        let need = |field: &Option<String>, name: &str| {
            field
                .clone()
                .ok_or_else(|| format!("`{operation}` needs `{name}`"))
        };
        Ok(match operation {
            "backup" => {
                let label = backup_label(need(&raw.label, "label")?)?;
                let server = self.server(need(&raw.server, "server")?)?;
                self.backups
                    .entry(server.clone())
                    .or_default()
                    .insert(label.clone());
                Action::Backup { server, label }
            }
            "migrate" => {
                let server = self.server(need(&raw.server, "server")?)?;
                self.migrated.insert(server.clone());
                Action::Migrate {
                    server,
                    quota: quota(raw.quota.as_ref())?,
                }
            }
            "cleanup" => {
                let server = self.server(need(&raw.server, "server")?)?;
                if !self.migrated.remove(&server) {
                    return Err(format!(
                        "`cleanup` of {server} needs a `migrate` of {server} before it: there is \
                         no copy to put in place"
                    ));
                }
                Action::Cleanup {
                    server,
                    verify: raw.verify.unwrap_or(false),
                }
            }
            "crash" => Action::Crash {
                server: self.server(need(&raw.server, "server")?)?,
            },
            "restart" => Action::Restart {
                server: self.server(need(&raw.server, "server")?)?,
            },
            "restore" => {
                let server = self.server(need(&raw.server, "server")?)?;
                Action::Restore {
                    backup: self.backup_choice(&server, raw.backup.as_deref())?,
                    server,
                    only_if_down: raw.only_if_down.unwrap_or(false),
                }
            }
            "partition" => Action::Partition {
                server: self.server(need(&raw.server, "server")?)?,
            },
            "heal" => Action::Heal {
                server: self.server(need(&raw.server, "server")?)?,
            },
            "register" => {
                let user = self.user_id(need(&raw.user, "user")?)?;
                if !self.users.insert(user.clone()) {
                    return Err(format!(
                        "{user} is already registered; use `reregister` for an account the server lost"
                    ));
                }
                Action::Register { user }
            }
            "reregister" => Action::Reregister {
                user: self.known_user(need(&raw.user, "user")?)?,
            },
            "set-password" => Action::SetPassword {
                user: self.known_user(need(&raw.user, "user")?)?,
            },
            "set-avatar" => Action::SetAvatar {
                user: self.known_user(need(&raw.user, "user")?)?,
                room: raw.room.clone().map(|room| self.room(room)).transpose()?,
            },
            "create-room" => self.create_room(raw)?,
            "invite" => Action::Invite {
                user: self.known_user(need(&raw.user, "user")?)?,
                room: self.room(need(&raw.room, "room")?)?,
                invitee: self.known_user(need(&raw.invitee, "invitee")?)?,
            },
            "join" => Action::Join {
                user: self.known_user(need(&raw.user, "user")?)?,
                room: self.room(need(&raw.room, "room")?)?,
                via: raw.via.clone().map(|via| self.server(via)).transpose()?,
            },
            "send" => {
                let count = raw.count.unwrap_or(1);
                if count == 0 || count > 10_000 {
                    return Err(format!("count must be 1 to 10000, not {count}"));
                }
                Action::Send {
                    user: self.known_user(need(&raw.user, "user")?)?,
                    room: self.room(need(&raw.room, "room")?)?,
                    text: raw.text.clone().unwrap_or_else(|| "message".to_owned()),
                    count,
                }
            }
            "scroll-back" => Action::ScrollBack {
                user: self.known_user(need(&raw.user, "user")?)?,
                room: self.room(need(&raw.room, "room")?)?,
            },
            other => unreachable!("{other} is listed in OPERATIONS but not handled"),
        })
    }

    fn create_room(&mut self, raw: &RawStep) -> Result<Action, String> {
        let user = self.known_user(raw.user.clone().ok_or("`create-room` needs `user`")?)?;
        let room = raw
            .room
            .clone()
            .ok_or("`create-room` needs `room` (its label)")?;
        let kind = match raw.kind.as_deref().unwrap_or("public") {
            "public" => RoomKind::Public,
            "private" => RoomKind::Private,
            "dm" => RoomKind::Direct,
            "unfederated" => RoomKind::Unfederated,
            other => {
                return Err(format!(
                    "unknown room kind {other:?}; expected public, private, dm or unfederated"
                ));
            }
        };
        let mut invite = Vec::new();
        for invitee in raw.invite.clone().unwrap_or_default() {
            invite.push(self.known_user(invitee)?);
        }
        if kind == RoomKind::Direct && invite.len() != 1 {
            return Err("a `dm` room invites exactly one user (`invite = [\"@bob:...\"]`)".into());
        }
        if let Some(remote) = invite.iter().find(|u| server_of(u) != server_of(&user)) {
            return Err(if kind == RoomKind::Unfederated {
                format!(
                    "an unfederated room cannot invite {remote}: only users of {} can ever join it",
                    server_of(&user)
                )
            } else {
                format!(
                    "`create-room` invites only users of {} (as our createRoom does); invite \
                     {remote} with an `invite` step after it",
                    server_of(&user)
                )
            });
        }
        if self.rooms.insert(room.clone(), kind).is_some() {
            return Err(format!("a room labelled {room:?} already exists"));
        }
        Ok(Action::CreateRoom {
            user,
            room,
            kind,
            invite,
        })
    }

    fn server(&self, server: String) -> Result<String, String> {
        if self.servers.contains(&server) {
            Ok(server)
        } else {
            Err(format!(
                "unknown server {server}; the scenario's servers are: {}",
                self.servers.iter().cloned().collect::<Vec<_>>().join(", ")
            ))
        }
    }

    fn user_id(&self, user: String) -> Result<String, String> {
        let parsed: lostfound_protocol::ids::UserId = user
            .parse()
            .map_err(|e| format!("{user:?} is not a user ID like \"@alice:tomesh.lab\": {e}"))?;
        self.server(parsed.server_name().to_string())?;
        Ok(user)
    }

    fn known_user(&self, user: String) -> Result<String, String> {
        let user = self.user_id(user)?;
        if self.users.contains(&user) {
            Ok(user)
        } else {
            Err(format!(
                "unknown user {user}: register them in an earlier step"
            ))
        }
    }

    fn room(&self, room: String) -> Result<String, String> {
        if self.rooms.contains_key(&room) {
            Ok(room)
        } else {
            Err(format!(
                "unknown room {room:?}: create it with `create-room` in an earlier step"
            ))
        }
    }

    fn backup_choice(&self, server: &str, backup: Option<&str>) -> Result<BackupChoice, String> {
        let taken = self.backups.get(server);
        match backup {
            None | Some("latest") if taken.is_some() => Ok(BackupChoice::Latest),
            None | Some("latest") => Err(format!(
                "no backup of {server} is taken before this `restore`: add a `backup` step"
            )),
            Some(label) if taken.is_some_and(|labels| labels.contains(label)) => {
                Ok(BackupChoice::Labelled(label.into()))
            }
            Some(label) => Err(format!(
                "unknown backup {label:?} of {server}: take it with `backup` in an earlier step, \
                 or say \"latest\""
            )),
        }
    }
}

/// A backup's label names a directory: letters, digits, `.`, `_` and `-`,
/// not starting with a dot, at most 64 characters.
fn backup_label(label: String) -> Result<String, String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if label.is_empty() || label.len() > 64 || label.starts_with('.') || !label.chars().all(allowed)
    {
        return Err(format!(
            "backup label {label:?}: use 1 to 64 letters, digits, '.', '_' or '-', not starting \
             with '.'"
        ));
    }
    Ok(label)
}

/// `quota = "50%"` (of the database), `quota = "300 KiB"`, `quota = 307200`
/// (bytes) or `quota = "unlimited"`; absent means unlimited.
fn quota(value: Option<&toml::Value>) -> Result<Quota, String> {
    let expected = "quota is \"50%\", \"300 KiB\", \"2 MiB\", a number of bytes, or \"unlimited\"";
    let Some(value) = value else {
        return Ok(Quota::Unlimited);
    };
    if let Some(bytes) = value.as_integer() {
        return u64::try_from(bytes)
            .map(Quota::Bytes)
            .map_err(|_| expected.to_owned());
    }
    let text = value.as_str().ok_or(expected)?.trim();
    if text == "unlimited" {
        return Ok(Quota::Unlimited);
    }
    if let Some(percent) = text.strip_suffix('%') {
        let percent: f64 = percent.trim().parse().map_err(|_| expected.to_owned())?;
        if !(0.0..=1000.0).contains(&percent) {
            return Err(expected.to_owned());
        }
        return Ok(Quota::FractionOfDatabase(percent / 100.0));
    }
    let (number, unit) = text
        .split_once(' ')
        .map_or((text, "B"), |(n, u)| (n.trim(), u.trim()));
    let scale = match unit {
        "B" => 1,
        "KiB" => 1024,
        "MiB" => 1024 * 1024,
        _ => return Err(expected.to_owned()),
    };
    let number: u64 = number.parse().map_err(|_| expected.to_owned())?;
    Ok(Quota::Bytes(number.saturating_mul(scale)))
}

#[cfg(test)]
mod tests;
