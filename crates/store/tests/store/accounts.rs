//! Accounts, devices with their access tokens, and profiles: the rows that
//! never leave their server, and so the ones the incident lost for good.

use crate::common::{new_store, user};
use lostfound_store::{Account, Device, Profile, Store, StoreError};

fn account(localpart: &str) -> Account {
    Account {
        user_id: user(localpart),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        created_ts: 1_609_718_400_000,
    }
}

fn device(localpart: &str, device_id: &str, token: &str) -> Device {
    Device {
        user_id: user(localpart),
        device_id: device_id.to_owned(),
        access_token: token.to_owned(),
        display_name: Some(format!("{localpart}'s {device_id}")),
    }
}

#[test]
fn an_account_is_created_once() {
    let (_dir, store) = new_store();
    let alice = account("alice");
    store.create_account(&alice).unwrap();
    assert_eq!(store.account(&alice.user_id).unwrap(), Some(alice.clone()));
    assert_eq!(store.account(&user("nobody")).unwrap(), None);

    // Registering the same name again is refused, and the first account
    // keeps its password: this is what re-registration after the restore
    // relied on not being possible for a name that still existed.
    let again = Account {
        password_hash: "other".into(),
        ..alice.clone()
    };
    let refused = store.create_account(&again);
    assert!(matches!(refused, Err(StoreError::UserInUse(id)) if id == alice.user_id));
    assert_eq!(store.account(&alice.user_id).unwrap(), Some(alice));
}

#[test]
fn a_password_change_replaces_the_hash_of_an_existing_account_only() {
    let (_dir, store) = new_store();
    store.create_account(&account("alice")).unwrap();
    store.set_password_hash(&user("alice"), "new-hash").unwrap();
    assert_eq!(
        store
            .account(&user("alice"))
            .unwrap()
            .unwrap()
            .password_hash,
        "new-hash"
    );
    let missing = store.set_password_hash(&user("bob"), "hash");
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
}

#[test]
fn upserting_a_device_replaces_its_token() {
    let (_dir, store) = new_store();
    store.create_account(&account("alice")).unwrap();
    store
        .upsert_device(&device("alice", "PHONE", "token-1"))
        .unwrap();
    assert_eq!(
        store.device_by_token("token-1").unwrap(),
        Some(device("alice", "PHONE", "token-1"))
    );

    // Logging in again on the same device: the old token stops working.
    let renamed = Device {
        display_name: None,
        ..device("alice", "PHONE", "token-2")
    };
    store.upsert_device(&renamed).unwrap();
    assert_eq!(store.device_by_token("token-1").unwrap(), None);
    assert_eq!(store.device_by_token("token-2").unwrap(), Some(renamed));
}

#[test]
fn a_device_needs_an_account_and_a_token_of_its_own() {
    let (_dir, store) = new_store();
    let orphan = store.upsert_device(&device("ghost", "PHONE", "token"));
    assert!(matches!(orphan, Err(StoreError::NotFound(_))), "{orphan:?}");

    store.create_account(&account("alice")).unwrap();
    store.create_account(&account("bob")).unwrap();
    store
        .upsert_device(&device("alice", "PHONE", "shared"))
        .unwrap();
    let clash = store.upsert_device(&device("bob", "LAPTOP", "shared"));
    assert!(matches!(clash, Err(StoreError::Database(_))), "{clash:?}");
    assert_eq!(
        store.device_by_token("shared").unwrap().unwrap().user_id,
        user("alice")
    );
}

#[test]
fn logging_out_deletes_one_device_or_all_but_one() {
    let (_dir, store) = new_store();
    for name in ["alice", "bob"] {
        store.create_account(&account(name)).unwrap();
    }
    for (id, token) in [("PHONE", "a1"), ("LAPTOP", "a2"), ("TABLET", "a3")] {
        store.upsert_device(&device("alice", id, token)).unwrap();
    }
    store.upsert_device(&device("bob", "PHONE", "b1")).unwrap();

    store.delete_device(&user("alice"), "TABLET").unwrap();
    store.delete_device(&user("alice"), "TABLET").unwrap(); // twice is fine
    assert_eq!(store.device_by_token("a3").unwrap(), None);

    // A password change logs out every other session.
    store
        .delete_devices_except(&user("alice"), Some("PHONE"))
        .unwrap();
    assert!(store.device_by_token("a1").unwrap().is_some());
    assert_eq!(store.device_by_token("a2").unwrap(), None);
    store.delete_devices_except(&user("alice"), None).unwrap();
    assert_eq!(store.device_by_token("a1").unwrap(), None);
    assert!(
        store.device_by_token("b1").unwrap().is_some(),
        "bob is untouched"
    );
}

#[test]
fn a_profile_is_empty_until_set() {
    let (_dir, store) = new_store();
    store.create_account(&account("alice")).unwrap();
    assert_eq!(store.profile(&user("alice")).unwrap(), Profile::default());
    assert_eq!(store.profile(&user("nobody")).unwrap(), Profile::default());

    let profile = Profile {
        displayname: Some("Alice".into()),
        avatar_url: Some("mxc://tomesh.lab/avatar".into()),
    };
    store.set_profile(&user("alice"), &profile).unwrap();
    assert_eq!(store.profile(&user("alice")).unwrap(), profile);
    let cleared = Profile {
        displayname: Some("Alice".into()),
        avatar_url: None,
    };
    store.set_profile(&user("alice"), &cleared).unwrap();
    assert_eq!(store.profile(&user("alice")).unwrap(), cleared);

    let missing = store.set_profile(&user("nobody"), &profile);
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
}
