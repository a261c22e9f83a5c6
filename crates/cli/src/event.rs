//! `lostfound event`: take events apart (`inspect`) and put them together
//! (`sign`), one document or a JSON Lines stream.

mod inspect;
mod render;
mod sign;

use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum EventCommand {
    /// Take an event apart: canonical form, content hash (claimed and
    /// computed), redacted form, reference hash and event ID, and with
    /// --key whether a server's signature verifies.
    ///
    /// Exit status: 0 when every check passed, 1 when the event was read
    /// but a check failed (its content hash does not match the one it
    /// claims, or the signature does not verify), 2 on bad input (not
    /// JSON, floats, missing fields).
    ///
    /// Examples:
    ///
    ///   lostfound event inspect book/examples/message.json
    ///   lostfound event inspect signed.json --key XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI
    ///   cat events.jsonl | lostfound event inspect --jsonl -
    #[command(verbatim_doc_comment)]
    Inspect(InspectArgs),
    /// Fill in an event's `hashes` and add a server's signature, as the
    /// server that creates an event does. Prints the signed event.
    ///
    /// `sign` signs any JSON object whose numbers are canonical, warning
    /// when it is not a well-formed room v10 event: use it to forge events
    /// (change a field, re-sign with the wrong key) and to fix them.
    ///
    /// Example, with the seed of the spec's test vectors:
    ///
    ///   lostfound event sign book/examples/message.json --server tomesh.lab \
    ///       --seed YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1 > signed.json
    #[command(verbatim_doc_comment)]
    Sign(SignArgs),
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The event, as JSON; `-` or nothing reads standard input.
    pub file: Option<PathBuf>,
    /// Print the facts as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Read one event per line and print one JSON result per line; a bad
    /// line gives {"error": "..."} and the stream goes on.
    #[arg(long)]
    pub jsonl: bool,
    /// A server's public key (unpadded base64) to check its signature with.
    /// `lostfound key public --seed SEED` prints one.
    #[arg(long, value_name = "BASE64_PUBLIC_KEY")]
    pub key: Option<String>,
    /// Whose signature to check with --key [default: the sender's server].
    #[arg(long, value_name = "NAME", requires = "key")]
    pub server: Option<String>,
    /// Which of the server's keys --key is.
    #[arg(long, value_name = "ID", default_value = "ed25519:1", requires = "key")]
    pub key_id: String,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The event, as JSON; `-` or nothing reads standard input.
    pub file: Option<PathBuf>,
    /// The server signing the event: its name goes into `signatures`.
    #[arg(long, value_name = "NAME")]
    pub server: String,
    /// The server's 32-byte ed25519 seed, base64 (padded or not).
    #[arg(long, value_name = "BASE64_SEED")]
    pub seed: String,
    /// The ID of the signing key.
    #[arg(long, value_name = "ID", default_value = "ed25519:1")]
    pub key_id: String,
    /// Read one event per line and print one signed event per line; a bad
    /// line gives {"error": "..."} and the stream goes on.
    #[arg(long)]
    pub jsonl: bool,
}

pub fn run(command: EventCommand) -> Result<ExitCode> {
    match command {
        EventCommand::Inspect(args) => inspect::run(&args),
        EventCommand::Sign(args) => sign::run(&args),
    }
}
