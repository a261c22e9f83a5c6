//! A tiny Matrix client for the room tests: a logged-in user who can create
//! rooms, send, sync and page, over real HTTP, plus [`Redactor`], which
//! makes responses snapshot-stable.

#![allow(dead_code)] // each test binary uses a different part of it

use crate::common::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// A registered user with an access token. Owns its HTTP client, so it can
/// be moved into a spawned task.
#[derive(Clone)]
pub struct User {
    pub user_id: String,
    pub token: String,
    base_url: String,
    http: reqwest::Client,
}

impl User {
    /// Registers `name` on `server`.
    pub async fn register(server: &TestServer, name: &str) -> Self {
        let (user_id, token) = server.register(name, "correct horse battery staple").await;
        Self {
            user_id,
            token,
            base_url: server.base_url.clone(),
            http: server.client.clone(),
        }
    }

    /// The same user (and token) talking to `server`, for instance the same
    /// server restarted on another port.
    pub fn on(&self, server: &TestServer) -> Self {
        Self {
            base_url: server.base_url.clone(),
            ..self.clone()
        }
    }

    /// Sends a request with this user's token; the status and JSON body.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.request("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request("POST", path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request("PUT", path, Some(body)).await
    }

    /// `POST /createRoom`; panics unless it succeeds.
    pub async fn create_room(&self, body: Value) -> String {
        let (status, answer) = self.post("/_matrix/client/v3/createRoom", body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer["room_id"].as_str().expect("room_id").to_owned()
    }

    /// Sends an `m.room.message` with a fresh transaction ID; the status
    /// and answer.
    pub async fn try_send(&self, room_id: &str, content: Value) -> (StatusCode, Value) {
        static TXN: AtomicU64 = AtomicU64::new(0);
        let txn = TXN.fetch_add(1, Ordering::Relaxed);
        let path = format!("/_matrix/client/v3/rooms/{room_id}/send/m.room.message/t{txn}");
        self.put(&path, content).await
    }

    /// Sends a text message; panics unless it succeeds; the event ID.
    pub async fn send_text(&self, room_id: &str, body: &str) -> String {
        let (status, answer) = self
            .try_send(room_id, json!({"msgtype": "m.text", "body": body}))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer["event_id"].as_str().expect("event_id").to_owned()
    }

    /// `POST /rooms/{roomId}/{action}` (invite, join, leave); status and body.
    pub async fn membership(
        &self,
        room_id: &str,
        action: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        self.post(
            &format!("/_matrix/client/v3/rooms/{room_id}/{action}"),
            body,
        )
        .await
    }

    /// `GET /sync?{query}`; panics unless it succeeds.
    pub async fn sync(&self, query: &str) -> Value {
        let (status, answer) = self.get(&format!("/_matrix/client/v3/sync?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer
    }

    /// `GET /rooms/{roomId}/messages?{query}`; panics unless it succeeds.
    pub async fn messages(&self, room_id: &str, query: &str) -> Value {
        let (status, answer) = self
            .get(&format!(
                "/_matrix/client/v3/rooms/{room_id}/messages?{query}"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer
    }
}

/// The `body` of each event in a list (messages), skipping events without one.
pub fn bodies(events: &Value) -> Vec<String> {
    events
        .as_array()
        .expect("a list of events")
        .iter()
        .filter_map(|event| event["content"]["body"].as_str().map(str::to_owned))
        .collect()
}

/// The `type` of each event in a list.
pub fn types(events: &Value) -> Vec<String> {
    events
        .as_array()
        .expect("a list of events")
        .iter()
        .map(|event| event["type"].as_str().expect("a type").to_owned())
        .collect()
}

/// Replaces what changes from run to run (event and room IDs, timestamps,
/// ages, tokens) with stable placeholders. IDs become numbered in order of
/// appearance (`$event1`, `!room1`), so that a snapshot still shows which
/// events and rooms are the same.
#[derive(Default)]
pub struct Redactor {
    names: HashMap<String, String>,
    events: usize,
    rooms: usize,
}

impl Redactor {
    pub fn redact(&mut self, value: &Value) -> Value {
        match value {
            Value::Object(object) => Value::Object(
                object
                    .iter()
                    .map(|(key, value)| {
                        let value = match key.as_str() {
                            "origin_server_ts" => json!("<timestamp>"),
                            "age" => json!("<age>"),
                            "next_batch" | "prev_batch" | "start" | "end" => json!("<token>"),
                            _ => self.redact(value),
                        };
                        (self.name(key), value)
                    })
                    .collect(),
            ),
            Value::Array(items) => {
                Value::Array(items.iter().map(|item| self.redact(item)).collect())
            }
            Value::String(text) => Value::String(self.name(text)),
            other => other.clone(),
        }
    }

    fn name(&mut self, text: &str) -> String {
        let (prefix, counter) = if text.starts_with('$') && text.len() > 40 {
            ("$event", &mut self.events)
        } else if text.starts_with('!') {
            ("!room", &mut self.rooms)
        } else {
            return text.to_owned();
        };
        if let Some(name) = self.names.get(text) {
            return name.clone();
        }
        *counter += 1;
        let name = format!("{prefix}{counter}");
        self.names.insert(text.to_owned(), name.clone());
        name
    }
}
