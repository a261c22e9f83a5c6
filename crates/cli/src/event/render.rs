//! The text form of `lostfound event inspect`, in the order a receiving
//! server checks an event: signatures, content hash, then identity.

use super::inspect::Inspection;

/// Renders the report as aligned text, one fact per line.
pub(super) fn render(found: &Inspection) -> String {
    let mut out = Vec::new();
    out.push(format!("Event {}", found.event_id));
    out.push(field("room", &found.room_id));
    out.push(field("sender", &found.sender));
    out.push(match &found.state_key {
        Some(key) => field(
            "type",
            &format!("{} (state, state_key {key:?})", found.event_type),
        ),
        None => field("type", &format!("{} (not a state event)", found.event_type)),
    });
    out.push(String::new());
    signatures(found, &mut out);
    out.push(String::new());
    content_hash(found, &mut out);
    out.push(String::new());
    out.push(
        "Reference hash: SHA-256 of the redacted event without signatures and unsigned".into(),
    );
    out.push(field("base64", &found.reference_hash));
    out.push(field(
        "event ID",
        &format!("{}  ($ + URL-safe base64 of the same hash)", found.event_id),
    ));
    out.push(String::new());
    out.push(format!("Verdict: {}", found.verdict));
    out.push(String::new());
    out.push(format!(
        "Canonical JSON ({} bytes: what the hashes are computed over)",
        found.canonical.len()
    ));
    out.push(format!("  {}", found.canonical));
    out.push(String::new());
    out.push("Redacted form (what the event ID and the signatures cover)".into());
    let redacted = serde_json::to_string_pretty(&found.redacted).unwrap_or_default();
    out.extend(redacted.lines().map(|line| format!("  {line}")));
    out.push(String::new());
    out.join("\n")
}

fn field(name: &str, value: &str) -> String {
    format!("  {name:<15} {value}")
}

fn signatures(found: &Inspection, out: &mut Vec<String>) {
    out.push("Signatures: ed25519 over the redacted form".into());
    if found.signed_by.is_empty() {
        out.push(field("present", "(none)"));
    }
    out.extend(
        found
            .signed_by
            .iter()
            .map(|signer| field("present", signer)),
    );
    match &found.signature {
        None => out.push(field(
            "checked",
            "(not checked: pass --key with the server's public key)",
        )),
        Some(check) if check.valid => out.push(field(
            "checked",
            &format!("{} {}: verifies", check.server, check.key_id),
        )),
        Some(check) => {
            // The error names the server and key again; keep only the why.
            let error = check.error.as_deref().unwrap_or("");
            let why = error.rsplit_once(": ").map_or(error, |(_, why)| why);
            out.push(field(
                "checked",
                &format!("{} {}: FAILS", check.server, check.key_id),
            ));
            out.push(field("", why));
        }
    }
}

fn content_hash(found: &Inspection, out: &mut Vec<String>) {
    let hash = &found.content_hash;
    out.push("Content hash: SHA-256 of the event without unsigned, signatures and hashes".into());
    match &hash.claimed {
        Some(claimed) => out.push(field("claimed", claimed)),
        None => out.push(field(
            "claimed",
            "(none: no hashes.sha256 yet; `lostfound event sign` adds it)",
        )),
    }
    out.push(field("computed", &hash.computed));
    match hash.matches {
        Some(true) => out.push(field("result", "matches")),
        Some(false) => out.push(field(
            "result",
            "MISMATCH: the content differs from what was hashed",
        )),
        None => {}
    }
}
