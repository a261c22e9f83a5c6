//! `lostfound`: the command-line front door of the Lost & Found workbench.
//!
//! This binary stays thin: it parses arguments, reads files, and prints.
//! Everything it knows about Matrix comes from `lostfound-protocol`.

mod event;
mod grade;
mod input;
mod key;
mod scenario;
mod serve;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Lost & Found: live through a federated data-loss incident, and learn
/// how Matrix servers lose data and find it again.
///
/// Start with the event inspector, which takes a Matrix event apart the way
/// a homeserver does:
///
///   lostfound event inspect book/examples/message.json
///
/// Logs go to standard error; tune them with RUST_LOG (for example
/// RUST_LOG=debug). The book (`mdbook serve book`) explains every command.
#[derive(Debug, Parser)]
#[command(name = "lostfound", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Inspect, sign and forge Matrix room v10 events.
    #[command(subcommand)]
    Event(event::EventCommand),
    /// Work with ed25519 server signing keys.
    #[command(subcommand)]
    Key(key::KeyCommand),
    Serve(serve::ServeArgs),
    /// Replay data-loss incidents and print the lost & found report.
    #[command(subcommand)]
    Scenario(scenario::ScenarioCommand),
    Grade(grade::GradeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A server's request log is its main output; other commands stay quiet.
    let bare = matches!(&cli.command, Command::Scenario(command) if scenario::traces(command));
    init_logging(
        match &cli.command {
            Command::Serve(_) => "info",
            Command::Scenario(command) => scenario::log_filter(command),
            _ => "warn",
        },
        bare,
    );
    let result = match cli.command {
        Command::Event(command) => event::run(command),
        Command::Key(command) => key::run(command),
        Command::Serve(args) => serve::run(args),
        Command::Scenario(command) => scenario::run(command),
        Command::Grade(args) => grade::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            // One line, the whole cause chain: no backtraces for bad input.
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Logs to standard error, filtered by RUST_LOG or `default_level`;
/// `bare` drops the time, level and target, for the trace of a replay
/// where each line is the message.
fn init_logging(default_level: &str, bare: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if bare {
        logs.without_time()
            .with_level(false)
            .with_target(false)
            .init();
    } else {
        logs.init();
    }
}
