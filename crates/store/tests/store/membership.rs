//! rooms_with_membership: what `/sync` asks to list a user's rooms.

use crate::common::{TestRoom, new_store, user};
use lostfound_protocol::ids::RoomId;
use lostfound_store::Store;

#[test]
fn memberships_follow_invites_joins_and_leaves() {
    let (_dir, store) = new_store();
    let (alice, bob) = (user("alice"), user("bob"));
    let mut hypha = TestRoom::create(&store, "hypha", &alice);
    let mut mesh = TestRoom::create(&store, "mesh", &alice);
    let rooms = |memberships: &[&str]| store.rooms_with_membership(&bob, memberships).unwrap();
    let none: Vec<RoomId> = vec![];

    hypha.member(&store, &alice, &bob, "invite");
    mesh.member(&store, &alice, &bob, "invite");
    assert_eq!(
        rooms(&["invite"]),
        vec![hypha.room_id.clone(), mesh.room_id.clone()]
    );
    assert_eq!(rooms(&["join"]), none);

    hypha.member(&store, &bob, &bob, "join");
    assert_eq!(rooms(&["join"]), vec![hypha.room_id.clone()]);
    assert_eq!(rooms(&["invite"]), vec![mesh.room_id.clone()]);
    assert_eq!(
        rooms(&["join", "invite"]),
        vec![hypha.room_id.clone(), mesh.room_id.clone()]
    );

    hypha.member(&store, &bob, &bob, "leave");
    assert_eq!(rooms(&["join"]), none);
    assert_eq!(rooms(&["leave"]), vec![hypha.room_id.clone()]);
    assert_eq!(rooms(&[]), none);
    assert_eq!(
        store.rooms_with_membership(&alice, &["join"]).unwrap(),
        vec![hypha.room_id.clone(), mesh.room_id.clone()]
    );
}
