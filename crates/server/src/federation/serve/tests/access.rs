//! Who may read a room over federation.

use super::{TestRoom, alice, new_store, server, user};
use crate::error::ApiError;
use crate::federation::serve::ServeError;
use crate::federation::serve::access::check_origin_may_read;
use axum::http::StatusCode;

fn status(result: Result<(), ServeError>) -> StatusCode {
    match result {
        Ok(()) => StatusCode::OK,
        Err(error) => ApiError::from(error).status,
    }
}

#[test]
fn a_server_reads_a_room_while_it_has_an_invited_or_joined_member() {
    let (_dir, store) = new_store();
    let mut room = TestRoom::create(&store, "club", true);
    let b = server("b.lab");
    let bob = user("@bob:b.lab");
    let room_id = room.room_id.clone();
    let check = |origin| status(check_origin_may_read(&store, &room_id, origin));

    let never_there = check_origin_may_read(&store, &room.room_id, &b);
    assert!(
        matches!(never_there, Err(ServeError::NotInRoom { .. })),
        "{never_there:?}"
    );

    room.member(&store, &alice(), &bob, "invite");
    assert_eq!(check(&b), StatusCode::OK);
    room.member(&store, &bob, &bob, "join");
    assert_eq!(check(&b), StatusCode::OK);
    room.member(&store, &bob, &bob, "leave");
    assert_eq!(
        check(&b),
        StatusCode::FORBIDDEN,
        "a server whose users all left reads nothing more"
    );
    // A banned user gives its server no right to read; nor does another
    // server's membership.
    room.member(&store, &alice(), &bob, "ban");
    assert_eq!(check(&b), StatusCode::FORBIDDEN);
    assert_eq!(check(&server("c.lab")), StatusCode::FORBIDDEN);
}

#[test]
fn a_kicked_server_is_refused() {
    let (_dir, store) = new_store();
    let mut room = TestRoom::create(&store, "club", true);
    let b = server("b.lab");
    let bob = user("@bob:b.lab");
    room.member(&store, &alice(), &bob, "invite");
    room.member(&store, &bob, &bob, "join");
    assert_eq!(
        status(check_origin_may_read(&store, &room.room_id, &b)),
        StatusCode::OK
    );

    // A kick is a `leave` sent by someone else.
    room.member(&store, &alice(), &bob, "leave");
    let kicked = check_origin_may_read(&store, &room.room_id, &b);
    assert!(
        matches!(kicked, Err(ServeError::NotInRoom { .. })),
        "{kicked:?}"
    );
    assert_eq!(status(kicked), StatusCode::FORBIDDEN);
}

#[test]
fn an_unfederated_room_is_refused_to_every_peer() {
    let (_dir, store) = new_store();
    let mut room = TestRoom::create(&store, "private", false);
    // Even with a (forged or mistaken) member from b.lab in its state, the
    // room never leaves its server.
    room.member(&store, &alice(), &user("@bob:b.lab"), "invite");
    let refused = check_origin_may_read(&store, &room.room_id, &server("b.lab"));
    assert!(
        matches!(refused, Err(ServeError::UnfederatedRoom(_))),
        "{refused:?}"
    );
    assert_eq!(status(refused), StatusCode::FORBIDDEN);
}

#[test]
fn an_unknown_room_is_not_found() {
    let (_dir, store) = new_store();
    let room_id = "!nowhere:a.lab".parse().unwrap();
    let unknown = check_origin_may_read(&store, &room_id, &server("b.lab"));
    assert!(
        matches!(unknown, Err(ServeError::UnknownRoom(_))),
        "{unknown:?}"
    );
    assert_eq!(status(unknown), StatusCode::NOT_FOUND);
}
