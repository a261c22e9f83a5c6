//! [`User`]: a Matrix user of a lab server, driven over the real
//! client-server API.
//!
//! Scenarios act the way people did in 2021: through HTTP requests to
//! their homeserver, with an access token, never by writing into a
//! server's database. So everything a scenario does goes through the same
//! routes, auth checks and federation as a real client's request.

use crate::error::LabError;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};

/// The password every lab user registers with.
pub const PASSWORD: &str = "correct horse battery staple";

/// One logged-in user.
#[derive(Debug)]
pub struct User {
    pub user_id: String,
    pub access_token: String,
    base_url: String,
    http: reqwest::Client,
    /// Transaction IDs for `send`, unique per access token.
    next_txn: AtomicU64,
}

/// An HTTP client that opens a new connection per request: a kept-alive
/// connection to a server the lab has since restarted would fail.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap_or_default()
}

/// Sends one request; the status and the JSON body (`Null` if the body
/// is not JSON), or why no answer came.
async fn call(
    http: &reqwest::Client,
    base_url: &str,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<(StatusCode, Value), String> {
    let mut request = http.request(method, format!("{base_url}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// The error for an answer with an error status: its `errcode` if the
/// body has one (a Matrix error), `M_UNKNOWN` otherwise.
fn refused(request: String, status: StatusCode, answer: &Value) -> LabError {
    LabError::Refused {
        request,
        status: status.as_u16(),
        errcode: answer["errcode"].as_str().unwrap_or("M_UNKNOWN").to_owned(),
        message: answer["error"]
            .as_str()
            .map_or_else(|| answer.to_string(), str::to_owned),
    }
}

/// Registers `username` on the server at `base_url` through the
/// `m.login.dummy` interactive-auth flow, as Element does: the first
/// request is answered `401` with a session, the second completes it.
pub async fn register(base_url: &str, username: &str) -> Result<User, LabError> {
    let http = http_client();
    let path = "/_matrix/client/v3/register";
    let failed = |message: String| LabError::Client {
        request: format!("POST {path} as {username}"),
        message,
    };
    let mut body = json!({"username": username, "password": PASSWORD});
    let (status, challenge) = call(&http, base_url, None, Method::POST, path, Some(&body))
        .await
        .map_err(failed)?;
    if status.is_client_error() && status != StatusCode::UNAUTHORIZED {
        return Err(refused(
            format!("POST {path} as {username}"),
            status,
            &challenge,
        ));
    }
    if status != StatusCode::UNAUTHORIZED {
        return Err(failed(format!(
            "expected an auth challenge, got {status}: {challenge}"
        )));
    }
    body["auth"] = json!({"type": "m.login.dummy", "session": challenge["session"]});
    let (status, registered) = call(&http, base_url, None, Method::POST, path, Some(&body))
        .await
        .map_err(failed)?;
    if !status.is_success() {
        return Err(refused(
            format!("POST {path} as {username}"),
            status,
            &registered,
        ));
    }
    logged_in(http, base_url, &registered).map_err(failed)
}

/// Logs `username` in on the server at `base_url` with `password`
/// (`m.login.password`), as a new device.
pub async fn login(base_url: &str, username: &str, password: &str) -> Result<User, LabError> {
    let http = http_client();
    let path = "/_matrix/client/v3/login";
    let failed = |message: String| LabError::Client {
        request: format!("POST {path} as {username}"),
        message,
    };
    let body = json!({
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": username},
        "password": password,
    });
    let (status, answer) = call(&http, base_url, None, Method::POST, path, Some(&body))
        .await
        .map_err(failed)?;
    if !status.is_success() {
        return Err(refused(
            format!("POST {path} as {username}"),
            status,
            &answer,
        ));
    }
    logged_in(http, base_url, &answer).map_err(failed)
}

/// The [`User`] a register or login answer describes.
fn logged_in(http: reqwest::Client, base_url: &str, answer: &Value) -> Result<User, String> {
    let field = |key: &str| {
        answer[key]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no {key} in {answer}"))
    };
    Ok(User {
        user_id: field("user_id")?,
        access_token: field("access_token")?,
        base_url: base_url.to_owned(),
        http,
        next_txn: AtomicU64::new(0),
    })
}

impl User {
    /// A client-server request as this user: the JSON answer of a `2xx`,
    /// an error naming the request and the status otherwise.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, LabError> {
        let failed = |message: String| LabError::Client {
            request: format!("{method} {path} as {}", self.user_id),
            message,
        };
        let token = Some(self.access_token.as_str());
        let (status, answer) = call(
            &self.http,
            &self.base_url,
            token,
            method.clone(),
            path,
            body.as_ref(),
        )
        .await
        .map_err(failed)?;
        if !status.is_success() {
            return Err(refused(
                format!("{method} {path} as {}", self.user_id),
                status,
                &answer,
            ));
        }
        Ok(answer)
    }

    /// Uploads `bytes` to the user's server; returns the `mxc://` URI.
    pub async fn upload(&self, bytes: Vec<u8>, content_type: &str) -> Result<String, LabError> {
        let path = "/_matrix/media/v3/upload";
        let request = format!("POST {path} as {}", self.user_id);
        let response = self
            .http
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(&self.access_token)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(bytes)
            .send()
            .await
            .map_err(|e| LabError::Client {
                request: request.clone(),
                message: e.to_string(),
            })?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(refused(request, status, &answer));
        }
        self.string(&answer, "content_uri")
    }

    /// Changes the password from `current` to `new`, completing the
    /// `m.login.password` stage at once; this device stays logged in.
    pub async fn change_password(&self, current: &str, new: &str) -> Result<(), LabError> {
        let localpart = self
            .user_id
            .trim_start_matches('@')
            .split(':')
            .next()
            .unwrap_or_default()
            .to_owned();
        let body = json!({
            "new_password": new,
            "logout_devices": false,
            "auth": {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": localpart},
                "password": current,
            },
        });
        self.request(
            Method::POST,
            "/_matrix/client/v3/account/password",
            Some(body),
        )
        .await
        .map(|_| ())
    }

    /// Whether the server still knows this access token.
    pub async fn is_logged_in(&self) -> Result<bool, LabError> {
        match self
            .request(Method::GET, "/_matrix/client/v3/account/whoami", None)
            .await
        {
            Ok(_) => Ok(true),
            Err(LabError::Refused { errcode, .. }) if errcode == "M_UNKNOWN_TOKEN" => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// `POST /createRoom` with `body`; returns the room ID.
    pub async fn create_room(&self, body: Value) -> Result<String, LabError> {
        let answer = self
            .request(Method::POST, "/_matrix/client/v3/createRoom", Some(body))
            .await?;
        self.string(&answer, "room_id")
    }

    /// A public, federated room (`preset: public_chat`).
    pub async fn create_public_room(&self, name: &str) -> Result<String, LabError> {
        self.create_room(json!({"preset": "public_chat", "name": name}))
            .await
    }

    /// Joins `room_id`, through the server `via` if ours is not in it.
    pub async fn join(&self, room_id: &str, via: &str) -> Result<String, LabError> {
        let path = format!("/_matrix/client/v3/join/{room_id}?server_name={via}");
        let answer = self.request(Method::POST, &path, Some(json!({}))).await?;
        self.string(&answer, "room_id")
    }

    /// Sends an `m.text` message; returns its event ID.
    pub async fn send_text(&self, room_id: &str, text: &str) -> Result<String, LabError> {
        let txn = self.next_txn.fetch_add(1, Ordering::SeqCst);
        let path = format!("/_matrix/client/v3/rooms/{room_id}/send/m.room.message/lab{txn}");
        let body = json!({"msgtype": "m.text", "body": text});
        let answer = self.request(Method::PUT, &path, Some(body)).await?;
        self.string(&answer, "event_id")
    }

    /// The room's latest events (up to 100), oldest first, as `/messages`
    /// gives them to a client.
    pub async fn messages(&self, room_id: &str) -> Result<Vec<Value>, LabError> {
        let path = format!("/_matrix/client/v3/rooms/{room_id}/messages?dir=b&limit=100");
        let page = self.request(Method::GET, &path, None).await?;
        let mut events = page["chunk"].as_array().cloned().unwrap_or_default();
        events.reverse();
        Ok(events)
    }

    /// The bodies of the `m.room.message` events among [`Self::messages`].
    pub async fn texts(&self, room_id: &str) -> Result<Vec<String>, LabError> {
        let events = self.messages(room_id).await?;
        let texts = events
            .iter()
            .filter(|event| event["type"] == "m.room.message")
            .filter_map(|event| event["content"]["body"].as_str().map(str::to_owned));
        Ok(texts.collect())
    }

    fn string(&self, answer: &Value, key: &str) -> Result<String, LabError> {
        answer[key]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| LabError::Client {
                request: format!("reading {key} as {}", self.user_id),
                message: format!("no {key} in {answer}"),
            })
    }
}
