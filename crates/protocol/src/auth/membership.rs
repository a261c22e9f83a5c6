//! Rule 4: `m.room.member`, the events that let people in and out.
//!
//! Membership is the heart of room security: whoever is joined can read
//! and speak, and every later permission check starts from it. Each
//! membership value has its own rule, written from the point of view of
//! the *sender* (who sent the event) and the *target* (whose membership
//! changes, the `state_key`); they are the same person for join, knock and
//! leaving yourself, and different for invite, kick and ban.

use super::{AuthFailure, RoomState, reject};
use crate::ids::UserId;
use crate::pdu::Pdu;
use serde_json::Value;

/// Rules 4.1–4.8.
pub(super) fn check_membership(event: &Pdu, room: &RoomState<'_>) -> Result<(), AuthFailure> {
    let Some(target) = event.state_key() else {
        return Err(reject(
            "4.1",
            "a member event needs a state_key naming whose membership changes",
        ));
    };
    let Some(membership) = event.content().get("membership") else {
        return Err(reject("4.1", "a member event needs content.membership"));
    };
    if let Some(authoriser) = event.content().get("join_authorised_via_users_server") {
        check_authoriser_signed(event, authoriser)?;
    }
    match membership.as_str() {
        Some("join") => join(event, room, target),
        Some("invite") => invite(event, room, target),
        Some("leave") => leave(event, room, target),
        Some("ban") => ban(event, room, target),
        Some("knock") => knock(event, room, target),
        _ => Err(reject(
            "4.8",
            format!("membership {membership} is not one the spec defines"),
        )),
    }
}

/// Rule 4.2: a restricted join names a user on a *resident* server that
/// vouches for it (that server checked the room's allow list). The voucher
/// means something only if that server signed the event.
///
/// This checks that the event *carries* a signature from that server;
/// whether the signature verifies is checked with that server's key along
/// with the sender's, when the event is received, before auth runs.
fn check_authoriser_signed(event: &Pdu, authoriser: &Value) -> Result<(), AuthFailure> {
    let Some(user) = authoriser
        .as_str()
        .and_then(|user| user.parse::<UserId>().ok())
    else {
        return Err(reject(
            "4.2",
            format!("join_authorised_via_users_server must be a user ID, not {authoriser}"),
        ));
    };
    let server = user.server_name();
    let signed = event
        .json()
        .get("signatures")
        .and_then(|signatures| signatures.get(server.as_str()))
        .and_then(Value::as_object)
        .is_some_and(|keys| !keys.is_empty());
    if !signed {
        return Err(reject(
            "4.2",
            format!(
                "the join names {user} as its authoriser, but their server {server} did not sign it"
            ),
        ));
    }
    Ok(())
}

fn is(membership: Option<&str>, any_of: &[&str]) -> bool {
    membership.is_some_and(|m| any_of.contains(&m))
}

/// Rule 4.3. Joining yourself: allowed if the join rule lets you in.
///
/// The allow list of a `restricted` room (members of some other room may
/// join) is deliberately *not* evaluated here, and not by the spec's auth
/// rules either: it needs the state of other rooms, which not every server
/// has. Instead a resident server that can see those rooms checks it and
/// vouches for the join (`join_authorised_via_users_server`); the rules
/// only check that the voucher is joined and may invite.
fn join(event: &Pdu, room: &RoomState<'_>, target: &str) -> Result<(), AuthFailure> {
    let sender = event.sender().as_str();
    // 4.3.1: the creator's own first join, right after the create event,
    // is how a room gets its first member; nothing else could allow it.
    let after_create = event.prev_events() == [room.create.event_id().clone()];
    if after_create && room.creator() == Some(target) {
        return Ok(());
    }
    if sender != target {
        return Err(reject(
            "4.3.2",
            format!("{sender} may not join {target} to the room; only users join themselves"),
        ));
    }
    let current = room.membership(target);
    if current == Some("ban") {
        return Err(reject("4.3.3", format!("{sender} is banned from the room")));
    }
    let join_rule = room.join_rule();
    match join_rule {
        // 4.3.4: invite-only (or knock, which ends in an invite).
        Some("invite" | "knock") if is(current, &["invite", "join"]) => Ok(()),
        // 4.3.5: restricted rooms admit whoever a resident vouches for.
        Some("restricted" | "knock_restricted") => restricted_join(event, room, current),
        // 4.3.6: anyone may join a public room.
        Some("public") => Ok(()),
        // 4.3.7: everything else.
        Some(rule @ ("invite" | "knock")) => Err(reject(
            "4.3.7",
            format!(
                "the join rule is {rule:?} and {sender} has not been invited, so rule 4.3.4 does not allow the join"
            ),
        )),
        Some(rule) => Err(reject(
            "4.3.7",
            format!("no rule allows joining a room whose join rule is {rule:?}"),
        )),
        None => Err(reject(
            "4.3.7",
            "the room's join_rules event is malformed, so nobody may join",
        )),
    }
}

/// Rule 4.3.5: `restricted` and `knock_restricted` rooms.
fn restricted_join(
    event: &Pdu,
    room: &RoomState<'_>,
    current: Option<&str>,
) -> Result<(), AuthFailure> {
    if is(current, &["join", "invite"]) {
        return Ok(());
    }
    let authoriser = event
        .content()
        .get("join_authorised_via_users_server")
        .and_then(Value::as_str);
    let Some(authoriser) = authoriser else {
        return Err(reject(
            "4.3.5.2",
            "the room is restricted and the join names no join_authorised_via_users_server to vouch that the \
             joiner meets the allow list (this project does not evaluate allow lists itself)",
        ));
    };
    if room.membership(authoriser) != Some("join") {
        return Err(reject(
            "4.3.5.2",
            format!("authoriser {authoriser} is not joined to the room"),
        ));
    }
    let power_levels = room.power_levels()?;
    let level = power_levels.level_of(authoriser);
    if level < power_levels.invite() {
        return Err(reject(
            "4.3.5.2",
            format!(
                "authoriser {authoriser} has power level {level}, but vouching needs the invite level {}",
                power_levels.invite()
            ),
        ));
    }
    Ok(())
}

/// Rule 4.4. Inviting someone else: members with the invite level may.
///
/// Third-party invites (an invite for an email address, redeemed later
/// with a signed token, rule 4.4.1) are not supported by this project and
/// are always rejected.
fn invite(event: &Pdu, room: &RoomState<'_>, target: &str) -> Result<(), AuthFailure> {
    let sender = event.sender().as_str();
    if event.content().contains_key("third_party_invite") {
        return Err(reject(
            "4.4.1",
            "third-party (email) invites are not supported by this server, so an invite with third_party_invite is rejected",
        ));
    }
    if room.membership(sender) != Some("join") {
        return Err(reject(
            "4.4.2",
            format!("{sender} must be joined to invite anyone"),
        ));
    }
    if let Some(current @ ("join" | "ban")) = room.membership(target) {
        return Err(reject(
            "4.4.3",
            format!("{target} cannot be invited: their membership is {current:?}"),
        ));
    }
    let power_levels = room.power_levels()?;
    let level = power_levels.level_of(sender);
    if level >= power_levels.invite() {
        return Ok(());
    }
    Err(reject(
        "4.4.5",
        format!(
            "{sender} has power level {level}, but inviting needs {} (rule 4.4.4)",
            power_levels.invite()
        ),
    ))
}

/// Rule 4.5. Leaving yourself, or being kicked or unbanned by someone else.
fn leave(event: &Pdu, room: &RoomState<'_>, target: &str) -> Result<(), AuthFailure> {
    let sender = event.sender().as_str();
    let current = room.membership(target);
    // 4.5.1: you may leave, decline an invite or withdraw a knock. A banned
    // user may not "leave" their ban away.
    if sender == target {
        if is(current, &["invite", "join", "knock"]) {
            return Ok(());
        }
        let why = match current {
            Some(current) => format!("their membership is {current:?}"),
            None => "they are not in the room".to_owned(),
        };
        return Err(reject("4.5.1", format!("{sender} cannot leave: {why}")));
    }
    if room.membership(sender) != Some("join") {
        return Err(reject(
            "4.5.2",
            format!("{sender} must be joined to kick or unban anyone"),
        ));
    }
    let power_levels = room.power_levels()?;
    let (level, target_level) = (power_levels.level_of(sender), power_levels.level_of(target));
    if current == Some("ban") && level < power_levels.ban() {
        return Err(reject(
            "4.5.3",
            format!(
                "unbanning needs the ban level {}, but {sender} has {level}",
                power_levels.ban()
            ),
        ));
    }
    if level >= power_levels.kick() && target_level < level {
        return Ok(());
    }
    Err(reject(
        "4.5.5",
        format!(
            "kicking needs the kick level {} and a target below the sender (rule 4.5.4); {sender} has {level}, {target} has {target_level}",
            power_levels.kick()
        ),
    ))
}

/// Rule 4.6. Banning: a moderator may ban anyone below them, member or not.
fn ban(event: &Pdu, room: &RoomState<'_>, target: &str) -> Result<(), AuthFailure> {
    let sender = event.sender().as_str();
    if room.membership(sender) != Some("join") {
        return Err(reject(
            "4.6.1",
            format!("{sender} must be joined to ban anyone"),
        ));
    }
    let power_levels = room.power_levels()?;
    let (level, target_level) = (power_levels.level_of(sender), power_levels.level_of(target));
    if level >= power_levels.ban() && target_level < level {
        return Ok(());
    }
    Err(reject(
        "4.6.3",
        format!(
            "banning needs the ban level {} and a target below the sender (rule 4.6.2); {sender} has {level}, {target} has {target_level}",
            power_levels.ban()
        ),
    ))
}

/// Rule 4.7. Knocking: asking to be invited, in rooms that allow it.
fn knock(event: &Pdu, room: &RoomState<'_>, target: &str) -> Result<(), AuthFailure> {
    let sender = event.sender().as_str();
    let join_rule = room.join_rule();
    if !matches!(join_rule, Some("knock" | "knock_restricted")) {
        let rule = join_rule.unwrap_or("(malformed)");
        return Err(reject(
            "4.7.1",
            format!("the join rule is {rule:?}, which does not allow knocking"),
        ));
    }
    if sender != target {
        return Err(reject(
            "4.7.2",
            format!("{sender} may not knock on behalf of {target}"),
        ));
    }
    match room.membership(sender) {
        Some(current @ ("ban" | "invite" | "join")) => Err(reject(
            "4.7.4",
            format!("{sender} cannot knock: their membership is already {current:?} (rule 4.7.3)"),
        )),
        _ => Ok(()),
    }
}
