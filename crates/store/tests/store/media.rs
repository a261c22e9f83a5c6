//! Media: metadata in the database, bytes in `media/<origin>/<media_id>`.

use crate::common::{new_store, user};
use lostfound_protocol::ids::ServerName;
use lostfound_store::{Media, SqliteStore, Store, StoreError};
use std::io::ErrorKind;

fn media(origin: &str, media_id: &str) -> Media {
    Media {
        origin: origin.parse().unwrap(),
        media_id: media_id.to_owned(),
        content_type: "image/png".into(),
        filename: Some("avatar.png".into()),
        uploader: user("alice"),
        created_ts: 1_609_718_400_000,
    }
}

#[test]
fn an_upload_round_trips_and_lives_where_the_lab_expects_it() {
    let (dir, store) = new_store();
    let avatar = media("tomesh.lab", "AvatarOfAlice_1");
    store.put_media(&avatar, b"\x89PNG...").unwrap();

    let (found, bytes) = store
        .media(&avatar.origin, &avatar.media_id)
        .unwrap()
        .expect("stored");
    assert_eq!((found, bytes.as_slice()), (avatar, &b"\x89PNG..."[..]));
    let file = dir.path().join("media/tomesh.lab/AvatarOfAlice_1");
    assert_eq!(std::fs::read(file).unwrap(), b"\x89PNG...");
    assert_eq!(store.media_dir(), dir.path().join("media"));

    let unknown: ServerName = "elsewhere.lab".parse().unwrap();
    assert_eq!(store.media(&unknown, "AvatarOfAlice_1").unwrap(), None);
}

#[test]
fn uploading_again_replaces_the_file_and_its_metadata() {
    let (_dir, store) = new_store();
    store.put_media(&media("tomesh.lab", "x"), b"old").unwrap();
    let newer = Media {
        content_type: "text/plain".into(),
        filename: None,
        ..media("tomesh.lab", "x")
    };
    store.put_media(&newer, b"new").unwrap();
    assert_eq!(
        store.media(&newer.origin, "x").unwrap(),
        Some((newer, b"new".to_vec()))
    );
}

#[test]
fn names_that_would_escape_the_media_directory_are_refused() {
    let (dir, store) = new_store();
    for (origin, media_id) in [
        ("tomesh.lab", "../../homeserver.db"),
        ("..", "homeserver.db"),
        ("tomesh.lab", ""),
    ] {
        let upload = store.put_media(&media(origin, media_id), b"overwritten!");
        assert!(
            matches!(&upload, Err(StoreError::Io { source, .. }) if source.kind() == ErrorKind::InvalidInput),
            "{origin}/{media_id}: {upload:?}"
        );
        let download = store.media(&origin.parse().unwrap(), media_id);
        assert!(
            matches!(download, Err(StoreError::Io { .. })),
            "{download:?}"
        );
    }
    assert_ne!(
        std::fs::read(store.database_path()).unwrap(),
        b"overwritten!"
    );
    drop(store);
    SqliteStore::open(dir.path()).expect("the database was not touched");
}

#[test]
fn a_row_whose_file_is_gone_is_an_error_not_an_empty_file() {
    // The incident in one test: the database says the avatar exists, the
    // media directory no longer has it.
    let (dir, store) = new_store();
    let avatar = media("tomesh.lab", "lost");
    store.put_media(&avatar, b"bytes").unwrap();
    std::fs::remove_file(dir.path().join("media/tomesh.lab/lost")).unwrap();
    let missing = store.media(&avatar.origin, "lost");
    assert!(
        matches!(&missing, Err(StoreError::Io { path, source }) if source.kind() == ErrorKind::NotFound && path.ends_with("lost")),
        "{missing:?}"
    );
}
