//! Rooms and aliases.

use crate::common::new_store;
use lostfound_protocol::ids::{RoomAlias, RoomId};
use lostfound_store::{Room, Store, StoreError};

fn room(name: &str, federate: bool) -> Room {
    Room {
        room_id: format!("!{name}:tomesh.lab").parse().unwrap(),
        room_version: "10".into(),
        federate,
    }
}

#[test]
fn a_room_is_created_once_and_remembers_whether_it_federates() {
    let (_dir, store) = new_store();
    let public = room("public", true);
    let local = room("local", false);
    store.create_room(&public).unwrap();
    store.create_room(&local).unwrap();
    assert_eq!(store.room(&public.room_id).unwrap(), Some(public.clone()));
    assert_eq!(store.room(&local.room_id).unwrap(), Some(local));
    let unknown: RoomId = "!unknown:tomesh.lab".parse().unwrap();
    assert_eq!(store.room(&unknown).unwrap(), None);

    let again = store.create_room(&public);
    assert!(matches!(again, Err(StoreError::RoomExists(id)) if id == public.room_id));
}

#[test]
fn an_alias_points_at_one_room_and_is_never_moved_silently() {
    let (_dir, store) = new_store();
    let first = room("first", true);
    let second = room("second", true);
    store.create_room(&first).unwrap();
    store.create_room(&second).unwrap();
    let alias: RoomAlias = "#hypha:tomesh.lab".parse().unwrap();

    assert_eq!(store.resolve_alias(&alias).unwrap(), None);
    store.set_alias(&alias, &first.room_id).unwrap();
    assert_eq!(
        store.resolve_alias(&alias).unwrap(),
        Some(first.room_id.clone())
    );

    let taken = store.set_alias(&alias, &second.room_id);
    assert!(matches!(taken, Err(StoreError::AliasInUse(a)) if a == alias));
    assert_eq!(store.resolve_alias(&alias).unwrap(), Some(first.room_id));

    let nowhere: RoomAlias = "#nowhere:tomesh.lab".parse().unwrap();
    let unknown_room = store.set_alias(&nowhere, &"!gone:tomesh.lab".parse().unwrap());
    assert!(
        matches!(unknown_room, Err(StoreError::NotFound(_))),
        "{unknown_room:?}"
    );
}
