//! The backend's REST API (docs/backend-api.md) as typed calls.

use std::sync::RwLock;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use ringside_core::{
    Agent, AgentStatus, ContactView, Disposition, PauseReason, PbxTransferRequest, Secret,
    SipAccount, WriteOp,
};
use ringside_store::{EntityKind, OutboxItem};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::{debug, instrument};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// No answer: refused, reset, timed out, DNS. Retry later.
    #[error("backend unreachable: {0}")]
    Offline(String),
    /// 5xx. Retry later. `code` is the backend's (`pbx_unreachable`, ...), `unknown` if none.
    #[error("backend error {status} {code}: {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    /// 429. Retry after the delay the backend asked for.
    #[error("backend asks to slow down (retry after {retry_after_ms} ms)")]
    RateLimited { retry_after_ms: u64 },
    /// 401: the token is missing or expired.
    #[error("not signed in to the backend")]
    Unauthorized,
    /// Any other 4xx: the write is wrong and retrying will not help.
    #[error("backend refused the request ({status} {code}): {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    /// 2xx with a body we cannot use.
    #[error("unusable backend response: {0}")]
    BadResponse(String),
    /// The backend address itself is wrong: no request can be made, so it is no outage.
    #[error(
        "`{0}` is not a backend address: write it as https://host (http:// only for this computer)"
    )]
    BadUrl(String),
    /// Refused for safety: an unencrypted link beyond this computer, or a backend that sends
    /// the app elsewhere (a socket on another host).
    #[error("{0}")]
    Untrusted(String),
}

impl SyncError {
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Offline(_)
                | Self::Server { .. }
                | Self::RateLimited { .. }
                | Self::BadResponse(_)
        )
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Offline(_) => "backend_unreachable",
            Self::Server { .. } => "backend_error",
            Self::RateLimited { .. } => "backend_rate_limited",
            Self::Unauthorized => "backend_unauthorized",
            Self::Rejected { .. } => "backend_rejected",
            Self::BadResponse(_) => "backend_bad_response",
            Self::BadUrl(_) => "backend_url_invalid",
            Self::Untrusted(_) => "backend_untrusted",
        }
    }
}

pub type Result<T> = std::result::Result<T, SyncError>;

/// What sign-in returns.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: Secret,
    pub agent: Agent,
    pub sip: SipAccount,
    pub ws_url: String,
}

#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: RwLock<Option<Secret>>,
    refresh_token: RwLock<Option<Secret>>,
    /// Demo mode's token for the reference backend's `/admin` routes (its PBX stand-in).
    admin_token: RwLock<Option<Secret>>,
    allow_insecure: bool,
}

/// An error and what caused it, down to the root ("error sending request: … invalid peer
/// certificate: UnknownIssuer"): reqwest's own message stops at the first line, which tells a
/// support engineer nothing.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// The largest body read from the backend. Its answers are small (a page of contacts is the
/// largest); a body past this is a broken or hostile server, refused before it fills memory.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Reads a response body up to [`MAX_BODY_BYTES`], chunk by chunk, whatever the headers claim.
async fn read_capped(mut resp: reqwest::Response, path: &str) -> Result<Vec<u8>> {
    let too_large = || SyncError::BadResponse(format!("{path}: body over {MAX_BODY_BYTES} bytes"));
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| SyncError::Offline(e.to_string()))?
    {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// How long [`Client::probe`] waits for an answer.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(1500);

impl Client {
    /// A client with the timeouts an agent on a poor network needs: 3 s to connect, 10 s for
    /// a whole request.
    pub fn new(base_url: &str) -> Result<Self> {
        Self::with_timeouts(base_url, Duration::from_secs(3), Duration::from_secs(10))
    }

    pub fn with_timeouts(base_url: &str, connect: Duration, request: Duration) -> Result<Self> {
        Self::build(base_url, connect, request, false)
    }

    /// A client for `base_url`; `allow_insecure` (a lab's policy) lets `http://` reach hosts
    /// beyond this computer.
    pub fn with_policy(base_url: &str, allow_insecure: bool) -> Result<Self> {
        Self::build(
            base_url,
            Duration::from_secs(3),
            Duration::from_secs(10),
            allow_insecure,
        )
    }

    fn build(
        base_url: &str,
        connect: Duration,
        request: Duration,
        allow_insecure: bool,
    ) -> Result<Self> {
        let url = reqwest::Url::parse(base_url.trim())
            .map_err(|_| SyncError::BadUrl(base_url.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(SyncError::BadUrl(base_url.to_string()));
        }
        if leaves_unencrypted(&url) && !allow_insecure {
            return Err(SyncError::Untrusted(format!(
                "{base_url} is not encrypted: the password and the agent's notes would cross the network in clear. Use https://, or ask IT (a lab may allow it by policy)."
            )));
        }
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*crate::tls::client_config()).clone())
            .connect_timeout(connect)
            .timeout(request)
            // Never re-send a request (a password, notes) wherever a server points: a backend
            // that moved must be configured by its new address.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SyncError::Offline(e.to_string()))?;
        Ok(Self {
            http,
            base: base_url.trim().trim_end_matches('/').to_string(),
            token: RwLock::new(None),
            refresh_token: RwLock::new(None),
            admin_token: RwLock::new(None),
            allow_insecure,
        })
    }

    /// The token `/admin/...` requests carry (demo mode against the reference backend).
    pub fn set_admin_token(&self, token: Option<Secret>) {
        if let Ok(mut t) = self.admin_token.write() {
            *t = token;
        }
    }

    /// The agent socket's address from sign-in, if it is one the app may use: on the
    /// backend's own host (another host would receive the token), encrypted beyond loopback.
    fn checked_ws_url(&self, ws_url: &str) -> Result<String> {
        if ws_url.is_empty() {
            return Ok(String::new());
        }
        let refuse = |why: &str| {
            SyncError::Untrusted(format!("the backend's socket address {ws_url} {why}"))
        };
        let ws = reqwest::Url::parse(ws_url).map_err(|_| refuse("is not an address"))?;
        let base =
            reqwest::Url::parse(&self.base).map_err(|_| SyncError::BadUrl(self.base.clone()))?;
        if ws.host_str() != base.host_str() {
            return Err(refuse("is on another host than the backend"));
        }
        match ws.scheme() {
            "wss" => Ok(ws_url.to_string()),
            "ws" if !leaves_unencrypted(&ws) || self.allow_insecure => Ok(ws_url.to_string()),
            "ws" => Err(refuse("is not encrypted")),
            _ => Err(refuse("is not a WebSocket address")),
        }
    }

    /// Forgets the session (sign-out): no token, and no refresh token to renew it with.
    pub fn clear_session(&self) {
        self.set_token(None);
        if let Ok(mut rt) = self.refresh_token.write() {
            *rt = None;
        }
    }

    /// The refresh token of the current session, to keep in the OS keyring.
    pub fn refresh_token(&self) -> Option<Secret> {
        self.refresh_token.read().ok().and_then(|t| t.clone())
    }

    /// A refresh token kept from an earlier run: [`Client::refresh`] then resumes that session.
    pub fn set_refresh_token(&self, token: Option<Secret>) {
        if let Ok(mut rt) = self.refresh_token.write() {
            *rt = token;
        }
    }

    pub fn token(&self) -> Option<Secret> {
        self.token.read().ok().and_then(|t| t.clone())
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn set_token(&self, token: Option<Secret>) {
        if let Ok(mut t) = self.token.write() {
            *t = token;
        }
    }

    async fn request<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<T> {
        self.request_within(method, path, body, idempotency_key, None)
            .await
    }

    /// As [`Client::request`], with a whole-request timeout other than the client's.
    async fn request_within<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
        timeout: Option<Duration>,
    ) -> Result<T> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        // The agent's token never goes to an admin route, nor the admin token to the API.
        let bearer = if path.starts_with("/admin/") {
            &self.admin_token
        } else {
            &self.token
        };
        if let Some(token) = bearer.read().ok().and_then(|t| t.clone()) {
            req = req.bearer_auth(token.0);
        }
        if let Some(key) = idempotency_key {
            req = req.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| SyncError::Offline(with_causes(&e)))?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = read_capped(resp, path).await?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| SyncError::BadResponse(format!("{path}: {e}")));
        }
        let (code, message) = match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => (
                v["code"].as_str().unwrap_or("unknown").to_string(),
                v["message"].as_str().unwrap_or("").to_string(),
            ),
            Err(_) => (
                "unknown".into(),
                String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            ),
        };
        Err(match status {
            StatusCode::UNAUTHORIZED => SyncError::Unauthorized,
            StatusCode::TOO_MANY_REQUESTS => SyncError::RateLimited {
                retry_after_ms: retry_after.unwrap_or(1).saturating_mul(1000),
            },
            s if s.is_server_error() => SyncError::Server {
                status: s.as_u16(),
                code,
                message,
            },
            s => SyncError::Rejected {
                status: s.as_u16(),
                code,
                message,
            },
        })
    }

    #[instrument(skip(self, password), err(Debug))]
    pub async fn login(&self, username: &str, password: &Secret) -> Result<Session> {
        let body = json!({"username": username, "password": password.0});
        self.session("/api/auth/login", body).await
    }

    /// Trades the refresh token for a new session (after a 401).
    #[instrument(skip(self), err(Debug))]
    pub async fn refresh(&self) -> Result<Session> {
        let refresh = self
            .refresh_token
            .read()
            .ok()
            .and_then(|t| t.clone())
            .ok_or(SyncError::Unauthorized)?;
        self.session("/api/auth/refresh", json!({"refresh_token": refresh.0}))
            .await
    }

    async fn session(&self, path: &str, body: Value) -> Result<Session> {
        #[derive(Deserialize)]
        struct AgentBody {
            id: String,
            name: String,
            extension_id: String,
            extension_number: String,
        }
        #[derive(Deserialize)]
        struct SipBody {
            server: String,
            websocket_url: String,
            username: String,
            password: String,
            domain: String,
        }
        #[derive(Deserialize)]
        struct LoginBody {
            token: String,
            #[serde(default)]
            refresh_token: Option<String>,
            agent: AgentBody,
            sip: SipBody,
            #[serde(default)]
            ws_url: String,
        }
        let r: LoginBody = self.request(Method::POST, path, Some(&body), None).await?;
        let token = Secret(r.token);
        self.set_token(Some(token.clone()));
        if let Ok(mut rt) = self.refresh_token.write() {
            *rt = r.refresh_token.map(Secret);
        }
        Ok(Session {
            token,
            agent: Agent {
                id: r.agent.id,
                name: r.agent.name,
                extension_id: r.agent.extension_id,
                extension: r.agent.extension_number,
            },
            sip: SipAccount {
                server: r.sip.server,
                websocket_url: r.sip.websocket_url,
                username: r.sip.username,
                password: Secret(r.sip.password),
                domain: r.sip.domain,
            },
            ws_url: self.checked_ws_url(&r.ws_url)?,
        })
    }

    #[instrument(skip(self), err(Debug))]
    pub async fn resolve_contact(&self, phone: &str) -> Result<ContactView> {
        #[derive(Deserialize)]
        struct Body {
            contact: ContactView,
        }
        let body = json!({ "phone": phone });
        let r: Body = self
            .request(Method::POST, "/api/contacts/resolve", Some(&body), None)
            .await?;
        Ok(r.contact)
    }

    pub async fn agent_status(&self) -> Result<AgentStatus> {
        self.request(Method::GET, "/api/agent/status", None, None)
            .await
    }

    /// Is the backend there? The agent's status, asked with a short timeout: a backend that
    /// accepts connections but does not answer (hung, or a dead link) must show as down within
    /// seconds, not after the 10 s a real write may take.
    pub async fn probe(&self) -> Result<AgentStatus> {
        self.request_within(
            Method::GET,
            "/api/agent/status",
            None,
            None,
            Some(PROBE_TIMEOUT),
        )
        .await
    }

    /// Changes the agent's status; `key` makes a retried change count once.
    pub async fn set_agent_status(&self, status: &AgentStatus, key: &str) -> Result<AgentStatus> {
        let body =
            serde_json::to_value(status).map_err(|e| SyncError::BadResponse(e.to_string()))?;
        self.request(Method::PUT, "/api/agent/status", Some(&body), Some(key))
            .await
    }

    /// Asks the PBX, through the backend, to transfer a queue call. The answer only says the
    /// request was accepted; the outcome is pushed on the agent socket (`transfer_update`).
    /// Never queued in the outbox: a transfer asked for minutes after the agent clicked,
    /// on a call that has moved on, would be wrong.
    #[instrument(skip(self, request), err(Debug))]
    pub async fn transfer(
        &self,
        yeastar_call_id: &str,
        request: &PbxTransferRequest,
        key: &str,
    ) -> Result<Value> {
        let body =
            serde_json::to_value(request).map_err(|e| SyncError::BadResponse(e.to_string()))?;
        let path = format!("/api/calls/{}/transfer", path_segment(yeastar_call_id));
        self.request(Method::POST, &path, Some(&body), Some(key))
            .await
    }

    pub async fn contacts(&self) -> Result<Vec<ContactView>> {
        self.request(Method::GET, "/api/contacts", None, None).await
    }

    pub async fn dispositions(&self) -> Result<Vec<Disposition>> {
        self.request(Method::GET, "/api/call-dispositions", None, None)
            .await
    }

    pub async fn pause_reasons(&self) -> Result<Vec<PauseReason>> {
        self.request(Method::GET, "/api/agent/pause-reasons", None, None)
            .await
    }

    /// The reference backend's `/admin/...` routes (demo mode's PBX stand-in), with the same
    /// error mapping as every other request.
    pub async fn admin_post(&self, path: &str, body: &Value) -> Result<Value> {
        self.request(Method::POST, path, Some(body), None).await
    }

    pub async fn call_logs(&self) -> Result<Vec<Value>> {
        self.request(Method::GET, "/api/call-logs", None, None)
            .await
    }

    /// The agent's drafts as the backend holds them (support tools and tests).
    pub async fn call_drafts(&self) -> Result<Vec<Value>> {
        self.request(Method::GET, "/api/call-drafts", None, None)
            .await
    }

    /// Sends one outbox item with its idempotency key.
    #[instrument(skip(self, item), fields(entity = ?item.entity, id = %item.entity_id, op = ?item.op), err(Debug))]
    pub async fn send(&self, item: &OutboxItem) -> Result<()> {
        let key = Some(item.idempotency_key.as_str());
        let (method, path) = match (item.entity, item.op) {
            (EntityKind::CallLog, WriteOp::Create) => (Method::POST, "/api/call-logs".to_string()),
            (EntityKind::CallLog, WriteOp::Update) => {
                (Method::PATCH, format!("/api/call-logs/{}", item.entity_id))
            }
            (EntityKind::Draft, _) => (Method::PUT, format!("/api/call-drafts/{}", item.entity_id)),
        };
        let result: Result<Value> = self.request(method, &path, Some(&item.payload), key).await;
        match result {
            Ok(_) => Ok(()),
            // A create that the backend already has (sent before a crash, under an older key)
            // is done: the state we hold is sent again as an update right after.
            Err(SyncError::Rejected { status: 409, .. }) if item.op == WriteOp::Create => {
                debug!("create already known to the backend; sending as update");
                let path = format!("/api/call-logs/{}", item.entity_id);
                let _: Value = self
                    .request(Method::PATCH, &path, Some(&item.payload), key)
                    .await?;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

/// Whether `url` would carry traffic unencrypted off this computer (`http://` or `ws://` to a
/// host that is not loopback). An address that does not parse is not judged here: using it
/// fails with its own error.
pub fn is_unencrypted_remote(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| leaves_unencrypted(&u))
}

/// The one rule for "unencrypted off this computer": what a lab's policy must allow, and what
/// the window then marks as not secure.
pub fn leaves_unencrypted(url: &url::Url) -> bool {
    matches!(url.scheme(), "http" | "ws") && !is_loopback(url)
}

/// `localhost` or a loopback address: traffic that never leaves this computer.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// One URL path segment, percent-encoded: ids come from the backend and are not trusted to be
/// path-safe.
fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod path_tests {
    use super::{Client, SyncError};

    #[test]
    fn a_malformed_address_is_said_to_be_one_not_an_outage() {
        for bad in [
            "crm.example.com",
            "htp://crm.example.com",
            "https://",
            "ftp://crm",
            "",
        ] {
            let e = Client::new(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(matches!(e, SyncError::BadUrl(_)), "{bad}: {e}");
            assert!(!e.is_transient());
            assert_eq!(e.code(), "backend_url_invalid");
        }
        assert!(Client::new(" https://crm.example.com/ ").is_ok());
        // Unencrypted beyond this computer: refused unless policy allows it.
        let e = Client::new("http://crm.example.com").err().unwrap();
        assert_eq!(e.code(), "backend_untrusted", "{e}");
        assert!(!e.is_transient());
        assert!(Client::with_policy("http://crm.example.com", true).is_ok());
        for local in [
            "http://127.0.0.1:8080",
            "http://localhost:9",
            "http://[::1]:9",
        ] {
            assert!(Client::new(local).is_ok(), "{local}");
        }
        assert_eq!(
            Client::new("http://127.0.0.1:8080/").unwrap().base_url(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn the_socket_address_must_be_the_backends_own_and_encrypted() {
        let c = Client::new("https://crm.example.com").unwrap();
        assert_eq!(
            c.checked_ws_url("wss://crm.example.com/ws/agent").unwrap(),
            "wss://crm.example.com/ws/agent"
        );
        for bad in [
            "wss://elsewhere.example.net/ws/agent",
            "ws://crm.example.com/ws/agent",
            "https://crm.example.com/ws/agent",
            "not a url",
        ] {
            let e = c.checked_ws_url(bad).unwrap_err();
            assert_eq!(e.code(), "backend_untrusted", "{bad}: {e}");
        }
        let local = Client::new("http://127.0.0.1:8080").unwrap();
        assert!(local.checked_ws_url("ws://127.0.0.1:8080/ws/agent").is_ok());
        assert_eq!(local.checked_ws_url("").unwrap(), "");
    }

    #[test]
    fn ids_cannot_escape_their_segment() {
        assert_eq!(super::path_segment("1725446451.35"), "1725446451.35");
        assert_eq!(super::path_segment("../x y"), "..%2Fx%20y");
    }
}
