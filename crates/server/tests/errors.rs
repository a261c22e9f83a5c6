//! Every way a request can be wrong, and the error each gets: one table of
//! cases through one `check` helper, one reviewed snapshot of the answers.
//!
//! The spec's rule: an error is an HTTP status and a JSON body
//! `{"errcode": "M_…", "error": "human text"}`. Clients switch on the
//! `errcode`, so getting it right matters more than the message.

mod common;

use common::TestServer;
use serde_json::{Map, Value, json};

/// The body limit of the test server: small, so an oversized body is cheap.
const LIMIT: usize = 4096;

/// Who the request claims to be.
#[derive(Clone, Copy)]
enum Token {
    None,
    Valid,
    Bogus,
}

struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    token: Token,
    body: Vec<u8>,
}

fn case(
    name: &'static str,
    method: &'static str,
    path: &'static str,
    token: Token,
    body: impl Into<Vec<u8>>,
) -> Case {
    Case {
        name,
        method,
        path,
        token,
        body: body.into(),
    }
}

fn json_body(value: Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

#[tokio::test]
async fn every_error_is_an_errcode_and_a_message() {
    let server =
        TestServer::start_with("tomesh.lab", |config| config.max_request_bytes = LIMIT).await;
    let (_, token) = server.register("alice", "wonderland").await;
    server.register("bob", "builder").await;
    let login = "/_matrix/client/v3/login";
    let register = "/_matrix/client/v3/register";
    let whoami = "/_matrix/client/v3/account/whoami";
    let oversized = json_body(json!({"username": "alice", "password": "x".repeat(LIMIT)}));

    let cases = [
        case("not_json", "POST", login, Token::None, "this is { not json"),
        case(
            "not_utf8",
            "POST",
            login,
            Token::None,
            vec![0xff, 0xfe, b'{', b'}'],
        ),
        case(
            "wrong_type",
            "POST",
            login,
            Token::None,
            json_body(json!({"type": 1})),
        ),
        case(
            "float",
            "POST",
            login,
            Token::None,
            r#"{"type":"m.login.password","user":"alice","password":"x","n":1.5}"#,
        ),
        case(
            "missing_password",
            "POST",
            login,
            Token::None,
            json_body(json!({"type": "m.login.password", "user": "alice"})),
        ),
        case(
            "unknown_login_type",
            "POST",
            login,
            Token::None,
            json_body(json!({"type": "m.login.token", "token": "x"})),
        ),
        case("missing_token", "GET", whoami, Token::None, ""),
        case("wrong_method", "DELETE", whoami, Token::Valid, ""),
        case("unknown_token", "GET", whoami, Token::Bogus, ""),
        case(
            "unknown_path",
            "GET",
            "/_matrix/client/v3/teleport",
            Token::Valid,
            "",
        ),
        case(
            "oversized_body",
            "POST",
            register,
            Token::None,
            oversized.clone(),
        ),
        case(
            "oversized_join_body",
            "POST",
            "/_matrix/client/v3/join/!room:tomesh.lab",
            Token::Valid,
            oversized,
        ),
        case(
            "unicode_username",
            "POST",
            register,
            Token::None,
            json_body(json!({"username": "ålice", "password": "x"})),
        ),
        case(
            "uppercase_username",
            "POST",
            register,
            Token::None,
            json_body(json!({"username": "Alice", "password": "x"})),
        ),
        case(
            "username_taken",
            "POST",
            register,
            Token::None,
            json_body(json!({"username": "bob", "password": "x"})),
        ),
        case(
            "unknown_kind",
            "POST",
            "/_matrix/client/v3/register?kind=robot",
            Token::None,
            "{}",
        ),
        case(
            "wrong_auth_stage",
            "POST",
            register,
            Token::None,
            json_body(
                json!({"username": "carol", "password": "x", "auth": {"type": "m.login.recaptcha"}}),
            ),
        ),
        case(
            "unknown_session",
            "POST",
            register,
            Token::None,
            json_body(
                json!({"username": "carol", "password": "x", "auth": {"type": "m.login.dummy", "session": "nope"}}),
            ),
        ),
        case(
            "someone_elses_profile",
            "PUT",
            "/_matrix/client/v3/profile/@bob:tomesh.lab/displayname",
            Token::Valid,
            json_body(json!({"displayname": "not bob"})),
        ),
        case(
            "unknown_user_profile",
            "GET",
            "/_matrix/client/v3/profile/@nobody:tomesh.lab",
            Token::None,
            "",
        ),
        case(
            "missing_query_param",
            "GET",
            "/_matrix/client/v3/register/available",
            Token::None,
            "",
        ),
    ];

    let mut answers = Map::new();
    for case in cases {
        let token = match case.token {
            Token::None => None,
            Token::Valid => Some(token.as_str()),
            Token::Bogus => Some("lf_not-a-token"),
        };
        let (status, headers, body) = server
            .request_raw(
                case.method,
                case.path,
                token,
                Some("application/json"),
                case.body,
            )
            .await;
        let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
        assert_eq!(
            content_type,
            Some("application/json"),
            "{}: an error is JSON",
            case.name
        );
        let body: Value = serde_json::from_slice(&body).expect("a JSON body");
        let mut keys: Vec<&str> = body
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["errcode", "error"],
            "{}: exactly errcode and error",
            case.name
        );
        answers.insert(
            case.name.to_owned(),
            json!(format!(
                "{} {} — {}",
                status.as_u16(),
                body["errcode"].as_str().unwrap_or("?"),
                body["error"].as_str().unwrap_or("?")
            )),
        );
    }
    insta::assert_json_snapshot!("errors", answers);
}

/// Web clients need CORS: a preflight `OPTIONS` is answered with the
/// spec's headers, and so is every other response, errors included.
#[tokio::test]
async fn browsers_get_cors_headers() {
    let server = TestServer::start("tomesh.lab").await;
    let url = format!("{}/_matrix/client/v3/login", server.base_url);
    let preflight = server
        .client
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", "https://app.element.io")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .expect("an answer");
    assert_eq!(preflight.status(), reqwest::StatusCode::OK);
    let allowed = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        allowed(&preflight, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert!(
        allowed(&preflight, "access-control-allow-headers")
            .is_some_and(|h| h.contains("Authorization"))
    );
    let refused = server
        .client
        .get(format!(
            "{}/_matrix/client/v3/account/whoami",
            server.base_url
        ))
        .send()
        .await
        .expect("an answer");
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert_eq!(
        allowed(&refused, "access-control-allow-origin").as_deref(),
        Some("*")
    );
}
