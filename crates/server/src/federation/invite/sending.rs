//! The inviter's side: a local user invites a user of another server.
//!
//! We build the invite like any local event (after our forward
//! extremities, auth events from current state, auth rules checked), send
//! it to the invitee's server with the room's stripped state, and persist
//! our invite with the invitee server's signature added.
//!
//! **The write lock is not held across the request.** The invite's
//! `prev_events` are our extremities at the time we build it; persisting
//! it after another local event had moved them would fork our own room.
//! Holding the lock across the request avoided that, but let a slow (or
//! hostile) invitee server stall every writer of this server for as long
//! as it liked to answer. So: build under the lock, release it, ask the
//! invitee's server (within [`INVITE_TIMEOUT`]), then re-take the lock and
//! persist only if the room's extremities are still those the invite was
//! built on. If they moved, the invite is rebuilt and sent once more; if
//! they moved again, the invite fails with a message to retry.
//!
//! **What we persist is our own JSON.** The invitee's answer is trusted
//! for one thing only: its server's signature, which we copy into our
//! copy of the event after checking it verifies over it. The event ID
//! covers only the redacted form, so an answer with the same ID may still
//! differ in content a redaction strips (`content.reason`, say), or lack
//! our signature; storing the answer as it came would let the invitee
//! rewrite our event.

use super::ROOM_VERSION;
use crate::federation::FederationError;
use crate::federation::encode;
use crate::federation::join::joining::{bad, peer_error};
use crate::federation::join::template::build_member_event;
use crate::rooms::{RoomError, with_store};
use crate::state::Homeserver;
use lostfound_protocol::ids::{EventId, RoomId, ServerName, UserId};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::{slot, slot_of};
use lostfound_store::EventWrite;
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;

/// The state a client shows for an invite: what the room is called, what
/// it looks like, how one joins it.
const INVITE_STATE: [&str; 7] = [
    "m.room.create",
    "m.room.join_rules",
    "m.room.name",
    "m.room.canonical_alias",
    "m.room.avatar",
    "m.room.topic",
    "m.room.encryption",
];

/// The longest we wait for the invitee's server to co-sign the invite
/// (the request, and fetching its key to check the signature).
pub const INVITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How many times we build and send an invite when the room moves on
/// while one is in flight.
const ATTEMPTS: usize = 2;

/// `sender` invites `target`, a user of another server, into `room_id`.
pub async fn invite_remote_user(
    homeserver: &Homeserver,
    room_id: RoomId,
    sender: UserId,
    target: UserId,
    reason: Option<String>,
) -> Result<(), RoomError> {
    let mut content = json!({ "membership": "invite" });
    if let Some(reason) = reason {
        content["reason"] = json!(reason);
    }
    for _ in 0..ATTEMPTS {
        let (invite, stripped, extremities) =
            build_invite(homeserver, &room_id, &sender, &target, &content).await?;
        let signed = co_sign(homeserver, &invite, stripped).await?;
        if persist_invite(homeserver, signed, extremities).await? {
            return Ok(());
        }
    }
    Err(RoomError::Internal(format!(
        "room {room_id} kept changing while the invite was in flight; try again"
    )))
}

/// Builds the invite and the stripped state under the write lock (which is
/// released on return). Also returns the room's forward extremities as
/// they were, to tell later whether the room moved on.
async fn build_invite(
    homeserver: &Homeserver,
    room_id: &RoomId,
    sender: &UserId,
    target: &UserId,
    content: &serde_json::Value,
) -> Result<(Pdu, Vec<serde_json::Value>, BTreeSet<EventId>), RoomError> {
    let writing = crate::rooms::events::write_lock(homeserver).await;
    let server = homeserver.clone();
    let (room_id, sender, target, content) = (
        room_id.clone(),
        sender.clone(),
        target.clone(),
        content.clone(),
    );
    with_store(homeserver, move |store| {
        let _writing = writing;
        let extremities: BTreeSet<EventId> =
            store.forward_extremities(&room_id)?.into_iter().collect();
        let invite = build_member_event(store, &server, &room_id, &sender, &target, content)?;
        let state = store.current_state(&room_id)?;
        let mut stripped = Vec::new();
        for event_type in INVITE_STATE {
            if let Some(event_id) = state.get(&slot(event_type, "")) {
                let event = crate::rooms::load_event(store, event_id)?.event;
                stripped.push(json!({
                    "type": event.event_type(),
                    "state_key": event.state_key(),
                    "sender": event.sender(),
                    "content": event.content(),
                }));
            }
        }
        Ok((invite, stripped, extremities))
    })
    .await
}

/// Sends `invite` to the invitee's server and returns our invite with its
/// signature added, checked; all within [`INVITE_TIMEOUT`].
async fn co_sign(
    homeserver: &Homeserver,
    invite: &Pdu,
    stripped: Vec<serde_json::Value>,
) -> Result<Pdu, RoomError> {
    let invitee_server = invite
        .state_key()
        .unwrap_or_default()
        .parse::<UserId>()
        .map_err(|e| RoomError::Internal(e.to_string()))?
        .server_name();
    let exchange = async {
        let path = format!(
            "/_matrix/federation/v2/invite/{}/{}",
            encode(invite.room_id().as_str()),
            encode(invite.event_id().as_str())
        );
        let body = json!({
            "room_version": ROOM_VERSION,
            "event": invite.json(),
            "invite_room_state": stripped,
        });
        let federation = homeserver.federation();
        let answer = federation
            .client()
            .put_json(&invitee_server, &path, &body)
            .await
            .map_err(peer_error)?;
        let signed = with_invitee_signature(invite, &answer, &invitee_server)?;
        federation
            .verify_server_signature(&signed, &invitee_server)
            .await
            .map_err(|e| bad(&invitee_server, &format!("invite: {e}")))?;
        Ok(signed)
    };
    tokio::time::timeout(INVITE_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(peer_error(FederationError::Unreachable {
                server: invitee_server.clone(),
                reason: format!("no co-signed invite within {} s", INVITE_TIMEOUT.as_secs()),
            }))
        })
}

/// Our `invite`, with `signatures[invitee_server]` copied from the
/// invitee's answer and nothing else from it (see the module docs).
fn with_invitee_signature(
    invite: &Pdu,
    answer: &serde_json::Value,
    invitee_server: &ServerName,
) -> Result<Pdu, RoomError> {
    let returned = answer
        .get("event")
        .ok_or_else(|| bad(invitee_server, "invite: no `event`"))?;
    if returned
        .get("event_id")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|id| id != invite.event_id().as_str())
    {
        return Err(bad(invitee_server, "invite: a different event came back"));
    }
    let their_signatures = returned
        .get("signatures")
        .and_then(|s| s.get(invitee_server.as_str()))
        .filter(|s| s.is_object())
        .cloned()
        .ok_or_else(|| bad(invitee_server, "invite: not signed by the invitee's server"))?;
    let mut ours = invite.json().clone();
    let signatures = ours
        .entry("signatures")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| RoomError::Internal("our invite's `signatures` is not an object".into()))?;
    signatures.insert(invitee_server.as_str().to_owned(), their_signatures);
    Pdu::from_json(serde_json::Value::Object(ours))
        .map_err(|e| RoomError::Internal(format!("our co-signed invite: {e}")))
}

/// Persists the co-signed invite under the write lock, if the room's
/// forward extremities are still `built_on`. Returns whether it did.
async fn persist_invite(
    homeserver: &Homeserver,
    signed: Pdu,
    built_on: BTreeSet<EventId>,
) -> Result<bool, RoomError> {
    let writing = crate::rooms::events::write_lock(homeserver).await;
    let server = homeserver.clone();
    let persisted = with_store(homeserver, move |store| {
        let _writing = writing;
        let now: BTreeSet<EventId> = store
            .forward_extremities(signed.room_id())?
            .into_iter()
            .collect();
        if now != built_on {
            return Ok(None);
        }
        let mut state_after = store.current_state(signed.room_id())?;
        if let Some(slot) = slot_of(&signed) {
            state_after.insert(slot, signed.event_id().clone());
        }
        let mut extremities: Vec<_> = now
            .into_iter()
            .filter(|extremity| !signed.prev_events().contains(extremity))
            .collect();
        extremities.push(signed.event_id().clone());
        let position = store.persist_event(&EventWrite {
            event: &signed,
            state_after: &state_after,
            forward_extremities: &extremities,
            current_state: None,
            outlier: false,
            transaction: None,
        })?;
        // The other servers in the room learn of the invite as of any event.
        let queued =
            crate::federation::sender::queue_local_event(store, &server, &signed, &state_after)?;
        Ok(Some((position, queued)))
    })
    .await?;
    let Some((position, queued)) = persisted else {
        return Ok(false);
    };
    homeserver.announce(position);
    if queued > 0 {
        homeserver.wake_sender();
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lostfound_protocol::pdu::PduBuilder;
    use lostfound_protocol::signing::{SigningKey, hash_and_sign_event};

    fn key(server: &str, seed: u8) -> SigningKey {
        SigningKey::from_seed(
            server.parse().unwrap(),
            "ed25519:1".parse().unwrap(),
            [seed; 32],
        )
    }

    fn our_invite(a: &SigningKey) -> Pdu {
        PduBuilder::new(
            "!room:a.lab".parse().unwrap(),
            "@alice:a.lab".parse().unwrap(),
            "m.room.member",
            json!({"membership": "invite", "reason": "come and see"}),
        )
        .state_key("@bob:b.lab")
        .depth(3)
        .origin_server_ts(1_610_000_000_000)
        .sign(a)
        .unwrap()
    }

    #[test]
    fn only_the_invitee_signature_is_taken_from_the_answer() {
        let (a, b) = (key("a.lab", 1), key("b.lab", 2));
        let ours = our_invite(&a);
        // The invitee signs our event honestly, then rewrites what the
        // event ID does not cover and drops our signature.
        let mut theirs = ours.json().clone();
        hash_and_sign_event(&mut theirs, &b).unwrap();
        theirs["content"]["reason"] = json!("something else entirely");
        theirs["signatures"]
            .as_object_mut()
            .unwrap()
            .remove("a.lab");
        let answer = json!({ "event": theirs });

        let b_name: ServerName = "b.lab".parse().unwrap();
        let kept = with_invitee_signature(&ours, &answer, &b_name).unwrap();
        assert_eq!(kept.event_id(), ours.event_id());
        assert_eq!(kept.content()["reason"], "come and see");
        let key_id = "ed25519:1".parse().unwrap();
        kept.verify_signature(&"a.lab".parse().unwrap(), &key_id, &a.verify_key())
            .expect("our signature is still there");
        kept.verify_signature(&b_name, &key_id, &b.verify_key())
            .expect("the invitee's signature was added");
        let mut expected = ours.json().clone();
        expected["signatures"]["b.lab"] = theirs["signatures"]["b.lab"].clone();
        assert_eq!(kept.json(), &expected);
    }

    #[test]
    fn an_answer_without_the_invitee_signature_or_for_another_event_is_refused() {
        let a = key("a.lab", 1);
        let ours = our_invite(&a);
        let b_name: ServerName = "b.lab".parse().unwrap();
        let unsigned = json!({ "event": ours.json() });
        assert!(with_invitee_signature(&ours, &unsigned, &b_name).is_err());
        let mut other = ours.json().clone();
        other.insert("event_id".to_owned(), json!("$other"));
        other["signatures"]
            .as_object_mut()
            .unwrap()
            .insert("b.lab".to_owned(), json!({"ed25519:1": "x"}));
        assert!(with_invitee_signature(&ours, &json!({ "event": other }), &b_name).is_err());
        assert!(with_invitee_signature(&ours, &json!({}), &b_name).is_err());
    }
}
