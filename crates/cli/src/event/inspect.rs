//! `lostfound event inspect`: everything a homeserver computes about an
//! event before it believes it.

use super::InspectArgs;
use crate::input;
use anyhow::{Context, Result};
use lostfound_protocol::ids::{KeyId, ServerName};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::signing::VerifyKey;
use lostfound_protocol::{base64, hashes};
use serde::Serialize;
use serde_json::{Value, json};
use std::process::ExitCode;

/// What `inspect` found, in the order a receiving server checks it.
#[derive(Debug, Serialize)]
struct Inspection {
    event_id: String,
    room_id: String,
    sender: String,
    #[serde(rename = "type")]
    event_type: String,
    state_key: Option<String>,
    canonical: String,
    content_hash: ContentHash,
    redacted: Value,
    reference_hash: String,
    signed_by: Vec<String>,
    signature: Option<SignatureCheck>,
}

#[derive(Debug, Serialize)]
struct ContentHash {
    claimed: Option<String>,
    computed: String,
    matches: bool,
}

#[derive(Debug, Serialize)]
struct SignatureCheck {
    server: String,
    key_id: String,
    valid: bool,
    error: Option<String>,
}

/// The key to check a signature with, resolved from the arguments.
struct KeyToCheck {
    server: Option<ServerName>,
    key_id: KeyId,
    key: VerifyKey,
}

pub fn run(args: &InspectArgs) -> Result<ExitCode> {
    let key = key_to_check(args)?;
    let text = input::read_text(args.file.as_ref())?;
    if args.jsonl {
        for (_, line) in input::json_lines(&text) {
            let output = match inspect_text(line, key.as_ref()) {
                Ok(found) => serde_json::to_value(found)?,
                Err(error) => json!({ "error": format!("{error:#}") }),
            };
            println!("{output}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let found = inspect_text(&text, key.as_ref()).with_context(|| {
        format!(
            "cannot inspect the event in {}",
            input::describe(args.file.as_ref())
        )
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&found)?);
    } else {
        print!("{}", render(&found));
    }
    let failed = (found.content_hash.claimed.is_some() && !found.content_hash.matches)
        || found.signature.as_ref().is_some_and(|s| !s.valid);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn key_to_check(args: &InspectArgs) -> Result<Option<KeyToCheck>> {
    let Some(key) = &args.key else {
        return Ok(None);
    };
    Ok(Some(KeyToCheck {
        server: args
            .server
            .as_deref()
            .map(str::parse)
            .transpose()
            .context("--server")?,
        key_id: args.key_id.parse().context("--key-id")?,
        key: VerifyKey::from_base64(key).context("--key")?,
    }))
}

fn inspect_text(text: &str, key: Option<&KeyToCheck>) -> Result<Inspection> {
    let event = Pdu::from_json_str(text)?;
    let hash_check = event.content_hash_check();
    Ok(Inspection {
        event_id: event.event_id().to_string(),
        room_id: event.room_id().to_string(),
        sender: event.sender().to_string(),
        event_type: event.event_type().to_owned(),
        state_key: event.state_key().map(str::to_owned),
        canonical: event.canonical_json(),
        content_hash: ContentHash {
            matches: hash_check.matches(),
            claimed: hash_check.claimed,
            computed: hash_check.computed,
        },
        redacted: Value::Object(event.redacted().into_json()),
        reference_hash: base64::encode(hashes::reference_hash(event.json())?),
        signed_by: signers(&event),
        signature: key.map(|key| check_signature(&event, key)),
    })
}

/// `server ed25519:1` for every signature the event carries.
fn signers(event: &Pdu) -> Vec<String> {
    let Some(Value::Object(signatures)) = event.json().get("signatures") else {
        return Vec::new();
    };
    signatures
        .iter()
        .flat_map(|(server, keys)| {
            let key_ids = keys
                .as_object()
                .map(|k| k.keys().cloned().collect())
                .unwrap_or_else(Vec::new);
            key_ids
                .into_iter()
                .map(move |key_id| format!("{server} {key_id}"))
        })
        .collect()
}

fn check_signature(event: &Pdu, key: &KeyToCheck) -> SignatureCheck {
    let server = key
        .server
        .clone()
        .unwrap_or_else(|| event.sender().server_name());
    let result = event.verify_signature(&server, &key.key_id, &key.key);
    SignatureCheck {
        server: server.to_string(),
        key_id: key.key_id.to_string(),
        valid: result.is_ok(),
        error: result.err().map(|e| e.to_string()),
    }
}

fn render(found: &Inspection) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(format!("Event {}", found.event_id));
    line(format!("  room            {}", found.room_id));
    line(format!("  sender          {}", found.sender));
    line(match &found.state_key {
        Some(key) => format!(
            "  type            {} (state, state_key {key:?})",
            found.event_type
        ),
        None => format!("  type            {} (not a state event)", found.event_type),
    });
    line(String::new());
    line("Content hash: SHA-256 of the event without unsigned, signatures and hashes".into());
    line(match &found.content_hash.claimed {
        Some(claimed) => format!("  claimed         {claimed}"),
        None => "  claimed         (none: the event has no hashes.sha256 yet; `lostfound event sign` adds it)".into(),
    });
    line(format!("  computed        {}", found.content_hash.computed));
    if found.content_hash.claimed.is_some() {
        line(if found.content_hash.matches {
            "  result          matches".into()
        } else {
            "  result          MISMATCH: the content was changed after hashing; a server keeps only the redacted form".into()
        });
    }
    line(String::new());
    line("Reference hash: SHA-256 of the redacted event without signatures and unsigned".into());
    line(format!("  base64          {}", found.reference_hash));
    line(format!(
        "  event ID        {}  ($ + URL-safe base64 of the same hash)",
        found.event_id
    ));
    line(String::new());
    line("Signatures (over the redacted form)".into());
    if found.signed_by.is_empty() {
        line("  (none)".into());
    }
    for signer in &found.signed_by {
        line(format!("  present         {signer}"));
    }
    if let Some(check) = &found.signature {
        line(match &check.error {
            None => format!(
                "  checked         {} {} verifies",
                check.server, check.key_id
            ),
            Some(error) => format!(
                "  checked         {} {} FAILS: {error}",
                check.server, check.key_id
            ),
        });
    }
    line(String::new());
    line(format!("Canonical JSON ({} bytes)", found.canonical.len()));
    line(format!("  {}", found.canonical));
    line(String::new());
    line("Redacted form (what the event ID and the signatures cover)".into());
    let redacted = serde_json::to_string_pretty(&found.redacted).unwrap_or_default();
    for text in redacted.lines() {
        line(format!("  {text}"));
    }
    out
}
