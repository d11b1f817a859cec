//! The event journal's line format (the same as `shared/traces`) and the replay that turns a
//! journal back into call logs with the very engine the app runs.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::call::{CallLog, Direction};
use crate::engine::{Agent, Clock, Effect, Engine, Input, Intent};
use crate::phone::RawPhoneEvent;

/// One journal line: `{"t_ms": 1563, "agent": "1002", "kind": "call", "args": [...]}`.
///
/// Besides the webphone's callbacks (`app`, `reg`, `call`, `cdr`, `event`, ...), Ringside's own
/// journal records the agent's call-control intents as `kind: "intent"` with the intent as the
/// single argument, so that a replay knows, say, the target of a blind transfer, which the
/// library's callbacks never carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalLine {
    pub t_ms: i64,
    #[serde(default)]
    pub agent: String,
    pub kind: String,
    #[serde(default)]
    pub args: Vec<Value>,
}

pub const INTENT_KIND: &str = "intent";

/// Keeps card numbers and PINs that callers are asked to key in out of the journal: the tones
/// an agent sends are recorded as how many were sent, never which. Both places they appear
/// are masked: the agent's `dtmf` intent (`digits`) and the library's own echo of it
/// (`EVENT,Send DTMF 12#`, recorded from the real library). Support sees that tones went and
/// how many, which is what a replay and a dispute need.
pub fn mask_dtmf(line: &mut JournalLine) {
    if line.kind == INTENT_KIND {
        if let Some(intent) = line.args.first_mut().and_then(Value::as_object_mut) {
            if intent.get("intent").and_then(Value::as_str) == Some("dtmf") {
                let digits = intent.get("digits").and_then(Value::as_str).unwrap_or("");
                let shown = mask_tones(digits);
                intent.insert("digits".into(), Value::String(shown));
            }
        }
        return;
    }
    // Tones the library heard (`onDTMF`): every argument that is tones only.
    let heard = line.kind == "dtmf";
    for arg in &mut line.args {
        if let Some(text) = arg.as_str() {
            let tones_only = !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D'));
            if heard && tones_only {
                *arg = Value::String(mask_tones(text));
            } else if let Some(at) = text.find("Send DTMF ") {
                let head = &text[..at + "Send DTMF ".len()];
                let tones = mask_tones(text[head.len()..].trim());
                *arg = Value::String(format!("{head}{tones}"));
            }
        }
    }
}

/// `count` tones, none of them said: `•••`.
fn masked(count: usize) -> String {
    "•".repeat(count)
}

/// Tones as logs and the journal may show them: one `•` each.
pub fn mask_tones(digits: &str) -> String {
    masked(digits.chars().count())
}

impl JournalLine {
    pub fn to_input(&self) -> Option<Input> {
        if self.kind == INTENT_KIND {
            let intent: Intent = serde_json::from_value(self.args.first()?.clone()).ok()?;
            Some(Input::User(intent))
        } else {
            Some(Input::Phone(RawPhoneEvent::new(
                self.kind.clone(),
                self.args.clone(),
            )))
        }
    }
}

/// One call as `ringside replay` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSummary {
    pub call_id: String,
    pub direction: Direction,
    pub peer: String,
    pub status: String,
    pub talk_seconds: u64,
    pub end_reason: Option<String>,
    pub transferred_to: Option<String>,
}

impl From<&CallLog> for CallSummary {
    fn from(log: &CallLog) -> Self {
        Self {
            call_id: log.call_id.clone(),
            direction: log.direction,
            peer: log.peer.clone(),
            status: log.status.as_str().to_string(),
            talk_seconds: log.talk_seconds,
            end_reason: log.end_reason.clone(),
            transferred_to: log.transferred_to.clone(),
        }
    }
}

/// A line that could not be used, with its 1-based number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayProblem {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct ReplayOutcome {
    pub calls: Vec<CallSummary>,
    pub problems: Vec<ReplayProblem>,
}

/// Offsets journal times so that negative start-up times still make a monotonic clock.
const MONO_BASE_MS: i64 = 1 << 40;

/// Runs a journal through a fresh engine. `extension` selects one agent's lines from a merged
/// journal and names the agent; without it the first line's agent is used.
pub fn replay(text: &str, extension: Option<&str>) -> ReplayOutcome {
    let mut out = ReplayOutcome::default();
    let mut engine = Engine::new();
    let mut order: Vec<String> = Vec::new();
    let mut logs: HashMap<String, CallLog> = HashMap::new();
    let mut agent_set = false;
    let mut wanted = extension.map(str::to_string);

    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let line: JournalLine = match serde_json::from_str(raw) {
            Ok(l) => l,
            Err(e) => {
                out.problems.push(ReplayProblem {
                    line: line_no,
                    message: format!("not a journal line: {e}"),
                });
                continue;
            }
        };
        if wanted.is_none() && !line.agent.is_empty() {
            wanted = Some(line.agent.clone());
        }
        if let Some(w) = &wanted {
            if !line.agent.is_empty() && line.agent != *w {
                continue;
            }
        }
        let clock = Clock {
            mono_ms: u64::try_from(line.t_ms.saturating_add(MONO_BASE_MS)).unwrap_or(0),
            wall_ms: line.t_ms,
        };
        if !agent_set {
            if let Some(ext) = &wanted {
                let _ = engine.handle(
                    Input::SessionStarted {
                        agent: Agent {
                            id: ext.clone(),
                            name: ext.clone(),
                            extension_id: ext.clone(),
                            extension: ext.clone(),
                        },
                        sip: None,
                    },
                    clock,
                );
            }
            agent_set = true;
        }
        let Some(input) = line.to_input() else {
            out.problems.push(ReplayProblem {
                line: line_no,
                message: format!("unusable `{}` line", line.kind),
            });
            continue;
        };
        match engine.handle(input, clock) {
            Ok(effects) => {
                for fx in effects {
                    if let Effect::SaveCallLog { log, .. } = fx {
                        if !logs.contains_key(&log.id) {
                            order.push(log.id.clone());
                        }
                        logs.insert(log.id.clone(), log);
                    }
                }
            }
            Err(e) => out.problems.push(ReplayProblem {
                line: line_no,
                message: e.to_string(),
            }),
        }
    }
    out.calls = order
        .iter()
        .filter_map(|id| logs.get(id))
        .map(CallSummary::from)
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tones_are_journaled_as_a_count_never_as_digits() {
        let mut intent = JournalLine {
            t_ms: 1,
            agent: "1002".into(),
            kind: INTENT_KIND.into(),
            args: vec![
                serde_json::json!({"intent": "dtmf", "call_id": "c", "digits": "4970123412341234"}),
            ],
        };
        mask_dtmf(&mut intent);
        assert_eq!(intent.args[0]["digits"], "••••••••••••••••");
        assert_eq!(intent.args[0]["call_id"], "c");
        // Still an intent a replay can read.
        assert!(intent.to_input().is_some());
        let mut echo = JournalLine {
            t_ms: 2,
            agent: "1001".into(),
            kind: "event".into(),
            args: vec![
                serde_json::json!("event"),
                serde_json::json!("EVENT,Send DTMF 12#"),
                Value::Null,
            ],
        };
        mask_dtmf(&mut echo);
        assert_eq!(echo.args[1], "EVENT,Send DTMF •••");
        let mut other = JournalLine {
            t_ms: 3,
            agent: "1001".into(),
            kind: INTENT_KIND.into(),
            args: vec![serde_json::json!({"intent": "dial", "number": "1003"})],
        };
        let before = other.clone();
        mask_dtmf(&mut other);
        assert_eq!(other, before, "only tones are masked");
        let mut heard = JournalLine {
            t_ms: 4,
            agent: "1001".into(),
            kind: "dtmf".into(),
            args: vec![serde_json::json!("1234"), serde_json::json!(1)],
        };
        mask_dtmf(&mut heard);
        assert_eq!(
            heard.args,
            vec![serde_json::json!("••••"), serde_json::json!(1)]
        );
    }
}
