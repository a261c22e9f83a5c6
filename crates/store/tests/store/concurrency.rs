//! The server shares one store between request handlers on many threads
//! (`Arc<dyn Store>`). The mutex inside makes that safe; this shows it.

use crate::common::{TestRoom, new_store, user};
use lostfound_store::{Account, SqliteStore, Store};
use std::sync::Arc;

#[test]
fn the_store_can_be_shared_between_threads() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<SqliteStore>();

    let (_dir, store) = new_store();
    let mut room = TestRoom::create(&store, "hypha", &user("alice"));
    let (_, base) = room.message(&store, &user("alice"), "before the rush");
    let store: Arc<dyn Store> = Arc::new(store);
    let writers: Vec<_> = (0..4)
        .map(|thread| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                for n in 0..25 {
                    let account = Account {
                        user_id: user(&format!("user-{thread}-{n}")),
                        password_hash: "hash".into(),
                        created_ts: n,
                    };
                    store.create_account(&account).unwrap();
                    assert!(store.current_position().unwrap() >= base);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    for thread in 0..4 {
        for n in 0..25 {
            assert!(
                store
                    .account(&user(&format!("user-{thread}-{n}")))
                    .unwrap()
                    .is_some()
            );
        }
    }
}
