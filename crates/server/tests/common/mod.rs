//! A homeserver in the test process, on 127.0.0.1 with an ephemeral port,
//! talked to over real HTTP: the one-line bootstrap every server test uses.

#![allow(dead_code)] // each test binary uses a different part of the harness

use lostfound_server::{Config, Homeserver};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server; dropping it stops the server.
pub struct TestServer {
    pub base_url: String,
    pub server_name: String,
    pub client: reqwest::Client,
    data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// A fresh server named `name` with an empty data directory.
    pub async fn start(name: &str) -> Self {
        let temp = tempfile::tempdir().expect("a temporary directory");
        let dir = temp.path().to_path_buf();
        let mut server = Self::start_in(name, &dir).await;
        server._temp = Some(temp);
        server
    }

    /// A server on an existing data directory (to test restarts).
    pub async fn start_in(name: &str, data_dir: &Path) -> Self {
        let config = Config::new(
            name.parse().expect("a server name"),
            data_dir.to_path_buf(),
            [7; 32],
        );
        let homeserver = Homeserver::open(config).expect("the store opens");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let address = listener.local_addr().expect("an address");
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(lostfound_server::serve(listener, homeserver, async {
            let _ = stopped.await;
        }));
        Self {
            base_url: format!("http://{address}"),
            server_name: name.to_owned(),
            client: reqwest::Client::new(),
            data_dir: data_dir.to_path_buf(),
            _temp: None,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Stops the server and waits for it, keeping the data directory.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("the server task ends")
                .expect("the server ends cleanly");
        }
        self._temp.take()
    }

    /// Sends a request; returns the status and the JSON body (Null if none).
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.request("GET", path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.request("POST", path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.request("PUT", path, token, Some(body)).await
    }

    /// Registers `username` through the m.login.dummy flow; returns
    /// (user ID, access token).
    pub async fn register(&self, username: &str, password: &str) -> (String, String) {
        let body = json!({"username": username, "password": password});
        let (status, challenge) = self
            .post("/_matrix/client/v3/register", None, body.clone())
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{challenge}");
        let session = challenge["session"]
            .as_str()
            .expect("a UIA session")
            .to_owned();
        let mut body = body;
        body["auth"] = json!({"type": "m.login.dummy", "session": session});
        let (status, registered) = self.post("/_matrix/client/v3/register", None, body).await;
        assert_eq!(status, StatusCode::OK, "{registered}");
        (
            registered["user_id"].as_str().expect("user_id").to_owned(),
            registered["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
        )
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Helpers for the account, media and error tests.
impl TestServer {
    /// A fresh server whose configuration `adjust` changes first (a small
    /// body limit, registration switched off).
    pub async fn start_with(name: &str, adjust: impl FnOnce(&mut Config)) -> Self {
        let temp = tempfile::tempdir().expect("a temporary directory");
        let mut config = Config::new(
            name.parse().expect("a server name"),
            temp.path().to_path_buf(),
            [7; 32],
        );
        adjust(&mut config);
        let homeserver = Homeserver::open(config).expect("the store opens");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let address = listener.local_addr().expect("an address");
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(lostfound_server::serve(listener, homeserver, async {
            let _ = stopped.await;
        }));
        Self {
            base_url: format!("http://{address}"),
            server_name: name.to_owned(),
            client: reqwest::Client::new(),
            data_dir: temp.path().to_path_buf(),
            _temp: Some(temp),
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// Sends raw bytes (not necessarily JSON); returns the status, the
    /// response headers and the raw response body.
    pub async fn request_raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url))
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(content_type) = content_type {
            request = request.header(reqwest::header::CONTENT_TYPE, content_type);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a body");
        (status, headers, bytes.to_vec())
    }

    /// `POST /login` with a password; returns the status and the body.
    pub async fn login(&self, user: &str, password: &str) -> (StatusCode, Value) {
        let body = json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": password,
        });
        self.post("/_matrix/client/v3/login", None, body).await
    }

    /// Logs in and returns the new access token, failing the test if the
    /// login fails.
    pub async fn login_token(&self, user: &str, password: &str) -> String {
        let (status, body) = self.login(user, password).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }
}

/// Replaces the values at `keys` (top-level) with `"[key]"`, so a snapshot
/// shows the shape of a response without its random tokens.
pub fn redact(mut value: Value, keys: &[&str]) -> Value {
    for key in keys {
        if let Some(field) = value.get_mut(*key) {
            assert!(field.is_string(), "{key} should be a string: {field}");
            *field = json!(format!("[{key}]"));
        }
    }
    value
}

/// Several servers that know each other, for federation tests.
impl TestServer {
    /// Starts one server per name, each with every server (itself
    /// included) in its `config.peers`: all listeners are bound first, so
    /// every address is known before any configuration is built. Each
    /// server's signing key comes from [`federation_seed`], so tests can
    /// sign requests as any of them.
    pub async fn start_federation(names: &[&str]) -> Vec<TestServer> {
        let mut listeners = Vec::new();
        for _ in names {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a port");
            listeners.push(listener);
        }
        let addresses: Vec<std::net::SocketAddr> = listeners
            .iter()
            .map(|listener| listener.local_addr().expect("an address"))
            .collect();
        let peers: std::collections::BTreeMap<_, _> = names
            .iter()
            .zip(&addresses)
            .map(|(name, address)| (name.parse().expect("a server name"), address.to_string()))
            .collect();
        let mut servers = Vec::new();
        for ((name, listener), address) in names.iter().zip(listeners).zip(addresses) {
            let temp = tempfile::tempdir().expect("a temporary directory");
            let mut config = Config::new(
                name.parse().expect("a server name"),
                temp.path().to_path_buf(),
                federation_seed(name),
            );
            config.peers = peers.clone();
            let homeserver = Homeserver::open(config).expect("the store opens");
            let (shutdown, stopped) = oneshot::channel::<()>();
            let task = tokio::spawn(lostfound_server::serve(listener, homeserver, async {
                let _ = stopped.await;
            }));
            servers.push(Self {
                base_url: format!("http://{address}"),
                server_name: (*name).to_owned(),
                client: reqwest::Client::new(),
                data_dir: temp.path().to_path_buf(),
                _temp: Some(temp),
                shutdown: Some(shutdown),
                task: Some(task),
            });
        }
        servers
    }
}

/// The signing key seed [`TestServer::start_federation`] gives the server
/// `name`: different for every name, the same in every run.
pub fn federation_seed(name: &str) -> [u8; 32] {
    let mut seed = [0x5a; 32];
    for (index, byte) in name.bytes().enumerate() {
        seed[index % 32] ^= byte.rotate_left(index as u32 / 32);
    }
    seed
}
