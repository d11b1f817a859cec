//! REST routes, the `{code, message}` error model and the idempotency rule.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path as UrlPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::config::{Options, SipSettings};
use crate::db::{self, AgentRow};
use crate::faults::{FaultSettings, Faults};
use crate::login_guard::LoginGuard;
use crate::pbx::{Pbx, PbxSettings, TransferBody};
use crate::ws::{self, Hub};

const TOKEN_TTL_MS: i64 = 8 * 3600 * 1000;
const STATUSES: [&str; 5] = ["ringing", "talking", "answered", "missed", "no_answered"];

#[derive(Clone)]
pub struct AppState {
    db: Arc<Mutex<Connection>>,
    pub faults: Faults,
    pub hub: Hub,
    counter: Arc<AtomicU64>,
    /// The queue calls on the modelled PBX and their transfers.
    pub pbx: Pbx,
    /// Handed out in the login response's `sip` object.
    sip: Arc<SipSettings>,
    /// The login response's `ws_url`, fixed at start (see [`Options::public_url`]).
    ws_url: Arc<String>,
    logins: Arc<Mutex<LoginGuard>>,
    /// The SHA-256 of the admin token; `None`: no admin routes.
    admin: Option<Arc<[u8; 32]>>,
    hash_cost: db::HashCost,
}

impl AppState {
    /// The state of a server listening on `listening`.
    pub fn open_with(
        path: &Path,
        options: &Options,
        listening: std::net::SocketAddr,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            db: Arc::new(Mutex::new(db::open(
                path,
                &options.agents,
                options.hash_cost,
            )?)),
            faults: Faults::default(),
            hub: Hub::default(),
            counter: Arc::new(AtomicU64::new(0x23)),
            pbx: Pbx::default(),
            sip: Arc::new(options.sip.clone()),
            ws_url: Arc::new(options.ws_url(listening)),
            logins: Arc::default(),
            admin: options
                .admin_token
                .as_deref()
                .map(|t| Arc::new(Sha256::digest(t.as_bytes()).into())),
            hash_cost: options.hash_cost,
        })
    }

    /// The failed sign-ins, held only for one step: never across the password hash.
    fn logins(&self) -> Result<std::sync::MutexGuard<'_, LoginGuard>, ApiError> {
        self.logins
            .lock()
            .map_err(|_| ApiError::internal("login guard poisoned"))
    }

    pub(crate) fn with_db<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, ApiError> {
        let conn = self
            .db
            .lock()
            .map_err(|_| ApiError::internal("database lock poisoned"))?;
        f(&conn).map_err(|e| {
            warn!(error = %e, "database error");
            ApiError::internal("database error")
        })
    }
}

/// Every error body: `{"code": "...", "message": "..."}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    fn internal(message: &str) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
    pub(crate) fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing, unknown or expired token",
        )
    }
    fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"code": self.code, "message": self.message})),
        )
            .into_response()
    }
}

type ApiResult = Result<Response, ApiError>;

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// 400 for bytes that are not JSON, 422 for JSON of the wrong shape.
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("body is not JSON: {e}"),
        )
    })?;
    serde_json::from_value(value).map_err(|e| ApiError::invalid(e.to_string()))
}

/// The request's bearer token: from the `Authorization` header only, never the URL (a token
/// in the URL ends up in proxies' and servers' access logs).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// The agent whose token the request carries; 401 without a valid one.
pub(crate) fn agent(state: &AppState, headers: &HeaderMap) -> Result<AgentRow, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    state
        .with_db(|c| db::agent_by_token(c, token, now_ms()))?
        .ok_or_else(ApiError::unauthorized)
}

/// A write's Idempotency-Key, bound to what it was sent with: the route (method, path with
/// its ids) and the body's bytes. The same key for another request is a client bug (or a
/// replay of someone's key), never a reason to answer with another request's result.
struct IdemKey {
    key: String,
    fingerprint: String,
}

fn idem_key(headers: &HeaderMap, route: &str, body: &[u8]) -> Result<IdemKey, ApiError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "idempotency_key_required",
                "writes need an Idempotency-Key header",
            )
        })?;
    let fingerprint = db::sha256_hex(&[route.as_bytes(), &[0], body]);
    Ok(IdemKey { key, fingerprint })
}

/// Runs a write once per (agent, key): the same key with the same request returns the first
/// result unchanged; with another request it is refused (422). The write and its key commit
/// together or not at all.
fn idempotent(
    state: &AppState,
    agent_id: &str,
    idem: &IdemKey,
    write: impl FnOnce(&Connection) -> Result<(StatusCode, Value), ApiError>,
) -> ApiResult {
    let conn = state
        .db
        .lock()
        .map_err(|_| ApiError::internal("database lock poisoned"))?;
    let db_err = |e: rusqlite::Error| {
        warn!(error = %e, "database error");
        ApiError::internal("database error")
    };
    if let Some((status, body, fingerprint)) = conn
        .query_row(
            "SELECT status, body, fingerprint FROM idempotency WHERE agent_id = ?1 AND key = ?2",
            params![agent_id, idem.key],
            |r| {
                Ok((
                    r.get::<_, u16>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )
        .optional()
        .map_err(db_err)?
    {
        // Rows written before keys were bound have no fingerprint: replayed as they were.
        if !fingerprint.is_empty() && fingerprint != idem.fingerprint {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was already used for another request",
            ));
        }
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        return Ok((status, [("idempotent-replay", "true")], Json(body)).into_response());
    }
    conn.execute_batch("BEGIN IMMEDIATE").map_err(db_err)?;
    let committed = write(&conn).and_then(|(status, body)| {
        conn.execute(
            "INSERT INTO idempotency (key, agent_id, status, body, fingerprint)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                idem.key,
                agent_id,
                status.as_u16(),
                body.to_string(),
                idem.fingerprint
            ],
        )
        .map_err(db_err)?;
        conn.execute_batch("COMMIT").map_err(db_err)?;
        Ok((status, body))
    });
    match committed {
        Ok((status, body)) => Ok((status, Json(body)).into_response()),
        Err(e) => {
            // Whatever failed (the write, its key, the commit), nothing of it stays.
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

async fn faults_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/api/") {
        let latency = state.faults.latency();
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        if state.faults.should_fail() {
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "injected fault",
            )
            .into_response();
        }
        if state.faults.should_rate_limit() {
            let mut r = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "slow down")
                .into_response();
            r.headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
            return r;
        }
        let resp = next.run(req).await;
        if !resp.status().is_success() {
            return resp;
        }
        let garble = state.faults.should_garble();
        let slow = state.faults.slow_body();
        if !garble && slow == 0 {
            return resp;
        }
        let (parts, body) = resp.into_parts();
        let bytes = if garble {
            Bytes::from_static(b"<html>502 Bad Gateway</html>")
        } else {
            axum::body::to_bytes(body, 16 << 20)
                .await
                .unwrap_or_default()
        };
        // Headers now, the body only after the delay: what a congested proxy does.
        let body = axum::body::Body::from_stream(futures_util::stream::once(async move {
            tokio::time::sleep(Duration::from_millis(slow)).await;
            Ok::<_, std::convert::Infallible>(bytes)
        }));
        return Response::from_parts(parts, body);
    }
    next.run(req).await
}

/// The `/admin` routes: absent without an admin token, and only for requests that carry it.
async fn admin_gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(expected) = &state.admin else {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route").into_response();
    };
    let given = bearer(req.headers()).unwrap_or("");
    // Digests compared, not the tokens: the time taken says nothing of how much matched.
    let given: [u8; 32] = Sha256::digest(given.as_bytes()).into();
    if given != **expected {
        warn!("admin route refused: wrong or missing admin token");
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "admin_unauthorized",
            "the admin routes need the admin token",
        )
        .into_response();
    }
    next.run(req).await
}

pub fn router(state: AppState) -> Router {
    let admin = Router::new()
        .route("/admin/expire-tokens", post(expire_tokens))
        .route("/admin/queue-call", post(queue_call))
        .route(
            "/admin/queue-call/{yeastar_call_id}/clear",
            post(clear_queue_call),
        )
        .route("/admin/agent-status", put(admin_agent_status))
        .route("/admin/agent-info", get(admin_agent_info))
        .route("/admin/transfers", get(admin_transfers))
        .route("/admin/pbx", put(set_pbx).get(get_pbx))
        .route("/admin/pbx/calls", get(admin_pbx_calls))
        .route("/admin/faults", put(set_faults).get(get_faults))
        .route_layer(middleware::from_fn_with_state(state.clone(), admin_gate));
    Router::new()
        .route("/api/health", get(|| async { Json(json!({"ok": true})) }))
        .route("/api/auth/login", post(login))
        .route("/api/auth/refresh", post(refresh))
        .route("/api/calls/{yeastar_call_id}/transfer", post(transfer))
        .route("/ws/agent", get(ws::ws_agent))
        .merge(admin)
        .route("/api/agent/status", get(get_status).put(put_status))
        .route("/api/agent/pause-reasons", get(pause_reasons))
        .route("/api/contacts/resolve", post(resolve_contact))
        .route("/api/contacts", get(list_contacts))
        .route("/api/call-dispositions", get(dispositions))
        .route("/api/call-logs", post(create_call_log).get(list_call_logs))
        .route("/api/call-logs/{id}", patch(update_call_log))
        .route("/api/call-drafts", get(list_drafts))
        .route("/api/call-drafts/{call_log_id}", put(put_draft))
        .fallback(|method: Method| async move {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no such route ({method})"),
            )
        })
        .layer(middleware::from_fn_with_state(state.clone(), faults_layer))
        .with_state(state)
}

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(crate::PeerAddr(peer)): ConnectInfo<crate::PeerAddr>,
    body: Bytes,
) -> ApiResult {
    let req: Login = parse(&body)?;
    let now = Instant::now();
    if let Some(wait) = state.logins()?.wait(&req.username, peer.ip(), now) {
        warn!(address = %peer.ip(), "sign-in refused: too many failed attempts");
        let secs = wait.as_secs().max(1);
        let mut r = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!("too many failed sign-ins; try again in {secs} s"),
        )
        .into_response();
        if let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert("retry-after", v);
        }
        return Ok(r);
    }
    let cost = state.hash_cost;
    let found = state.with_db(|c| db::agent_by_login(c, &req.username, &req.password, cost))?;
    let Some(agent) = found else {
        state.logins()?.failed(&req.username, peer.ip(), now);
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "wrong username or password",
        ));
    };
    state.logins()?.succeeded(&req.username);
    info!(agent = %agent.id, "login");
    session_response(&state, agent)
}

/// A new access token (and a new refresh token) for `agent`, in the login response shape.
fn session_response(state: &AppState, agent: AgentRow) -> ApiResult {
    let token = uuid::Uuid::new_v4().simple().to_string();
    let refresh = uuid::Uuid::new_v4().simple().to_string();
    let expires = now_ms() + TOKEN_TTL_MS;
    state.with_db(|c| {
        c.execute(
            "INSERT INTO tokens (token, agent_id, expires_at_ms) VALUES (?1, ?2, ?3)",
            params![db::token_hash(&token), agent.id, expires],
        )?;
        c.execute(
            "INSERT INTO refresh_tokens (token, agent_id) VALUES (?1, ?2)",
            params![db::token_hash(&refresh), agent.id],
        )
    })?;
    Ok(Json(json!({
        "token": token,
        "refresh_token": refresh,
        "expires_at_ms": expires,
        "agent": agent,
        "sip": {
            "server": state.sip.server,
            "websocket_url": state.sip.websocket_url,
            "username": agent.sip_username,
            "password": agent.sip_password,
            "domain": state.sip.domain,
        },
        "ws_url": state.ws_url.as_str(),
    }))
    .into_response())
}

async fn get_status(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let a = agent(&state, &headers)?;
    Ok(Json(json!({"state": a.state, "reason": a.reason})).into_response())
}

#[derive(Deserialize)]
struct StatusChange {
    state: String,
    #[serde(default)]
    reason: Option<String>,
}

async fn put_status(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let a = agent(&state, &headers)?;
    let key = idem_key(&headers, "PUT /api/agent/status", &body)?;
    let req: StatusChange = parse(&body)?;
    if !["available", "paused", "logged_out"].contains(&req.state.as_str()) {
        return Err(ApiError::invalid(format!("unknown state `{}`", req.state)));
    }
    if req.state == "paused" && req.reason.is_none() {
        return Err(ApiError::invalid("a pause needs a reason"));
    }
    let reason = normalise_reason(&state, req.reason.as_deref())?;
    let result = idempotent(&state, &a.id, &key, |c| {
        c.execute(
            "UPDATE agents SET state = ?1, reason = ?2 WHERE id = ?3",
            params![req.state, reason, a.id],
        )
        .map_err(|_| ApiError::internal("database error"))?;
        Ok((
            StatusCode::OK,
            json!({"state": req.state, "reason": reason}),
        ))
    })?;
    state.hub.push(
        &a.id,
        json!({"type": "agent_status", "state": req.state, "reason": reason}),
    );
    Ok(result)
}

/// A pause reason given by code (`*01`) or by text (`Lunch`) is stored as its text.
fn normalise_reason(state: &AppState, reason: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(r) = reason.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let known: Option<String> = state.with_db(|c| {
        c.query_row(
            "SELECT reason FROM pause_reasons WHERE code = ?1 OR reason = ?1",
            [r],
            |row| row.get(0),
        )
        .optional()
    })?;
    known
        .map(Some)
        .ok_or_else(|| ApiError::invalid(format!("unknown pause reason `{r}`")))
}

#[derive(Deserialize)]
struct Refresh {
    refresh_token: String,
}

async fn refresh(State(state): State<AppState>, body: Bytes) -> ApiResult {
    let req: Refresh = parse(&body)?;
    let agent_id: Option<String> = state.with_db(|c| {
        let id = c
            .query_row(
                "SELECT agent_id FROM refresh_tokens WHERE token = ?1",
                [db::token_hash(&req.refresh_token)],
                |r| r.get(0),
            )
            .optional()?;
        // Refresh tokens are single-use: a stolen one stops working once used.
        c.execute(
            "DELETE FROM refresh_tokens WHERE token = ?1",
            [db::token_hash(&req.refresh_token)],
        )?;
        Ok(id)
    })?;
    let agent = agent_id
        .and_then(|id| state.with_db(|c| db::agent_by_id(c, &id)).ok().flatten())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_refresh_token",
                "refresh token unknown or used",
            )
        })?;
    session_response(&state, agent)
}

/// Models Yeastar's `call/transfer` (blind, or attended with a follow-up `operate`) against
/// the modelled PBX: `202` once the PBX took the step, the outcome on the agent's sockets.
/// Every request is kept in the transfer log (`GET /admin/transfers`).
async fn transfer(
    State(state): State<AppState>,
    UrlPath(yeastar_call_id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let a = agent(&state, &headers)?;
    let key = idem_key(
        &headers,
        &format!("POST /api/calls/{yeastar_call_id}/transfer"),
        &body,
    )?;
    // The request as the log shows it; `null` when the body is not JSON.
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let result = run_transfer(&state, &a.id, &key, &yeastar_call_id, &body, &request);
    // Accepted requests were logged by the PBX model, with their outcome to come.
    let logged = match &result {
        Ok(r) if r.headers().contains_key("idempotent-replay") => Some((r.status(), None, true)),
        Ok(_) => None,
        Err(e) => Some((e.status, Some(e.code), false)),
    };
    if let Some((status, code, replay)) = logged {
        state.pbx.record(
            &a.id,
            &yeastar_call_id,
            request,
            status.as_u16(),
            code,
            replay,
        );
    }
    result
}

fn run_transfer(
    state: &AppState,
    agent_id: &str,
    key: &IdemKey,
    yeastar_call_id: &str,
    body: &Bytes,
    request: &Value,
) -> ApiResult {
    let req = parse::<TransferBody>(body)?
        .validate()
        .map_err(ApiError::invalid)?;
    idempotent(state, agent_id, key, |_| {
        state
            .pbx
            .begin(&state.hub, agent_id, yeastar_call_id, &req, request.clone())
            .map(|accepted| (StatusCode::ACCEPTED, accepted))
    })
}

async fn expire_tokens(State(state): State<AppState>) -> ApiResult {
    let n = state.with_db(|c| c.execute("UPDATE tokens SET expires_at_ms = 0", []))?;
    warn!(tokens = n, "all access tokens expired (admin)");
    Ok(Json(json!({"expired": n})).into_response())
}

#[derive(Deserialize)]
struct QueueCall {
    caller: String,
    #[serde(default)]
    queue_number: Option<String>,
    #[serde(default)]
    agent_extension: Option<String>,
}

/// Pretends a queue call for `caller` reached the agent: what a real backend derives from
/// Yeastar's 30011 call-status events.
async fn queue_call(State(state): State<AppState>, body: Bytes) -> ApiResult {
    let req: QueueCall = parse(&body)?;
    let ext = req.agent_extension.unwrap_or_else(|| "1002".into());
    let agent = state
        .with_db(|c| db::agent_by_extension(c, &ext))?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no agent with extension {ext}"),
            )
        })?;
    // A queue offers its calls to available agents only: a paused or logged-out agent's
    // phone does not ring for the queue (Yeastar skips them, and so does this backend).
    if agent.state != "available" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "agent_not_available",
            format!(
                "agent {ext} is {}{}: queue calls are offered to available agents only",
                agent.state,
                agent
                    .reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
        ));
    }
    let n = state.counter.fetch_add(1, Ordering::Relaxed);
    let queue_number = req.queue_number.unwrap_or_else(|| "6402".into());
    let queue_name = match queue_number.as_str() {
        "6402" => "Support",
        "6403" => "Sales",
        _ => "Queue",
    };
    let yeastar_call_id = format!("{}.{}", now_ms() / 1000, n);
    let channel_id = format!("PJSIP/{ext}-{n:08x}");
    let frame = json!({
        "type": "call_queue_info",
        "yeastar_call_id": yeastar_call_id,
        "queue_name": queue_name,
        "queue_number": queue_number,
        "server_call_log_token": uuid::Uuid::new_v4().simple().to_string(),
        "channel_id": channel_id,
        "caller": req.caller,
    });
    state.pbx.add_call(&yeastar_call_id, &agent.id, &channel_id);
    state.hub.push(&agent.id, frame.clone());
    Ok(Json(frame).into_response())
}

async fn clear_queue_call(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult {
    // A transfer under way fails with `call_gone` before `call_queue_cleared` is pushed.
    state.pbx.clear_call(&state.hub, &id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no queue call {id}"),
        )
    })?;
    Ok(Json(json!({"cleared": id})).into_response())
}

#[derive(Deserialize)]
struct AdminStatus {
    extension: String,
    state: String,
    #[serde(default)]
    reason: Option<String>,
}

/// A supervisor (or the PBX) changes an agent's status: the agent's sockets hear of it.
async fn admin_agent_status(State(state): State<AppState>, body: Bytes) -> ApiResult {
    let req: AdminStatus = parse(&body)?;
    if !["available", "paused", "logged_out"].contains(&req.state.as_str()) {
        return Err(ApiError::invalid(format!("unknown state `{}`", req.state)));
    }
    let reason = normalise_reason(&state, req.reason.as_deref())?;
    let agent = state
        .with_db(|c| db::agent_by_extension(c, &req.extension))?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such extension"))?;
    state.with_db(|c| {
        c.execute(
            "UPDATE agents SET state = ?1, reason = ?2 WHERE id = ?3",
            params![req.state, reason, agent.id],
        )
    })?;
    let frame = json!({"type": "agent_status", "state": req.state, "reason": reason});
    state.hub.push(&agent.id, frame.clone());
    Ok(Json(frame).into_response())
}

async fn admin_agent_info(State(state): State<AppState>) -> ApiResult {
    Ok(Json(state.hub.agent_info()).into_response())
}

async fn admin_transfers(State(state): State<AppState>) -> ApiResult {
    Ok(Json(state.pbx.log_json()).into_response())
}

async fn set_pbx(State(state): State<AppState>, body: Bytes) -> ApiResult {
    let settings: PbxSettings = parse(&body)?;
    settings.validate().map_err(ApiError::invalid)?;
    warn!(?settings, "PBX behaviour changed");
    state.pbx.set_settings(settings);
    Ok(Json(state.pbx.settings()).into_response())
}

async fn get_pbx(State(state): State<AppState>) -> ApiResult {
    Ok(Json(state.pbx.settings()).into_response())
}

async fn admin_pbx_calls(State(state): State<AppState>) -> ApiResult {
    Ok(Json(state.pbx.calls_json()).into_response())
}

async fn pause_reasons(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    agent(&state, &headers)?;
    let reasons = state.with_db(|c| {
        db::code_list(
            c,
            "SELECT code, reason FROM pause_reasons ORDER BY code",
            "reason",
        )
    })?;
    Ok(Json(reasons).into_response())
}

async fn list_contacts(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> ApiResult {
    agent(&state, &headers)?;
    let query = q.get("q").map(String::as_str).unwrap_or("");
    let contacts = state.with_db(|c| db::contacts(c, query))?;
    Ok(Json(contacts).into_response())
}

async fn dispositions(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    agent(&state, &headers)?;
    let list = state.with_db(|c| {
        db::code_list(
            c,
            "SELECT code, label FROM dispositions ORDER BY position",
            "label",
        )
    })?;
    Ok(Json(list).into_response())
}

#[derive(Deserialize)]
struct Resolve {
    phone: String,
}

async fn resolve_contact(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let a = agent(&state, &headers)?;
    let req: Resolve = parse(&body)?;
    let phone = req.phone.trim().to_string();
    if phone.is_empty() || phone.len() > 64 {
        return Err(ApiError::invalid("phone must be 1 to 64 characters"));
    }
    // Resolving is naturally idempotent (one contact per phone), so no key is required.
    let (contact, created) = state.with_db(|c| db::resolve_contact(c, &phone, now_ms()))?;
    info!(agent = %a.id, contact = %contact.id, created, "contact resolved");
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({"contact": contact, "created": created})),
    )
        .into_response())
}

/// The fields the backend insists on; everything else in the body is stored as sent.
#[derive(Deserialize)]
struct CallLogBody {
    id: String,
    call_id: String,
    status: String,
    talk_seconds: u64,
    direction: String,
}

fn validate_log(body: &Bytes) -> Result<(CallLogBody, Value), ApiError> {
    let log: CallLogBody = parse(body)?;
    let value: Value = parse(body)?;
    if log.id.is_empty() || log.call_id.is_empty() {
        return Err(ApiError::invalid("id and call_id are required"));
    }
    if !STATUSES.contains(&log.status.as_str()) {
        return Err(ApiError::invalid(format!(
            "unknown status `{}`",
            log.status
        )));
    }
    if !["inbound", "outbound"].contains(&log.direction.as_str()) {
        return Err(ApiError::invalid(format!(
            "unknown direction `{}`",
            log.direction
        )));
    }
    Ok((log, value))
}

async fn create_call_log(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let a = agent(&state, &headers)?;
    let key = idem_key(&headers, "POST /api/call-logs", &body)?;
    let (log, value) = validate_log(&body)?;
    idempotent(&state, &a.id, &key, |c| {
        let now = now_ms();
        let exists: bool = c
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM call_logs WHERE id = ?1)",
                [&log.id],
                |r| r.get(0),
            )
            .map_err(|_| ApiError::internal("database error"))?;
        if exists {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "exists",
                format!("call log {} exists", log.id),
            ));
        }
        c.execute(
            "INSERT INTO call_logs (id, agent_id, call_id, status, talk_seconds, body, created_at_ms, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            params![log.id, a.id, log.call_id, log.status, log.talk_seconds, value.to_string(), now],
        )
        .map_err(|_| ApiError::internal("database error"))?;
        info!(agent = %a.id, call_log = %log.id, status = %log.status, "call log created");
        Ok((StatusCode::CREATED, value.clone()))
    })
}

async fn update_call_log(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let a = agent(&state, &headers)?;
    let key = idem_key(&headers, &format!("PATCH /api/call-logs/{id}"), &body)?;
    let (log, value) = validate_log(&body)?;
    if log.id != id {
        return Err(ApiError::invalid("body id differs from the URL"));
    }
    idempotent(&state, &a.id, &key, |c| {
        let n = c
            .execute(
                "UPDATE call_logs SET status = ?1, talk_seconds = ?2, body = ?3, updated_at_ms = ?4,
                     writes = writes + 1
                 WHERE id = ?5 AND agent_id = ?6",
                params![log.status, log.talk_seconds, value.to_string(), now_ms(), id, a.id],
            )
            .map_err(|_| ApiError::internal("database error"))?;
        if n == 0 {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no call log {id}"),
            ));
        }
        Ok((StatusCode::OK, value.clone()))
    })
}

async fn list_call_logs(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let a = agent(&state, &headers)?;
    let logs = state.with_db(|c| db::call_logs(c, &a.id))?;
    Ok(Json(logs).into_response())
}

#[derive(Deserialize)]
struct DraftBody {
    call_log_id: String,
    #[serde(default)]
    notes: String,
}

async fn put_draft(
    State(state): State<AppState>,
    UrlPath(call_log_id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let a = agent(&state, &headers)?;
    let key = idem_key(
        &headers,
        &format!("PUT /api/call-drafts/{call_log_id}"),
        &body,
    )?;
    let draft: DraftBody = parse(&body)?;
    let value: Value = parse(&body)?;
    if draft.call_log_id != call_log_id {
        return Err(ApiError::invalid("body call_log_id differs from the URL"));
    }
    let limit = state
        .faults
        .notes_limit(ringside_core::limits::NOTES_MAX_BYTES);
    if draft.notes.len() > limit {
        return Err(ApiError::invalid(
            if limit == ringside_core::limits::NOTES_MAX_BYTES {
                "notes are limited to 64 KiB".to_string()
            } else {
                format!("notes are limited to {limit} bytes")
            },
        ));
    }
    idempotent(&state, &a.id, &key, |c| {
        let known: bool = c
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM call_logs WHERE id = ?1 AND agent_id = ?2)",
                params![call_log_id, a.id],
                |r| r.get(0),
            )
            .map_err(|_| ApiError::internal("database error"))?;
        if !known {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no call log {call_log_id}"),
            ));
        }
        c.execute(
            "INSERT INTO call_drafts (call_log_id, agent_id, body, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(call_log_id) DO UPDATE SET body = excluded.body,
                 updated_at_ms = excluded.updated_at_ms, writes = writes + 1",
            params![call_log_id, a.id, value.to_string(), now_ms()],
        )
        .map_err(|_| ApiError::internal("database error"))?;
        Ok((StatusCode::OK, value.clone()))
    })
}

async fn list_drafts(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let a = agent(&state, &headers)?;
    let drafts = state.with_db(|c| db::call_drafts(c, &a.id))?;
    Ok(Json(drafts).into_response())
}

async fn set_faults(State(state): State<AppState>, body: Bytes) -> ApiResult {
    let settings: FaultSettings = parse(&body)?;
    warn!(?settings, "fault switches changed");
    state.faults.set(settings);
    Ok(Json(state.faults.get()).into_response())
}

async fn get_faults(State(state): State<AppState>) -> ApiResult {
    Ok(Json(state.faults.get()).into_response())
}
