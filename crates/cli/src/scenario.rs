//! `lostfound scenario`: list, show and replay incident scenarios.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use lostfound_lab::scenario::report::Report;
use lostfound_lab::scenario::variant::{VARIANTS, Variant};
use lostfound_lab::scenario::{
    Finished, RunOptions, Runner, Scenario, StepRecord, builtin, dates, parse,
};
use serde_json::json;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

/// Replay data-loss incidents on a live federation of homeservers.
///
/// A scenario is a story in a TOML file: servers, users, rooms, and timed
/// steps such as `backup`, `migrate` (onto a disk too small), `cleanup`,
/// `restore`, `reregister`, `invite`. The lab runs it on real servers in
/// this process, with real files and real federation traffic, then prints
/// the lost & found report of the server that failed.
///
///   lostfound scenario list
///   lostfound scenario show hypha-2021
///   lostfound scenario run hypha-2021
///   lostfound scenario run hypha-2021 --variant verified-cleanup
///
/// The book's chapter "Replaying the incident" explains every line.
#[derive(Debug, Subcommand)]
#[command(verbatim_doc_comment)]
pub enum ScenarioCommand {
    /// The built-in scenarios and the variants every scenario can run with.
    List,
    /// Check a scenario and print its steps, one line each.
    Show {
        /// A built-in scenario's name, or a path to a scenario file.
        scenario: String,
    },
    Run(RunArgs),
}

/// Replay a scenario and print the lost & found report.
///
/// Prints one line per step as it runs, then the report, the checker's
/// verdict and the wall time. Exit status: 0 when the run ends and the
/// checker finds nothing wrong, 1 when the checker finds a violation,
/// 2 for a bad file or a step that could not be done.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RunArgs {
    /// A built-in scenario's name, or a path to a scenario file.
    scenario: String,
    /// Change one thing to see what would have saved the data:
    /// verified-cleanup or daily-backups.
    #[arg(long, value_name = "VARIANT")]
    variant: Option<String>,
    /// Replace the scenario's seed (its room IDs, keys and event IDs).
    #[arg(long)]
    seed: Option<u64>,
    /// Print one JSON document (steps, report, checker) instead of text;
    /// progress lines go to standard error.
    #[arg(long)]
    json: bool,
    /// Pause after each step until Enter is pressed (for a live audience;
    /// type `c` and Enter to run the rest without pausing).
    #[arg(long)]
    step: bool,
    /// Print one line per federation request between the servers.
    #[arg(long)]
    trace: bool,
}

/// Whether this command prints the federation trace.
pub fn traces(command: &ScenarioCommand) -> bool {
    matches!(command, ScenarioCommand::Run(args) if args.trace)
}

/// The logging filter `main` installs for `scenario` (unless RUST_LOG is
/// set): quiet, because servers that are down by design make peers warn.
pub fn log_filter(command: &ScenarioCommand) -> &'static str {
    match command {
        ScenarioCommand::Run(args) if args.trace => "error,lostfound::federation=info",
        _ => "error",
    }
}

pub fn run(command: ScenarioCommand) -> Result<ExitCode> {
    match command {
        ScenarioCommand::List => list(),
        ScenarioCommand::Show { scenario } => show(&scenario),
        ScenarioCommand::Run(args) => run_scenario(args),
    }
}

/// A built-in scenario by name, or a scenario file by path.
fn load(name_or_path: &str) -> Result<Scenario> {
    if let Some(parsed) = builtin::load(name_or_path) {
        return Ok(parsed?);
    }
    let path = Path::new(name_or_path);
    if !path.exists() {
        let names: Vec<&str> = builtin::BUILTIN.iter().map(|(name, _)| *name).collect();
        bail!(
            "no built-in scenario and no file named {name_or_path:?} (built-in: {})",
            names.join(", ")
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(parse(&text, &path.display().to_string())?)
}

fn list() -> Result<ExitCode> {
    println!("Built-in scenarios:");
    for (name, _) in builtin::BUILTIN {
        let scenario = load(name)?;
        println!("  {name:<20} {}", scenario.title);
    }
    println!("\nVariants (lostfound scenario run NAME --variant VARIANT):");
    for (name, _, what) in VARIANTS {
        println!("  {name:<20} {what}");
    }
    println!("\nOr write your own: lostfound scenario run path/to/story.toml");
    Ok(ExitCode::SUCCESS)
}

fn show(name_or_path: &str) -> Result<ExitCode> {
    let scenario = load(name_or_path)?;
    println!("{}: {}", scenario.name, scenario.title);
    if !scenario.description.trim().is_empty() {
        println!("{}", scenario.description.trim());
    }
    println!(
        "servers: {} (subject: {}); seed {}; {} steps from {}",
        scenario.servers.join(", "),
        scenario.subject,
        scenario.seed,
        scenario.steps.len(),
        dates::format(scenario.start_ms)
    );
    for step in &scenario.steps {
        println!(
            "{:>5}  {}  {:<13} {}",
            step.line,
            dates::format(step.at_ms),
            step.action.operation(),
            describe(&step.action)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The step's arguments, briefly, for `show`.
fn describe(action: &lostfound_lab::scenario::Action) -> String {
    use lostfound_lab::scenario::Action as A;
    match action {
        A::Backup { server, label } => format!("{server} as {label:?}"),
        A::Migrate { server, quota } => format!("{server}, quota {quota}"),
        A::Cleanup { server, verify } => {
            format!("{server}{}", if *verify { ", verified" } else { "" })
        }
        A::Crash { server }
        | A::Restart { server }
        | A::Partition { server }
        | A::Heal { server } => server.clone(),
        A::Restore {
            server,
            backup,
            only_if_down,
        } => format!(
            "{server} from {backup}{}",
            if *only_if_down { ", if it is down" } else { "" }
        ),
        A::Register { user } | A::Reregister { user } | A::SetPassword { user } => user.clone(),
        A::SetAvatar { user, room } => match room {
            Some(room) => format!("{user}, of room {room}"),
            None => user.clone(),
        },
        A::CreateRoom {
            user,
            room,
            kind,
            invite,
        } => format!(
            "{room} ({}) by {user}{}",
            kind.as_str(),
            if invite.is_empty() {
                String::new()
            } else {
                format!(", inviting {}", invite.join(", "))
            }
        ),
        A::Invite {
            user,
            room,
            invitee,
        } => format!("{invitee} into {room} by {user}"),
        A::Join { user, room, via } => match via {
            Some(via) => format!("{user} into {room} via {via}"),
            None => format!("{user} into {room}"),
        },
        A::Send {
            user,
            room,
            text,
            count,
        } => format!("{count} × {text:?} to {room} by {user}"),
        A::ScrollBack { user, room } => format!("{user} in {room}"),
    }
}

fn run_scenario(args: RunArgs) -> Result<ExitCode> {
    let mut scenario = load(&args.scenario)?;
    let variant = args.variant.as_deref().map(Variant::named).transpose();
    let variant = variant.map_err(anyhow::Error::msg)?;
    if let Some(variant) = variant {
        scenario = variant.apply(scenario);
    }
    let seed = args.seed.unwrap_or(scenario.seed);
    let mut progress: Box<dyn Write> = if args.json {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    writeln!(
        progress,
        "Replaying {}{} with seed {seed}: {} servers, {} steps; subject {}",
        scenario.name,
        variant.map_or(String::new(), |v| format!(" (variant {})", v.name())),
        scenario.servers.len(),
        scenario.steps.len(),
        scenario.subject
    )?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let started = Instant::now();
    let finished = match runtime.block_on(replay(scenario, seed, args.step, &mut progress)) {
        Ok(finished) => finished,
        Err((error, records)) if args.json => {
            // Tools get a document even when a step fails.
            let document = json!({
                "error": format!("{error:#}"),
                "variant": variant.map(Variant::name),
                "seed": seed,
                "steps": records,
            });
            println!("{}", serde_json::to_string_pretty(&document)?);
            return Err(error);
        }
        Err((error, _)) => return Err(error),
    };
    let wall = started.elapsed();
    if args.json {
        let document = json!({
            "scenario": finished.report.scenario,
            "variant": variant.map(Variant::name),
            "seed": seed,
            "steps": finished.records,
            "report": finished.report,
            "check": finished.check,
            "wall_time_ms": wall.as_millis() as u64,
        });
        println!("{}", serde_json::to_string_pretty(&document)?);
    } else {
        print_ending(&finished.report, &finished, wall);
    }
    Ok(if finished.check.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Runs the scenario; on a failed step, the error and the steps that ran.
async fn replay(
    scenario: Scenario,
    seed: u64,
    pause: bool,
    progress: &mut dyn Write,
) -> Result<Finished, (anyhow::Error, Vec<StepRecord>)> {
    let total = scenario.steps.len();
    let options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    let mut runner = Runner::start(scenario, options)
        .await
        .map_err(|e| (e.into(), Vec::new()))?;
    let mut pausing = pause;
    for (index, step) in runner.steps().iter().enumerate() {
        let record = match runner.step(step).await {
            Ok(record) => record,
            Err(error) => return Err((error.into(), runner.records().to_vec())),
        };
        let shown = print_step(progress, index + 1, total, &record);
        let records = || runner.records().to_vec();
        shown.map_err(|e| (e, records()))?;
        if pausing && index + 1 < total {
            pausing = wait_for_enter()
                .await
                .map_err(|e| (e, runner.records().to_vec()))?;
        }
    }
    let records = runner.records().to_vec();
    runner.finish().await.map_err(|e| (e.into(), records))
}

fn print_step(out: &mut dyn Write, number: usize, total: usize, record: &StepRecord) -> Result<()> {
    let width = total.to_string().len();
    writeln!(
        out,
        "[{number:>width$}/{total}] {}  {}",
        record.at, record.summary
    )?;
    if let Some(note) = &record.note {
        writeln!(out, "{:>w$}  ({note})", "", w = 2 * width + 19)?;
    }
    Ok(())
}

/// Waits for Enter; false once the audience asked to run the rest (`c`).
/// The prompt goes to standard error, always: without a terminal (over
/// `ssh` without `-t`, say) a silent wait would look like a hang.
async fn wait_for_enter() -> Result<bool> {
    let mut prompt = std::io::stderr();
    write!(prompt, "  -- Enter: next step, c: run to the end -- ")?;
    prompt.flush()?;
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map(|read| (read, line))
    })
    .await
    .context("waiting for Enter")??;
    match line {
        (0, _) => Ok(false), // end of input: run the rest
        (_, text) => Ok(text.trim() != "c"),
    }
}

fn print_ending(report: &Report, finished: &Finished, wall: std::time::Duration) {
    println!();
    print!("{}", report.to_text());
    println!();
    let check = &finished.check;
    if check.passed() {
        println!(
            "Checker: passed. Acknowledged messages still on their servers: {}; destroyed on \
             purpose (counted above): {}; copies of rooms compared: {}.",
            check.messages_checked, check.destroyed_on_purpose, check.room_copies_compared
        );
    } else {
        println!("Checker: {} violation(s):", check.violations.len());
        for violation in &check.violations {
            println!(
                "  {} in {} on {} (after the step on line {}): {} [{}]",
                violation.kind,
                violation.room,
                violation.servers.join(", "),
                violation.step_line,
                violation.detail,
                violation.events.join(", ")
            );
        }
    }
    println!("Wall time: {:.2} s", wall.as_secs_f64());
}
