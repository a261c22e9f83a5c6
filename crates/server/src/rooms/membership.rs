//! Invite, join, leave: membership changes are `m.room.member` state
//! events, keyed by the user whose membership changes (the `state_key`).
//!
//! The server decides nothing here on its own: it builds the member event
//! and lets the auth rules (rule 4) say whether it is allowed. So an
//! uninvited join to an invite-only room fails with "rejected by auth rule
//! 4.3.7", the same verdict every other server in the room would reach.
//!
//! Only this server's rooms and users are reachable for now: joining a room
//! that lives elsewhere (`make_join`/`send_join`) and inviting a user of
//! another server (`invite` over federation) arrive with federation, and
//! until then fail with an error that says so.

use super::events::{NewEvent, send_event};
use super::state::member_event;
use super::{RoomError, with_store};
use crate::state::Homeserver;
use lostfound_protocol::JsonObject;
use lostfound_protocol::ids::{RoomAlias, RoomId, UserId};
use serde_json::json;

/// The room a join names: by ID, or by alias (`POST /join/{roomIdOrAlias}`).
#[derive(Debug, Clone)]
pub enum JoinTarget {
    Room(RoomId),
    Alias(RoomAlias),
}

/// `sender` invites `target` into `room_id`.
pub async fn invite(
    homeserver: &Homeserver,
    room_id: RoomId,
    sender: UserId,
    target: UserId,
    reason: Option<String>,
) -> Result<(), RoomError> {
    if target.server_name() != homeserver.config().server_name {
        return Err(RoomError::RemoteUser(target));
    }
    let invitee = target.clone();
    with_store(homeserver, move |store| match store.account(&invitee)? {
        Some(_) => Ok(()),
        None => Err(RoomError::UnknownUser(invitee)),
    })
    .await?;
    let content = member_content("invite", reason, JsonObject::new());
    let event = NewEvent::state(room_id, sender, "m.room.member", target.as_str(), content);
    send_event(homeserver, event).await?;
    Ok(())
}

/// `user` joins a room (allowed if the join rule is public, or if they
/// were invited). Joining a room one is already in changes nothing.
pub async fn join(
    homeserver: &Homeserver,
    target: JoinTarget,
    user: UserId,
    reason: Option<String>,
) -> Result<RoomId, RoomError> {
    let our_server = homeserver.config().server_name.clone();
    let joiner = user.clone();
    let (room_id, profile) = with_store(homeserver, move |store| {
        let room_id = match target {
            JoinTarget::Room(room_id) => room_id,
            JoinTarget::Alias(alias) if alias.server_name() != our_server => {
                return Err(RoomError::RemoteRoom(alias.to_string()));
            }
            JoinTarget::Alias(alias) => store
                .resolve_alias(&alias)?
                .ok_or(RoomError::UnknownAlias(alias))?,
        };
        if store.room(&room_id)?.is_none() {
            return Err(if room_id.server_name() == our_server {
                RoomError::UnknownRoom(room_id)
            } else {
                RoomError::RemoteRoom(room_id.to_string())
            });
        }
        let current = member_event(store, &room_id, &joiner)?;
        let already_joined =
            current.is_some_and(|member| member.event.membership() == Some("join"));
        let profile = (!already_joined)
            .then(|| store.profile(&joiner))
            .transpose()?;
        Ok((room_id, profile))
    })
    .await?;
    let Some(profile) = profile else {
        return Ok(room_id);
    };
    // Like Synapse, copy the profile into the member event: that is how
    // other members see a display name and avatar in this room.
    let mut extra = JsonObject::new();
    if let Some(name) = profile.displayname {
        extra.insert("displayname".to_owned(), json!(name));
    }
    if let Some(url) = profile.avatar_url {
        extra.insert("avatar_url".to_owned(), json!(url));
    }
    let content = member_content("join", reason, extra);
    let event = NewEvent::state(
        room_id.clone(),
        user.clone(),
        "m.room.member",
        user.as_str(),
        content,
    );
    send_event(homeserver, event).await?;
    Ok(room_id)
}

/// `user` leaves `room_id` (or declines an invite to it).
pub async fn leave(
    homeserver: &Homeserver,
    room_id: RoomId,
    user: UserId,
    reason: Option<String>,
) -> Result<(), RoomError> {
    let content = member_content("leave", reason, JsonObject::new());
    let event = NewEvent::state(
        room_id,
        user.clone(),
        "m.room.member",
        user.as_str(),
        content,
    );
    send_event(homeserver, event).await?;
    Ok(())
}

fn member_content(membership: &str, reason: Option<String>, mut extra: JsonObject) -> JsonObject {
    extra.insert("membership".to_owned(), json!(membership));
    if let Some(reason) = reason {
        extra.insert("reason".to_owned(), json!(reason));
    }
    extra
}
