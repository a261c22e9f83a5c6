//! Invite, join, leave: membership changes are `m.room.member` state
//! events, keyed by the user whose membership changes (the `state_key`).
//!
//! The server decides nothing here on its own: it builds the member event
//! and lets the auth rules (rule 4) say whether it is allowed. So an
//! uninvited join to an invite-only room fails with "rejected by auth rule
//! 4.3.7", the same verdict every other server in the room would reach.
//!
//! A room this server does not hold (or holds only as an invite from
//! another server) is joined over federation: `make_join`/`send_join`
//! through a resident server (see [`crate::federation::join`]). Aliases of
//! other servers are not resolved yet (no directory query over federation).

use super::events::{NewEvent, send_event};
use super::state::member_event;
use super::{RoomError, with_store};
use crate::federation::invite::sending::invite_remote_user;
use crate::federation::join::joining::join_remote_room;
use crate::federation::leave::leave_remote_room;
use crate::state::Homeserver;
use lostfound_protocol::JsonObject;
use lostfound_protocol::ids::{RoomAlias, RoomId, ServerName, UserId};
use lostfound_protocol::state::slot;
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
        // The invitee's server must receive (and co-sign) the invite.
        return invite_remote_user(homeserver, room_id, sender, target, reason).await;
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
///
/// A room we are not resident in is joined over federation, through the
/// servers of `via` (the client's `server_name`/`via`), then the inviter's
/// server, then the server named in the room ID.
pub async fn join(
    homeserver: &Homeserver,
    target: JoinTarget,
    user: UserId,
    reason: Option<String>,
    via: Vec<ServerName>,
) -> Result<RoomId, RoomError> {
    let our_server = homeserver.config().server_name.clone();
    let joiner = user.clone();
    let (room_id, profile, remote) = with_store(homeserver, move |store| {
        let room_id = match target {
            JoinTarget::Room(room_id) => room_id,
            JoinTarget::Alias(alias) if alias.server_name() != our_server => {
                return Err(RoomError::RemoteRoom(alias.to_string()));
            }
            JoinTarget::Alias(alias) => store
                .resolve_alias(&alias)?
                .ok_or(RoomError::UnknownAlias(alias))?,
        };
        let held = store.room(&room_id)?.is_some();
        // A room named after us that we do not hold can only be joined
        // through another server: one restored from an old backup lost
        // rooms created since, which live on at the servers that joined.
        let elsewhere = via.iter().any(|server| *server != our_server);
        if !held && room_id.server_name() == our_server && !elsewhere {
            return Err(RoomError::UnknownRoom(room_id));
        }
        let current = member_event(store, &room_id, &joiner)?;
        // Resident: we hold the room's state (not just an invite to it),
        // and it is up to date because one of our users is in the room. A
        // copy kept after our last user left is stale (nobody sent us the
        // room's events since): then we join through another server, as a
        // server that never held the room would, unless there is none.
        let state = store.current_state(&room_id)?;
        let holds_state = held && state.contains_key(&slot("m.room.create", ""));
        let mut servers = via;
        if let Some(invite) = current
            .as_ref()
            .filter(|m| m.event.membership() == Some("invite"))
        {
            servers.push(invite.event.sender().server_name());
        }
        servers.push(room_id.server_name());
        servers.retain(|server| *server != our_server);
        let resident =
            holds_state && (servers.is_empty() || has_joined_member(store, &state, &our_server)?);
        if !resident {
            return Ok((room_id, Some(store.profile(&joiner)?), Some(servers)));
        }
        let already_joined =
            current.is_some_and(|member| member.event.membership() == Some("join"));
        let profile = (!already_joined)
            .then(|| store.profile(&joiner))
            .transpose()?;
        Ok((room_id, profile, None))
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
    if let Some(servers) = remote {
        join_remote_room(homeserver, &room_id, &user, &servers, &content).await?;
        return Ok(room_id);
    }
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
///
/// In a room we are resident in, the leave is a local event, which the
/// federation sender delivers to the other servers. An invite from
/// another server to a room we are not in is declined over federation
/// (`make_leave` / `send_leave` through the inviter's server).
pub async fn leave(
    homeserver: &Homeserver,
    room_id: RoomId,
    user: UserId,
    reason: Option<String>,
) -> Result<(), RoomError> {
    let content = member_content("leave", reason, JsonObject::new());
    let remote_inviter = {
        let (room_id, user) = (room_id.clone(), user.clone());
        with_store(homeserver, move |store| {
            let resident = store
                .current_state(&room_id)?
                .contains_key(&slot("m.room.create", ""));
            let member = member_event(store, &room_id, &user)?;
            Ok(member
                .filter(|member| !resident && member.event.membership() == Some("invite"))
                .map(|invite| invite.event.sender().server_name()))
        })
        .await?
    };
    if let Some(inviter) = remote_inviter {
        let servers = [inviter, room_id.server_name()];
        return leave_remote_room(homeserver, &room_id, &user, &servers, &content).await;
    }
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

/// Whether a user of `server` is joined, in `state`.
fn has_joined_member(
    store: &dyn lostfound_store::Store,
    state: &lostfound_protocol::state::StateMap<lostfound_protocol::ids::EventId>,
    server: &ServerName,
) -> Result<bool, RoomError> {
    for ((event_type, state_key), event_id) in state {
        let ours = state_key
            .parse::<UserId>()
            .is_ok_and(|user| user.server_name() == *server);
        if event_type == "m.room.member"
            && ours
            && super::load_event(store, event_id)?.event.membership() == Some("join")
        {
            return Ok(true);
        }
    }
    Ok(false)
}

fn member_content(membership: &str, reason: Option<String>, mut extra: JsonObject) -> JsonObject {
    extra.insert("membership".to_owned(), json!(membership));
    if let Some(reason) = reason {
        extra.insert("reason".to_owned(), json!(reason));
    }
    extra
}
