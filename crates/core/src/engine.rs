//! The call engine: `(state, input, clock) -> (state, effects)`, deterministic and IO-free.
//!
//! Every seed case lives here (see docs/architecture.md for the map). The shell feeds it
//! webphone callbacks, backend pushes, the agent's intents and clock ticks, and carries out the
//! effects it returns (persist, sync, drive the webphone). Nothing in here blocks or panics on
//! input: a callback the engine cannot use is reported as an error and the state is unchanged.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use tracing::{debug, info, info_span, warn};

use crate::call::{
    call_log_id, CallLog, CallStatus, Direction, QueueInfo, TransferKind, TransferOutcome,
    TransferRecord, TransferVia,
};
use crate::phone::{
    AppState, CallEvent, CallEventKind, CallId, Cdr, CommandFailure, PhoneEvent, PhoneEventError,
    RawPhoneEvent, RegState,
};
use crate::transfer::{
    failure_words, Operate, PbxAnswer, PbxTransfer, PbxTransferRequest, PbxTransferState,
    TalkingTo, TransferRoute, TransferUpdate,
};

/// How many ended calls the engine keeps to match late CDRs and duplicate events against.
const RECENT_CALLS: usize = 64;

/// How long registration may take before the agent is told it is not completing. The real
/// library under a policy without `'unsafe-eval'` (or past a trial date) sends REGISTER and
/// then says "Registering..." forever, with no `failed` callback.
pub const DEFAULT_REGISTRATION_TIMEOUT_MS: u64 = 20_000;

/// Time as the shell saw it when the input arrived. `mono_ms` only ever grows (talk time is
/// measured on it); `wall_ms` is for the record (Unix epoch milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Clock {
    pub mono_ms: u64,
    pub wall_ms: i64,
}

/// A string that must never reach a log: `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub extension_id: String,
    pub extension: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SipAccount {
    pub server: String,
    pub websocket_url: String,
    pub username: String,
    pub password: Secret,
    pub domain: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    Available,
    Paused,
    LoggedOut,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStatus {
    pub state: AgentState,
    #[serde(default)]
    pub reason: Option<String>,
}

/// What the agent asked for in the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "intent", rename_all = "snake_case")]
pub enum Intent {
    Dial {
        number: String,
    },
    Accept {
        call_id: String,
    },
    Reject {
        call_id: String,
    },
    Hangup {
        call_id: String,
    },
    Hold {
        call_id: String,
        on: bool,
    },
    Mute {
        call_id: String,
        on: bool,
    },
    Dtmf {
        call_id: String,
        digits: String,
    },
    BlindTransfer {
        call_id: String,
        number: String,
    },
    /// Attended transfer, step 1: hold `call_id` and call `number` to consult them.
    ConsultStart {
        call_id: String,
        number: String,
    },
    /// Step 2: hand the held call over to the consulted party (`call_id` is the consultation).
    ConsultComplete {
        call_id: String,
    },
    /// Or give up: hang up the consultation and resume the held call.
    ConsultCancel {
        call_id: String,
    },
    /// Or alternate between the two parties.
    ConsultSwap {
        call_id: String,
    },
    /// Or bring all three together (PBX transfers only: `attended_operate threeway`).
    ConsultThreeway {
        call_id: String,
    },
    /// After-call work for this call log is finished (submitted or dismissed).
    CloseWrapUp {
        call_log_id: String,
    },
}

impl Intent {
    /// The intent as logs may show it: tones as how many, never which (callers key in card
    /// numbers and PINs). Everything else as it is.
    pub fn for_logs(&self) -> Intent {
        match self {
            Self::Dtmf { call_id, digits } => Self::Dtmf {
                call_id: call_id.clone(),
                digits: crate::journal::mask_tones(digits),
            },
            other => other.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Input {
    Phone(RawPhoneEvent),
    SessionStarted {
        agent: Agent,
        sip: Option<SipAccount>,
    },
    SessionEnded,
    ContactResolved {
        call_log_id: String,
        contact_id: String,
        name: String,
    },
    QueueInfo(QueueInfo),
    QueueCleared {
        yeastar_call_id: String,
    },
    AgentStatus(AgentStatus),
    User(Intent),
    /// The backend's answer to a PBX transfer request for this (webphone) call id.
    PbxAnswer {
        call_id: String,
        answer: PbxAnswer,
    },
    /// A `transfer_update` pushed by the backend.
    TransferUpdate(TransferUpdate),
    Tick,
}

/// Parameters the webphone library needs (`webphone_api.setparameter`). Values are strings,
/// as the library expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebphoneParams {
    pub serveraddress: String,
    pub webrtcserveraddress: String,
    pub username: String,
    pub password: Secret,
    pub realm: String,
    pub displayname: String,
}

/// What the engine asks the webphone to do. Carried to `bridge.js` as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum PhoneCommand {
    Configure {
        params: WebphoneParams,
    },
    Start,
    Call {
        number: String,
    },
    Accept {
        call_id: String,
    },
    Reject {
        call_id: String,
    },
    Hangup {
        call_id: String,
    },
    Hold {
        call_id: String,
        on: bool,
    },
    Mute {
        call_id: String,
        on: bool,
    },
    Dtmf {
        call_id: String,
        digits: String,
    },
    /// A SIP REFER on the call's line (`transfertype` 1, set by the bridge). Also completes a
    /// webphone attended transfer, on the original line: the library's `transfer("")` throws.
    Transfer {
        call_id: String,
        number: String,
    },
    /// Sign-out: unregister and stop the library.
    Stop,
    /// Demo mode: the simulator rings with a call from `number`.
    SimIncoming {
        number: String,
    },
    /// Demo mode: the other party hangs up (the current call when `call_id` is `None`). Also
    /// stands in for the BYE a real PBX sends once it has moved the caller.
    SimRemoteHangup {
        call_id: Option<String>,
    },
    /// Demo mode: the called party answers.
    SimRemoteAnswer {
        call_id: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteOp {
    Create,
    Update,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInfo {
    pub extension: String,
    pub registration: RegState,
    pub state: Option<AgentState>,
}

// Effects live for one `handle` call: boxing the call log would cost an allocation per save
// to save stack space nobody needs.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Persist this call log (and queue it for the backend) before anything else happens.
    SaveCallLog {
        log: CallLog,
        op: WriteOp,
    },
    ResolveContact {
        call_log_id: String,
        phone: String,
    },
    Phone(PhoneCommand),
    /// An answered call ended: open after-call work for it.
    OpenDraft {
        call_log_id: String,
    },
    SendAgentInfo(AgentInfo),
    FetchAgentStatus,
    OpenAgentSocket,
    /// Ask the backend's PBX to transfer (`POST /api/calls/{yeastar_call_id}/transfer`); the
    /// answer comes back as `Input::PbxAnswer` for `call_id`, the outcome as `TransferUpdate`.
    PbxTransfer {
        call_id: String,
        yeastar_call_id: String,
        request: PbxTransferRequest,
    },
    /// Something the agent must be told in plain words (a refused command, a failed transfer).
    Notice {
        code: &'static str,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    #[error(transparent)]
    Phone(#[from] PhoneEventError),
    #[error("no call {0}")]
    NoSuchCall(String),
    #[error("call {call_id} is {status}; cannot {action}")]
    InvalidState {
        call_id: String,
        status: &'static str,
        action: &'static str,
    },
    #[error("`{0}` is not a number that can be dialled")]
    InvalidNumber(String),
    #[error(transparent)]
    Number(#[from] crate::number::NumberError),
    #[error("not signed in")]
    NoSession,
    #[error("{0}")]
    TransferUnavailable(String),
}

impl EngineError {
    /// A stable machine-readable code for the IPC boundary.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Phone(_) => "phone_event_invalid",
            Self::NoSuchCall(_) => "no_such_call",
            Self::InvalidState { .. } => "invalid_call_state",
            Self::InvalidNumber(_) => "invalid_number",
            Self::Number(e) => e.code(),
            Self::NoSession => "no_session",
            Self::TransferUnavailable(_) => "transfer_unavailable",
        }
    }
}

/// A call the engine is tracking: the record plus what is needed to keep it right.
#[derive(Debug, Clone)]
struct Call {
    log: CallLog,
    /// A transfer through the PBX under way on this call.
    pbx: Option<PbxTransfer>,
    connected_mono: Option<u64>,
    /// Talk time measured by us, before any CDR reconciliation.
    measured_talk_ms: Option<u64>,
    last_active_mono: u64,
    cdr_seen: bool,
    /// A transfer asked for and not yet confirmed by the webphone.
    pending_transfer: Option<(TransferKind, String)>,
    /// Since when the caller has been waiting on hold (for the hold timer).
    held_since_mono: Option<u64>,
}

/// The id the library's `setline` matches: the bare SIP Call-ID. A bracketed id silently
/// selects nothing and the command lands on whatever line is current (recorded:
/// two_inbound_second answered the wrong caller).
fn line_id(call: &Call) -> String {
    call.log.call_id.clone()
}

impl Call {
    fn talk_seconds_at(&self, now_mono: u64) -> u64 {
        match (self.log.status, self.connected_mono) {
            (CallStatus::Talking, Some(at)) => now_mono.saturating_sub(at) / 1000,
            _ => self.log.talk_seconds,
        }
    }
}

/// A live call as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveCall {
    pub log: CallLog,
    /// Whole seconds talked so far, computed by the core at snapshot time.
    pub talk_seconds_now: u64,
    /// Whole seconds the caller has been on hold, while they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_seconds_now: Option<u64>,
    /// A transfer through the PBX under way (consultation, three-way, pending step).
    #[serde(default)]
    pub pbx_transfer: Option<PbxTransfer>,
}

/// The engine's state as the UI renders it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EngineView {
    pub agent: Option<Agent>,
    pub registration: Option<RegState>,
    pub registration_reason: Option<String>,
    pub webphone: Option<AppState>,
    pub agent_status: Option<AgentStatus>,
    pub calls: Vec<LiveCall>,
    /// Queue info of the current call; its `channel_id` feeds the attended-transfer form.
    pub queue: Option<QueueInfo>,
    /// The library's last general status line ("Registering...", "Registered.").
    #[serde(default)]
    pub phone_status: Option<String>,
    /// The library's last `display` message (how it reports a refused server).
    #[serde(default)]
    pub phone_display: Option<String>,
    /// Registration neither succeeded nor failed within the bound: seconds since `start()`.
    #[serde(default)]
    pub registration_stalled_s: Option<u64>,
}

#[derive(Debug, Default)]
pub struct Engine {
    agent: Option<Agent>,
    sip: Option<SipAccount>,
    app_state: Option<AppState>,
    webphone_started: bool,
    registration: Option<RegState>,
    registration_reason: Option<String>,
    agent_status: Option<AgentStatus>,
    live: Vec<Call>,
    recent: VecDeque<Call>,
    /// Answered calls awaiting after-call work; kept here, not looked up in `recent`, so
    /// that a busy agent's open wrap-ups never fall out of the bounded history.
    wrap_up: Vec<CallLog>,
    queue: Option<QueueInfo>,
    /// Queue info that arrived before its call's first webphone event.
    early_queue: Option<QueueInfo>,
    pending_dial: Option<String>,
    /// An attended transfer's consultation being dialled: (held call id, number).
    pending_consult: Option<(String, String)>,
    transfer_route: TransferRoute,
    registration_timeout_ms: Option<u64>,
    /// When `start()` was asked for, while registration has not settled.
    start_sent_mono: Option<u64>,
    last_status: Option<String>,
    last_display: Option<String>,
    /// Policy: the region national numbers are read in (`default_region`).
    region: Option<phonenumber::country::Id>,
    /// Policy: a consultation leg opens its own after-call form (`consult_after_call_work`).
    consult_wrap_up: bool,
}

impl Engine {
    pub fn new() -> Self {
        Self::default()
    }

    /// Policy: whether the consultation leg of an attended transfer gets its own after-call
    /// form (off by default: the notes go on the customer's call).
    pub fn set_consult_after_call_work(&mut self, on: bool) {
        self.consult_wrap_up = on;
    }

    /// Policy: the region whose national numbers agents type (`"06 12 34 56 78"` in France).
    pub fn set_default_region(&mut self, region: Option<phonenumber::country::Id>) {
        self.region = region;
    }

    /// Policy: who carries transfers out (`transfer_route`).
    pub fn set_transfer_route(&mut self, route: TransferRoute) {
        self.transfer_route = route;
    }

    /// Policy: how long registration may take before the agent is told.
    pub fn set_registration_timeout_ms(&mut self, ms: u64) {
        self.registration_timeout_ms = Some(ms.max(1));
    }

    /// The extension calls are keyed under; `"unknown"` before sign-in (replay of a journal
    /// whose agent is not given).
    fn extension(&self) -> &str {
        self.agent
            .as_ref()
            .map(|a| a.extension.as_str())
            .unwrap_or("unknown")
    }

    pub fn handle(&mut self, input: Input, clock: Clock) -> Result<Vec<Effect>, EngineError> {
        let mut fx = Vec::new();
        match input {
            Input::Phone(raw) => {
                let event = PhoneEvent::parse(&raw).inspect_err(|e| {
                    warn!(kind = %raw.kind, error = %e, "unusable webphone callback; ignored");
                })?;
                self.on_phone(event, clock, &mut fx);
            }
            Input::SessionStarted { agent, sip } => {
                info!(extension = %agent.extension, "session started");
                self.agent = Some(agent);
                self.sip = sip;
                self.webphone_started = false;
                fx.push(Effect::FetchAgentStatus);
                fx.push(Effect::OpenAgentSocket);
                self.start_webphone_if_ready(clock, &mut fx);
            }
            Input::SessionEnded => {
                self.sip = None;
                self.webphone_started = false;
                self.start_sent_mono = None;
            }
            Input::ContactResolved {
                call_log_id,
                contact_id,
                name,
            } => {
                if let Some(call) = self.find_by_log_id(&call_log_id) {
                    if call.log.contact_id.as_deref() != Some(contact_id.as_str())
                        || call.log.contact_name.as_deref() != Some(name.as_str())
                    {
                        call.log.contact_id = Some(contact_id);
                        call.log.contact_name = Some(name);
                        fx.push(Effect::SaveCallLog {
                            log: call.log.clone(),
                            op: WriteOp::Update,
                        });
                    }
                }
            }
            Input::QueueInfo(info) => self.on_queue_info(info, &mut fx),
            Input::QueueCleared { yeastar_call_id } => {
                if self
                    .queue
                    .as_ref()
                    .is_some_and(|q| q.yeastar_call_id == yeastar_call_id)
                {
                    self.queue = None;
                }
                if self
                    .early_queue
                    .as_ref()
                    .is_some_and(|q| q.yeastar_call_id == yeastar_call_id)
                {
                    self.early_queue = None;
                }
            }
            Input::AgentStatus(status) => {
                self.agent_status = Some(status);
            }
            Input::User(intent) => self.on_intent(intent, clock, &mut fx)?,
            Input::PbxAnswer { call_id, answer } => self.on_pbx_answer(&call_id, answer, &mut fx),
            Input::TransferUpdate(update) => self.on_transfer_update(update, &mut fx),
            Input::Tick => {}
        }
        // Hold is set in many places (the agent, a transfer, the PBX, the library): the hold
        // timer follows the flag after every input rather than at each of them.
        for call in &mut self.live {
            match (call.log.on_hold, call.held_since_mono) {
                (true, None) => call.held_since_mono = Some(clock.mono_ms),
                (false, Some(_)) => call.held_since_mono = None,
                _ => {}
            }
        }
        Ok(fx)
    }

    fn start_webphone_if_ready(&mut self, clock: Clock, fx: &mut Vec<Effect>) {
        let loaded = matches!(
            self.app_state,
            Some(AppState::Loaded | AppState::Started | AppState::Stopped)
        );
        if self.webphone_started || !loaded {
            return;
        }
        let (Some(agent), Some(sip)) = (&self.agent, &self.sip) else {
            return;
        };
        fx.push(Effect::Phone(PhoneCommand::Configure {
            params: WebphoneParams {
                serveraddress: sip.server.clone(),
                webrtcserveraddress: sip.websocket_url.clone(),
                username: sip.username.clone(),
                password: sip.password.clone(),
                realm: sip.domain.clone(),
                displayname: agent.name.clone(),
            },
        }));
        fx.push(Effect::Phone(PhoneCommand::Start));
        self.webphone_started = true;
        if self.registration != Some(RegState::Registered) {
            self.start_sent_mono = Some(clock.mono_ms);
        }
    }

    fn on_phone(&mut self, event: PhoneEvent, clock: Clock, fx: &mut Vec<Effect>) {
        match event {
            PhoneEvent::App(state) => {
                debug!(?state, "webphone app state");
                self.app_state = Some(state);
                if state == AppState::Loaded {
                    // A reload of the library loses its parameters: configure it again.
                    self.webphone_started = false;
                }
                self.start_webphone_if_ready(clock, fx);
            }
            PhoneEvent::Registration { state, reason } => {
                info!(
                    ?state,
                    reason = reason.as_deref().unwrap_or(""),
                    "registration"
                );
                self.registration = Some(state);
                self.registration_reason = reason;
                if matches!(state, RegState::Registered | RegState::Failed) {
                    self.start_sent_mono = None;
                }
                if let Some(agent) = &self.agent {
                    fx.push(Effect::SendAgentInfo(AgentInfo {
                        extension: agent.extension.clone(),
                        registration: state,
                        state: self.agent_status.as_ref().map(|s| s.state),
                    }));
                }
            }
            PhoneEvent::Display(text) => {
                if self.registration == Some(RegState::Failed) && !text.is_empty() {
                    self.registration_reason = Some(text.clone());
                }
                if !text
                    .trim_matches(|c: char| c == ',' || c.is_whitespace())
                    .is_empty()
                {
                    warn!(display = %text, "webphone display message");
                    self.last_display = Some(text);
                }
            }
            PhoneEvent::Status(text) => {
                if !text.is_empty() {
                    self.last_status = Some(text);
                }
            }
            PhoneEvent::CommandFailed(failure) => self.on_command_failed(failure, fx),
            PhoneEvent::Call(ev) => self.on_call_event(ev, clock, fx),
            PhoneEvent::Cdr(cdr) => self.on_cdr(cdr, clock, fx),
            PhoneEvent::Ignored => {}
        }
    }

    fn on_call_event(&mut self, ev: CallEvent, clock: Clock, fx: &mut Vec<Effect>) {
        let Some(call_id) = ev.call_id.clone() else {
            self.on_anonymous_call_event(ev, clock, fx);
            return;
        };
        let span = info_span!("call", call_id = %call_id);
        let _enter = span.enter();

        if let Some(call) = self
            .recent
            .iter()
            .find(|c| c.log.call_id == call_id.as_str())
        {
            // Duplicates after the end (double firing, late `disconnected`) change nothing:
            // a terminal status never changes.
            debug!(event = ?ev.kind, status = call.log.status.as_str(), "event for an ended call ignored");
            return;
        }

        let index = match self.live_index(&call_id) {
            Some(i) => i,
            None => {
                if let CallEventKind::Unknown(name) = &ev.kind {
                    debug!(event = %name, "unknown event for an unknown call ignored");
                    return;
                }
                let status = if ev.kind == CallEventKind::Connected {
                    CallStatus::Talking
                } else {
                    CallStatus::Ringing
                };
                self.create_call(&call_id, &ev, status, clock, fx)
            }
        };
        let Some(call) = self.live.get_mut(index) else {
            return;
        };
        call.last_active_mono = clock.mono_ms;
        if ev.line.is_some() && call.log.peer.is_empty() && !ev.peer.is_empty() {
            call.log.peer = ev.peer.clone();
        }

        match ev.kind {
            CallEventKind::Setup | CallEventKind::Ringing => {}
            CallEventKind::Connected => {
                if call.log.status == CallStatus::Ringing {
                    info!("connected");
                    call.log.status = CallStatus::Talking;
                    call.connected_mono = Some(clock.mono_ms);
                    call.log.answered_at_ms = Some(clock.wall_ms);
                    fx.push(Effect::SaveCallLog {
                        log: call.log.clone(),
                        op: WriteOp::Update,
                    });
                } else if call.connected_mono.is_none() {
                    // Created straight into talking by this very event.
                    call.connected_mono = Some(clock.mono_ms);
                    call.log.answered_at_ms = Some(clock.wall_ms);
                }
            }
            CallEventKind::Disconnected => {
                self.end_call(index, clock, None, fx);
            }
            CallEventKind::Transfer => {
                if confirm_transfer(call) {
                    fx.push(Effect::SaveCallLog {
                        log: call.log.clone(),
                        op: WriteOp::Update,
                    });
                }
            }
            CallEventKind::Muted | CallEventKind::Unmuted => {
                let muted = ev.kind == CallEventKind::Muted;
                if call.log.muted != muted {
                    call.log.muted = muted;
                }
            }
            // Hold and resume arrive as `trying` on a connected call: the status stays
            // talking (seed case "Ongoing"); the hold flag follows the agent's intent.
            CallEventKind::Trying
            | CallEventKind::Midcall
            | CallEventKind::Hold
            | CallEventKind::Conference
            | CallEventKind::Reload => {}
            CallEventKind::Unknown(name) => debug!(event = %name, "unknown call event ignored"),
        }
    }

    /// `muted`, `unmuted` and `transfer` arrive with no call id: they are about the call the
    /// agent is working on, i.e. the most recently active connected call.
    fn on_anonymous_call_event(&mut self, ev: CallEvent, clock: Clock, fx: &mut Vec<Effect>) {
        let Some(index) = self.current_index() else {
            debug!(event = ?ev.kind, "call event without call id and no current call; ignored");
            return;
        };
        let Some(call) = self.live.get_mut(index) else {
            return;
        };
        let span = info_span!("call", call_id = %call.log.call_id);
        let _enter = span.enter();
        match ev.kind {
            CallEventKind::Muted => call.log.muted = true,
            CallEventKind::Unmuted => call.log.muted = false,
            CallEventKind::Transfer => {
                // The library does not say which call was transferred: every call with a
                // transfer under way has it confirmed (usually there is one).
                for c in self.live.iter_mut() {
                    if confirm_transfer(c) {
                        fx.push(Effect::SaveCallLog {
                            log: c.log.clone(),
                            op: WriteOp::Update,
                        });
                    }
                }
                return;
            }
            _ => {
                debug!(event = ?ev.kind, "call event without call id ignored");
            }
        }
        call.last_active_mono = clock.mono_ms;
    }

    fn create_call(
        &mut self,
        call_id: &CallId,
        ev: &CallEvent,
        status: CallStatus,
        clock: Clock,
        fx: &mut Vec<Effect>,
    ) -> usize {
        let direction = ev.direction.unwrap_or_else(|| {
            if self.pending_dial.as_deref() == Some(ev.peer.as_str()) {
                Direction::Outbound
            } else {
                Direction::Inbound
            }
        });
        let log = self.new_log(
            call_id,
            direction,
            &ev.peer,
            &ev.peer_display,
            status,
            clock,
        );
        info!(direction = ?direction, peer = %log.peer, status = status.as_str(), "new call");
        let mut log = log;
        if direction == Direction::Outbound {
            self.pending_dial = None;
            if let Some((held, number)) = self.pending_consult.take() {
                if number == log.peer {
                    log.consult_for = Some(held);
                } else {
                    self.pending_consult = Some((held, number));
                }
            }
        }
        let connected = status == CallStatus::Talking;
        fx.push(Effect::SaveCallLog {
            log: log.clone(),
            op: WriteOp::Create,
        });
        if !log.peer.is_empty() {
            fx.push(Effect::ResolveContact {
                call_log_id: log.id.clone(),
                phone: log.peer.clone(),
            });
        }
        let mut call = Call {
            log,
            pbx: None,
            connected_mono: connected.then_some(clock.mono_ms),
            measured_talk_ms: None,
            last_active_mono: clock.mono_ms,
            cdr_seen: false,
            pending_transfer: None,
            held_since_mono: None,
        };
        if connected {
            call.log.answered_at_ms = Some(clock.wall_ms);
        }
        if let Some(q) = self.early_queue.take() {
            if direction == Direction::Inbound && (q.caller.is_empty() || q.caller == call.log.peer)
            {
                call.log.queue = Some(q.clone());
                self.queue = Some(q);
            } else {
                self.early_queue = Some(q);
            }
        }
        self.live.push(call);
        self.live.len() - 1
    }

    fn new_log(
        &self,
        call_id: &CallId,
        direction: Direction,
        peer: &str,
        peer_display: &str,
        status: CallStatus,
        clock: Clock,
    ) -> CallLog {
        let ext = self.extension().to_string();
        let (from, to) = match direction {
            Direction::Inbound => (peer.to_string(), ext.clone()),
            Direction::Outbound => (ext.clone(), peer.to_string()),
        };
        let peer_name =
            (!peer_display.is_empty() && peer_display != peer).then(|| peer_display.to_string());
        CallLog {
            from,
            to,
            peer_name,
            extension_id: self.agent.as_ref().map(|a| a.extension_id.clone()),
            started_at_ms: clock.wall_ms,
            ..CallLog::new(
                call_log_id(&ext, call_id.as_str()),
                call_id.as_str(),
                direction,
                peer,
                status,
            )
        }
    }

    /// Seed case "Call end": stop the timer, settle the status, persist, then either open
    /// after-call work (answered) or drop the call's transient data.
    fn end_call(&mut self, index: usize, clock: Clock, cdr: Option<&Cdr>, fx: &mut Vec<Effect>) {
        if index >= self.live.len() {
            return;
        }
        let mut call = self.live.remove(index);
        let cdr_talk_ms = cdr.map(|c| c.duration_ms).unwrap_or(0);
        let connected = call.connected_mono.is_some() || cdr_talk_ms > 0;
        call.log.status = CallStatus::ended(call.log.direction, connected);
        call.log.ended_at_ms = Some(clock.wall_ms);
        call.log.on_hold = false;
        call.log.muted = false;
        let measured = call
            .connected_mono
            .map(|at| clock.mono_ms.saturating_sub(at));
        call.measured_talk_ms = measured;
        let talk_ms = if cdr_talk_ms > 0 {
            cdr_talk_ms
        } else {
            measured.unwrap_or(0)
        };
        call.log.talk_seconds = round_seconds(talk_ms);
        if let Some(cdr) = cdr {
            call.cdr_seen = true;
            if !cdr.reason.is_empty() {
                call.log.end_reason = Some(cdr.reason.clone());
            }
        }
        // A transfer counts once the webphone confirmed it (`transfer` event); one that was
        // asked for but failed leaves the call as it was.
        info!(
            status = call.log.status.as_str(),
            talk_seconds = call.log.talk_seconds,
            "call ended"
        );
        // The queue info and the transfer form belong to the live call only.
        if let (Some(q), Some(cq)) = (&self.queue, &call.log.queue) {
            if q.yeastar_call_id == cq.yeastar_call_id {
                self.queue = None;
            }
        }
        if self.live.is_empty() {
            self.queue = None;
        }
        fx.push(Effect::SaveCallLog {
            log: call.log.clone(),
            op: WriteOp::Update,
        });
        // A consultation leg is part of the customer's call, not a call of its own: its notes
        // belong on the customer's, unless policy wants one form per leg.
        let wrap_up = call.log.consult_for.is_none() || self.consult_wrap_up;
        if call.log.status == CallStatus::Answered && wrap_up {
            self.wrap_up.push(call.log.clone());
            fx.push(Effect::OpenDraft {
                call_log_id: call.log.id.clone(),
            });
        }
        self.remember(call);
    }

    fn remember(&mut self, call: Call) {
        self.recent.push_front(call);
        self.recent.truncate(RECENT_CALLS);
    }

    fn on_cdr(&mut self, cdr: Cdr, clock: Clock, fx: &mut Vec<Effect>) {
        let Some(call_id) = cdr.call_id.clone() else {
            warn!("CDR without call id ignored");
            return;
        };
        let span = info_span!("call", call_id = %call_id);
        let _enter = span.enter();

        if let Some(index) = self.live_index(&call_id) {
            // The CDR came before (or instead of) `disconnected`: it ends the call.
            self.end_call(index, clock, Some(&cdr), fx);
            return;
        }
        if let Some(call) = self
            .recent
            .iter_mut()
            .find(|c| c.log.call_id == call_id.as_str())
        {
            if call.cdr_seen {
                debug!("duplicate CDR ignored");
                return;
            }
            call.cdr_seen = true;
            let mut changed = false;
            if !cdr.reason.is_empty() && call.log.end_reason.as_deref() != Some(&cdr.reason) {
                call.log.end_reason = Some(cdr.reason.clone());
                changed = true;
            }
            // The library's own talk time is the reference the agent's managers compare
            // against; ours (event to event) differs by the callbacks' latency.
            if call.log.status == CallStatus::Answered && cdr.duration_ms > 0 {
                let secs = round_seconds(cdr.duration_ms);
                if secs != call.log.talk_seconds {
                    call.log.talk_seconds = secs;
                    changed = true;
                }
            }
            if changed {
                let log = call.log.clone();
                if let Some(w) = self.wrap_up.iter_mut().find(|w| w.id == log.id) {
                    *w = log.clone();
                }
                fx.push(Effect::SaveCallLog {
                    log,
                    op: WriteOp::Update,
                });
            }
            return;
        }

        // A call known from its CDR alone: build the whole record from it.
        let ext = self.extension().to_string();
        let direction = cdr.direction.unwrap_or(if cdr.caller == ext {
            Direction::Outbound
        } else {
            Direction::Inbound
        });
        let peer = match direction {
            Direction::Inbound => cdr.caller.clone(),
            Direction::Outbound => cdr.called.clone(),
        };
        info!(?direction, peer = %peer, "call known only from its CDR");
        let ev = CallEvent {
            kind: CallEventKind::Setup,
            direction: Some(direction),
            peer,
            peer_display: cdr.peer_display.clone(),
            line: cdr.line,
            call_id: Some(call_id.clone()),
        };
        let started = Clock {
            mono_ms: clock.mono_ms,
            wall_ms: clock.wall_ms.saturating_sub(
                i64::try_from(cdr.connect_ms.saturating_add(cdr.duration_ms)).unwrap_or(0),
            ),
        };
        let index = self.create_call(&call_id, &ev, CallStatus::Ringing, started, fx);
        self.end_call(index, clock, Some(&cdr), fx);
    }

    fn on_queue_info(&mut self, info: QueueInfo, fx: &mut Vec<Effect>) {
        let target = self
            .live
            .iter()
            .rposition(|c| {
                c.log.direction == Direction::Inbound
                    && !info.caller.is_empty()
                    && c.log.peer == info.caller
            })
            .or_else(|| self.current_index());
        match target.and_then(|i| self.live.get_mut(i)) {
            Some(call) => {
                let span = info_span!("call", call_id = %call.log.call_id);
                let _enter = span.enter();
                info!(queue = %info.queue_number, "queue info");
                call.log.queue = Some(info.clone());
                self.queue = Some(info);
                fx.push(Effect::SaveCallLog {
                    log: call.log.clone(),
                    op: WriteOp::Update,
                });
            }
            None => {
                // The backend can be faster than the webphone: keep it for the next call.
                self.early_queue = Some(info);
            }
        }
    }

    fn on_intent(
        &mut self,
        intent: Intent,
        _clock: Clock,
        fx: &mut Vec<Effect>,
    ) -> Result<(), EngineError> {
        match intent {
            Intent::Dial { number } => {
                if self.agent.is_none() {
                    return Err(EngineError::NoSession);
                }
                let number = crate::number::dial_string(&number, self.region)?;
                // A new call while one is up: the one in progress waits on hold, never two
                // calls talking at once.
                self.hold_talking_calls(fx);
                self.pending_dial = Some(number.clone());
                fx.push(Effect::Phone(PhoneCommand::Call { number }));
            }
            Intent::Accept { call_id } => {
                let call = self.live_call(&call_id)?;
                require(call, CallStatus::Ringing, "accept")?;
                if call.log.direction != Direction::Inbound {
                    return Err(invalid(call, "accept"));
                }
                let accept = PhoneCommand::Accept {
                    call_id: line_id(call),
                };
                // Call waiting: answering a second call puts the one in progress on hold
                // first, as agents expect; they resume it when the new one ends.
                self.hold_talking_calls(fx);
                fx.push(Effect::Phone(accept));
            }
            Intent::Reject { call_id } => {
                let call = self.live_call_mut(&call_id)?;
                require(call, CallStatus::Ringing, "reject")?;
                call.log.rejected_by_agent = true;
                fx.push(Effect::Phone(PhoneCommand::Reject {
                    call_id: line_id(call),
                }));
            }
            Intent::Hangup { call_id } => {
                let call = self.live_call(&call_id)?;
                fx.push(Effect::Phone(PhoneCommand::Hangup {
                    call_id: line_id(call),
                }));
            }
            Intent::Hold { call_id, on } => {
                let call = self.live_call_mut(&call_id)?;
                require(call, CallStatus::Talking, "hold")?;
                call.log.on_hold = on;
                fx.push(Effect::Phone(PhoneCommand::Hold {
                    call_id: line_id(call),
                    on,
                }));
            }
            Intent::Mute { call_id, on } => {
                let call = self.live_call_mut(&call_id)?;
                require(call, CallStatus::Talking, "mute")?;
                call.log.muted = on;
                fx.push(Effect::Phone(PhoneCommand::Mute {
                    call_id: line_id(call),
                    on,
                }));
            }
            Intent::Dtmf { call_id, digits } => {
                let call = self.live_call(&call_id)?;
                require(call, CallStatus::Talking, "send DTMF")?;
                let digits: String = digits
                    .chars()
                    .filter(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D'))
                    .collect();
                if digits.is_empty() {
                    return Err(EngineError::InvalidNumber(digits));
                }
                fx.push(Effect::Phone(PhoneCommand::Dtmf {
                    call_id: line_id(call),
                    digits,
                }));
            }
            Intent::BlindTransfer { call_id, number } => {
                let number = crate::number::dial_string(&number, self.region)?;
                let route = self.transfer_route;
                let call = self.live_call_mut(&call_id)?;
                require(call, CallStatus::Talking, "transfer")?;
                if start_pbx(call, route, TransferKind::Blind, &number, fx)? {
                    return Ok(());
                }
                call.pending_transfer = Some((TransferKind::Blind, number.clone()));
                fx.push(Effect::Phone(PhoneCommand::Transfer {
                    call_id: line_id(call),
                    number,
                }));
            }
            Intent::ConsultStart { call_id, number } => {
                let number = crate::number::dial_string(&number, self.region)?;
                let route = self.transfer_route;
                let call = self.live_call_mut(&call_id)?;
                require(call, CallStatus::Talking, "consult")?;
                // Through the PBX, it holds the caller and rings the target on the agent's own
                // leg: the webphone keeps one call throughout.
                if start_pbx(call, route, TransferKind::Attended, &number, fx)? {
                    return Ok(());
                }
                if !call.log.on_hold {
                    call.log.on_hold = true;
                    fx.push(Effect::Phone(PhoneCommand::Hold {
                        call_id: line_id(call),
                        on: true,
                    }));
                }
                let held = call.log.call_id.clone();
                self.pending_consult = Some((held, number.clone()));
                self.pending_dial = Some(number.clone());
                fx.push(Effect::Phone(PhoneCommand::Call { number }));
            }
            Intent::ConsultComplete { call_id } => {
                if self.pbx_operate(&call_id, Operate::Complete, fx)? {
                    return Ok(());
                }
                let (held, consult) = self.consult_pair(&call_id)?;
                let target = self.live[consult].log.peer.clone();
                let consult_line = line_id(&self.live[consult]);
                let original = &mut self.live[held];
                original.pending_transfer = Some((TransferKind::Attended, target.clone()));
                // The library's own attended completion (`transfer("")`) throws in 3.6 and
                // reports nothing; its documented alternative is a REFER of the original call
                // to the consulted number, then ending the consultation.
                fx.push(Effect::Phone(PhoneCommand::Transfer {
                    call_id: line_id(original),
                    number: target,
                }));
                fx.push(Effect::Phone(PhoneCommand::Hangup {
                    call_id: consult_line,
                }));
            }
            Intent::ConsultCancel { call_id } => {
                if self.pbx_operate(&call_id, Operate::Abort, fx)? {
                    return Ok(());
                }
                let (held, consult) = self.consult_pair(&call_id)?;
                let consulted = self.live[consult].log.peer.clone();
                fx.push(Effect::Phone(PhoneCommand::Hangup {
                    call_id: line_id(&self.live[consult]),
                }));
                let original = &mut self.live[held];
                original.log.on_hold = false;
                original.log.transfer = Some(TransferRecord::new(
                    TransferKind::Attended,
                    consulted,
                    TransferOutcome::Cancelled,
                    TransferVia::Webphone,
                ));
                fx.push(Effect::SaveCallLog {
                    log: original.log.clone(),
                    op: WriteOp::Update,
                });
                fx.push(Effect::Phone(PhoneCommand::Hold {
                    call_id: line_id(original),
                    on: false,
                }));
            }
            Intent::ConsultSwap { call_id } => {
                if self.pbx_operate(&call_id, Operate::Swap, fx)? {
                    return Ok(());
                }
                let (held, consult) = self.consult_pair(&call_id)?;
                // Whoever is on hold now is resumed; the other one waits.
                let (wait, talk) = if self.live[held].log.on_hold {
                    (consult, held)
                } else {
                    (held, consult)
                };
                for (i, on) in [(wait, true), (talk, false)] {
                    let c = &mut self.live[i];
                    c.log.on_hold = on;
                    fx.push(Effect::Phone(PhoneCommand::Hold {
                        call_id: line_id(c),
                        on,
                    }));
                }
            }
            Intent::ConsultThreeway { call_id } => {
                if !self.pbx_operate(&call_id, Operate::Threeway, fx)? {
                    return Err(EngineError::TransferUnavailable(
                        "A three-way conference needs a queue call transferred through the phone system; this call has no consultation there.".into(),
                    ));
                }
            }
            Intent::CloseWrapUp { call_log_id } => {
                self.wrap_up.retain(|log| log.id != call_log_id);
            }
        }
        Ok(())
    }

    /// Hold every call that is talking and not on hold yet (before answering or dialling
    /// another one).
    fn hold_talking_calls(&mut self, fx: &mut Vec<Effect>) {
        for other in self
            .live
            .iter_mut()
            .filter(|c| c.log.status == CallStatus::Talking && !c.log.on_hold)
        {
            other.log.on_hold = true;
            fx.push(Effect::Phone(PhoneCommand::Hold {
                call_id: line_id(other),
                on: true,
            }));
        }
    }

    /// Step 2 of an attended transfer through the PBX, when `call_id` has one in progress.
    /// `Ok(false)`: the call has no PBX consultation (the webphone path applies).
    fn pbx_operate(
        &mut self,
        call_id: &str,
        op: Operate,
        fx: &mut Vec<Effect>,
    ) -> Result<bool, EngineError> {
        let Ok(call) = self.live_call_mut(call_id) else {
            return Ok(false);
        };
        let Some(pbx) = call.pbx.as_mut() else {
            return Ok(false);
        };
        if pbx.kind != TransferKind::Attended
            || !matches!(
                pbx.state,
                PbxTransferState::Consulting | PbxTransferState::Threeway
            )
        {
            return Err(EngineError::TransferUnavailable(format!(
                "The transfer to {} is not ready for that yet.",
                pbx.number
            )));
        }
        if pbx.requested.is_some() {
            return Err(EngineError::TransferUnavailable(
                "The phone system has not answered the last step yet.".into(),
            ));
        }
        let Some(q) = call.log.queue.clone() else {
            return Ok(false);
        };
        pbx.requested = Some(op);
        let number = pbx.number.clone();
        info!(call_id = %call.log.call_id, ?op, "PBX attended transfer step");
        fx.push(Effect::PbxTransfer {
            call_id: call.log.call_id.clone(),
            yeastar_call_id: q.yeastar_call_id,
            request: PbxTransferRequest {
                kind: TransferKind::Attended,
                channel_id: q.channel_id,
                number,
                operate: Some(op),
            },
        });
        Ok(true)
    }

    fn on_pbx_answer(&mut self, call_id: &str, answer: PbxAnswer, fx: &mut Vec<Effect>) {
        let Ok(call) = self.live_call_mut(call_id) else {
            debug!(%call_id, "PBX answer for a call that has ended");
            return;
        };
        let span = info_span!("call", call_id = %call.log.call_id);
        let _enter = span.enter();
        let Some(pbx) = call.pbx.as_mut() else {
            return;
        };
        match answer {
            PbxAnswer::Accepted => {
                debug!(state = ?pbx.state, "PBX accepted the transfer request");
            }
            PbxAnswer::Refused { code, message } => {
                warn!(%code, %message, "PBX transfer refused");
                let words = failure_words(Some(&code), Some(&message));
                let number = pbx.number.clone();
                if pbx.requested.take().is_some() && pbx.state != PbxTransferState::Pending {
                    // A refused step leaves the consultation as it was.
                    fx.push(Effect::Notice {
                        code: "transfer_failed",
                        message: format!("The transfer step was not carried out: {words}."),
                    });
                    return;
                }
                let kind = pbx.kind;
                end_pbx(
                    call,
                    kind,
                    &number,
                    TransferOutcome::Failed,
                    Some(code),
                    &words,
                    fx,
                );
            }
        }
    }

    fn on_transfer_update(&mut self, update: TransferUpdate, fx: &mut Vec<Effect>) {
        let Some(call) = self
            .pbx_index(&update.yeastar_call_id)
            .and_then(|i| self.live.get_mut(i))
        else {
            debug!(yeastar_call_id = %update.yeastar_call_id, "transfer update for no live call");
            return;
        };
        let span = info_span!("call", call_id = %call.log.call_id);
        let _enter = span.enter();
        info!(state = ?update.state, number = %update.number, "PBX transfer update");
        let was_threeway = call.pbx.as_ref().is_some_and(|p| p.was_threeway);
        let outcome = match update.state {
            PbxTransferState::Pending => return,
            PbxTransferState::Consulting | PbxTransferState::Threeway => {
                let threeway = update.state == PbxTransferState::Threeway;
                call.pbx = Some(PbxTransfer {
                    kind: update.kind,
                    number: update.number.clone(),
                    state: update.state,
                    talking_to: if threeway {
                        None
                    } else {
                        update.talking_to.or(Some(TalkingTo::Target))
                    },
                    was_threeway: was_threeway || threeway,
                    requested: None,
                });
                // The caller waits on the PBX's hold while the agent consults.
                call.log.on_hold = !threeway && update.talking_to != Some(TalkingTo::Caller);
                return;
            }
            PbxTransferState::Completed => TransferOutcome::Completed,
            PbxTransferState::Aborted => TransferOutcome::Cancelled,
            PbxTransferState::Failed => TransferOutcome::Failed,
        };
        let reason = (outcome == TransferOutcome::Failed)
            .then(|| update.reason.clone())
            .flatten();
        let words = failure_words(update.reason.as_deref(), update.message.as_deref());
        end_pbx(
            call,
            update.kind,
            &update.number,
            outcome,
            reason,
            &words,
            fx,
        );
    }

    /// The bridge could not carry a command out. Whatever the engine assumed from the agent's
    /// click is undone, and the agent is told: the screen never shows a state the phone lacks.
    fn on_command_failed(&mut self, failure: CommandFailure, fx: &mut Vec<Effect>) {
        warn!(cmd = %failure.cmd, code = %failure.code, message = %failure.message, "webphone command failed");
        if let Some(call) = failure
            .call_id
            .as_ref()
            .and_then(|id| self.live.iter_mut().find(|c| c.log.call_id == id.as_str()))
        {
            match failure.cmd.as_str() {
                "hold" => call.log.on_hold = !call.log.on_hold,
                "mute" => call.log.muted = !call.log.muted,
                "transfer" => {
                    if let Some((kind, to)) = call.pending_transfer.take() {
                        call.log.transfer = Some(TransferRecord {
                            reason: Some(failure.code.clone()),
                            ..TransferRecord::new(
                                kind,
                                to,
                                TransferOutcome::Failed,
                                TransferVia::Webphone,
                            )
                        });
                        fx.push(Effect::SaveCallLog {
                            log: call.log.clone(),
                            op: WriteOp::Update,
                        });
                    }
                }
                _ => {}
            }
        }
        let action = match failure.cmd.as_str() {
            "accept" => "answer the call",
            "reject" => "decline the call",
            "hangup" => "hang up",
            "hold" => "change hold",
            "mute" => "change mute",
            "dtmf" => "send the keypad digits",
            "transfer" => "transfer the call",
            "call" => "place the call",
            _ => "carry out the last action",
        };
        let why = if failure.code == "call_unknown" {
            "it no longer has that call".to_string()
        } else {
            failure.message.clone()
        };
        fx.push(Effect::Notice {
            code: "phone_command_failed",
            message: format!("The webphone could not {action}: {why}. Nothing else was changed."),
        });
    }

    /// (held call, consultation) indexes for a consultation's call id.
    fn consult_pair(&self, consult_call_id: &str) -> Result<(usize, usize), EngineError> {
        let id = CallId::parse(consult_call_id)
            .ok_or_else(|| EngineError::NoSuchCall(consult_call_id.into()))?;
        let consult = self
            .live_index(&id)
            .ok_or_else(|| EngineError::NoSuchCall(consult_call_id.into()))?;
        let held_id = self.live[consult].log.consult_for.clone().ok_or_else(|| {
            invalid(
                &self.live[consult],
                "complete a transfer (not a consultation)",
            )
        })?;
        let held = self
            .live
            .iter()
            .position(|c| c.log.call_id == held_id)
            .ok_or(EngineError::NoSuchCall(held_id))?;
        Ok((held, consult))
    }

    /// The live call that carries this PBX call (the queue call's `yeastar_call_id`).
    fn pbx_index(&self, yeastar_call_id: &str) -> Option<usize> {
        self.live.iter().position(|c| {
            c.log
                .queue
                .as_ref()
                .is_some_and(|q| q.yeastar_call_id == yeastar_call_id)
        })
    }

    /// The webphone call id of the live call that carries this PBX call.
    pub fn call_for_pbx(&self, yeastar_call_id: &str) -> Option<&str> {
        self.pbx_index(yeastar_call_id)
            .and_then(|i| self.live.get(i))
            .map(|c| c.log.call_id.as_str())
    }

    fn live_index(&self, call_id: &CallId) -> Option<usize> {
        self.live
            .iter()
            .position(|c| c.log.call_id == call_id.as_str())
    }

    fn current_index(&self) -> Option<usize> {
        let talking = self
            .live
            .iter()
            .enumerate()
            .filter(|(_, c)| c.log.status == CallStatus::Talking)
            .max_by_key(|(_, c)| c.last_active_mono)
            .map(|(i, _)| i);
        talking.or_else(|| self.live.len().checked_sub(1))
    }

    fn live_call(&self, call_id: &str) -> Result<&Call, EngineError> {
        let id = CallId::parse(call_id).ok_or_else(|| EngineError::NoSuchCall(call_id.into()))?;
        self.live
            .iter()
            .find(|c| c.log.call_id == id.as_str())
            .ok_or_else(|| EngineError::NoSuchCall(call_id.into()))
    }

    fn live_call_mut(&mut self, call_id: &str) -> Result<&mut Call, EngineError> {
        let id = CallId::parse(call_id).ok_or_else(|| EngineError::NoSuchCall(call_id.into()))?;
        self.live
            .iter_mut()
            .find(|c| c.log.call_id == id.as_str())
            .ok_or_else(|| EngineError::NoSuchCall(call_id.into()))
    }

    fn find_by_log_id(&mut self, log_id: &str) -> Option<&mut Call> {
        self.live
            .iter_mut()
            .chain(self.recent.iter_mut())
            .find(|c| c.log.id == log_id)
    }

    /// The state for the UI, with live talk timers computed at `clock`.
    pub fn view(&self, clock: Clock) -> EngineView {
        EngineView {
            agent: self.agent.clone(),
            registration: self.registration,
            registration_reason: self.registration_reason.clone(),
            webphone: self.app_state,
            agent_status: self.agent_status.clone(),
            calls: self
                .live
                .iter()
                .map(|c| LiveCall {
                    log: c.log.clone(),
                    talk_seconds_now: c.talk_seconds_at(clock.mono_ms),
                    hold_seconds_now: c
                        .held_since_mono
                        .map(|since| clock.mono_ms.saturating_sub(since) / 1000),
                    pbx_transfer: c.pbx.clone(),
                })
                .collect(),
            queue: self.queue.clone(),
            phone_status: self.last_status.clone(),
            phone_display: self.last_display.clone(),
            registration_stalled_s: self.registration_stalled_s(clock),
        }
    }

    /// Seconds since `start()` when registration has neither succeeded nor failed within the
    /// bound; `None` otherwise.
    pub fn registration_stalled_s(&self, clock: Clock) -> Option<u64> {
        let since = self.start_sent_mono?;
        let waited = clock.mono_ms.saturating_sub(since);
        let bound = self
            .registration_timeout_ms
            .unwrap_or(DEFAULT_REGISTRATION_TIMEOUT_MS);
        (waited >= bound).then_some(waited / 1000)
    }

    /// Every call log the engine still holds (live first, then ended), for tests and replay.
    pub fn call_logs(&self) -> impl Iterator<Item = &CallLog> {
        self.live.iter().chain(self.recent.iter()).map(|c| &c.log)
    }

    /// Answered calls whose after-call work is open, oldest first.
    pub fn wrap_up(&self) -> &[CallLog] {
        &self.wrap_up
    }

    pub fn live_calls(&self) -> usize {
        self.live.len()
    }
}

/// The webphone confirmed a transfer (`transfer` event): record it on a call that had one
/// under way. Returns whether the record changed.
fn confirm_transfer(call: &mut Call) -> bool {
    let Some((kind, to)) = call.pending_transfer.clone() else {
        return false;
    };
    let record = TransferRecord::new(
        kind,
        to.clone(),
        TransferOutcome::Completed,
        TransferVia::Webphone,
    );
    if call.log.transfer.as_ref() == Some(&record) {
        return false;
    }
    info!(call_id = %call.log.call_id, %to, ?kind, "transfer confirmed by the webphone");
    call.log.transferred_to = Some(to);
    call.log.transfer = Some(record);
    true
}

/// A PBX transfer is over: record how it ended, and tell the agent when it failed. A
/// completed one names the target; any other leaves the caller with the agent, off hold.
fn end_pbx(
    call: &mut Call,
    kind: TransferKind,
    number: &str,
    outcome: TransferOutcome,
    reason: Option<String>,
    words: &str,
    fx: &mut Vec<Effect>,
) {
    let conference = call.pbx.take().is_some_and(|p| p.was_threeway);
    if outcome == TransferOutcome::Completed {
        call.log.transferred_to = Some(number.to_string());
    } else {
        call.log.on_hold = false;
    }
    call.log.transfer = Some(TransferRecord {
        reason,
        conference,
        ..TransferRecord::new(kind, number, outcome, TransferVia::Pbx)
    });
    fx.push(Effect::SaveCallLog {
        log: call.log.clone(),
        op: WriteOp::Update,
    });
    if outcome == TransferOutcome::Failed {
        fx.push(Effect::Notice {
            code: "transfer_failed",
            message: format!(
                "The call was not transferred to {number}: {words}. The caller is still with you."
            ),
        });
    }
}

/// Starts the transfer through the PBX when it is the PBX's to do: `Ok(false)` when the
/// webphone does it, an error when policy demands the PBX and the call has no channel there.
fn start_pbx(
    call: &mut Call,
    route: TransferRoute,
    kind: TransferKind,
    number: &str,
    fx: &mut Vec<Effect>,
) -> Result<bool, EngineError> {
    let channel = call
        .log
        .queue
        .as_ref()
        .filter(|q| !q.channel_id.is_empty() && !q.yeastar_call_id.is_empty());
    let q = match (route, channel) {
        (TransferRoute::Webphone, _) | (TransferRoute::Auto, None) => return Ok(false),
        (_, Some(q)) => q,
        (TransferRoute::Pbx, None) => return Err(EngineError::TransferUnavailable(
            "This call cannot be transferred: transfers go through the phone system, and this call has no channel there (it is not a queue call).".into(),
        )),
    };
    if let Some(p) = &call.pbx {
        return Err(EngineError::TransferUnavailable(format!(
            "A transfer to {} is already under way for this call.",
            p.number
        )));
    }
    info!(call_id = %call.log.call_id, ?kind, %number, "transfer through the PBX");
    fx.push(Effect::PbxTransfer {
        call_id: call.log.call_id.clone(),
        yeastar_call_id: q.yeastar_call_id.clone(),
        request: PbxTransferRequest {
            kind,
            channel_id: q.channel_id.clone(),
            number: number.to_string(),
            operate: None,
        },
    });
    call.pbx = Some(PbxTransfer {
        kind,
        number: number.to_string(),
        state: PbxTransferState::Pending,
        talking_to: None,
        was_threeway: false,
        requested: None,
    });
    Ok(true)
}

fn round_seconds(ms: u64) -> u64 {
    ms.saturating_add(500) / 1000
}

fn require(call: &Call, status: CallStatus, action: &'static str) -> Result<(), EngineError> {
    if call.log.status == status {
        Ok(())
    } else {
        Err(invalid(call, action))
    }
}

fn invalid(call: &Call, action: &'static str) -> EngineError {
    EngineError::InvalidState {
        call_id: call.log.call_id.clone(),
        status: call.log.status.as_str(),
        action,
    }
}
