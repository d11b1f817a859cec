//! The PBX behind `POST /api/calls/{yeastar_call_id}/transfer`, modelled faithfully enough for
//! the client to meet every outcome a Yeastar `call/transfer` can have: the target answers, is
//! busy or does not answer, the call ends half-way, the PBX cannot be reached.
//!
//! Each queue call (created by `POST /admin/queue-call`) remembers the agent it reached, the
//! `channel_id` the PBX issued for the agent's leg, and its transfer, which moves through
//! `pending -> consulting/threeway -> completed/aborted/failed`. Outcomes that take time on a
//! real PBX (the target's phone rings) come from tokio timers; every outcome is pushed to the
//! agent's sockets as a `transfer_update` frame. The contract is `/work/contract/pbx-transfer.md`,
//! documented in `docs/backend-api.md` section 4.7.
//!
//! Locking: one mutex guards the calls, the settings and the request log, and every push for
//! a call is sent while it is held, so a socket sees a call's frames in the order the state
//! changed (a `failed/call_gone` is never overtaken by a late `consulting`). The mutex is never
//! held across an `.await`, and nothing here takes the database lock while holding it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tracing::info;

use crate::api::{now_ms, ApiError};
use crate::ws::Hub;

/// Longest delay `PUT /admin/pbx` accepts (one hour).
pub const MAX_DELAY_MS: u64 = 3_600_000;
/// The request log keeps this many entries, oldest dropped first.
const LOG_CAP: usize = 10_000;
/// Longest transfer target accepted.
const MAX_NUMBER_LEN: usize = 64;

pub const BUSY_MESSAGE: &str = "486 Busy Here";
pub const NO_ANSWER_MESSAGE: &str = "480 Temporarily Unavailable (no answer)";
pub const CALL_GONE_MESSAGE: &str = "487 Request Terminated (the call ended)";
pub const UNREACHABLE_MESSAGE: &str = "503 Service Unavailable (the PBX cannot be reached)";

/// What a transfer target does when the PBX rings it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetBehaviour {
    Answer,
    Busy,
    NoAnswer,
}

/// `PUT /admin/pbx`, `GET /admin/pbx`. A `PUT` replaces every field; absent fields take their
/// defaults (reachable, 300 ms to answer, 3 s to give up, every target answers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PbxSettings {
    /// Every transfer request gets `502 pbx_unreachable`, and transfers whose outcome is
    /// still awaited fail with reason `pbx_unreachable` when it would have come.
    #[serde(default)]
    pub unreachable: bool,
    /// How long a target takes to answer (or to answer busy).
    #[serde(default = "default_answer_delay")]
    pub answer_delay_ms: u64,
    /// How long the PBX rings a target that does not answer before it gives up.
    #[serde(default = "default_no_answer")]
    pub no_answer_ms: u64,
    /// Behaviour per target number; a number not listed answers.
    #[serde(default)]
    pub targets: BTreeMap<String, TargetBehaviour>,
}

fn default_answer_delay() -> u64 {
    300
}

fn default_no_answer() -> u64 {
    3000
}

impl Default for PbxSettings {
    fn default() -> Self {
        Self {
            unreachable: false,
            answer_delay_ms: default_answer_delay(),
            no_answer_ms: default_no_answer(),
            targets: BTreeMap::new(),
        }
    }
}

impl PbxSettings {
    pub fn validate(&self) -> Result<(), String> {
        if self.answer_delay_ms > MAX_DELAY_MS || self.no_answer_ms > MAX_DELAY_MS {
            return Err(format!("delays are limited to {MAX_DELAY_MS} ms"));
        }
        if let Some(n) = self.targets.keys().find(|n| n.trim().is_empty()) {
            return Err(format!("target number `{n}` is empty"));
        }
        Ok(())
    }

    fn behaviour(&self, number: &str) -> TargetBehaviour {
        self.targets
            .get(number)
            .copied()
            .unwrap_or(TargetBehaviour::Answer)
    }

    /// What ringing `number` will do, and after how long.
    fn ring(&self, number: &str) -> (TargetBehaviour, u64) {
        let behaviour = self.behaviour(number);
        let delay = match behaviour {
            TargetBehaviour::Answer | TargetBehaviour::Busy => self.answer_delay_ms,
            TargetBehaviour::NoAnswer => self.no_answer_ms,
        };
        (behaviour, delay)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Blind,
    Attended,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Blind => "blind",
            Kind::Attended => "attended",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operate {
    Complete,
    Abort,
    Threeway,
    Swap,
}

/// The request body as sent; [`TransferBody::validate`] turns it into a [`TransferRequest`].
#[derive(Debug, Deserialize)]
pub struct TransferBody {
    #[serde(rename = "type")]
    kind: String,
    channel_id: String,
    number: String,
    #[serde(default)]
    operate: Option<String>,
}

/// A well-formed transfer request.
#[derive(Debug, Clone)]
pub struct TransferRequest {
    pub kind: Kind,
    pub channel_id: String,
    pub number: String,
    pub operate: Option<Operate>,
}

impl TransferBody {
    /// The `422 invalid` checks of the contract; nothing here looks at the PBX.
    pub fn validate(self) -> Result<TransferRequest, String> {
        let kind = match self.kind.as_str() {
            "blind" => Kind::Blind,
            "attended" => Kind::Attended,
            other => return Err(format!("unknown transfer type `{other}`")),
        };
        let channel_id = self.channel_id.trim().to_string();
        if channel_id.is_empty() {
            return Err("channel_id is required".into());
        }
        let number = self.number.trim().to_string();
        if number.is_empty() {
            return Err("number is required".into());
        }
        if number.len() > MAX_NUMBER_LEN || number.chars().any(char::is_control) {
            return Err(format!(
                "number must be at most {MAX_NUMBER_LEN} printable characters"
            ));
        }
        let operate = match self.operate.as_deref() {
            None => None,
            Some(_) if kind == Kind::Blind => {
                return Err("operate needs an attended transfer".into());
            }
            Some("complete") => Some(Operate::Complete),
            Some("abort") => Some(Operate::Abort),
            Some("threeway") => Some(Operate::Threeway),
            Some("swap") => Some(Operate::Swap),
            Some(other) => {
                return Err(format!(
                    "unknown operate `{other}` (complete|abort|threeway|swap)"
                ))
            }
        };
        Ok(TransferRequest {
            kind,
            channel_id,
            number,
            operate,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Party {
    Target,
    Caller,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The PBX rings the target; a timer decides the outcome.
    Pending,
    Consulting(Party),
    Threeway,
    Completed,
    Aborted,
    Failed,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Consulting(_) => "consulting",
            Phase::Threeway => "threeway",
            Phase::Completed => "completed",
            Phase::Aborted => "aborted",
            Phase::Failed => "failed",
        }
    }

    fn under_way(self) -> bool {
        matches!(
            self,
            Phase::Pending | Phase::Consulting(_) | Phase::Threeway
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    Busy,
    NoAnswer,
    CallGone,
    PbxUnreachable,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Busy => "busy",
            Reason::NoAnswer => "no_answer",
            Reason::CallGone => "call_gone",
            Reason::PbxUnreachable => "pbx_unreachable",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Reason::Busy => BUSY_MESSAGE,
            Reason::NoAnswer => NO_ANSWER_MESSAGE,
            Reason::CallGone => CALL_GONE_MESSAGE,
            Reason::PbxUnreachable => UNREACHABLE_MESSAGE,
        }
    }
}

#[derive(Debug, Clone)]
struct Transfer {
    id: String,
    kind: Kind,
    number: String,
    phase: Phase,
    reason: Option<Reason>,
    /// The log entry of the request whose outcome the next push is.
    log_seq: u64,
}

impl Transfer {
    fn frame(&self, yeastar_call_id: &str) -> Value {
        let talking_to = match self.phase {
            Phase::Consulting(Party::Target) => json!("target"),
            Phase::Consulting(Party::Caller) => json!("caller"),
            _ => Value::Null,
        };
        json!({
            "type": "transfer_update",
            "yeastar_call_id": yeastar_call_id,
            "transfer_id": self.id,
            "kind": self.kind.as_str(),
            "number": self.number,
            "state": self.phase.as_str(),
            "talking_to": talking_to,
            "reason": self.reason.map(Reason::as_str),
            "message": self.reason.map(Reason::message),
        })
    }
}

#[derive(Debug, Clone)]
struct Call {
    agent_id: String,
    channel_id: String,
    transfer: Option<Transfer>,
}

#[derive(Debug, Clone)]
struct LogEntry {
    seq: u64,
    at_ms: i64,
    agent_id: String,
    yeastar_call_id: String,
    request: Value,
    status: u16,
    code: Option<&'static str>,
    replay: bool,
    transfer_id: Option<String>,
    outcome: Option<Value>,
}

impl LogEntry {
    /// An entry for one request; [`Inner::log`] numbers it, the outcome comes with a push.
    fn new(
        agent_id: &str,
        yeastar_call_id: &str,
        request: Value,
        status: u16,
        code: Option<&'static str>,
        replay: bool,
    ) -> Self {
        Self {
            seq: 0,
            at_ms: now_ms(),
            agent_id: agent_id.to_string(),
            yeastar_call_id: yeastar_call_id.to_string(),
            request,
            status,
            code,
            replay,
            transfer_id: None,
            outcome: None,
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    settings: PbxSettings,
    calls: HashMap<String, Call>,
    log: VecDeque<LogEntry>,
    next_seq: u64,
}

impl Inner {
    fn log(&mut self, mut entry: LogEntry) -> u64 {
        self.next_seq += 1;
        entry.seq = self.next_seq;
        if self.log.len() >= LOG_CAP {
            self.log.pop_front();
        }
        self.log.push_back(entry);
        self.next_seq
    }

    /// Pushes the transfer's current state and records it as the outcome of its last request.
    fn publish(&mut self, hub: &Hub, agent_id: &str, yeastar_call_id: &str, t: &Transfer) {
        let frame = t.frame(yeastar_call_id);
        if let Some(e) = self.log.iter_mut().rev().find(|e| e.seq == t.log_seq) {
            e.outcome = Some(json!({
                "state": frame["state"],
                "talking_to": frame["talking_to"],
                "reason": frame["reason"],
                "message": frame["message"],
            }));
        }
        info!(call = yeastar_call_id, transfer = %t.id, state = t.phase.as_str(),
              reason = t.reason.map(Reason::as_str), "transfer update");
        hub.push(agent_id, frame);
    }

    /// Stores the transfer's new state, pushes it, and ends the queue call for the agent when
    /// the transfer completed (the PBX hung up the agent's leg).
    fn settle(&mut self, hub: &Hub, yeastar_call_id: &str, agent_id: &str, t: Transfer) {
        self.publish(hub, agent_id, yeastar_call_id, &t);
        if t.phase == Phase::Completed {
            self.end_call(hub, yeastar_call_id, agent_id);
        } else if let Some(c) = self.calls.get_mut(yeastar_call_id) {
            c.transfer = Some(t);
        }
    }

    /// The agent's leg is gone: the call leaves the PBX and the agent hears
    /// `call_queue_cleared`.
    fn end_call(&mut self, hub: &Hub, yeastar_call_id: &str, agent_id: &str) {
        self.calls.remove(yeastar_call_id);
        hub.push(
            agent_id,
            json!({"type": "call_queue_cleared", "yeastar_call_id": yeastar_call_id}),
        );
    }
}

/// The modelled PBX: queue calls, their transfers, target behaviour and the request log.
#[derive(Debug, Clone, Default)]
pub struct Pbx(Arc<Mutex<Inner>>);

fn call_gone(message: String) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "call_gone", message)
}

impl Pbx {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The state stays consistent at every unlock, so a panic elsewhere does not taint it.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn settings(&self) -> PbxSettings {
        self.lock().settings.clone()
    }

    pub fn set_settings(&self, settings: PbxSettings) {
        self.lock().settings = settings;
    }

    /// A queue call reached `agent_id` on the leg `channel_id`.
    pub fn add_call(&self, yeastar_call_id: &str, agent_id: &str, channel_id: &str) {
        self.lock().calls.insert(
            yeastar_call_id.to_string(),
            Call {
                agent_id: agent_id.to_string(),
                channel_id: channel_id.to_string(),
                transfer: None,
            },
        );
    }

    /// The call ended: a transfer under way fails with `call_gone`, then the agent hears
    /// `call_queue_cleared`. Returns the agent the call belonged to, `None` if it is unknown.
    pub fn clear_call(&self, hub: &Hub, yeastar_call_id: &str) -> Option<String> {
        let mut inner = self.lock();
        let call = inner.calls.get(yeastar_call_id)?.clone();
        if let Some(mut t) = call.transfer.filter(|t| t.phase.under_way()) {
            t.phase = Phase::Failed;
            t.reason = Some(Reason::CallGone);
            inner.publish(hub, &call.agent_id, yeastar_call_id, &t);
        }
        inner.end_call(hub, yeastar_call_id, &call.agent_id);
        Some(call.agent_id)
    }

    /// Records a transfer request that was not accepted (or was a replay) in the log.
    pub fn record(
        &self,
        agent_id: &str,
        yeastar_call_id: &str,
        request: Value,
        status: u16,
        code: Option<&'static str>,
        replay: bool,
    ) {
        self.lock().log(LogEntry::new(
            agent_id,
            yeastar_call_id,
            request,
            status,
            code,
            replay,
        ));
    }

    /// Runs one well-formed transfer request against the PBX: the `202` body, or the error.
    /// State changes only when the request is accepted.
    pub fn begin(
        &self,
        hub: &Hub,
        agent_id: &str,
        yeastar_call_id: &str,
        req: &TransferRequest,
        request: Value,
    ) -> Result<Value, ApiError> {
        let mut inner = self.lock();
        if inner.settings.unreachable {
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "pbx_unreachable",
                UNREACHABLE_MESSAGE,
            ));
        }
        let Some(call) = inner
            .calls
            .get(yeastar_call_id)
            .filter(|c| c.agent_id == agent_id)
            .cloned()
        else {
            return Err(call_gone(format!(
                "call {yeastar_call_id} is not on the PBX"
            )));
        };
        if call.channel_id != req.channel_id {
            return Err(call_gone(format!(
                "channel {} is not a member of call {yeastar_call_id}",
                req.channel_id
            )));
        }
        let current = call.transfer.filter(|t| t.phase.under_way());
        let entry = LogEntry::new(
            agent_id,
            yeastar_call_id,
            request,
            StatusCode::ACCEPTED.as_u16(),
            None,
            false,
        );
        let accepted = |id: &str| json!({"transfer_id": id, "yeastar_call_id": yeastar_call_id, "state": "pending"});
        let Some(op) = req.operate else {
            // Blind, or attended step 1: the PBX rings the target.
            if let Some(t) = current {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "transfer_in_progress",
                    format!(
                        "transfer {} of call {yeastar_call_id} is {}",
                        t.id,
                        t.phase.as_str()
                    ),
                ));
            }
            let id = format!("tr-{}", uuid::Uuid::new_v4().simple());
            let log_seq = inner.log(LogEntry {
                transfer_id: Some(id.clone()),
                ..entry
            });
            let t = Transfer {
                id: id.clone(),
                kind: req.kind,
                number: req.number.clone(),
                phase: Phase::Pending,
                reason: None,
                log_seq,
            };
            let (behaviour, delay) = inner.settings.ring(&req.number);
            if let Some(c) = inner.calls.get_mut(yeastar_call_id) {
                c.transfer = Some(t);
            }
            info!(call = yeastar_call_id, transfer = %id, kind = req.kind.as_str(),
                  number = %req.number, ?behaviour, "transfer started");
            let pbx = self.clone();
            let hub = hub.clone();
            let (call_id, transfer_id) = (yeastar_call_id.to_string(), id.clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(delay)).await;
                pbx.ring_outcome(&hub, &call_id, &transfer_id, behaviour);
            });
            return Ok(accepted(&id));
        };
        // Attended step 2: acts on the consultation in progress.
        let Some(mut t) = current.filter(|t| {
            t.kind == Kind::Attended && matches!(t.phase, Phase::Consulting(_) | Phase::Threeway)
        }) else {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "no_consultation",
                format!("call {yeastar_call_id} has no consultation in progress"),
            ));
        };
        t.log_seq = inner.log(LogEntry {
            transfer_id: Some(t.id.clone()),
            ..entry
        });
        t.phase = match (op, t.phase) {
            (Operate::Swap, Phase::Consulting(Party::Target)) => Phase::Consulting(Party::Caller),
            // From the three-way call, swap goes back to the consultation with the target.
            (Operate::Swap, _) => Phase::Consulting(Party::Target),
            (Operate::Threeway, _) => Phase::Threeway,
            (Operate::Complete, _) => Phase::Completed,
            (Operate::Abort, _) => Phase::Aborted,
        };
        let body = accepted(&t.id);
        inner.settle(hub, yeastar_call_id, &call.agent_id, t);
        Ok(body)
    }

    /// The target's phone answered, was busy or rang out. A transfer that is no longer
    /// pending (the call ended meanwhile) is left alone.
    fn ring_outcome(
        &self,
        hub: &Hub,
        yeastar_call_id: &str,
        transfer_id: &str,
        behaviour: TargetBehaviour,
    ) {
        let mut inner = self.lock();
        let unreachable = inner.settings.unreachable;
        let Some(call) = inner.calls.get(yeastar_call_id) else {
            return;
        };
        let agent_id = call.agent_id.clone();
        let Some(mut t) = call
            .transfer
            .clone()
            .filter(|t| t.id == transfer_id && t.phase == Phase::Pending)
        else {
            return;
        };
        let (phase, reason) = match (unreachable, behaviour, t.kind) {
            (true, _, _) => (Phase::Failed, Some(Reason::PbxUnreachable)),
            (false, TargetBehaviour::Busy, _) => (Phase::Failed, Some(Reason::Busy)),
            (false, TargetBehaviour::NoAnswer, _) => (Phase::Failed, Some(Reason::NoAnswer)),
            (false, TargetBehaviour::Answer, Kind::Blind) => (Phase::Completed, None),
            (false, TargetBehaviour::Answer, Kind::Attended) => {
                (Phase::Consulting(Party::Target), None)
            }
        };
        t.phase = phase;
        t.reason = reason;
        inner.settle(hub, yeastar_call_id, &agent_id, t);
    }

    /// `GET /admin/transfers`: every transfer request, oldest first, with its outcome.
    pub fn log_json(&self) -> Value {
        let inner = self.lock();
        Value::Array(
            inner
                .log
                .iter()
                .map(|e| {
                    json!({
                        "at_ms": e.at_ms,
                        "agent_id": e.agent_id,
                        "yeastar_call_id": e.yeastar_call_id,
                        "request": e.request,
                        "status": e.status,
                        "code": e.code,
                        "replay": e.replay,
                        "transfer_id": e.transfer_id,
                        "outcome": e.outcome,
                    })
                })
                .collect(),
        )
    }

    /// `GET /admin/pbx/calls`: the queue calls on the PBX and their last transfer.
    pub fn calls_json(&self) -> Value {
        let inner = self.lock();
        let calls: BTreeMap<&String, Value> = inner
            .calls
            .iter()
            .map(|(id, c)| {
                let transfer = c.transfer.as_ref().map(|t| {
                    let f = t.frame(id);
                    json!({
                        "transfer_id": t.id,
                        "kind": f["kind"],
                        "number": t.number,
                        "state": f["state"],
                        "talking_to": f["talking_to"],
                        "reason": f["reason"],
                    })
                });
                (
                    id,
                    json!({
                        "agent_id": c.agent_id,
                        "channel_id": c.channel_id,
                        "transfer": transfer,
                    }),
                )
            })
            .collect();
        json!(calls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Result<TransferRequest, String> {
        serde_json::from_value::<TransferBody>(v)
            .map_err(|e| e.to_string())
            .and_then(TransferBody::validate)
    }

    #[test]
    fn validation_follows_the_contract() {
        let ok = json!({"type": "attended", "channel_id": "PJSIP/1002-1", "number": " 1003 "});
        let req = body(ok.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(req.number, "1003");
        assert_eq!(req.operate, None);
        let mut op = ok.clone();
        op["operate"] = json!(null);
        assert!(body(op).is_ok());
        for bad in [
            json!({"type": "warm", "channel_id": "c", "number": "1003"}),
            json!({"type": "blind", "channel_id": "c", "number": "1003", "operate": "complete"}),
            json!({"type": "attended", "channel_id": "c", "number": "1003", "operate": "merge"}),
            json!({"type": "blind", "channel_id": "c", "number": "  "}),
            json!({"type": "blind", "channel_id": "", "number": "1003"}),
            json!({"type": "blind", "channel_id": "c", "number": "1\n003"}),
        ] {
            assert!(body(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_default_and_limits() {
        let s: PbxSettings = serde_json::from_value(json!({})).unwrap_or_default();
        assert_eq!(s, PbxSettings::default());
        assert_eq!(s.answer_delay_ms, 300);
        assert_eq!(s.no_answer_ms, 3000);
        assert_eq!(s.behaviour("1003"), TargetBehaviour::Answer);
        let s = PbxSettings {
            no_answer_ms: MAX_DELAY_MS + 1,
            ..PbxSettings::default()
        };
        assert!(s.validate().is_err());
        assert!(
            serde_json::from_value::<PbxSettings>(json!({"targets": {"1003": "maybe"}})).is_err()
        );
    }
}
