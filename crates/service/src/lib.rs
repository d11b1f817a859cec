//! # Ringside service
//!
//! The core process with no UI toolkit in it: it owns the engine, the store, the journal and
//! the backend client, carries out the engine's effects, and pushes snapshots out through an
//! [`Outlet`] (the Tauri shell in the app, a recorder in tests).
//!
//! ## Layout
//! - [`config`]: layered settings (defaults, IT's locked file, the user's file, environment).
//! - [`Service`] (this file): inputs in, effects out, in the order the engine produced them.

pub mod config;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ringside_core::journal::{JournalLine, INTENT_KIND};
use ringside_core::{
    AgentStatus, ContactView, Disposition, DraftView, HistoryEntry, Language, PauseReason,
    Preferences, SessionState, SessionView, SettingsView, Theme,
};
use ringside_core::{
    CallDraft, Clock, Effect, Engine, Input, Intent, IpcError, PbxAnswer, PbxTransferRequest,
    PbxTransferState, RawPhoneEvent, Secret, Snapshot, SyncView,
};
use ringside_store::{JournalWriter, Store};
use ringside_sync::{AgentSocket, Client, ServerFrame, SocketEvent, SyncError};
use serde_json::{json, Value};
use tokio::sync::Notify;
use tracing::{debug, error, info, info_span, warn, Instrument};

pub use config::{Config, Mode, WebphoneSource};

/// Where the service's output goes: the UI's snapshot and the webphone bridge's commands.
pub trait Outlet: Send + Sync + 'static {
    fn snapshot(&self, snapshot: &Snapshot);
    fn phone_command(&self, command: &Value);
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Store(#[from] ringside_store::StoreError),
    #[error(transparent)]
    Sync(#[from] ringside_sync::SyncError),
    #[error("the demo backend could not start: {0}")]
    DemoBackend(String),
}

impl ServiceError {
    pub fn to_ipc(&self) -> IpcError {
        let code = match self {
            Self::Config(_) => "config",
            Self::Store(e) => e.code(),
            Self::Sync(e) => e.code(),
            Self::DemoBackend(_) => "demo_backend",
        };
        IpcError::new(code, self.to_string())
    }
}

struct Inner {
    engine: Engine,
    journal: Option<JournalWriter>,
    extension: String,
}

/// The running core. Cheap to share (`Arc`); every method is safe to call from any thread.
pub struct Service {
    inner: Mutex<Inner>,
    store: Arc<Mutex<Store>>,
    client: Arc<Client>,
    outlet: Arc<dyn Outlet>,
    sync_wake: Notify,
    sync_view: Mutex<SyncView>,
    notice: Mutex<Option<IpcError>>,
    webrtc_missing: std::sync::atomic::AtomicBool,
    started: Instant,
    demo: bool,
    /// Tauri calls commands on its own threads, outside any runtime: background work is
    /// spawned on the runtime the service started on.
    runtime: tokio::runtime::Handle,
    agent_socket: Mutex<Option<AgentSocket>>,
    ws_url: Mutex<String>,
    pause_reasons: Mutex<Vec<PauseReason>>,
    /// Demo mode only: the demo credentials, to sign in again when a refresh is refused.
    demo_login: Option<(String, Secret)>,
    session: Mutex<SessionView>,
    preferences: Mutex<Preferences>,
    dispositions: Mutex<Vec<Disposition>>,
    contacts: Mutex<Vec<ContactView>>,
    config: Config,
    pub profile_dir: PathBuf,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("demo", &self.demo).finish()
    }
}

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not take the agent's phone down with it: keep using the data.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A call still ringing or talking in the store belongs to a run that crashed or was killed:
/// the webphone that carried it is gone, so the call is over. It gets its terminal status
/// (by the same rule as any call) and the reason says what happened, so that it still reaches
/// the backend instead of staying "ringing" forever.
fn recover_interrupted_calls(store: &mut Store, now_ms: i64) {
    let unfinished = match store.unfinished_call_logs() {
        Ok(u) => u,
        Err(e) => {
            error!(error = %e, "unfinished calls unreadable");
            return;
        }
    };
    for mut log in unfinished {
        let connected = log.status == ringside_core::CallStatus::Talking;
        log.status = ringside_core::CallStatus::ended(log.direction, connected);
        log.ended_at_ms = Some(now_ms);
        log.end_reason = Some("interrupted: Ringside stopped during the call".into());
        warn!(call_id = %log.call_id, status = log.status.as_str(), "call interrupted by a restart closed");
        if let Err(e) = store.save_call_log(&log, ringside_core::WriteOp::Update, now_ms) {
            error!(error = %e, "interrupted call not closed");
        }
    }
}

impl Service {
    /// Opens the profile, starts the backend link (and in demo mode the backend itself), and
    /// signs in. Must run inside a tokio runtime.
    pub async fn start(config: Config, outlet: Arc<dyn Outlet>) -> Result<Arc<Self>, ServiceError> {
        let started = Instant::now();
        let (store, report) = Store::open(&config.profile_dir.join("ringside.db"), wall_ms())?;
        let mut notice = None;
        if let Some(aside) = report.moved_aside {
            notice = Some(IpcError::new(
                "store_recovered",
                format!(
                    "The local database was damaged. It was kept at {} and a new one was started.",
                    aside.display()
                ),
            ));
        }
        if let Some(w) = config.warnings.first() {
            notice.get_or_insert_with(|| IpcError::new("config", w.clone()));
        }
        let journal = match JournalWriter::open(&config.profile_dir.join("journal"), 8 << 20, 10) {
            Ok(j) => Some(j),
            Err(e) => {
                warn!(error = %e, "event journal unavailable");
                None
            }
        };
        let demo = config.mode == Mode::Demo;
        let base_url = match (&config.backend_url, demo) {
            (Some(url), _) => url.clone(),
            (None, true) => {
                let db = config.profile_dir.join("demo-backend.db");
                let embedded = ringside_backend::spawn_embedded(&db)
                    .await
                    .map_err(|e| ServiceError::DemoBackend(e.to_string()))?;
                info!(url = %embedded.base_url(), "demo backend started in-process");
                embedded.base_url()
            }
            (None, false) => return Err(config::ConfigError::NoBackend.into()),
        };
        let mut store = store;
        recover_interrupted_calls(&mut store, wall_ms());
        let remembered_user = if demo {
            "demo".to_string()
        } else {
            store
                .setting("username")
                .ok()
                .flatten()
                .or_else(|| config.username.clone())
                .unwrap_or_default()
        };
        let preferences = Preferences {
            theme: match store.setting("theme").ok().flatten().as_deref() {
                Some("light") => Theme::Light,
                Some("dark") => Theme::Dark,
                _ => Theme::System,
            },
            language: match store.setting("language").ok().flatten().as_deref() {
                Some("fr") => Language::Fr,
                _ => Language::En,
            },
        };
        let client = Arc::new(Client::new(&base_url)?);
        let pending = store.pending_count()?;
        let svc = Arc::new(Self {
            inner: Mutex::new(Inner {
                engine: {
                    let mut engine = Engine::new();
                    engine.set_transfer_route(config.transfer_route);
                    engine.set_registration_timeout_ms(
                        config.registration_timeout_s.saturating_mul(1000),
                    );
                    engine
                },
                journal,
                extension: String::new(),
            }),
            store: Arc::new(Mutex::new(store)),
            client,
            outlet,
            sync_wake: Notify::new(),
            sync_view: Mutex::new(SyncView {
                pending,
                ..SyncView::default()
            }),
            notice: Mutex::new(notice),
            webrtc_missing: std::sync::atomic::AtomicBool::new(false),
            started,
            demo,
            runtime: tokio::runtime::Handle::current(),
            agent_socket: Mutex::new(None),
            ws_url: Mutex::new(String::new()),
            pause_reasons: Mutex::new(Vec::new()),
            session: Mutex::new(SessionView {
                state: SessionState::SignedOut,
                username: remembered_user,
                backend_url: base_url.clone(),
                error: None,
            }),
            preferences: Mutex::new(preferences),
            dispositions: Mutex::new(Vec::new()),
            contacts: Mutex::new(Vec::new()),
            config: config.clone(),
            demo_login: demo.then(|| {
                (
                    "demo".to_string(),
                    Secret(std::env::var("RINGSIDE_PASSWORD").unwrap_or_else(|_| "demo".into())),
                )
            }),
            profile_dir: config.profile_dir.clone(),
        });
        svc.clone().spawn_sync_loop();
        svc.clone().spawn_ticker();
        // Demo mode signs in by itself; live mode waits for the sign-in screen unless an
        // unattended run gives a password in the environment.
        let password = std::env::var("RINGSIDE_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty());
        let username = lock(&svc.session).username.clone();
        match (demo, password) {
            (true, p) => {
                svc.clone()
                    .spawn_sign_in(username, Secret(p.unwrap_or_else(|| "demo".into())));
            }
            (false, Some(p)) if !username.is_empty() => {
                svc.clone().spawn_sign_in(username, Secret(p));
            }
            _ => {}
        }
        Ok(svc)
    }

    pub fn is_demo(&self) -> bool {
        self.demo
    }

    fn clock(&self) -> Clock {
        Clock {
            mono_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            wall_ms: wall_ms(),
        }
    }

    /// Everything that follows a successful sign-in, whoever started it.
    fn on_signed_in(self: &Arc<Self>, session: ringside_sync::Session, password: &Secret) {
        *lock(&self.ws_url) = session.ws_url.clone();
        {
            let mut inner = lock(&self.inner);
            inner.extension = session.agent.extension.clone();
            if let Some(j) = &mut inner.journal {
                j.set_secrets(vec![
                    session.sip.password.0.clone(),
                    session.token.0.clone(),
                    password.0.clone(),
                ]);
            }
        }
        let username = {
            let mut s = lock(&self.session);
            s.state = SessionState::SignedIn;
            s.error = None;
            s.username.clone()
        };
        if let Err(e) = lock(&self.store).set_setting("username", &username) {
            warn!(error = %e, "username not remembered");
        }
        self.set_online(true, None);
        self.clone().spawn_pause_reasons();
        self.clone().spawn_directory();
        self.handle(Input::SessionStarted {
            agent: session.agent,
            sip: Some(session.sip),
        });
        self.sync_wake.notify_one();
    }

    /// Sign-in from the sign-in screen: one attempt, and a plain answer.
    pub async fn sign_in(
        self: &Arc<Self>,
        username: String,
        password: Secret,
    ) -> Result<(), IpcError> {
        let username = username.trim().to_string();
        if username.is_empty() || password.0.is_empty() {
            return Err(IpcError::new(
                "sign_in_incomplete",
                "Enter your username and password.",
            ));
        }
        {
            let mut s = lock(&self.session);
            s.state = SessionState::SigningIn;
            s.username = username.clone();
            s.error = None;
        }
        self.emit();
        match self.client.login(&username, &password).await {
            Ok(session) => {
                self.on_signed_in(session, &password);
                Ok(())
            }
            Err(e) => {
                let err = match &e {
                    ringside_sync::SyncError::Unauthorized
                    | ringside_sync::SyncError::Rejected { status: 401, .. } => {
                        IpcError::new("bad_credentials", "Wrong username or password.")
                    }
                    ringside_sync::SyncError::Offline(_) => IpcError::new(
                        "backend_unreachable",
                        format!(
                            "Cannot reach the backend at {}. Check the network, or ask IT whether the address is right.",
                            self.client.base_url()
                        ),
                    ),
                    other => IpcError::new(other.code(), format!("Sign-in failed: {other}")),
                };
                {
                    let mut s = lock(&self.session);
                    s.state = SessionState::SignedOut;
                    s.error = Some(err.clone());
                }
                self.emit();
                Err(err)
            }
        }
    }

    /// Signs out: the agent leaves the queues (best effort), the webphone stops, the backend
    /// link closes. Unsynced work stays in the outbox for the next sign-in.
    pub async fn sign_out(self: &Arc<Self>) -> Result<(), IpcError> {
        let status = AgentStatus {
            state: ringside_core::AgentState::LoggedOut,
            reason: None,
        };
        if let Err(e) = self
            .client
            .set_agent_status(&status, &uuid::Uuid::new_v4().to_string())
            .await
        {
            warn!(error = %e, "logged-out status not sent");
        }
        self.outlet.phone_command(&json!({"cmd": "stop"}));
        lock(&self.agent_socket).take();
        self.client.clear_session();
        self.handle(Input::SessionEnded);
        {
            let mut s = lock(&self.session);
            s.state = SessionState::SignedOut;
            s.error = None;
        }
        info!("signed out");
        self.emit();
        Ok(())
    }

    fn spawn_sign_in(self: Arc<Self>, user: String, password: Secret) {
        lock(&self.session).state = SessionState::SigningIn;
        self.runtime.clone().spawn(async move {
            let mut attempt = 0u32;
            loop {
                match self.client.login(&user, &password).await {
                    Ok(session) => {
                        self.on_signed_in(session, &password);
                        return;
                    }
                    Err(e) if e.is_transient() => {
                        self.set_online(false, Some(e.to_string()));
                        attempt = attempt.saturating_add(1);
                        let wait = ringside_sync::outbox::backoff_ms(attempt.min(5), 0);
                        tokio::time::sleep(Duration::from_millis(
                            u64::try_from(wait).unwrap_or(1000),
                        ))
                        .await;
                    }
                    Err(e) => {
                        error!(error = %e, "sign-in refused");
                        let mut s = lock(&self.session);
                        s.state = SessionState::SignedOut;
                        s.error = Some(IpcError::new(e.code(), e.to_string()));
                        drop(s);
                        self.emit();
                        return;
                    }
                }
            }
        });
    }

    fn signed_in(&self) -> bool {
        lock(&self.session).state == SessionState::SignedIn
    }

    fn set_online(&self, online: bool, error: Option<String>) {
        let mut v = lock(&self.sync_view);
        v.online = online;
        if error.is_some() || online {
            v.last_error = error;
        }
    }

    fn spawn_sync_loop(self: Arc<Self>) {
        self.runtime.clone().spawn(async move {
            // A 429 or an outage pauses the whole outbox, not just the entry that met it.
            let mut paused_until = 0i64;
            loop {
                let _ =
                    tokio::time::timeout(Duration::from_secs(1), self.sync_wake.notified()).await;
                // Signed out: nothing is sent (the outbox keeps it for the next sign-in); the
                // pending count is still kept current for the header.
                let report = if wall_ms() < paused_until || !self.signed_in() {
                    Ok(ringside_sync::DrainReport::default())
                } else {
                    let report = ringside_sync::drain(&self.store, &self.client, wall_ms).await;
                    paused_until = match &report {
                        Ok(r) if r.pause_ms > 0 => wall_ms() + r.pause_ms,
                        _ => 0,
                    };
                    if report.as_ref().is_ok_and(|r| r.unauthorized) && self.reauthenticate().await
                    {
                        self.sync_wake.notify_one();
                    }
                    report
                };
                let pending = lock(&self.store).pending_count().unwrap_or(0);
                let changed = {
                    let mut v = lock(&self.sync_view);
                    let before = v.clone();
                    v.pending = pending;
                    match &report {
                        Ok(r) if r.stopped_on.is_some() => {
                            v.online = false;
                            v.last_error.clone_from(&r.stopped_on);
                        }
                        Ok(r) if r.sent > 0 => {
                            v.online = true;
                            v.last_error = None;
                        }
                        Ok(_) => {}
                        Err(e) => v.last_error = Some(e.to_string()),
                    }
                    *v != before
                };
                if changed {
                    self.emit();
                }
            }
        });
    }

    fn spawn_ticker(self: Arc<Self>) {
        self.runtime.clone().spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            loop {
                every.tick().await;
                self.handle(Input::Tick);
            }
        });
    }

    /// A raw webphone callback from the bridge: journaled first, then handled.
    pub fn phone_event(self: &Arc<Self>, kind: String, args: Vec<Value>) {
        let raw = RawPhoneEvent::new(kind, args);
        self.journal(&raw.kind, &raw.args);
        match raw.kind.as_str() {
            "bridge_error" => {
                let detail: Vec<String> = raw.args.iter().map(|a| a.to_string()).collect();
                error!(detail = %detail.join(" "), "webphone bridge error");
                self.set_notice(IpcError::new(
                    "webphone_failed",
                    format!(
                        "The webphone library could not be used ({}). Calls cannot be made or received until this is fixed: check the webphone location in Settings.",
                        detail.join(": ").replace('"', "")
                    ),
                ));
                return;
            }
            "env" => {
                let webrtc = raw.args.first().and_then(|e| e["webrtc"].as_bool());
                if webrtc == Some(false) && self.config.webphone != WebphoneSource::Simulator {
                    warn!("this web engine has no WebRTC");
                    self.webrtc_missing
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                    self.set_notice(IpcError::new(
                        "no_webrtc",
                        "This system's web engine has no WebRTC, so the webphone cannot carry calls here. Ask IT for a system with WebRTC support (Windows and macOS have it; on Linux, WebKitGTK must be built with WebRTC).",
                    ));
                }
                return;
            }
            _ => {}
        }

        self.handle(Input::Phone(raw));
    }

    /// An agent's intent from the UI.
    pub fn intent(self: &Arc<Self>, intent: Intent) -> Result<(), IpcError> {
        if let Ok(v) = serde_json::to_value(&intent) {
            self.journal(INTENT_KIND, &[v]);
        }
        self.try_handle(Input::User(intent)).map_err(IpcError::from)
    }

    fn journal(&self, kind: &str, args: &[Value]) {
        let mut inner = lock(&self.inner);
        let agent = inner.extension.clone();
        if let Some(j) = &mut inner.journal {
            let line = JournalLine {
                t_ms: wall_ms(),
                agent,
                kind: kind.to_string(),
                args: args.to_vec(),
            };
            if let Err(e) = j.append(&line) {
                warn!(error = %e, "journal append failed");
            }
        }
    }

    pub fn handle(self: &Arc<Self>, input: Input) {
        if let Err(e) = self.try_handle(input) {
            warn!(error = %e, "input not used");
        }
    }

    fn try_handle(self: &Arc<Self>, input: Input) -> Result<(), ringside_core::EngineError> {
        let clock = self.clock();
        let mut wake_sync = false;
        let commands = {
            let mut inner = lock(&self.inner);
            let effects = inner.engine.handle(input, clock)?;
            let mut commands = Vec::new();
            for fx in effects {
                match fx {
                    Effect::SaveCallLog { log, op } => {
                        let span = info_span!("call", call_id = %log.call_id);
                        let _e = span.enter();
                        if let Err(e) = lock(&self.store).save_call_log(&log, op, clock.wall_ms) {
                            error!(error = %e, "call log NOT committed");
                            *lock(&self.notice) = Some(IpcError::new(e.code(), e.to_string()));
                        }
                        wake_sync = true;
                    }
                    Effect::OpenDraft { call_log_id } => {
                        if let Err(e) = lock(&self.store).open_draft(&call_log_id, clock.wall_ms) {
                            error!(error = %e, "draft NOT opened");
                            *lock(&self.notice) = Some(IpcError::new(e.code(), e.to_string()));
                        }
                    }
                    Effect::Phone(cmd) => match serde_json::to_value(&cmd) {
                        Ok(v) => commands.push(v),
                        Err(e) => error!(error = %e, "phone command not serialisable"),
                    },
                    Effect::ResolveContact { call_log_id, phone } => {
                        self.clone().spawn_resolve(call_log_id, phone);
                    }
                    Effect::FetchAgentStatus => self.clone().spawn_agent_status(),
                    Effect::SendAgentInfo(info) => {
                        info!(?info, "agent info");
                        if let Some(socket) = lock(&self.agent_socket).as_ref() {
                            socket.send_agent_info(json!({
                                "type": "agent_info",
                                "extension": info.extension,
                                "registration": info.registration,
                                "state": info.state,
                            }));
                        }
                    }
                    Effect::OpenAgentSocket => self.clone().open_agent_socket(),
                    Effect::PbxTransfer {
                        call_id,
                        yeastar_call_id,
                        request,
                    } => self
                        .clone()
                        .spawn_pbx_transfer(call_id, yeastar_call_id, request),
                    Effect::Notice { code, message } => {
                        *lock(&self.notice) = Some(IpcError::new(code, message));
                    }
                }
            }
            commands
        };
        if wake_sync {
            self.sync_wake.notify_one();
        }
        for c in &commands {
            self.outlet.phone_command(c);
        }
        // Ticks included: the live talk timer is computed by the core at snapshot time.
        self.emit();
        Ok(())
    }

    /// One attempt, now: a transfer is a live action, never queued for later. Whatever the
    /// backend answers goes back to the engine, which tells the agent.
    fn spawn_pbx_transfer(
        self: Arc<Self>,
        call_id: String,
        yeastar_call_id: String,
        request: PbxTransferRequest,
    ) {
        let span = info_span!("call", call_id = %call_id);
        self.runtime.clone().spawn(
            async move {
                let key = uuid::Uuid::new_v4().to_string();
                let answer = match self.client.transfer(&yeastar_call_id, &request, &key).await {
                    Ok(_) => PbxAnswer::Accepted,
                    Err(e) => {
                        // The backend's own code when it gave one (`call_gone`,
                        // `pbx_unreachable`, ...), else what kind of failure it was.
                        let (code, message) = match e {
                            SyncError::Rejected { code, message, .. }
                            | SyncError::Server { code, message, .. } => (code, message),
                            SyncError::Offline(m) => ("offline".to_string(), m),
                            other => (other.code().to_string(), other.to_string()),
                        };
                        PbxAnswer::Refused { code, message }
                    }
                };
                self.handle(Input::PbxAnswer { call_id, answer });
            }
            .instrument(span),
        );
    }

    fn spawn_resolve(self: Arc<Self>, call_log_id: String, phone: String) {
        self.runtime.clone().spawn(
            async move {
                match tokio::time::timeout(
                    Duration::from_secs(5),
                    self.client.resolve_contact(&phone),
                )
                .await
                {
                    Ok(Ok(contact)) => {
                        self.handle(Input::ContactResolved {
                            call_log_id,
                            contact_id: contact.id,
                            name: contact.name,
                        });
                        self.refresh_contacts().await;
                    }
                    Ok(Err(e)) => warn!(error = %e, "contact not resolved"),
                    Err(_) => warn!("contact resolve timed out"),
                }
            }
            .instrument(info_span!("resolve_contact")),
        );
    }

    /// After a 401: trade the refresh token for a new session; in demo mode sign in again if
    /// that is refused. Returns whether the backend accepts us again.
    async fn reauthenticate(self: &Arc<Self>) -> bool {
        if !self.signed_in() {
            return false;
        }
        let session = match self.client.refresh().await {
            Ok(s) => Ok(s),
            Err(e) => match &self.demo_login {
                Some((user, pass)) => self.client.login(user, pass).await,
                None => Err(e),
            },
        };
        match session {
            Ok(s) => {
                info!("session renewed");
                if let Some(j) = &mut lock(&self.inner).journal {
                    j.add_secret(s.token.0.clone());
                }
                true
            }
            Err(e) => {
                warn!(error = %e, "session could not be renewed");
                *lock(&self.notice) = Some(IpcError::new(
                    "session_expired",
                    "Your session with the backend has expired. Sign in again to sync.",
                ));
                self.emit();
                false
            }
        }
    }

    fn open_agent_socket(self: Arc<Self>) {
        let url = lock(&self.ws_url).clone();
        if url.is_empty() {
            return;
        }
        let weak = Arc::downgrade(&self);
        let client_for_token = self.clone();
        let token = move || client_for_token.client.token();
        let socket = AgentSocket::spawn(&self.runtime, url, token, move |event| {
            if let Some(svc) = weak.upgrade() {
                svc.on_socket_event(event);
            }
        });
        *lock(&self.agent_socket) = Some(socket);
    }

    fn on_socket_event(self: &Arc<Self>, event: SocketEvent) {
        match event {
            SocketEvent::Connected => {
                lock(&self.sync_view).agent_socket = true;
                self.emit();
            }
            SocketEvent::Disconnected {
                reason,
                unauthorized,
            } => {
                debug!(%reason, "agent socket down");
                let was = std::mem::replace(&mut lock(&self.sync_view).agent_socket, false);
                if was {
                    self.emit();
                }
                if unauthorized {
                    let svc = self.clone();
                    self.runtime.spawn(async move {
                        svc.reauthenticate().await;
                    });
                }
            }
            SocketEvent::Frame(ServerFrame::AgentStatus(status)) => {
                self.handle(Input::AgentStatus(status));
            }
            SocketEvent::Frame(ServerFrame::QueueInfo(q)) => self.handle(Input::QueueInfo(q)),
            SocketEvent::Frame(ServerFrame::QueueCleared { yeastar_call_id }) => {
                self.handle(Input::QueueCleared { yeastar_call_id });
            }
            SocketEvent::Frame(ServerFrame::TransferUpdate(update)) => {
                let completed = update.state == PbxTransferState::Completed;
                let leg = lock(&self.inner)
                    .engine
                    .call_for_pbx(&update.yeastar_call_id)
                    .map(str::to_string);
                self.handle(Input::TransferUpdate(update));
                if completed && self.config.webphone == WebphoneSource::Simulator {
                    if let Some(call_id) = leg {
                        // A real PBX ends the agent's leg (BYE) once it has moved the caller.
                        // The simulator's calls never reach the reference backend's PBX, so
                        // this stands in for that BYE.
                        self.outlet.phone_command(
                            &json!({"cmd": "sim_remote_hangup", "call_id": call_id}),
                        );
                    }
                }
            }
            SocketEvent::Frame(_) => {}
        }
    }

    fn spawn_pause_reasons(self: Arc<Self>) {
        self.runtime.clone().spawn(async move {
            match self.client.pause_reasons().await {
                Ok(r) => {
                    *lock(&self.pause_reasons) = r;
                    self.emit();
                }
                Err(e) => warn!(error = %e, "pause reasons not fetched"),
            }
        });
    }

    /// The agent changes their status (available, paused with a reason, logged out).
    pub async fn set_agent_status(self: &Arc<Self>, status: AgentStatus) -> Result<(), IpcError> {
        if status.state == ringside_core::AgentState::Paused && status.reason.is_none() {
            return Err(IpcError::new(
                "pause_reason_required",
                "Choose why you are pausing.",
            ));
        }
        let key = uuid::Uuid::new_v4().to_string();
        let mut last = None;
        // A flaky network gets three tries under one key: the backend applies it once.
        for attempt in 0..3u64 {
            match self.client.set_agent_status(&status, &key).await {
                Ok(applied) => {
                    self.handle(Input::AgentStatus(applied));
                    return Ok(());
                }
                Err(e) if e.is_transient() => {
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(300 * (attempt + 1))).await;
                }
                Err(e) => return Err(IpcError::new(e.code(), e.to_string())),
            }
        }
        let e = last.map(|e| (e.code(), e.to_string()));
        let (code, msg) = e.unwrap_or(("backend_unreachable", String::new()));
        Err(IpcError::new(
            code,
            format!("Your status was not changed: the backend did not answer ({msg})."),
        ))
    }

    fn spawn_agent_status(self: Arc<Self>) {
        self.runtime.clone().spawn(async move {
            match self.client.agent_status().await {
                Ok(status) => self.handle(Input::AgentStatus(status)),
                Err(e) => warn!(error = %e, "agent status not fetched"),
            }
        });
    }

    /// Autosave of the after-call form (the UI debounces keystrokes).
    pub fn save_draft(self: &Arc<Self>, mut draft: CallDraft) -> Result<(), IpcError> {
        draft.updated_at_ms = wall_ms();
        draft.state = ringside_core::DraftState::Editing;
        lock(&self.store)
            .save_draft(&draft)
            .map_err(|e| IpcError::new(e.code(), e.to_string()))
    }

    pub fn submit_draft(self: &Arc<Self>, draft: CallDraft) -> Result<(), IpcError> {
        let id = draft.call_log_id.clone();
        lock(&self.store)
            .submit_draft(&draft, wall_ms())
            .map_err(|e| IpcError::new(e.code(), e.to_string()))?;
        self.sync_wake.notify_one();
        self.try_handle(Input::User(Intent::CloseWrapUp { call_log_id: id }))
            .map_err(IpcError::from)
    }

    /// Demo mode only: the other party's side of a call (`remote_hangup`, `remote_answer`).
    pub fn simulate(&self, action: &str, call_id: Option<&str>) -> Result<(), IpcError> {
        if !self.demo {
            return Err(IpcError::new(
                "not_demo",
                "the call simulator exists only in demo mode",
            ));
        }
        let cmd = match action {
            "remote_hangup" => "sim_remote_hangup",
            "remote_answer" => "sim_remote_answer",
            other => {
                return Err(IpcError::new(
                    "unknown_simulation",
                    format!("no simulation `{other}`"),
                ))
            }
        };
        self.outlet
            .phone_command(&json!({"cmd": cmd, "call_id": call_id}));
        Ok(())
    }

    /// Demo mode only: ask the simulator to ring with a call from `number`.
    pub fn simulate_incoming(&self, number: &str) -> Result<(), IpcError> {
        if !self.demo {
            return Err(IpcError::new(
                "not_demo",
                "the call simulator exists only in demo mode",
            ));
        }
        self.outlet
            .phone_command(&json!({"cmd": "sim_incoming", "number": number}));
        // As a PBX queue would: the backend pushes the queue details for the call.
        let url = format!("{}/admin/queue-call", self.client.base_url());
        let caller = number.to_string();
        self.runtime.spawn(async move {
            let body = json!({"caller": caller});
            if let Err(e) = ringside_sync::client::post_json(&url, &body).await {
                debug!(error = %e, "demo queue info not pushed");
            }
        });
        Ok(())
    }

    pub fn snapshot(&self) -> Snapshot {
        let clock = self.clock();
        let engine = lock(&self.inner).engine.view(clock);
        let (drafts, history) = {
            let store = lock(&self.store);
            let drafts = store
                .open_drafts()
                .unwrap_or_else(|e| {
                    warn!(error = %e, "drafts unreadable");
                    Vec::new()
                })
                .into_iter()
                .map(|draft| {
                    let log = store.call_log(&draft.call_log_id).ok().flatten();
                    DraftView { draft, log }
                })
                .collect();
            // The last 24 hours: the working day of an agent on any shift.
            let history = store
                .history_since(clock.wall_ms - 24 * 3600 * 1000, 200)
                .unwrap_or_else(|e| {
                    warn!(error = %e, "history unreadable");
                    Vec::new()
                })
                .into_iter()
                .map(|(log, draft, synced)| HistoryEntry { log, draft, synced })
                .collect();
            (drafts, history)
        };

        Snapshot {
            built_at_ms: clock.wall_ms,
            engine,
            sync: lock(&self.sync_view).clone(),
            drafts,
            demo: self.demo,
            notice: lock(&self.notice).clone(),
            pause_reasons: lock(&self.pause_reasons).clone(),
            webrtc_missing: self
                .webrtc_missing
                .load(std::sync::atomic::Ordering::Relaxed),
            session: lock(&self.session).clone(),
            preferences: *lock(&self.preferences),
            dispositions: lock(&self.dispositions).clone(),
            contacts: lock(&self.contacts).clone(),
            history,
            settings: SettingsView {
                webphone: match &self.config.webphone {
                    WebphoneSource::Simulator => String::new(),
                    WebphoneSource::Folder(p) => p.display().to_string(),
                    WebphoneSource::Url(u) => u.clone(),
                },
                webphone_locked: self.config.locked.iter().any(|k| k == "webphone"),
                backend_locked: self.config.locked.iter().any(|k| k == "backend_url"),
                audio_devices: Vec::new(),
            },
        }
    }

    fn set_notice(&self, notice: IpcError) {
        *lock(&self.notice) = Some(notice);
        self.emit();
    }

    /// Clears the banner the agent dismissed.
    pub fn dismiss_notice(&self) {
        *lock(&self.notice) = None;
        self.emit();
    }

    pub fn set_preferences(&self, p: Preferences) -> Result<(), IpcError> {
        let theme = match p.theme {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        };
        let language = match p.language {
            Language::En => "en",
            Language::Fr => "fr",
        };
        {
            let mut store = lock(&self.store);
            store
                .set_setting("theme", theme)
                .and_then(|()| store.set_setting("language", language))
                .map_err(|e| IpcError::new(e.code(), e.to_string()))?;
        }
        *lock(&self.preferences) = p;
        self.emit();
        Ok(())
    }

    /// Saves the webphone location to the user's config file; used from the next start.
    pub fn set_webphone_location(&self, value: &str) -> Result<(), IpcError> {
        if self.config.locked.iter().any(|k| k == "webphone") {
            return Err(IpcError::new(
                "locked",
                "Your IT department has locked the webphone location.",
            ));
        }
        let value = value.trim();
        if !value.is_empty()
            && !value.starts_with("https://")
            && !value.starts_with("http://")
            && !std::path::Path::new(value).is_absolute()
        {
            return Err(IpcError::new(
                "invalid_webphone_location",
                "Give the full path of the folder that holds webphone_api.js, or an https:// address.",
            ));
        }
        config::save_user_value("webphone", value).map_err(|e| IpcError::new("config", e))?;
        self.set_notice(IpcError::new(
            "restart_needed",
            "The webphone location is saved. Restart Ringside to use it.",
        ));
        Ok(())
    }

    fn spawn_directory(self: Arc<Self>) {
        self.runtime.clone().spawn(async move {
            match self.client.dispositions().await {
                Ok(d) => *lock(&self.dispositions) = d,
                Err(e) => warn!(error = %e, "dispositions not fetched"),
            }
            self.refresh_contacts().await;
            self.emit();
        });
    }

    async fn refresh_contacts(&self) {
        match self.client.contacts().await {
            Ok(c) => *lock(&self.contacts) = c,
            Err(e) => warn!(error = %e, "contacts not fetched"),
        }
    }

    pub fn emit(&self) {
        self.outlet.snapshot(&self.snapshot());
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}
