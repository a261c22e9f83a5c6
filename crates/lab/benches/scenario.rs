//! Wall time of the built-in `hypha-2021` replay and its variants, in
//! release (`cargo bench -p lostfound-lab --bench scenario`, part of
//! `just bench`). Prints figures; asserts nothing about time.
//!
//! A run starts three servers (SQLite databases, TCP listeners, relays),
//! plays 54 steps over the client and federation APIs, settles after each,
//! takes three snapshots of the subject and stops everything.

use lostfound_lab::scenario::{RunOptions, builtin, run, variant::Variant};
use std::time::{Duration, Instant};

const RUNS: usize = 5;

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    for variant in [
        None,
        Some(Variant::VerifiedCleanup),
        Some(Variant::DailyBackups),
    ] {
        let name = variant.map_or("hypha-2021", Variant::name);
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| runtime.block_on(replay(variant)))
            .collect();
        times.sort();
        let shown: Vec<String> = times
            .iter()
            .map(|t| format!("{:.2}", t.as_secs_f64()))
            .collect();
        println!(
            "{name:<18} median {:.2} s, min {:.2} s over {RUNS} runs (s: {})",
            times[RUNS / 2].as_secs_f64(),
            times[0].as_secs_f64(),
            shown.join(" ")
        );
    }
}

async fn replay(variant: Option<Variant>) -> Duration {
    let scenario = builtin::load("hypha-2021")
        .expect("built in")
        .expect("it parses");
    let scenario = match variant {
        Some(variant) => variant.apply(scenario),
        None => scenario,
    };
    let started = Instant::now();
    let finished = run(scenario, RunOptions::default(), |_| {})
        .await
        .expect("the replay runs");
    assert!(finished.check.passed(), "{:?}", finished.check);
    started.elapsed()
}
