//! Profiles, and what survives a restart: the database is the server's
//! memory, so accounts, passwords and profiles outlive the process.

use crate::common::TestServer;
use reqwest::StatusCode;
use serde_json::json;

const ALICE: &str = "/_matrix/client/v3/profile/@alice:tomesh.lab";

/// Display name and avatar: anyone may read them, only the owner may
/// change them.
#[tokio::test]
async fn profile_fields_are_read_by_anyone_and_written_by_the_owner() {
    let server = TestServer::start("tomesh.lab").await;
    let (_, alice) = server.register("alice", "wonderland").await;
    let (_, bob) = server.register("bob", "builder").await;

    // A new account has an empty profile (as in Synapse: `{}`, not 404).
    assert_eq!(server.get(ALICE, None).await, (StatusCode::OK, json!({})));
    assert_eq!(
        server.get(&format!("{ALICE}/displayname"), None).await,
        (StatusCode::OK, json!({}))
    );

    let name = json!({"displayname": "Alice Liddell"});
    let avatar = json!({"avatar_url": "mxc://tomesh.lab/rabbit"});
    assert_eq!(
        server
            .put(&format!("{ALICE}/displayname"), Some(&alice), name.clone())
            .await,
        (StatusCode::OK, json!({}))
    );
    assert_eq!(
        server
            .put(&format!("{ALICE}/avatar_url"), Some(&alice), avatar.clone())
            .await
            .0,
        StatusCode::OK
    );

    assert_eq!(
        server.get(&format!("{ALICE}/displayname"), None).await.1,
        name
    );
    assert_eq!(
        server
            .get(&format!("{ALICE}/avatar_url"), Some(&bob))
            .await
            .1,
        avatar
    );
    let both = json!({"displayname": "Alice Liddell", "avatar_url": "mxc://tomesh.lab/rabbit"});
    assert_eq!(server.get(ALICE, None).await, (StatusCode::OK, both));
    // The user ID may also arrive percent-encoded, as most clients send it.
    let encoded = "/_matrix/client/v3/profile/%40alice%3Atomesh.lab/displayname";
    assert_eq!(server.get(encoded, None).await.1, name);

    // Bob may not rename Alice.
    let (status, error) = server
        .put(
            &format!("{ALICE}/displayname"),
            Some(&bob),
            json!({"displayname": "x"}),
        )
        .await;
    assert_eq!(
        (status, error["errcode"].as_str()),
        (StatusCode::FORBIDDEN, Some("M_FORBIDDEN"))
    );
    // Clearing: null removes the field.
    server
        .put(
            &format!("{ALICE}/displayname"),
            Some(&alice),
            json!({"displayname": null}),
        )
        .await;
    assert_eq!(server.get(ALICE, None).await.1, avatar);
}

/// Unknown users are 404; other servers' users too, until profile queries
/// over federation exist.
#[tokio::test]
async fn unknown_and_remote_profiles_are_not_found() {
    let server = TestServer::start("tomesh.lab").await;
    for path in [
        ALICE,
        "/_matrix/client/v3/profile/@alice:elsewhere.lab/displayname",
    ] {
        let (status, error) = server.get(path, None).await;
        assert_eq!(
            (status, error["errcode"].as_str()),
            (StatusCode::NOT_FOUND, Some("M_NOT_FOUND")),
            "{path}"
        );
    }
    let (status, error) = server.get("/_matrix/client/v3/profile/alice", None).await;
    assert_eq!(
        (status, error["errcode"].as_str()),
        (StatusCode::BAD_REQUEST, Some("M_INVALID_PARAM"))
    );
}

/// Stop the server, start a new one on the same data directory: the
/// account, its password and its profile are still there.
#[tokio::test]
async fn accounts_and_profiles_survive_a_restart() {
    let server = TestServer::start("tomesh.lab").await;
    let (_, token) = server.register("alice", "wonderland").await;
    server
        .put(
            &format!("{ALICE}/displayname"),
            Some(&token),
            json!({"displayname": "Alice"}),
        )
        .await;
    let dir = server.data_dir().to_path_buf();
    let _keep = server.stop().await;

    let restarted = TestServer::start_in("tomesh.lab", &dir).await;
    restarted.login_token("alice", "wonderland").await;
    assert_eq!(
        restarted.get(WHOAMI_AFTER_RESTART, Some(&token)).await.0,
        StatusCode::OK,
        "tokens are durable too"
    );
    assert_eq!(
        restarted.get(ALICE, None).await.1,
        json!({"displayname": "Alice"})
    );
}

const WHOAMI_AFTER_RESTART: &str = "/_matrix/client/v3/account/whoami";
