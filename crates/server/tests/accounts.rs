//! Accounts over real HTTP: registration with its user-interactive-auth
//! dance, login, logout, and password changes, the one thing a restored
//! server loses with no hope of federation bringing it back.

mod common;
#[path = "accounts/profile.rs"]
mod profile;

use common::{TestServer, redact};
use reqwest::StatusCode;
use serde_json::json;

const REGISTER: &str = "/_matrix/client/v3/register";
const WHOAMI: &str = "/_matrix/client/v3/account/whoami";
const PASSWORD: &str = "/_matrix/client/v3/account/password";

/// The spec's registration flow: ask, get a 401 challenge with a session,
/// complete `m.login.dummy` in that session, get an account and a device.
#[tokio::test]
async fn registration_is_a_challenge_then_an_account() {
    let server = TestServer::start("tomesh.lab").await;
    let request = json!({"username": "alice", "password": "wonderland", "device_id": "ALICEPHONE",
                         "initial_device_display_name": "Alice's phone"});

    let (status, challenge) = server.post(REGISTER, None, request.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let session = challenge["session"].as_str().expect("a session").to_owned();
    insta::assert_json_snapshot!("register_challenge", redact(challenge, &["session"]));

    let mut answer = request;
    answer["auth"] = json!({"type": "m.login.dummy", "session": session});
    let (status, registered) = server.post(REGISTER, None, answer.clone()).await;
    assert_eq!(status, StatusCode::OK, "{registered}");
    insta::assert_json_snapshot!("registered", redact(registered.clone(), &["access_token"]));

    // The token works, for the device the client asked for.
    let token = registered["access_token"].as_str().expect("a token");
    let (status, me) = server.get(WHOAMI, Some(token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        me,
        json!({"user_id": "@alice:tomesh.lab", "device_id": "ALICEPHONE", "is_guest": false})
    );

    // A completed session cannot be replayed.
    answer["username"] = json!("mallory");
    let (status, error) = server.post(REGISTER, None, answer).await;
    assert_eq!(
        (status, error["errcode"].as_str()),
        (StatusCode::BAD_REQUEST, Some("M_UNKNOWN"))
    );
}

/// Synapse checks the username before the challenge, so a client hears
/// "taken" or "invalid" before doing any auth stage; so do we.
#[tokio::test]
async fn usernames_are_checked_before_the_challenge() {
    let server = TestServer::start("tomesh.lab").await;
    let available = "/_matrix/client/v3/register/available?username=alice";
    assert_eq!(
        server.get(available, None).await,
        (StatusCode::OK, json!({"available": true}))
    );
    server.register("alice", "wonderland").await;

    let (status, taken) = server
        .post(
            REGISTER,
            None,
            json!({"username": "alice", "password": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        taken,
        json!({"errcode": "M_USER_IN_USE", "error": "@alice:tomesh.lab is already taken"})
    );
    assert_eq!(server.get(available, None).await, (status, taken));

    for bad in ["Alice", "al ice", "ålice", "alice:evil.lab", ""] {
        let (status, error) = server
            .post(REGISTER, None, json!({"username": bad, "password": "x"}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert_eq!(error["errcode"], "M_INVALID_USERNAME", "{bad:?}: {error}");
    }
    let long = "a".repeat(250);
    let (_, error) = server
        .post(REGISTER, None, json!({"username": long, "password": "x"}))
        .await;
    assert_eq!(error["errcode"], "M_INVALID_USERNAME", "{error}");
}

/// `inhibit_login` creates the account without a device; guests and
/// closed registration are refused with their own errcodes.
#[tokio::test]
async fn registration_options_and_refusals() {
    let server = TestServer::start("tomesh.lab").await;
    let body = json!({"username": "bob", "password": "builder", "inhibit_login": true,
                      "auth": {"type": "m.login.dummy"}});
    let (status, registered) = server.post(REGISTER, None, body).await;
    assert_eq!(
        (status, registered),
        (StatusCode::OK, json!({"user_id": "@bob:tomesh.lab"}))
    );
    server.login_token("bob", "builder").await;

    let (status, guest) = server
        .post(&format!("{REGISTER}?kind=guest"), None, json!({}))
        .await;
    assert_eq!(
        (status, guest["errcode"].as_str()),
        (StatusCode::FORBIDDEN, Some("M_GUEST_ACCESS_FORBIDDEN"))
    );

    let closed =
        TestServer::start_with("closed.lab", |config| config.registration_enabled = false).await;
    let (status, error) = closed
        .post(REGISTER, None, json!({"username": "eve", "password": "x"}))
        .await;
    assert_eq!(
        (status, error["errcode"].as_str()),
        (StatusCode::FORBIDDEN, Some("M_FORBIDDEN"))
    );
}

/// Login accepts a localpart or a full user ID, and the deprecated
/// top-level `user`. A wrong password and an unknown user are the same
/// answer, so that nobody can probe which accounts exist.
#[tokio::test]
async fn login_with_right_and_wrong_passwords() {
    let server = TestServer::start("tomesh.lab").await;
    server.register("alice", "wonderland").await;
    let (_, flows) = server.get("/_matrix/client/v3/login", None).await;
    assert_eq!(flows, json!({"flows": [{"type": "m.login.password"}]}));

    let (status, logged_in) = server.login("@alice:tomesh.lab", "wonderland").await;
    assert_eq!(status, StatusCode::OK, "{logged_in}");
    insta::assert_json_snapshot!(
        "logged_in",
        redact(logged_in, &["access_token", "device_id"])
    );
    server.login_token("alice", "wonderland").await;
    let deprecated = json!({"type": "m.login.password", "user": "alice", "password": "wonderland"});
    assert_eq!(
        server
            .post("/_matrix/client/v3/login", None, deprecated)
            .await
            .0,
        StatusCode::OK
    );

    let wrong_password = server.login("alice", "looking-glass").await;
    let unknown_user = server.login("nobody", "wonderland").await;
    let other_server = server.login("@alice:elsewhere.lab", "wonderland").await;
    assert_eq!(wrong_password.0, StatusCode::FORBIDDEN);
    insta::assert_json_snapshot!("login_refused", wrong_password.1);
    assert_eq!(unknown_user, wrong_password);
    assert_eq!(other_server, wrong_password);
}

/// Logging out deletes the device: its token is then unknown, while the
/// user's other devices stay logged in, until `/logout/all`.
#[tokio::test]
async fn logout_forgets_the_token() {
    let server = TestServer::start("tomesh.lab").await;
    let (_, first) = server.register("alice", "wonderland").await;
    let second = server.login_token("alice", "wonderland").await;
    let third = server.login_token("alice", "wonderland").await;

    assert_eq!(
        server
            .post("/_matrix/client/v3/logout", Some(&first), json!({}))
            .await,
        (StatusCode::OK, json!({}))
    );
    let (status, error) = server.get(WHOAMI, Some(&first)).await;
    assert_eq!(
        (status, error["errcode"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("M_UNKNOWN_TOKEN"))
    );
    assert_eq!(server.get(WHOAMI, Some(&second)).await.0, StatusCode::OK);

    assert_eq!(
        server
            .post("/_matrix/client/v3/logout/all", Some(&second), json!({}))
            .await
            .0,
        StatusCode::OK
    );
    for token in [&second, &third] {
        assert_eq!(
            server.get(WHOAMI, Some(token)).await.1["errcode"],
            "M_UNKNOWN_TOKEN"
        );
    }
}

/// Changing a password takes the current one (the `m.login.password`
/// stage); afterwards the old password fails, the new one works, and the
/// user's other devices are logged out. This is exactly what a server
/// restored from an older backup forgets.
#[tokio::test]
async fn password_change_replaces_the_password_and_logs_out_other_devices() {
    let server = TestServer::start("tomesh.lab").await;
    let (_, token) = server.register("alice", "wonderland").await;
    let other_device = server.login_token("alice", "wonderland").await;
    let change = json!({"new_password": "looking-glass"});

    let (status, challenge) = server.post(PASSWORD, Some(&token), change.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let session = challenge["session"].as_str().expect("a session").to_owned();
    insta::assert_json_snapshot!("password_challenge", redact(challenge, &["session"]));

    let mut answer = change;
    let stage = |password: &str| {
        json!({"type": "m.login.password", "session": session,
               "identifier": {"type": "m.id.user", "user": "alice"}, "password": password})
    };
    answer["auth"] = stage("not-my-password");
    let (status, failed) = server.post(PASSWORD, Some(&token), answer.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        failed["session"],
        session.as_str(),
        "the same session may try again"
    );
    insta::assert_json_snapshot!("password_stage_failed", redact(failed, &["session"]));

    answer["auth"] = stage("wonderland");
    assert_eq!(
        server.post(PASSWORD, Some(&token), answer).await,
        (StatusCode::OK, json!({}))
    );

    assert_eq!(
        server.login("alice", "wonderland").await.0,
        StatusCode::FORBIDDEN
    );
    server.login_token("alice", "looking-glass").await;
    assert_eq!(
        server.get(WHOAMI, Some(&other_device)).await.1["errcode"],
        "M_UNKNOWN_TOKEN"
    );
    assert_eq!(
        server.get(WHOAMI, Some(&token)).await.0,
        StatusCode::OK,
        "the changing device stays"
    );
}

/// `logout_devices: false` keeps the other devices; a stage naming someone
/// else fails even with that person's right password.
#[tokio::test]
async fn password_change_options() {
    let server = TestServer::start("tomesh.lab").await;
    let (_, token) = server.register("alice", "wonderland").await;
    server.register("bob", "builder").await;
    let other_device = server.login_token("alice", "wonderland").await;

    let as_bob = json!({"new_password": "x", "auth": {"type": "m.login.password",
                        "identifier": {"type": "m.id.user", "user": "bob"}, "password": "builder"}});
    let (status, refused) = server.post(PASSWORD, Some(&token), as_bob).await;
    assert_eq!(
        (status, refused["errcode"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("M_FORBIDDEN"))
    );

    // No session: the stage completes in a fresh one (as in Synapse).
    let keep = json!({"new_password": "looking-glass", "logout_devices": false,
                      "auth": {"type": "m.login.password", "user": "@alice:tomesh.lab", "password": "wonderland"}});
    assert_eq!(
        server.post(PASSWORD, Some(&token), keep).await.0,
        StatusCode::OK
    );
    assert_eq!(
        server.get(WHOAMI, Some(&other_device)).await.0,
        StatusCode::OK
    );
    server.login_token("alice", "looking-glass").await;
}
