//! Servers with exercise hooks: a student's function in place of part of
//! federation, in a running lab (see `lostfound_server::hooks`).
//!
//! ```
//! use lostfound_lab::{Hooks, Lab};
//!
//! let backfill = Hooks::new().backfill(|_room, from, _limit, _lookup| from.to_vec());
//! let lab = Lab::new(2021)
//!     .server("tomesh.lab")
//!     .server_with_hooks("hypha.lab", backfill.clone());
//! // … start, run the story, then:
//! assert_eq!(backfill.calls().backfill.calls, 0);
//! ```
//!
//! The lab keeps a clone of each server's hooks in its configuration, so
//! they survive [`Lab::stop`] and [`Lab::restart`], and the caller's clone
//! shares their call counters.

pub use lostfound_server::hooks::{HookCalls, HookCount, Hooks};

use crate::Lab;

impl Lab {
    /// Adds a homeserver named `name` whose federation runs `hooks` in
    /// place of the reference code (started by [`Lab::start`]).
    pub fn server_with_hooks(mut self, name: &str, hooks: Hooks) -> Self {
        self.hooks.insert(name.to_owned(), hooks);
        self.server(name)
    }

    /// The hooks installed on `name` (none for a plain server).
    pub fn hooks(&self, name: &str) -> Hooks {
        self.hooks.get(name).cloned().unwrap_or_default()
    }
}
