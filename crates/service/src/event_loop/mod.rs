//! The event loop: the one owner of the engine, the store, the journal and the UI's state.
//! See the crate docs for the picture. This file is the loop, its state, the outside inputs,
//! the workers' results and the engine's effects carried out in order; the rest is by concern:
//! - [`open`]: the profile opened and the state the loop starts from;
//! - [`session`]: sign-in, its renewal, and the agent socket's events;
//! - [`outbox`]: the outbox's batches taken and settled;
//! - [`view`]: the snapshot and the delta the UI is sent.

mod open;
mod outbox;
mod session;
mod view;

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringside_core::desktop::DesktopState;
use ringside_core::journal::{JournalLine, INTENT_KIND};
use ringside_core::{
    CallDraft, Clock, ContactView, DialOffer, Disposition, DraftState, DraftView, Effect, Engine,
    EngineError, HistoryEntry, Input, Intent, IpcError, OfferAction, PauseReason, PhoneCommand,
    Preferences, RawPhoneEvent, Secret, SessionState, SessionView, SettingsView, Snapshot,
    SyncView,
};
use ringside_store::{JournalWriter, Store};
use ringside_sync::{AgentSocket, Client, DrainReport};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{error, info, info_span, warn};

use crate::handle::Msg;
use crate::workers::{Done, Workers};
use crate::{config, wall_ms, Config, DesktopSink, LinkAction, PhoneSink, UiSink, WebphoneSource};

/// Commands for the webphone kept while its window has not attached yet (it loads after the
/// core starts); beyond this the oldest are dropped, and said so in the log.
const PHONE_BACKLOG: usize = 256;
/// Outside messages handled before one snapshot goes out: a burst of callbacks renders once.
const BATCH: usize = 64;
/// The UI hears from the core at most once a frame. The first change after a quiet spell goes
/// at once; changes within a frame of the last delta go together at the frame's end. Under a
/// burst this is what keeps the agent's window rendering the present instead of a queue of
/// past states (every delta is a main-thread task in the shell and a render in the window);
/// at an agent's pace it adds nothing.
const FRAME: Duration = Duration::from_millis(16);
/// How long shutdown waits for an outbox batch already sent; unanswered, it stays queued.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// The day's history: the last 24 hours, at most this many calls.
const HISTORY_ROWS: u32 = 200;
const HISTORY_SPAN_MS: i64 = 24 * 3600 * 1000;

pub(crate) struct Core {
    engine: Engine,
    store: Store,
    journal: Option<JournalWriter>,
    /// The agent's extension, written on every journal line.
    extension: String,
    config: Config,
    demo: bool,
    /// Demo mode: the credentials to sign in again when a refresh is refused.
    demo_login: Option<(String, Secret)>,
    #[cfg(feature = "demo")]
    _demo_backend: Option<crate::demo::DemoBackend>,
    started: Instant,
    workers: Workers,
    stop_workers: watch::Sender<bool>,
    agent_socket: Option<AgentSocket>,
    ws_url: String,

    // What the UI is shown, kept current by the loop.
    session: SessionView,
    sync: SyncView,
    notice: Option<IpcError>,
    webrtc_missing: bool,
    pause_reasons: Vec<PauseReason>,
    dispositions: Vec<Disposition>,
    contacts: Vec<ContactView>,
    preferences: Preferences,
    settings: SettingsView,
    drafts: Vec<DraftView>,
    /// Newest first ([`ringside_core::ipc::history_order`]), shared with the last snapshot sent.
    history: Arc<Vec<HistoryEntry>>,
    /// A write made these stale: they are re-read from SQLite before the next snapshot.
    stale: Stale,

    ui: Option<UiSink>,
    last_sent: Option<Snapshot>,
    desktop: Option<DesktopSink>,
    last_desktop: Option<DesktopState>,
    /// A number from a link waiting for the agent ([`Core::open_link`]).
    dial_offer: Option<DialOffer>,
    /// What quitting now would lose, while the window asks the agent.
    quit_prompt: Option<String>,
    phone: Option<PhoneSink>,
    phone_backlog: VecDeque<PhoneCommand>,

    draining: bool,
    drain_paused_until: i64,
    /// A reachability probe is out ([`Core::probe_backend`]).
    probing: bool,
    /// Held while the loop runs: one writer per profile.
    _profile_lock: ringside_store::profile::ProfileLock,
    /// The webphone's one way in, bounded ([`ringside_core::phone::Ingress`]).
    ingress: ringside_core::phone::Ingress,
    ingress_reported_ms: u64,
    reauthenticating: bool,
    /// The OS keyring (live mode), where the session's refresh token is kept between runs.
    vault: Option<crate::vault::VaultWorker>,
    /// The refresh token the keyring gave at start, until it is traded for a session.
    kept_session: Option<Secret>,
}

/// What a write made stale since the last snapshot: re-read from SQLite before the next one.
#[derive(Default)]
struct Stale {
    /// The whole day's history (at start).
    all_history: bool,
    /// The history rows a write touched, by call log id: only these are re-read, so a call's
    /// cost does not grow with the day's history.
    history: BTreeSet<String>,
    drafts: bool,
    pending: bool,
}

impl Stale {
    fn all() -> Self {
        Self {
            all_history: true,
            history: BTreeSet::new(),
            drafts: true,
            pending: true,
        }
    }

    /// A write about one call: its row, the drafts (which show the call) and the outbox.
    fn call(&mut self, call_log_id: &str) {
        self.history.insert(call_log_id.to_string());
        self.drafts = true;
        self.pending = true;
    }
}

fn store_error(e: &ringside_store::StoreError) -> IpcError {
    IpcError::new(e.code(), e.to_string())
}

impl Core {
    pub fn client(&self) -> &Arc<Client> {
        &self.workers.client
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

    // ---- inputs from outside -------------------------------------------------------------

    fn on_msg(&mut self, msg: Msg) {
        match msg {
            Msg::Phone { events, reply } => {
                let mut first_refusal = Ok(());
                for (kind, args) in events {
                    let result = self.phone_event(kind, args);
                    if first_refusal.is_ok() {
                        first_refusal = result;
                    }
                }
                let _ = reply.send(first_refusal);
            }
            Msg::Intent { intent, reply } => {
                let _ = reply.send(self.intent(intent));
            }
            Msg::SaveDraft { draft, reply } => {
                let _ = reply.send(self.save_draft(draft));
            }
            Msg::SubmitDraft { draft, reply } => {
                let _ = reply.send(self.submit_draft(draft));
            }
            Msg::SignIn {
                username,
                password,
                reply,
            } => {
                let username = username.trim().to_string();
                if username.is_empty() || password.0.is_empty() {
                    let _ = reply.send(Err(IpcError::new(
                        "sign_in_incomplete",
                        "Enter your username and password.",
                    )));
                    return;
                }
                self.session.state = SessionState::SigningIn;
                self.session.username.clone_from(&username);
                self.session.error = None;
                self.workers.sign_in(username, password, reply);
            }
            Msg::SignOut { reply } => self.workers.log_out(reply),
            Msg::SetAgentStatus { status, reply } => {
                if status.state == ringside_core::AgentState::Paused && status.reason.is_none() {
                    let _ = reply.send(Err(IpcError::new(
                        "pause_reason_required",
                        "Choose why you are pausing.",
                    )));
                    return;
                }
                self.workers.set_agent_status(status, reply);
            }
            Msg::SetPreferences { preferences, reply } => {
                let saved = self
                    .store
                    .set_setting("theme", preferences.theme.as_str())
                    .and_then(|()| {
                        self.store
                            .set_setting("language", preferences.language.as_str())
                    })
                    .and_then(|()| {
                        self.store.set_setting(
                            "ring_volume",
                            &preferences.ring_volume.min(100).to_string(),
                        )
                    })
                    .map_err(|e| store_error(&e));
                if saved.is_ok() {
                    self.preferences = preferences;
                }
                let _ = reply.send(saved);
            }
            Msg::SetWebphoneLocation { location, reply } => {
                let _ = reply.send(self.set_webphone_location(&location));
            }
            Msg::Simulate {
                action,
                call_id,
                reply,
            } => {
                let result = self.demo_only().and_then(|()| match action.as_str() {
                    "remote_hangup" => Ok(PhoneCommand::SimRemoteHangup { call_id }),
                    "remote_answer" => Ok(PhoneCommand::SimRemoteAnswer { call_id }),
                    other => Err(IpcError::new(
                        "unknown_simulation",
                        format!("no simulation `{other}`"),
                    )),
                });
                let _ = reply.send(result.map(|cmd| self.send_phone(cmd)));
            }
            Msg::SimulateIncoming { number, reply } => match self.demo_only() {
                // The queue decides first, as a PBX would: the phone rings only if it offers.
                Ok(()) => self.workers.push_demo_queue_call(number, reply),
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            Msg::DismissNotice { reply } => {
                self.notice = None;
                let _ = reply.send(Ok(()));
            }
            Msg::OpenLink { link, reply } => {
                let result = self.open_link(&link);
                if let Err(e) = &result {
                    self.notice = Some(e.clone());
                }
                let _ = reply.send(result);
            }
            Msg::DialOffer { action, reply } => {
                let _ = reply.send(self.on_offer(action));
            }
            Msg::RequestQuit { reply } => {
                let snapshot = self.snapshot();
                self.quit_prompt = DesktopState::of(&snapshot).quit_warning();
                info!(at_risk = self.quit_prompt.is_some(), "quit asked");
                let _ = reply.send(Ok(self.quit_prompt.is_none()));
            }
            Msg::ShortcutsReport { shortcuts, reply } => {
                let problems: Vec<String> = shortcuts
                    .iter()
                    .filter_map(|s| {
                        s.problem
                            .as_ref()
                            .map(|p| format!("{} ({}): {p}", s.keys, s.action))
                    })
                    .collect();
                if !problems.is_empty() {
                    warn!(problems = ?problems, "global shortcuts not all active");
                    self.notice.get_or_insert_with(|| {
                        IpcError::new(
                            "shortcuts_unavailable",
                            format!(
                                "Some system-wide shortcuts are off: {}. Change them in Ringside's settings file, or ask IT.",
                                problems.join("; ")
                            ),
                        )
                    });
                }
                self.settings.global_shortcuts = shortcuts;
                let _ = reply.send(Ok(()));
            }
            Msg::StartAtLogin { enabled, reply } => {
                self.settings.start_at_login = enabled;
                let _ = reply.send(Ok(()));
            }
            Msg::Update { update, reply } => {
                if let Some(u) = &update {
                    info!(current = %u.current, offered = ?u.version, state = ?u.state, detail = ?u.detail, "update");
                }
                self.settings.update = update;
                let _ = reply.send(Ok(()));
            }
            Msg::AnswerQuit { quit, reply } => {
                info!(quit, "quit prompt answered");
                self.quit_prompt = None;
                let _ = reply.send(Ok(()));
            }
            Msg::WatchDesktop { sink, reply } => {
                self.desktop = Some(sink);
                self.last_desktop = None;
                let _ = reply.send(Ok(()));
            }
            Msg::Subscribe { sink, reply } => {
                self.ui = Some(sink);
                self.last_sent = None;
                let _ = reply.send(Ok(()));
            }
            Msg::AttachPhone { sink, reply } => {
                info!(
                    backlog = self.phone_backlog.len(),
                    "webphone bridge attached"
                );
                self.phone = Some(sink);
                let backlog = std::mem::take(&mut self.phone_backlog);
                for cmd in backlog {
                    self.send_phone(cmd);
                }
                let _ = reply.send(Ok(()));
            }
            Msg::Snapshot { reply } => {
                // Whoever asks (a test, diagnostics) then sees what the UI has been sent.
                self.publish();
                let snapshot = self.snapshot();
                let _ = reply.send(Ok(snapshot));
            }
            // Handled by `run`, which owns the ending.
            Msg::Shutdown { .. } => {}
        }
    }

    fn demo_only(&self) -> Result<(), IpcError> {
        if self.demo {
            Ok(())
        } else {
            Err(IpcError::new(
                "not_demo",
                "the call simulator exists only in demo mode",
            ))
        }
    }

    /// A raw webphone callback from the bridge: checked (that window runs the vendor's
    /// script), journaled, then handled.
    fn phone_event(&mut self, kind: String, args: Vec<Value>) -> Result<(), IpcError> {
        let raw = RawPhoneEvent::new(kind, args);
        let now = self.clock().mono_ms;
        if let Err(e) = self.ingress.admit(&raw, now) {
            // Reported, at most once a second with a count, never journaled.
            if now.saturating_sub(self.ingress_reported_ms) >= 1000 {
                warn!(error = %e, refused = self.ingress.refused, "webphone callbacks refused");
                self.ingress.refused = 0;
                self.ingress_reported_ms = now;
            }
            return Err(IpcError::new(e.code(), e.to_string()));
        }
        self.journal(&raw.kind, &raw.args);
        match raw.kind.as_str() {
            "bridge_error" => {
                let detail: Vec<String> = raw.args.iter().map(|a| a.to_string()).collect();
                error!(detail = %detail.join(" "), "webphone bridge error");
                self.notice = Some(IpcError::new(
                    "webphone_failed",
                    format!(
                        "The webphone library could not be used ({}). Calls cannot be made or received until this is fixed: check the webphone location in Settings.",
                        detail.join(": ").replace('"', "")
                    ),
                ));
            }
            "env" => {
                let webrtc = raw.args.first().and_then(|e| e["webrtc"].as_bool());
                if webrtc == Some(false) && self.config.webphone != WebphoneSource::Simulator {
                    warn!("this web engine has no WebRTC");
                    self.webrtc_missing = true;
                    self.notice = Some(IpcError::new(
                        "no_webrtc",
                        "This system's web engine has no WebRTC, so the webphone cannot carry calls here. Ask IT for a system with WebRTC support (Windows and macOS have it; on Linux, WebKitGTK must be built with WebRTC).",
                    ));
                }
            }
            _ => self.handle_logged(Input::Phone(raw)),
        }
        Ok(())
    }

    fn journal(&mut self, kind: &str, args: &[Value]) {
        if let Some(j) = &mut self.journal {
            let mut line = JournalLine {
                t_ms: wall_ms(),
                agent: self.extension.clone(),
                kind: kind.to_string(),
                args: args.to_vec(),
            };
            if !self.config.journal_dtmf_digits {
                ringside_core::journal::mask_dtmf(&mut line);
            }
            if let Err(e) = j.append(&line) {
                warn!(error = %e, "journal append failed");
            }
        }
    }

    fn save_draft(&mut self, mut draft: CallDraft) -> Result<(), IpcError> {
        draft.updated_at_ms = wall_ms();
        draft.state = DraftState::Editing;
        self.store.save_draft(&draft).map_err(|e| store_error(&e))?;
        // Kept in place: the form being typed in must not be re-read under the agent.
        if let Some(view) = self
            .drafts
            .iter_mut()
            .find(|v| v.draft.call_log_id == draft.call_log_id)
        {
            view.draft = draft;
        } else {
            self.stale.drafts = true;
        }
        Ok(())
    }

    fn submit_draft(&mut self, draft: CallDraft) -> Result<(), IpcError> {
        // Refused here, where the agent still has the form, not by the backend later. The
        // autosave above keeps over-long text: nothing typed is thrown away.
        ringside_core::limits::check_draft(&draft)
            .map_err(|e| IpcError::new(e.code(), e.to_string()))?;
        let id = draft.call_log_id.clone();
        self.store
            .submit_draft(&draft, wall_ms())
            .map_err(|e| store_error(&e))?;
        self.stale.call(&id);
        self.drain();
        self.handle(Input::User(Intent::CloseWrapUp { call_log_id: id }))
            .map_err(IpcError::from)
    }

    /// A link's number, cleaned as the dial pad cleans it; dialled at once only when policy
    /// says so, the agent is signed in and no call is up. The link itself is logged by its
    /// scheme only: a `sip:` link may carry a password.
    fn open_link(&mut self, link: &str) -> Result<(), IpcError> {
        let refused = |code: &str, why: String| {
            IpcError::new(code, format!("Ringside cannot call that link: {why}"))
        };
        let number =
            ringside_core::link::number_in(link).map_err(|e| refused(e.code(), e.to_string()))?;
        let region = self
            .config
            .default_region
            .as_deref()
            .and_then(|r| ringside_core::number::parse_region(r).ok());
        let number = ringside_core::number::dial_string(&number, region)
            .map_err(|e| refused(e.code(), e.to_string()))?;
        let idle = self.engine.live_calls() == 0;
        let signed_in = self.session.state == SessionState::SignedIn;
        info!(
            scheme = link
                .split(':')
                .next()
                .filter(|s| s.len() < 10)
                .unwrap_or("-"),
            idle, signed_in, "number to call from outside"
        );
        if self.config.link_action == LinkAction::Dial && idle && signed_in {
            self.dial_offer = None;
            return self.dial(number);
        }
        self.dial_offer = Some(DialOffer {
            number,
            after_call: false,
        });
        Ok(())
    }

    fn on_offer(&mut self, action: OfferAction) -> Result<(), IpcError> {
        let Some(offer) = self.dial_offer.as_mut() else {
            return Err(IpcError::new(
                "no_offer",
                "There is no number waiting to be called.",
            ));
        };
        match action {
            OfferAction::Call => {
                let number = offer.number.clone();
                self.dial_offer = None;
                self.dial(number)
            }
            OfferAction::AfterCall => {
                offer.after_call = true;
                Ok(())
            }
            OfferAction::Dismiss => {
                self.dial_offer = None;
                Ok(())
            }
        }
    }

    /// As the dial pad's Call button.
    fn dial(&mut self, number: String) -> Result<(), IpcError> {
        self.intent(Intent::Dial { number })
    }

    /// An agent's intent: journaled, then handled.
    fn intent(&mut self, intent: Intent) -> Result<(), IpcError> {
        if let Ok(v) = serde_json::to_value(&intent) {
            self.journal(INTENT_KIND, &[v]);
        }
        self.handle(Input::User(intent)).map_err(IpcError::from)
    }

    fn set_webphone_location(&mut self, value: &str) -> Result<(), IpcError> {
        if self.config.locked.iter().any(|k| k == "webphone") {
            return Err(IpcError::new(
                "locked",
                "Your IT department has locked the webphone location.",
            ));
        }
        let value = value.trim();
        let is_url = value.starts_with("https://") || value.starts_with("http://");
        if !value.is_empty() && !is_url && !std::path::Path::new(value).is_absolute() {
            return Err(IpcError::new(
                "invalid_webphone_location",
                "Give the full path of the folder that holds webphone_api.js, or an https:// address.",
            ));
        }
        if is_url {
            WebphoneSource::check_url(value, self.config.allow_insecure_transport)
                .map_err(|why| IpcError::new("invalid_webphone_location", why))?;
        }
        config::save_user_value(&self.config.locked, "webphone", value)
            .map_err(|e| IpcError::new("config", e))?;
        self.notice = Some(IpcError::new(
            "restart_needed",
            "The webphone location is saved. Restart Ringside to use it.",
        ));
        Ok(())
    }

    // ---- worker results ------------------------------------------------------------------

    fn on_done(&mut self, done: Done) {
        match done {
            Done::SignedIn {
                result,
                password,
                reply,
            } => {
                let outcome = match result {
                    Ok(session) => {
                        self.on_signed_in(session, &password);
                        Ok(())
                    }
                    Err(e) => {
                        let err = self.sign_in_error(&e);
                        error!(error = %e, "sign-in refused");
                        self.session.state = SessionState::SignedOut;
                        self.session.error = Some(err.clone());
                        Err(err)
                    }
                };
                if let Some(reply) = reply {
                    let _ = reply.send(outcome);
                }
            }
            Done::SignInRetrying(error) => self.set_online(false, Some(error)),
            Done::Resumed(result) => match result {
                Ok(session) => {
                    info!("session resumed from the keyring");
                    self.on_signed_in(session, &Secret::default());
                }
                Err(e) => {
                    warn!(error = %e, "the kept session was refused");
                    self.forget_session();
                    self.session.state = SessionState::SignedOut;
                    self.session.error = Some(IpcError::new(
                        "session_ended",
                        "Your saved session has ended. Sign in again.",
                    ));
                }
            },
            Done::Reauthenticated(result) => {
                self.reauthenticating = false;
                match result {
                    Ok(session) => {
                        info!("session renewed");
                        if let Some(j) = &mut self.journal {
                            j.add_secret(session.token.0.clone());
                        }
                        // Refresh tokens are single-use: the keyring keeps the new one.
                        self.keep_session();
                        self.drain_paused_until = 0;
                        self.drain();
                    }
                    Err(e) => {
                        warn!(error = %e, "session could not be renewed");
                        self.notice = Some(IpcError::new(
                            "session_expired",
                            "Your session with the backend has expired. Sign in again to sync.",
                        ));
                    }
                }
            }
            Done::LoggedOutSent { reply } => {
                self.send_phone(PhoneCommand::Stop);
                self.agent_socket = None;
                self.sync.agent_socket = false;
                self.workers.client.clear_session();
                self.forget_session();
                self.handle_logged(Input::SessionEnded);
                self.session.state = SessionState::SignedOut;
                self.session.error = None;
                info!("signed out");
                let _ = reply.send(Ok(()));
            }
            Done::StatusApplied { result, reply } => {
                let result = result.map(|applied| self.handle_logged(Input::AgentStatus(applied)));
                let _ = reply.send(result);
            }
            Done::AgentStatus(status) => self.handle_logged(Input::AgentStatus(status)),
            Done::PauseReasons(r) => self.pause_reasons = r,
            Done::Dispositions(d) => self.dispositions = d,
            Done::Contacts(c) => self.contacts = c,
            Done::ContactResolved {
                call_log_id,
                contact,
            } => {
                self.handle_logged(Input::ContactResolved {
                    call_log_id,
                    contact_id: contact.id,
                    name: contact.name,
                });
                // Resolving may have created the contact: the list shows it.
                self.workers.fetch_contacts();
            }
            Done::Pbx { call_id, answer } => {
                self.handle_logged(Input::PbxAnswer { call_id, answer });
            }
            Done::Delivered { batch, results } => self.on_delivered(&batch, results),
            Done::Socket(event) => self.on_socket_event(event),
            Done::Probe(result) => self.on_probe(result),
            Done::DemoQueueCall {
                number,
                result,
                reply,
            } => {
                if result.is_ok() {
                    self.send_phone(PhoneCommand::SimIncoming { number });
                }
                let _ = reply.send(result);
            }
        }
    }

    // ---- the engine and its effects ------------------------------------------------------

    fn handle_logged(&mut self, input: Input) {
        if let Err(e) = self.handle(input) {
            warn!(error = %e, "input not used");
        }
    }

    fn handle(&mut self, input: Input) -> Result<(), EngineError> {
        let clock = self.clock();
        let effects = self.engine.handle(input, clock)?;
        for fx in effects {
            self.carry_out(fx, clock);
        }
        Ok(())
    }

    fn carry_out(&mut self, fx: Effect, clock: Clock) {
        match fx {
            Effect::SaveCallLog { log, op } => {
                let span = info_span!("call", call_id = %log.call_id);
                let _e = span.enter();
                if let Err(e) = self.store.save_call_log(&log, op, clock.wall_ms) {
                    error!(error = %e, "call log NOT committed");
                    self.notice = Some(store_error(&e));
                }
                self.stale.call(&log.id);
                self.drain();
            }
            Effect::OpenDraft { call_log_id } => {
                if let Err(e) = self.store.open_draft(&call_log_id, clock.wall_ms) {
                    error!(error = %e, "draft NOT opened");
                    self.notice = Some(store_error(&e));
                }
                self.stale.drafts = true;
                self.stale.history.insert(call_log_id);
            }
            Effect::Phone(cmd) => self.send_phone(cmd),
            Effect::ResolveContact { call_log_id, phone } => {
                self.workers.resolve_contact(call_log_id, phone);
            }
            Effect::FetchAgentStatus => self.workers.fetch_agent_status(),
            Effect::SendAgentInfo(info) => {
                info!(?info, "agent info");
                if let Some(socket) = &self.agent_socket {
                    socket.send_agent_info(json!({
                        "type": "agent_info",
                        "extension": info.extension,
                        "registration": info.registration,
                        "state": info.state,
                    }));
                }
            }
            Effect::OpenAgentSocket => self.open_agent_socket(),
            Effect::PbxTransfer {
                call_id,
                yeastar_call_id,
                request,
            } => self.workers.pbx_transfer(call_id, yeastar_call_id, request),
            Effect::Notice { code, message } => {
                self.notice = Some(IpcError::new(code, message));
            }
        }
    }

    /// Delivers a command to the bridge, or keeps it until the bridge attaches.
    fn send_phone(&mut self, cmd: PhoneCommand) {
        if let Some(sink) = &self.phone {
            if sink(&cmd) {
                return;
            }
            warn!("webphone relay gone (the agent's window reloaded?); commands wait for it to attach again");
            self.phone = None;
        }
        if self.phone_backlog.len() >= PHONE_BACKLOG {
            warn!("webphone command backlog full; the oldest command is dropped");
            self.phone_backlog.pop_front();
        }
        self.phone_backlog.push_back(cmd);
    }

    fn tick(&mut self) {
        self.handle_logged(Input::Tick);
        // Offline: ask every second, so that a backend that is back shows within ~2 s.
        if !self.sync.online {
            self.probe_backend();
        }
        // Retries whose time has come, and anything a pause held back.
        self.drain();
    }

    /// Lets a batch already sent settle, then stops everything the loop started.
    async fn close(mut self, done_rx: &mut mpsc::UnboundedReceiver<Done>) {
        if self.draining {
            let deadline = tokio::time::sleep(SHUTDOWN_GRACE);
            tokio::pin!(deadline);
            while self.draining {
                tokio::select! {
                    next = done_rx.recv() => match next {
                        Some(Done::Delivered { batch, results }) => {
                            self.draining = false;
                            let mut report = DrainReport::default();
                            if let Err(e) = ringside_sync::settle(&mut self.store, &batch, results, wall_ms(), &mut report) {
                                warn!(error = %e, "last answers not recorded; those writes will be sent again (the backend dedupes them)");
                            }
                        }
                        Some(_) => {}
                        None => break,
                    },
                    () = &mut deadline => {
                        warn!("an outbox batch was still in flight at shutdown; it stays queued");
                        break;
                    }
                }
            }
        }
        let _ = self.stop_workers.send(true);
        self.agent_socket = None;
        info!("core stopped");
        // The store, the journal (flushed on every line) and the demo backend close on drop.
    }
}

/// The loop. Ends on [`Msg::Shutdown`] or when every [`crate::Handle`] is gone.
pub(crate) async fn run(
    mut core: Core,
    mut msgs: mpsc::Receiver<Msg>,
    mut done_rx: mpsc::UnboundedReceiver<Done>,
) {
    core.sign_in_unattended();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ended: Option<oneshot::Sender<()>> = None;
    let mut published_at = Instant::now()
        .checked_sub(FRAME)
        .unwrap_or_else(Instant::now);
    let mut publish_due = false;
    'run: loop {
        let frame_end = tokio::time::Instant::from_std(published_at + FRAME);
        tokio::select! {
            biased;
            Some(done) = done_rx.recv() => core.on_done(done),
            msg = msgs.recv() => match msg {
                Some(Msg::Shutdown { done }) => { ended = Some(done); break 'run; }
                Some(msg) => {
                    core.on_msg(msg);
                    // What is already waiting is handled before one snapshot goes out.
                    for _ in 1..BATCH {
                        match msgs.try_recv() {
                            Ok(Msg::Shutdown { done }) => { ended = Some(done); break 'run; }
                            Ok(msg) => core.on_msg(msg),
                            Err(_) => break,
                        }
                    }
                }
                None => break 'run,
            },
            _ = tick.tick() => core.tick(),
            () = tokio::time::sleep_until(frame_end), if publish_due => {}
        }
        if published_at.elapsed() >= FRAME {
            core.publish();
            published_at = Instant::now();
            publish_due = false;
        } else {
            publish_due = true;
        }
    }
    core.close(&mut done_rx).await;
    if let Some(done) = ended {
        let _ = done.send(());
    }
    // Anyone still asking learns the core has stopped.
    msgs.close();
    while let Ok(msg) = msgs.try_recv() {
        if let Msg::Shutdown { done } = msg {
            let _ = done.send(());
        }
    }
}
