//! Random scenarios for the convergence test: a tiny seeded generator (no
//! dependency) and the steps it picks, printable so that a failing seed
//! can be read and replayed.

use std::fmt;

/// How many steps a scenario has.
pub const STEPS: usize = 20;
/// Few state keys, so that state changes often fall in the same slot.
pub const KEYS: [&str; 3] = ["k0", "k1", "k2"];

/// splitmix64: a few lines, good enough to pick test steps, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One step of a scenario. Servers and users are indices: user `i` is on
/// server `i`.
#[derive(Debug, Clone)]
pub enum Step {
    Message(usize),
    Topic(usize),
    Name(usize),
    Custom(usize, &'static str),
    /// a.lab's alice (the creator, power 100) sets the power needed to
    /// change state: 0 lets everyone, 50 only her.
    Power(u8),
    /// Every running server's user sets `org.lab.flag/{key}` at once.
    Burst(&'static str),
    Stop(usize),
    Restart(usize),
}

impl Step {
    /// The server whose user sends this event.
    pub fn server(&self) -> usize {
        match self {
            Step::Power(_) => 0,
            Step::Message(i) | Step::Topic(i) | Step::Name(i) | Step::Custom(i, _) => *i,
            other => unreachable!("{other} is not one user's event"),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const S: [&str; 3] = ["a", "b", "c"];
        match self {
            Step::Message(i) => write!(f, "{}: message", S[*i]),
            Step::Topic(i) => write!(f, "{}: topic", S[*i]),
            Step::Name(i) => write!(f, "{}: name", S[*i]),
            Step::Custom(i, key) => write!(f, "{}: org.lab.flag/{key}", S[*i]),
            Step::Burst(key) => write!(f, "all at once: org.lab.flag/{key}"),
            Step::Power(level) => write!(f, "a: state_default {level}"),
            Step::Stop(i) => write!(f, "stop {}.lab", S[*i]),
            Step::Restart(i) => write!(f, "restart {}.lab", S[*i]),
        }
    }
}

/// The steps `seed` picks: events only on servers that are up, at most two
/// servers down at once, a stopped server restarted by a later step or at
/// the end.
pub fn scenario(seed: u64) -> Vec<Step> {
    let mut rng = Rng(seed);
    let mut up = [true; 3];
    let mut steps = Vec::new();
    while steps.len() < STEPS {
        let server = rng.below(3);
        let step = match rng.below(10) {
            0 | 1 if up[server] && up.iter().filter(|u| **u).count() > 1 => Step::Stop(server),
            2 | 3 if !up[server] => Step::Restart(server),
            _ if !up[server] => continue,
            4 | 5 => Step::Message(server),
            6 => Step::Topic(server),
            7 => Step::Name(server),
            8 if rng.below(2) == 0 => Step::Burst(KEYS[rng.below(3)]),
            8 if up[0] => Step::Power([0, 50][rng.below(2)]),
            _ => Step::Custom(server, KEYS[rng.below(3)]),
        };
        match step {
            Step::Stop(i) => up[i] = false,
            Step::Restart(i) => up[i] = true,
            _ => {}
        }
        steps.push(step);
    }
    steps
}
