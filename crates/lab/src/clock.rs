//! [`VirtualClock`]: time that moves only when the lab says so.
//!
//! Every event carries its `origin_server_ts`, and the event ID is a hash
//! over the whole event, timestamp included. With the system clock, two
//! runs of the same scenario would produce different event IDs a
//! millisecond apart. All the servers of a lab share one virtual clock, so
//! "now" is the same for all of them and the same in every run.

use lostfound_server::state::Clock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// 2021-01-01T00:00:00Z in milliseconds since the Unix epoch: the year of
/// the incident, where every lab starts unless told otherwise.
pub const START_OF_2021_MS: u64 = 1_609_459_200_000;

/// A clock that stands still until [`advance`](Self::advance)d or
/// [`set`](Self::set). Shared by reference (`Arc`) between the lab and
/// every one of its servers.
#[derive(Debug)]
pub struct VirtualClock {
    now_ms: AtomicU64,
}

impl VirtualClock {
    /// A clock showing `start_ms` (milliseconds since the Unix epoch).
    pub fn starting_at(start_ms: u64) -> Self {
        Self {
            now_ms: AtomicU64::new(start_ms),
        }
    }

    /// Moves the clock forward by `by` (whole milliseconds).
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.now_ms.fetch_add(by, Ordering::SeqCst);
    }

    /// What the clock shows (milliseconds since the Unix epoch).
    pub fn now(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
    }

    /// Sets the clock to `now_ms`; it may go backwards, as a badly set
    /// server clock does.
    pub fn set(&self, now_ms: u64) {
        self.now_ms.store(now_ms, Ordering::SeqCst);
    }
}

impl Default for VirtualClock {
    /// A clock at [`START_OF_2021_MS`].
    fn default() -> Self {
        Self::starting_at(START_OF_2021_MS)
    }
}

impl Clock for VirtualClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_moves_only_when_told() {
        let clock = VirtualClock::default();
        assert_eq!(clock.now_ms(), START_OF_2021_MS);
        assert_eq!(clock.now_ms(), START_OF_2021_MS);
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.now_ms(), START_OF_2021_MS + 2_000);
        clock.set(42);
        assert_eq!(clock.now_ms(), 42);
    }
}
