//! `lostfound event inspect`: everything a homeserver computes about an
//! event before it believes it.

use super::InspectArgs;
use super::render;
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
pub(super) struct Inspection {
    pub event_id: String,
    pub room_id: String,
    pub sender: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub state_key: Option<String>,
    pub canonical: String,
    pub content_hash: ContentHash,
    pub redacted: Value,
    pub reference_hash: String,
    pub signed_by: Vec<String>,
    pub signature: Option<SignatureCheck>,
    pub verdict: String,
}

#[derive(Debug, Serialize)]
pub(super) struct ContentHash {
    pub claimed: Option<String>,
    pub computed: String,
    /// `None` when the event claims no hash, so there is nothing to match.
    pub matches: Option<bool>,
}

#[derive(Debug, Serialize)]
pub(super) struct SignatureCheck {
    pub server: String,
    pub key_id: String,
    pub valid: bool,
    pub error: Option<String>,
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
                // Serialised straight from the struct, so the fields keep
                // their reading order (event_id first).
                Ok(found) => serde_json::to_string(&found)?,
                Err(error) => json!({ "error": format!("{error:#}") }).to_string(),
            };
            println!("{output}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let found = inspect_text(&text, key.as_ref()).with_context(|| {
        format!(
            "cannot inspect the event from {}",
            input::describe(args.file.as_ref())
        )
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&found)?);
    } else {
        print!("{}", render::render(&found));
    }
    let failed = found.content_hash.matches == Some(false)
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
    tracing::debug!(event_id = %event.event_id(), bytes = text.len(), "parsed event");
    let hash_check = event.content_hash_check();
    let signature = key.map(|key| check_signature(&event, key));
    let content_hash = ContentHash {
        matches: hash_check.claimed.as_ref().map(|_| hash_check.matches()),
        claimed: hash_check.claimed,
        computed: hash_check.computed,
    };
    Ok(Inspection {
        verdict: verdict(&content_hash, signature.as_ref()),
        event_id: event.event_id().to_string(),
        room_id: event.room_id().to_string(),
        sender: event.sender().to_string(),
        event_type: event.event_type().to_owned(),
        state_key: event.state_key().map(str::to_owned),
        canonical: event.canonical_json(),
        content_hash,
        redacted: Value::Object(event.redacted().into_json()),
        reference_hash: base64::encode(hashes::reference_hash(event.json())?),
        signed_by: signers(&event),
        signature,
    })
}

/// What a server receiving this event over federation would do with it,
/// following the spec's checks on receipt of a PDU: signatures first (drop
/// on failure), then the content hash (keep only the redacted form on
/// mismatch), then the auth rules, which `inspect` does not run.
fn verdict(content_hash: &ContentHash, signature: Option<&SignatureCheck>) -> String {
    match (signature.map(|s| s.valid), content_hash.matches) {
        (Some(false), _) => "drop: the signature does not verify".into(),
        (_, None) => "incomplete: no content hash yet; a server would reject it (sign it first)".into(),
        (_, Some(false)) => {
            "keep only the redacted form: the content differs from what was hashed (edited, or a redacted copy)".into()
        }
        (None, Some(true)) => "content hash matches; pass --key to check the signature too".into(),
        (Some(true), Some(true)) => "accept, if the auth rules allow it (inspect does not run them)".into(),
    }
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
    tracing::debug!(key_id = %key.key_id, "checking signature");
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
