//! `lostfound event sign`.

use super::SignArgs;
use crate::input;
use anyhow::{Context, Result};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::signing::{self, SigningKey};
use lostfound_protocol::{JsonObject, canonical_json, hashes};
use serde_json::{Value, json};
use std::process::ExitCode;

pub fn run(args: &SignArgs) -> Result<ExitCode> {
    let key = SigningKey::from_seed_base64(
        args.server.parse().context("--server")?,
        args.key_id.parse().context("--key-id")?,
        &args.seed,
    )
    .context("--seed")?;
    let text = input::read_text(args.file.as_ref())?;
    if args.jsonl {
        for (line_number, line) in input::json_lines(&text) {
            let output = match sign_text(line, &key) {
                Ok(signed) => {
                    warn_if_not_a_pdu(&signed, &format!("line {line_number}"));
                    Value::Object(signed)
                }
                Err(error) => json!({ "error": format!("{error:#}") }),
            };
            println!("{output}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let source = input::describe(args.file.as_ref());
    tracing::debug!(%source, bytes = text.len(), "signing");
    let signed =
        sign_text(&text, &key).with_context(|| format!("cannot sign the event from {source}"))?;
    warn_if_not_a_pdu(&signed, &source);
    eprintln!(
        "signed {} as {} {}",
        hashes::event_id(&signed)?,
        args.server,
        args.key_id
    );
    println!("{}", serde_json::to_string_pretty(&signed)?);
    Ok(ExitCode::SUCCESS)
}

/// Signs any JSON object whose numbers are canonical: `sign` is also the
/// tool for forging, so it does not insist on a well-formed event.
fn sign_text(text: &str, key: &SigningKey) -> Result<JsonObject> {
    let Value::Object(mut json) = canonical_json::parse(text)? else {
        anyhow::bail!("an event must be a JSON object");
    };
    signing::hash_and_sign_event(&mut json, key)?;
    Ok(json)
}

/// Says so, on standard error, when the signed object is not a room v10
/// PDU that a server would accept as well-formed.
fn warn_if_not_a_pdu(signed: &JsonObject, source: &str) {
    if let Err(error) = Pdu::from_json(Value::Object(signed.clone())) {
        eprintln!("warning: {source}: signed, but not a well-formed room v10 event: {error}");
    }
}
