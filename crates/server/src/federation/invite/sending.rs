//! The inviter's side: a local user invites a user of another server.
//!
//! We build the invite like any local event (after our forward
//! extremities, auth events from current state, auth rules checked), send
//! it to the invitee's server with the room's stripped state, and persist
//! the copy that comes back signed by both servers.
//!
//! **The write lock is held across the request.** The invite's
//! `prev_events` are our extremities at the time we build it; persisting
//! it after another local event had moved them would fork our own room.
//! Holding the lock stalls this server's other writers for up to one
//! request timeout: a simplification that keeps local history a chain,
//! paid for only while an invite is in flight. (Nothing we await needs
//! the lock: the invitee's server fetches our key from an open endpoint.)

use super::ROOM_VERSION;
use crate::federation::encode;
use crate::federation::join::joining::{bad, peer_error};
use crate::federation::join::template::build_member_event;
use crate::rooms::{RoomError, with_store};
use crate::state::Homeserver;
use lostfound_protocol::ids::{RoomId, UserId};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::{slot, slot_of};
use lostfound_store::EventWrite;
use serde_json::json;

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

/// `sender` invites `target`, a user of another server, into `room_id`.
pub async fn invite_remote_user(
    homeserver: &Homeserver,
    room_id: RoomId,
    sender: UserId,
    target: UserId,
    reason: Option<String>,
) -> Result<(), RoomError> {
    let writing = crate::rooms::events::write_lock(homeserver).await;
    let mut content = json!({ "membership": "invite" });
    if let Some(reason) = reason {
        content["reason"] = json!(reason);
    }
    let server = homeserver.clone();
    let (invite, stripped) = with_store(homeserver, move |store| {
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
        Ok((invite, stripped))
    })
    .await?;

    let invitee_server = invite.state_key().unwrap_or_default().parse::<UserId>();
    let invitee_server = invitee_server
        .map_err(|e| RoomError::Internal(e.to_string()))?
        .server_name();
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
    // What comes back must be our invite, now signed by the invitee's
    // server as well.
    let signed = answer
        .get("event")
        .cloned()
        .ok_or_else(|| bad(&invitee_server, "invite: no `event`"))
        .and_then(|event| {
            Pdu::from_json(event).map_err(|e| bad(&invitee_server, &format!("invite: {e}")))
        })?;
    if signed.event_id() != invite.event_id() {
        return Err(bad(&invitee_server, "invite: a different event came back"));
    }
    federation
        .verify_server_signature(&signed, &invitee_server)
        .await
        .map_err(|e| bad(&invitee_server, &format!("invite: {e}")))?;

    let server = homeserver.clone();
    let position = with_store(homeserver, move |store| {
        let _writing = writing;
        let mut state_after = store.current_state(signed.room_id())?;
        if let Some(slot) = slot_of(&signed) {
            state_after.insert(slot, signed.event_id().clone());
        }
        let mut extremities: Vec<_> = store
            .forward_extremities(signed.room_id())?
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
        Ok((position, queued))
    })
    .await?;
    let (position, queued) = position;
    homeserver.announce(position);
    if queued > 0 {
        homeserver.wake_sender();
    }
    Ok(())
}
