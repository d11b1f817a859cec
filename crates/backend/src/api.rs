//! REST routes, the `{code, message}` error model and the idempotency rule.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::{info, warn};

use crate::db::{self, AgentRow};
use crate::faults::{FaultSettings, Faults};

const TOKEN_TTL_MS: i64 = 8 * 3600 * 1000;
const STATUSES: [&str; 5] = ["ringing", "talking", "answered", "missed", "no_answered"];

#[derive(Clone)]
pub struct AppState {
    db: Arc<Mutex<Connection>>,
    pub faults: Faults,
}

impl AppState {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            db: Arc::new(Mutex::new(db::open(path)?)),
            faults: Faults::default(),
        })
    }

    fn with_db<T>(
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
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    fn internal(message: &str) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
    fn unauthorized() -> Self {
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

fn now_ms() -> i64 {
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

fn agent(state: &AppState, headers: &HeaderMap) -> Result<AgentRow, ApiError> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(ApiError::unauthorized)?
        .to_string();
    state
        .with_db(|c| db::agent_by_token(c, &token, now_ms()))?
        .ok_or_else(ApiError::unauthorized)
}

fn idem_key(headers: &HeaderMap) -> Result<String, ApiError> {
    headers
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
        })
}

/// Runs a write once per (agent, key): a repeated key returns the first result unchanged.
fn idempotent(
    state: &AppState,
    agent_id: &str,
    key: &str,
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
    if let Some((status, body)) = conn
        .query_row(
            "SELECT status, body FROM idempotency WHERE agent_id = ?1 AND key = ?2",
            params![agent_id, key],
            |r| Ok((r.get::<_, u16>(0)?, r.get::<_, String>(1)?)),
        )
        .optional()
        .map_err(db_err)?
    {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        return Ok((status, [("idempotent-replay", "true")], Json(body)).into_response());
    }
    conn.execute_batch("BEGIN IMMEDIATE").map_err(db_err)?;
    let result = write(&conn);
    match result {
        Ok((status, body)) => {
            conn.execute(
                "INSERT INTO idempotency (key, agent_id, status, body) VALUES (?1, ?2, ?3, ?4)",
                params![key, agent_id, status.as_u16(), body.to_string()],
            )
            .map_err(db_err)?;
            conn.execute_batch("COMMIT").map_err(db_err)?;
            Ok((status, Json(body)).into_response())
        }
        Err(e) => {
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
    }
    next.run(req).await
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/health", get(|| async { Json(json!({"ok": true})) }))
        .route("/api/auth/login", post(login))
        .route("/api/agent/status", get(get_status).put(put_status))
        .route("/api/agent/pause-reasons", get(pause_reasons))
        .route("/api/contacts/resolve", post(resolve_contact))
        .route("/api/call-logs", post(create_call_log).get(list_call_logs))
        .route("/api/call-logs/{id}", patch(update_call_log))
        .route("/api/call-drafts", get(list_drafts))
        .route("/api/call-drafts/{call_log_id}", put(put_draft))
        .route("/admin/faults", put(set_faults).get(get_faults))
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

async fn login(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let req: Login = parse(&body)?;
    let agent = state
        .with_db(|c| db::agent_by_login(c, &req.username, &req.password))?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                "wrong username or password",
            )
        })?;
    let token = uuid::Uuid::new_v4().simple().to_string();
    let expires = now_ms() + TOKEN_TTL_MS;
    state.with_db(|c| {
        c.execute(
            "INSERT INTO tokens (token, agent_id, expires_at_ms) VALUES (?1, ?2, ?3)",
            params![token, agent.id, expires],
        )
    })?;
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string();
    info!(agent = %agent.id, "login");
    Ok(Json(json!({
        "token": token,
        "expires_at_ms": expires,
        "agent": agent,
        "sip": {
            "server": "pbx.demo.invalid",
            "websocket_url": "wss://pbx.demo.invalid:8089/ws",
            "username": agent.extension_number,
            "password": agent.sip_password,
            "domain": "pbx.demo.invalid",
        },
        "ws_url": format!("ws://{host}/ws/agent"),
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
    let key = idem_key(&headers)?;
    let req: StatusChange = parse(&body)?;
    if !["available", "paused", "logged_out"].contains(&req.state.as_str()) {
        return Err(ApiError::invalid(format!("unknown state `{}`", req.state)));
    }
    if req.state == "paused" && req.reason.is_none() {
        return Err(ApiError::invalid("a pause needs a reason"));
    }
    idempotent(&state, &a.id, &key, |c| {
        c.execute(
            "UPDATE agents SET state = ?1, reason = ?2 WHERE id = ?3",
            params![req.state, req.reason, a.id],
        )
        .map_err(|_| ApiError::internal("database error"))?;
        Ok((
            StatusCode::OK,
            json!({"state": req.state, "reason": req.reason}),
        ))
    })
}

async fn pause_reasons(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    agent(&state, &headers)?;
    let reasons = state.with_db(|c| {
        let mut stmt = c.prepare("SELECT code, reason FROM pause_reasons ORDER BY code")?;
        let rows = stmt.query_map([], |r| {
            Ok(json!({"code": r.get::<_, String>(0)?, "reason": r.get::<_, String>(1)?}))
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
    })?;
    Ok(Json(reasons).into_response())
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
    let key = idem_key(&headers)?;
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
    let key = idem_key(&headers)?;
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
    let key = idem_key(&headers)?;
    let draft: DraftBody = parse(&body)?;
    let value: Value = parse(&body)?;
    if draft.call_log_id != call_log_id {
        return Err(ApiError::invalid("body call_log_id differs from the URL"));
    }
    if draft.notes.len() > 64 * 1024 {
        return Err(ApiError::invalid("notes are limited to 64 KiB"));
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
