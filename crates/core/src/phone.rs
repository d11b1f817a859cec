//! Webphone callbacks as they arrive (raw) and as the engine understands them (typed).
//!
//! `bridge.js` forwards every callback's arguments verbatim; all normalisation happens here,
//! in Rust, so that a journal replayed later goes through exactly the same code.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::call::Direction;

/// One webphone callback exactly as the library passed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawPhoneEvent {
    /// `app`, `reg`, `call`, `cdr`, `event`, `dtmf`, ... (the journal's `kind`).
    pub kind: String,
    #[serde(default)]
    pub args: Vec<Value>,
}

/// What the webphone's iframe may hand the core, and how fast. That frame runs the vendor's
/// script (and, through it, anything injected into it), so its one ingress is treated as
/// untrusted input: it cannot pass itself off as the agent (`intent` lines come only from the
/// core), cannot flood the journal, and cannot exhaust memory with one giant callback. The
/// real library sends a few callbacks a second and a handful of short arguments each.
#[derive(Debug, Clone)]
pub struct Ingress {
    tokens: f64,
    last_ms: u64,
    /// Callbacks refused since the last report, by reason.
    pub refused: u64,
}

/// Why a callback from the webphone was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngressError {
    #[error("`{0}` is not a webphone callback (intents come only from the agent's window)")]
    ForgedKind(String),
    #[error("webphone callback too large ({0})")]
    TooLarge(&'static str),
    #[error("webphone callbacks arrive faster than {per_s} a second; this one was dropped", per_s = INGRESS_PER_S)]
    TooFast,
}

impl IngressError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::ForgedKind(_) => "phone_event_forged",
            Self::TooLarge(_) => "phone_event_too_large",
            Self::TooFast => "phone_event_too_fast",
        }
    }
}

/// At most this many arguments, bytes in one string argument, and bytes in all of them.
pub const INGRESS_MAX_ARGS: usize = 16;
pub const INGRESS_MAX_STRING: usize = 8 * 1024;
pub const INGRESS_MAX_BYTES: usize = 64 * 1024;
/// Callbacks in one `phone_event` batch: the agent's window relays what the webphone reported
/// while its previous batch was being handled (`ui/static/relay.js`, `MAX_BATCH`), so a burst
/// costs one IPC request per batch instead of one per callback.
pub const INGRESS_MAX_BATCH: usize = 64;
/// Sustained rate and burst: far above the library's few a second, so that a real burst (a
/// reconnect replaying several calls' events) is never cut.
pub const INGRESS_PER_S: u64 = 500;
pub const INGRESS_BURST: u64 = 1000;

impl Default for Ingress {
    fn default() -> Self {
        Self {
            tokens: INGRESS_BURST as f64,
            last_ms: 0,
            refused: 0,
        }
    }
}

impl Ingress {
    /// Takes `raw` at monotonic time `now_ms`, or says why not (and counts it).
    pub fn admit(&mut self, raw: &RawPhoneEvent, now_ms: u64) -> Result<(), IngressError> {
        let verdict = Self::check(raw).and_then(|()| self.take_token(now_ms));
        if verdict.is_err() {
            self.refused += 1;
        }
        verdict
    }

    fn check(raw: &RawPhoneEvent) -> Result<(), IngressError> {
        let kind_ok = !raw.kind.is_empty()
            && raw.kind.len() <= 32
            && raw
                .kind
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if raw.kind == crate::journal::INTENT_KIND || !kind_ok {
            return Err(IngressError::ForgedKind(
                raw.kind.chars().take(32).collect(),
            ));
        }
        if raw.args.len() > INGRESS_MAX_ARGS {
            return Err(IngressError::TooLarge("too many arguments"));
        }
        let mut total = 0usize;
        for arg in &raw.args {
            let bytes = match arg {
                Value::String(s) => {
                    if s.len() > INGRESS_MAX_STRING {
                        return Err(IngressError::TooLarge("an argument is too long"));
                    }
                    s.len()
                }
                other => other.to_string().len(),
            };
            total += bytes;
            if total > INGRESS_MAX_BYTES {
                return Err(IngressError::TooLarge("too many bytes in all"));
            }
        }
        Ok(())
    }

    fn take_token(&mut self, now_ms: u64) -> Result<(), IngressError> {
        let elapsed = now_ms.saturating_sub(self.last_ms) as f64 / 1000.0;
        self.last_ms = now_ms.max(self.last_ms);
        self.tokens = (self.tokens + elapsed * INGRESS_PER_S as f64).min(INGRESS_BURST as f64);
        if self.tokens < 1.0 {
            return Err(IngressError::TooFast);
        }
        self.tokens -= 1.0;
        Ok(())
    }
}

impl RawPhoneEvent {
    pub fn new(kind: impl Into<String>, args: Vec<Value>) -> Self {
        Self {
            kind: kind.into(),
            args,
        }
    }

    /// An `onCallStateChange` callback shaped as the library sends it (line 1, the peer as
    /// its own display name), for tools, workloads and benchmarks that script calls.
    pub fn call(event: &str, direction: Direction, peer: &str, call_id: &str) -> Self {
        let dir = match direction {
            Direction::Outbound => 1,
            Direction::Inbound => 2,
        };
        Self::new(
            "call",
            vec![
                Value::from(event),
                Value::from(dir),
                Value::from(peer),
                Value::from(peer),
                Value::from(1),
                Value::from(call_id),
            ],
        )
    }
}

/// Why a raw callback could not be understood. The engine logs it and carries on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneEventError {
    #[error("callback `{kind}` is missing argument {index} ({name})")]
    MissingArgument {
        kind: String,
        index: usize,
        name: &'static str,
    },
    #[error("callback `{kind}` argument {name} has an unusable value: {value}")]
    BadArgument {
        kind: String,
        name: &'static str,
        value: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppState {
    NotLoaded,
    Loaded,
    Started,
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegState {
    Unknown,
    Registered,
    Unregistered,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEventKind {
    Setup,
    Ringing,
    Connected,
    Disconnected,
    Trying,
    Midcall,
    Hold,
    Muted,
    Unmuted,
    Transfer,
    Conference,
    Reload,
    Unknown(String),
}

impl CallEventKind {
    /// Both the old (`callSetup`) and the new (`setup`) names map to one kind, which is what
    /// makes the double firing of `apibehaviour=-1` harmless: the second one is a no-op.
    pub fn parse(name: &str) -> Self {
        match name.trim().to_ascii_lowercase().as_str() {
            "setup" | "callsetup" => Self::Setup,
            "ringing" | "callringing" => Self::Ringing,
            "connected" | "callconnected" => Self::Connected,
            "disconnected" | "calldisconnected" => Self::Disconnected,
            "trying" => Self::Trying,
            "midcall" => Self::Midcall,
            "hold" => Self::Hold,
            "muted" => Self::Muted,
            "unmuted" => Self::Unmuted,
            "transfer" => Self::Transfer,
            "conference" => Self::Conference,
            "reload" => Self::Reload,
            _ => Self::Unknown(name.to_string()),
        }
    }
}

/// The webphone's call id, without the brackets the library sometimes wraps it in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CallId(String);

impl CallId {
    /// `None` for an empty id (the library sends `""` with `muted`, `transfer`, ...).
    pub fn parse(raw: &str) -> Option<Self> {
        let trimmed = raw.trim();
        let bare = trimmed
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .unwrap_or(trimmed)
            .trim();
        if bare.is_empty() {
            None
        } else {
            Some(Self(bare.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CallEvent {
    pub kind: CallEventKind,
    pub direction: Option<Direction>,
    pub peer: String,
    pub peer_display: String,
    pub line: Option<i64>,
    pub call_id: Option<CallId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cdr {
    pub caller: String,
    pub called: String,
    pub connect_ms: u64,
    pub duration_ms: u64,
    pub direction: Option<Direction>,
    pub peer_display: String,
    pub reason: String,
    pub line: Option<i64>,
    pub call_id: Option<CallId>,
}

/// A command the bridge refused or the library threw on (`command_failed` from bridge.js).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandFailure {
    pub cmd: String,
    pub call_id: Option<CallId>,
    /// `call_unknown`, `refused_by_library`, `threw`, `no_call_id`, `unknown_command`.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PhoneEvent {
    App(AppState),
    Registration {
        state: RegState,
        reason: Option<String>,
    },
    Call(CallEvent),
    Cdr(Cdr),
    /// `display` messages ("title,text"): the library's way of reporting registration errors.
    Display(String),
    /// The general (`STATUS,-1,<text>`) status line: "Registering...", "Registered.", ...
    Status(String),
    /// The bridge could not carry a command out (`command_failed`): nothing was done.
    CommandFailed(CommandFailure),
    /// Everything the engine does not act on (`event` STATUS lines, `log`, `dtmf`, ...).
    Ignored,
}

impl PhoneEvent {
    pub fn parse(raw: &RawPhoneEvent) -> Result<Self, PhoneEventError> {
        let args = Args {
            kind: &raw.kind,
            args: &raw.args,
        };
        match raw.kind.as_str() {
            "app" => {
                let state = args.text(0, "state")?;
                Ok(match state.to_ascii_lowercase().as_str() {
                    "loaded" => PhoneEvent::App(AppState::Loaded),
                    "started" => PhoneEvent::App(AppState::Started),
                    "stopped" => PhoneEvent::App(AppState::Stopped),
                    _ => PhoneEvent::Ignored,
                })
            }
            "reg" => {
                let state = args.text(0, "state")?;
                let state = match state.to_ascii_lowercase().as_str() {
                    "registered" => RegState::Registered,
                    "unregistered" => RegState::Unregistered,
                    "failed" => RegState::Failed,
                    _ => RegState::Unknown,
                };
                let reason = args.opt_text(1).filter(|r| !r.is_empty());
                Ok(PhoneEvent::Registration { state, reason })
            }
            "call" => {
                let name = args.text(0, "event")?;
                Ok(PhoneEvent::Call(CallEvent {
                    kind: CallEventKind::parse(&name),
                    direction: args.direction(1),
                    peer: args.opt_text(2).unwrap_or_default(),
                    peer_display: args.opt_text(3).unwrap_or_default(),
                    line: args.int(4),
                    call_id: args.opt_text(5).and_then(|s| CallId::parse(&s)),
                }))
            }
            "cdr" => Ok(PhoneEvent::Cdr(Cdr {
                caller: args.opt_text(0).unwrap_or_default(),
                called: args.opt_text(1).unwrap_or_default(),
                connect_ms: args.millis(2, "connecttime")?,
                duration_ms: args.millis(3, "duration")?,
                direction: args.direction(4),
                peer_display: args.opt_text(5).unwrap_or_default(),
                reason: args.opt_text(6).unwrap_or_default(),
                line: args.int(7),
                call_id: args.opt_text(8).and_then(|s| CallId::parse(&s)),
            })),
            "event" => {
                let ty = args.opt_text(0).unwrap_or_default();
                let text = args.opt_text(1).unwrap_or_default();
                if ty == "display" {
                    Ok(PhoneEvent::Display(text))
                } else if let Some(status) = text.strip_prefix("STATUS,-1,") {
                    Ok(PhoneEvent::Status(status.trim().to_string()))
                } else {
                    Ok(PhoneEvent::Ignored)
                }
            }
            "command_failed" => {
                let v = raw
                    .args
                    .first()
                    .ok_or_else(|| PhoneEventError::MissingArgument {
                        kind: raw.kind.clone(),
                        index: 0,
                        name: "failure",
                    })?;
                let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                Ok(PhoneEvent::CommandFailed(CommandFailure {
                    cmd: text("cmd"),
                    call_id: CallId::parse(&text("call_id")),
                    code: text("code"),
                    message: text("message"),
                }))
            }
            _ => Ok(PhoneEvent::Ignored),
        }
    }
}

struct Args<'a> {
    kind: &'a str,
    args: &'a [Value],
}

impl Args<'_> {
    fn opt_text(&self, index: usize) -> Option<String> {
        match self.args.get(index)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    fn text(&self, index: usize, name: &'static str) -> Result<String, PhoneEventError> {
        self.opt_text(index)
            .ok_or_else(|| PhoneEventError::MissingArgument {
                kind: self.kind.to_string(),
                index,
                name,
            })
    }

    fn int(&self, index: usize) -> Option<i64> {
        match self.args.get(index)? {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn direction(&self, index: usize) -> Option<Direction> {
        match self.int(index)? {
            1 => Some(Direction::Outbound),
            2 => Some(Direction::Inbound),
            _ => None,
        }
    }

    /// CDR times arrive as strings ("3064"); a missing or empty one counts as 0, a garbage one
    /// is an error, because guessing a talk time would put a wrong figure on an agent's record.
    fn millis(&self, index: usize, name: &'static str) -> Result<u64, PhoneEventError> {
        let bad = |value: String| PhoneEventError::BadArgument {
            kind: self.kind.to_string(),
            name,
            value,
        };
        match self.args.get(index) {
            None | Some(Value::Null) => Ok(0),
            Some(Value::Number(n)) => n
                .as_u64()
                .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
                .ok_or_else(|| bad(n.to_string())),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(0),
            Some(Value::String(s)) => s.trim().parse().map_err(|_| bad(s.clone())),
            Some(other) => Err(bad(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_webphone_window_cannot_pass_for_the_agent_or_flood_the_core() {
        let mut ingress = Ingress::default();
        let ok = RawPhoneEvent::new("call", vec![json!("connected"), json!(1), json!("1001")]);
        assert_eq!(ingress.admit(&ok, 0), Ok(()));
        for kind in [
            "intent",
            "",
            "call\n{\"kind\":\"intent\"}",
            "x".repeat(40).as_str(),
        ] {
            let forged =
                RawPhoneEvent::new(kind, vec![json!({"intent": "dial", "number": "0900"})]);
            assert_eq!(
                ingress.admit(&forged, 0).unwrap_err().code(),
                "phone_event_forged"
            );
        }
        let many = RawPhoneEvent::new("call", vec![json!(1); INGRESS_MAX_ARGS + 1]);
        assert_eq!(
            ingress.admit(&many, 0).unwrap_err().code(),
            "phone_event_too_large"
        );
        let long = RawPhoneEvent::new("event", vec![json!("x".repeat(INGRESS_MAX_STRING + 1))]);
        assert_eq!(
            ingress.admit(&long, 0).unwrap_err().code(),
            "phone_event_too_large"
        );
        let wide = RawPhoneEvent::new("event", vec![json!("x".repeat(INGRESS_MAX_STRING)); 9]);
        assert_eq!(
            ingress.admit(&wide, 0).unwrap_err().code(),
            "phone_event_too_large"
        );
        assert_eq!(ingress.refused, 7);
    }

    #[test]
    fn a_burst_passes_a_flood_does_not_and_the_rate_recovers() {
        let mut ingress = Ingress::default();
        let ev = RawPhoneEvent::new("call", vec![json!("ringing")]);
        // 2,000 callbacks in 2.2 s (the bench's burst, at its fastest measured): all taken.
        let taken = (0..2000u64)
            .filter(|i| ingress.admit(&ev, i * 11 / 10).is_ok())
            .count();
        assert_eq!(taken, 2000);
        // 10,000 more at once: the bucket runs dry.
        let mut flood = Ingress::default();
        let taken = (0..10_000).filter(|_| flood.admit(&ev, 0).is_ok()).count();
        assert_eq!(taken, INGRESS_BURST as usize);
        assert_eq!(flood.admit(&ev, 0), Err(IngressError::TooFast));
        // A second later, the sustained rate is back.
        assert_eq!(flood.admit(&ev, 1000), Ok(()));
    }

    use super::*;
    use serde_json::json;

    fn raw(kind: &str, args: Value) -> RawPhoneEvent {
        RawPhoneEvent::new(kind, args.as_array().cloned().unwrap_or_default())
    }

    #[test]
    fn call_ids_lose_their_brackets() {
        assert_eq!(CallId::parse("[abc]").unwrap().as_str(), "abc");
        assert_eq!(CallId::parse(" abc ").unwrap().as_str(), "abc");
        assert_eq!(CallId::parse("[]"), None);
        assert_eq!(CallId::parse(""), None);
    }

    #[test]
    fn old_and_new_event_names_are_one_kind() {
        assert_eq!(
            CallEventKind::parse("callConnected"),
            CallEventKind::parse("connected")
        );
        assert_eq!(CallEventKind::parse("callSetup"), CallEventKind::Setup);
        assert_eq!(
            CallEventKind::parse("weird"),
            CallEventKind::Unknown("weird".into())
        );
    }

    #[test]
    fn call_event_with_numbers_as_strings() {
        let ev = PhoneEvent::parse(&raw(
            "call",
            json!(["connected", "2", "1001", "Bob", "1", "[x-1]"]),
        ))
        .unwrap();
        let PhoneEvent::Call(c) = ev else {
            panic!("not a call event")
        };
        assert_eq!(c.direction, Some(Direction::Inbound));
        assert_eq!(c.line, Some(1));
        assert_eq!(c.call_id.unwrap().as_str(), "x-1");
    }

    #[test]
    fn empty_arguments_are_not_an_error() {
        let ev = PhoneEvent::parse(&raw("call", json!(["muted", "", "", "", 1, ""]))).unwrap();
        let PhoneEvent::Call(c) = ev else {
            panic!("not a call event")
        };
        assert_eq!(c.kind, CallEventKind::Muted);
        assert_eq!(c.call_id, None);
        assert_eq!(c.direction, None);
    }

    #[test]
    fn cdr_times_are_strings() {
        let ev = PhoneEvent::parse(&raw(
            "cdr",
            json!([
                "1001",
                "1002",
                "1634",
                "3064",
                1,
                "1002",
                "User hangup",
                1,
                "abc"
            ]),
        ))
        .unwrap();
        let PhoneEvent::Cdr(c) = ev else {
            panic!("not a cdr")
        };
        assert_eq!(c.duration_ms, 3064);
        assert_eq!(c.connect_ms, 1634);
        assert_eq!(c.direction, Some(Direction::Outbound));
    }

    #[test]
    fn garbage_cdr_time_is_an_error_not_a_panic() {
        let err = PhoneEvent::parse(&raw(
            "cdr",
            json!(["1001", "1002", "x", "3064", 1, "", "", 1, "abc"]),
        ))
        .unwrap_err();
        assert!(matches!(err, PhoneEventError::BadArgument { .. }));
    }

    #[test]
    fn missing_event_name_is_an_error() {
        assert!(PhoneEvent::parse(&raw("call", json!([]))).is_err());
        assert!(PhoneEvent::parse(&raw("call", json!([null, 1]))).is_err());
    }

    #[test]
    fn unknown_kinds_are_ignored() {
        assert_eq!(
            PhoneEvent::parse(&raw("chat", json!(["hi"]))).unwrap(),
            PhoneEvent::Ignored
        );
    }
}
