//! `lostfound event sign`.

use super::SignArgs;
use crate::input;
use anyhow::{Context, Result};
use lostfound_protocol::canonical_json;
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::signing::{self, SigningKey};
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
        for (_, line) in input::json_lines(&text) {
            let output = match sign_text(line, &key) {
                Ok(event) => Value::Object(event.into_json()),
                Err(error) => json!({ "error": format!("{error:#}") }),
            };
            println!("{output}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let event = sign_text(&text, &key).with_context(|| {
        format!(
            "cannot sign the event in {}",
            input::describe(args.file.as_ref())
        )
    })?;
    eprintln!(
        "signed {} as {} {}",
        event.event_id(),
        args.server,
        args.key_id
    );
    println!("{}", serde_json::to_string_pretty(event.json())?);
    Ok(ExitCode::SUCCESS)
}

/// Checks the event first, so that `sign` never blesses a malformed one,
/// then hashes and signs, and checks the result again.
fn sign_text(text: &str, key: &SigningKey) -> Result<Pdu> {
    let Value::Object(mut json) = canonical_json::parse(text)? else {
        anyhow::bail!("an event must be a JSON object");
    };
    Pdu::from_json(Value::Object(json.clone()))?;
    signing::hash_and_sign_event(&mut json, key)?;
    Ok(Pdu::from_json(Value::Object(json))?)
}
