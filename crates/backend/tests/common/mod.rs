//! Shared by the integration tests: the `ringside-backend` binary on a loopback port, a signed-in
//! agent with a real `/ws/agent` connection, and the admin calls that act as the PBX.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

pub struct Server {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// The server's SQLite file.
    pub fn db_path(&self) -> std::path::PathBuf {
        self._dir.path().join("b.db")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The admin token the test servers are started with (`--admin-token-file`).
pub const ADMIN_TOKEN: &str = "test-admin-token-5f1c2a9e";

/// Starts the binary with `args` after `--listen 127.0.0.1:0 --db <fresh file>` and an admin
/// token ([`ADMIN_TOKEN`]).
pub fn start(args: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("admin-token");
    std::fs::write(&token_file, format!("{ADMIN_TOKEN}\n")).unwrap();
    start_in(
        dir,
        &[&["--admin-token-file", &token_file.to_string_lossy()], args].concat(),
    )
}

/// As [`start`], with exactly `args` (no admin token unless given).
pub fn start_bare(args: &[&str]) -> Server {
    start_in(tempfile::tempdir().unwrap(), args)
}

fn start_in(dir: tempfile::TempDir, args: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ringside-backend"))
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("b.db"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Server {
        child,
        url,
        _dir: dir,
    }
}

/// Writes `text` to a file `name` in a fresh directory (an `--agents` seed file). The file
/// lives as long as the returned directory.
pub fn write_file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

/// A plain HTTP client. reqwest is built without a crypto provider of its own (the app installs
/// one at start), so the test installs the same one before building any client.
pub fn http() -> reqwest::Client {
    tls();
    reqwest::Client::new()
}

pub fn tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub async fn login(url: &str, username: &str, password: &str) -> (StatusCode, Value) {
    let r = http()
        .post(format!("{url}/api/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

/// A backend with the demo agent signed in: where most contract tests start.
pub struct SignedIn {
    pub server: Server,
    pub http: reqwest::Client,
    pub token: String,
    /// The whole `POST /api/auth/login` answer (refresh token, agent, SIP account).
    pub session: Value,
}

/// A fresh backend (its own database) with the demo agent signed in.
pub async fn signed_in() -> SignedIn {
    sign_in(start(&[])).await
}

/// Signs the demo agent in on `server`; fails the test unless that answers 200 with a token.
pub async fn sign_in(server: Server) -> SignedIn {
    let (status, session) = login(&server.url, "demo", "demo").await;
    assert_eq!(status, 200, "{session}");
    let token = session["token"].as_str().unwrap().to_string();
    SignedIn {
        server,
        http: http(),
        token,
        session,
    }
}

impl SignedIn {
    pub fn url(&self) -> &str {
        &self.server.url
    }

    /// `METHOD {path}` with the session's bearer token.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url()))
            .bearer_auth(&self.token)
    }

    /// `GET {path}` with the session's bearer token.
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::GET, path)
    }

    /// `GET {path}` with the session's bearer token; the body as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        self.get(path).send().await.unwrap().json().await.unwrap()
    }

    /// `POST {path}` with the session's bearer token.
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::POST, path)
    }

    /// `PUT {path}` with the session's bearer token.
    pub fn put(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::PUT, path)
    }
}

pub type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A real agent socket.
pub struct Ws(Stream);

impl Ws {
    /// Opens `/ws/agent` and waits for the first `agent_status`, so pushes sent after this
    /// returns reach the socket.
    pub async fn connect(url: &str, token: &str) -> Ws {
        let stream = Self::open(url, token, false).await.unwrap();
        let mut ws = Ws(stream);
        let first = ws.raw(Duration::from_secs(5)).await.expect("first frame");
        assert_eq!(first["type"], "agent_status");
        ws
    }

    /// The upgrade itself, the token in the `Authorization` header or (`in_url`) in the query.
    pub async fn open(url: &str, token: &str, in_url: bool) -> Result<Stream, String> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let base = format!("{}/ws/agent", url.replacen("http", "ws", 1));
        let target = if in_url {
            format!("{base}?token={token}")
        } else {
            base
        };
        let mut request = target.into_client_request().map_err(|e| e.to_string())?;
        if !in_url {
            let value = format!("Bearer {token}").parse().map_err(|_| "bad token")?;
            request.headers_mut().insert("authorization", value);
        }
        tokio_tungstenite::connect_async(request)
            .await
            .map(|(s, _)| s)
            .map_err(|e| e.to_string())
    }

    /// The next frame of any type, or `None` after `wait`.
    async fn raw(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.0.next())
                .await
                .ok()?;
            match msg {
                Some(Ok(Message::Text(t))) => {
                    return Some(serde_json::from_str(t.as_str()).unwrap())
                }
                Some(Ok(_)) => {}
                other => panic!("agent socket ended: {other:?}"),
            }
        }
    }

    /// The next frame that is not a ping or an agent status, within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let f = self.raw(left).await?;
            if !matches!(f["type"].as_str(), Some("ping" | "agent_status")) {
                return Some(f);
            }
        }
    }

    /// The next relevant frame; fails the test after 5 s.
    pub async fn next(&mut self) -> Value {
        self.next_within(Duration::from_secs(5))
            .await
            .expect("a frame within 5 s")
    }

    /// Asserts that no relevant frame arrives for `ms`.
    pub async fn silent_for(&mut self, ms: u64) {
        if let Some(f) = self.next_within(Duration::from_millis(ms)).await {
            panic!("unexpected frame {f}");
        }
    }
}

/// The demo agent signed in, with its socket open and one queue call on it.
pub struct Agent {
    pub server: Server,
    pub http: reqwest::Client,
    pub token: String,
    pub ws: Ws,
    /// `yeastar_call_id` and `channel_id` of the queue call.
    pub call_id: String,
    pub channel_id: String,
}

impl Agent {
    /// Starts a backend, applies `pbx` (`PUT /admin/pbx`, if given), signs in the demo agent,
    /// opens its socket and routes one queue call to it.
    pub async fn with_call(pbx: Option<Value>) -> Agent {
        Self::with_call_args(&[], pbx).await
    }

    /// [`Agent::with_call`] on a binary started with extra `args`.
    pub async fn with_call_args(args: &[&str], pbx: Option<Value>) -> Agent {
        let server = start(args);
        let http = http();
        if let Some(settings) = pbx {
            let r = http
                .put(format!("{}/admin/pbx", server.url))
                .bearer_auth(ADMIN_TOKEN)
                .json(&settings)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
        let (status, session) = login(&server.url, "demo", "demo").await;
        assert_eq!(status, 200);
        let token = session["token"].as_str().unwrap().to_string();
        let mut ws = Ws::connect(&server.url, &token).await;
        let frame: Value = http
            .post(format!("{}/admin/queue-call", server.url))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"caller": "94424722"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let pushed = ws.next().await;
        assert_eq!(pushed, frame);
        Agent {
            call_id: frame["yeastar_call_id"].as_str().unwrap().to_string(),
            channel_id: frame["channel_id"].as_str().unwrap().to_string(),
            server,
            http,
            token,
            ws,
        }
    }

    pub fn url(&self) -> &str {
        &self.server.url
    }

    /// `POST /api/calls/{call_id}/transfer` with `body` under `key`.
    pub async fn transfer_raw(
        &self,
        call_id: &str,
        key: &str,
        body: reqwest::Body,
    ) -> (StatusCode, Value, bool) {
        self.transfer_raw_as(&self.token, call_id, key, body).await
    }

    /// [`Agent::transfer_raw`] signed in with another `token`.
    pub async fn transfer_raw_as(
        &self,
        token: &str,
        call_id: &str,
        key: &str,
        body: reqwest::Body,
    ) -> (StatusCode, Value, bool) {
        let r = self
            .http
            .post(format!("{}/api/calls/{call_id}/transfer", self.url()))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let replay = r.headers().contains_key("idempotent-replay");
        (r.status(), r.json().await.unwrap(), replay)
    }

    /// A transfer of this agent's queue call.
    pub async fn transfer(&self, key: &str, body: Value) -> (StatusCode, Value) {
        let (s, v, _) = self
            .transfer_raw(&self.call_id, key, body.to_string().into())
            .await;
        (s, v)
    }

    /// A transfer body for this call's channel.
    pub fn body(&self, kind: &str, number: &str, operate: Option<&str>) -> Value {
        json!({"type": kind, "channel_id": self.channel_id, "number": number, "operate": operate})
    }

    /// `POST /admin/queue-call/{call_id}/clear`: the call ended.
    pub async fn clear(&self) -> StatusCode {
        self.http
            .post(format!(
                "{}/admin/queue-call/{}/clear",
                self.url(),
                self.call_id
            ))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .status()
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.url()))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// This call as the PBX model sees it (`null` once it is over).
    pub async fn call_state(&self) -> Value {
        self.admin_get("/admin/pbx/calls").await[&self.call_id].clone()
    }

    pub async fn set_pbx(&self, settings: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .put(format!("{}/admin/pbx", self.url()))
            .bearer_auth(ADMIN_TOKEN)
            .json(&settings)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }
}
