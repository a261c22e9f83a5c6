//! Scenarios: a story of servers, users, rooms and disasters, written as a
//! TOML file, checked before anything runs, and replayed by [`run`].
//!
//! ```toml
//! format = 1                      # the version of this schema
//! name = "tiny"
//! title = "A backup, a gap, a restore"
//! seed = 7                        # every random choice of the run
//! start = "2021-01-01"            # the lab's clock at the first step
//! subject = "tomesh.lab"          # the server whose losses are reported
//! servers = ["tomesh.lab", "matrix.lab"]
//!
//! [[step]]
//! at = "2021-01-02 10:00"         # steps run in time order
//! do = "register"
//! user = "@alice:tomesh.lab"
//! ```
//!
//! The operations (`do = ...`) and their fields are listed in [`Action`];
//! the book's chapter *Replaying the incident* documents them for users.
//! A file that does not check out is refused with its line and what was
//! expected: [`ScenarioError`].

pub mod builtin;
pub mod check;
pub mod dates;
mod parse;
pub mod predict;
pub mod report;
pub mod run;
pub mod variant;

pub use parse::parse;
pub use run::{Finished, RunError, RunOptions, Runner, StepRecord, run};

/// The schema version this program reads.
pub const FORMAT: u64 = 1;

/// A checked scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub title: String,
    pub description: String,
    pub seed: u64,
    /// The lab's clock before the first step (ms since 1970).
    pub start_ms: u64,
    /// The server whose lost & found report is printed.
    pub subject: String,
    pub servers: Vec<String>,
    pub steps: Vec<Step>,
}

/// One step: when, what, and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The line of `[[step]]` in the file (0 for a step a variant added).
    pub line: usize,
    pub at_ms: u64,
    pub action: Action,
    /// Free text the runner prints with the step.
    pub note: Option<String>,
}

/// What kind of room `create-room` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoomKind {
    /// `preset: public_chat`: anyone may join, federated.
    Public,
    /// `preset: private_chat`: invite only, federated.
    Private,
    /// A direct message: `is_direct`, private, with one invitee.
    Direct,
    /// `m.federate: false`: no other server may ever join.
    Unfederated,
}

impl RoomKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoomKind::Public => "public",
            RoomKind::Private => "private",
            RoomKind::Direct => "dm",
            RoomKind::Unfederated => "unfederated",
        }
    }
}

/// Which backup a `restore` takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupChoice {
    /// The newest one.
    Latest,
    /// The one with this label.
    Labelled(String),
}

impl std::fmt::Display for BackupChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackupChoice::Latest => write!(f, "the latest backup"),
            BackupChoice::Labelled(label) => write!(f, "backup {label:?}"),
        }
    }
}

/// Every operation a step can do. Users are full Matrix IDs
/// (`@alice:tomesh.lab`); rooms are the labels `create-room` gave them.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// An online backup of `server`'s database and media, kept as `label`.
    Backup {
        server: String,
        label: String,
    },
    /// The upgrade's copy of the database onto a disk with `quota` room.
    Migrate {
        server: String,
        quota: crate::chaos::Quota,
    },
    /// Delete the old database and use the copy; `verify` checks first.
    Cleanup {
        server: String,
        verify: bool,
    },
    /// Kill the server.
    Crash {
        server: String,
    },
    /// Start the server (again); a refusal is recorded, not fatal.
    Restart {
        server: String,
    },
    /// Bring back a backup; with `only_if_down`, only if the server is
    /// not running (it refused its database).
    Restore {
        server: String,
        backup: BackupChoice,
        only_if_down: bool,
    },
    /// Cut the server off from the others / reconnect it.
    Partition {
        server: String,
    },
    Heal {
        server: String,
    },
    /// Create the account (it must not exist on the server).
    Register {
        user: String,
    },
    /// Register again a user whose account the server lost; logs in
    /// instead if the account is still there.
    Reregister {
        user: String,
    },
    /// Change the user's password.
    SetPassword {
        user: String,
    },
    /// Upload an image and make it the user's avatar, or with `room`, the
    /// room's avatar (`m.room.avatar`).
    SetAvatar {
        user: String,
        room: Option<String>,
    },
    CreateRoom {
        user: String,
        room: String,
        kind: RoomKind,
        invite: Vec<String>,
    },
    Invite {
        user: String,
        room: String,
        invitee: String,
    },
    /// Join the room through `via` (default: the server of its creator).
    Join {
        user: String,
        room: String,
        via: Option<String>,
    },
    /// `count` messages (`text`, numbered when `count` > 1).
    Send {
        user: String,
        room: String,
        text: String,
        count: u32,
    },
    /// Page back through the room to its beginning, as a client
    /// scrolling up does (this is what triggers backfill).
    ScrollBack {
        user: String,
        room: String,
    },
}

impl Action {
    /// The operation's name as written in files.
    pub fn operation(&self) -> &'static str {
        match self {
            Action::Backup { .. } => "backup",
            Action::Migrate { .. } => "migrate",
            Action::Cleanup { .. } => "cleanup",
            Action::Crash { .. } => "crash",
            Action::Restart { .. } => "restart",
            Action::Restore { .. } => "restore",
            Action::Partition { .. } => "partition",
            Action::Heal { .. } => "heal",
            Action::Register { .. } => "register",
            Action::Reregister { .. } => "reregister",
            Action::SetPassword { .. } => "set-password",
            Action::SetAvatar { .. } => "set-avatar",
            Action::CreateRoom { .. } => "create-room",
            Action::Invite { .. } => "invite",
            Action::Join { .. } => "join",
            Action::Send { .. } => "send",
            Action::ScrollBack { .. } => "scroll-back",
        }
    }

    /// The server whose files this operation destroys or replaces, if any.
    pub fn destroys(&self) -> Option<&str> {
        match self {
            Action::Cleanup { server, .. } | Action::Restore { server, .. } => Some(server),
            _ => None,
        }
    }
}

/// The server part of a user ID (`tomesh.lab` for `@alice:tomesh.lab`).
pub fn server_of(user: &str) -> &str {
    user.split_once(':').map_or("", |(_, server)| server)
}

/// The localpart of a user ID (`alice` for `@alice:tomesh.lab`).
pub fn localpart_of(user: &str) -> &str {
    let user = user.strip_prefix('@').unwrap_or(user);
    user.split_once(':')
        .map_or(user, |(localpart, _)| localpart)
}

/// Why a scenario file was refused: where, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}:{line}: {message}")]
pub struct ScenarioError {
    /// The file's name (or `<builtin NAME>`).
    pub origin: String,
    /// 1-based; 0 when the problem is the file as a whole.
    pub line: usize,
    pub message: String,
}
