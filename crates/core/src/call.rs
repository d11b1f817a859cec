//! The call log: one record per call, the thing agents' managers report on.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    Ringing,
    Talking,
    /// Connected at some point, then ended.
    Answered,
    /// Inbound, never connected.
    Missed,
    /// Outbound, never connected.
    NoAnswered,
}

impl CallStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Answered | Self::Missed | Self::NoAnswered)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ringing => "ringing",
            Self::Talking => "talking",
            Self::Answered => "answered",
            Self::Missed => "missed",
            Self::NoAnswered => "no_answered",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "ringing" => Self::Ringing,
            "talking" => Self::Talking,
            "answered" => Self::Answered,
            "missed" => Self::Missed,
            "no_answered" => Self::NoAnswered,
            _ => return None,
        })
    }

    /// The terminal status of a call that ended, decided from the facts that are reliable
    /// (direction and whether it connected), never from the free-text reason.
    pub fn ended(direction: Direction, connected: bool) -> Self {
        match (connected, direction) {
            (true, _) => Self::Answered,
            (false, Direction::Inbound) => Self::Missed,
            (false, Direction::Outbound) => Self::NoAnswered,
        }
    }
}

/// Queue details the backend pushes for a call that came through a PBX queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueInfo {
    pub yeastar_call_id: String,
    #[serde(default)]
    pub queue_name: String,
    #[serde(default)]
    pub queue_number: String,
    #[serde(default)]
    pub server_call_log_token: String,
    /// The agent's leg on the PBX: what an attended transfer through the backend needs.
    #[serde(default)]
    pub channel_id: String,
    /// The caller's number, used to match the push to a ringing call.
    #[serde(default)]
    pub caller: String,
}

/// One call as Ringside records it: stored in SQLite, synced to the backend, shown in the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallLog {
    /// Client-generated, stable id: UUID v5 of (agent extension, webphone call id).
    pub id: String,
    /// The webphone's call id, brackets stripped.
    pub call_id: String,
    pub direction: Direction,
    pub from: String,
    pub to: String,
    /// The other party's number, whichever the direction.
    pub peer: String,
    #[serde(default)]
    pub peer_name: Option<String>,
    #[serde(default)]
    pub extension_id: Option<String>,
    pub status: CallStatus,
    #[serde(default)]
    pub contact_id: Option<String>,
    #[serde(default)]
    pub contact_name: Option<String>,
    /// Wall-clock milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    #[serde(default)]
    pub answered_at_ms: Option<i64>,
    #[serde(default)]
    pub ended_at_ms: Option<i64>,
    /// Talk time (connect to end); 0 for calls that never connected.
    pub talk_seconds: u64,
    #[serde(default)]
    pub end_reason: Option<String>,
    #[serde(default)]
    pub rejected_by_agent: bool,
    #[serde(default)]
    pub on_hold: bool,
    #[serde(default)]
    pub muted: bool,
    #[serde(default)]
    pub transferred_to: Option<String>,
    #[serde(default)]
    pub queue: Option<QueueInfo>,
    /// For a consultation call of an attended transfer: the call id it was made for.
    #[serde(default)]
    pub consult_for: Option<String>,
    /// What happened when the agent transferred this call (the last attempt).
    #[serde(default)]
    pub transfer: Option<TransferRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    Blind,
    Attended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferOutcome {
    /// The webphone or the PBX confirmed the transfer.
    Completed,
    /// The agent consulted the third party, then went back to the caller.
    Cancelled,
    /// The transfer did not happen (target busy, no answer, call gone, PBX unreachable, the
    /// webphone refused); the call stayed with the agent as it was.
    Failed,
}

/// Who carried the transfer out: the webphone (a SIP REFER) or the PBX through the backend's
/// transfer API (queue calls, which carry the PBX's `channel_id`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferVia {
    #[default]
    Webphone,
    Pbx,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRecord {
    pub kind: TransferKind,
    pub to: String,
    pub outcome: TransferOutcome,
    #[serde(default)]
    pub via: TransferVia,
    /// Why it failed, in the words of whoever refused it (`busy`, `486 Busy Here`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// An attended transfer that went through a three-way conference before it ended.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub conference: bool,
}

impl TransferRecord {
    /// An attempt's record with no failure reason and no conference.
    pub fn new(
        kind: TransferKind,
        to: impl Into<String>,
        outcome: TransferOutcome,
        via: TransferVia,
    ) -> Self {
        Self {
            kind,
            to: to.into(),
            outcome,
            via,
            reason: None,
            conference: false,
        }
    }
}

impl CallLog {
    /// A call log with the identifying facts set and everything else empty or zero.
    pub fn new(
        id: impl Into<String>,
        call_id: impl Into<String>,
        direction: Direction,
        peer: impl Into<String>,
        status: CallStatus,
    ) -> Self {
        Self {
            id: id.into(),
            call_id: call_id.into(),
            direction,
            from: String::new(),
            to: String::new(),
            peer: peer.into(),
            peer_name: None,
            extension_id: None,
            status,
            contact_id: None,
            contact_name: None,
            started_at_ms: 0,
            answered_at_ms: None,
            ended_at_ms: None,
            talk_seconds: 0,
            end_reason: None,
            rejected_by_agent: false,
            on_hold: false,
            muted: false,
            transferred_to: None,
            queue: None,
            consult_for: None,
            transfer: None,
        }
    }
}

/// The namespace for call-log ids; fixed forever so that ids stay stable across versions.
const CALL_LOG_NAMESPACE: uuid::Uuid = uuid::Uuid::from_bytes([
    0x6f, 0x1d, 0x2a, 0x5c, 0x93, 0x7e, 0x4b, 0x21, 0x9a, 0x0c, 0x52, 0xe8, 0x14, 0x77, 0xd3, 0x0b,
]);

/// Two agents of one backend can log the same SIP call (1001 calls 1002): the agent's
/// extension is part of the id so their records never collide, while a replay or a restart
/// derives the same id again, which is what makes creates idempotent.
pub fn call_log_id(extension: &str, call_id: &str) -> String {
    let name = format!("{extension}/{call_id}");
    uuid::Uuid::new_v5(&CALL_LOG_NAMESPACE, name.as_bytes()).to_string()
}

/// After-call work for an answered call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallDraft {
    pub call_log_id: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub disposition: Option<String>,
    #[serde(default)]
    pub follow_up: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// `editing` while the agent types, `submitted` once queued for the backend.
    #[serde(default)]
    pub state: DraftState,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftState {
    #[default]
    Editing,
    Submitted,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_per_agent() {
        assert_eq!(call_log_id("1002", "abc"), call_log_id("1002", "abc"));
        assert_ne!(call_log_id("1001", "abc"), call_log_id("1002", "abc"));
    }

    #[test]
    fn terminal_status_follows_direction_and_connection() {
        assert_eq!(
            CallStatus::ended(Direction::Inbound, false),
            CallStatus::Missed
        );
        assert_eq!(
            CallStatus::ended(Direction::Outbound, false),
            CallStatus::NoAnswered
        );
        assert_eq!(
            CallStatus::ended(Direction::Outbound, true),
            CallStatus::Answered
        );
        for s in ["ringing", "talking", "answered", "missed", "no_answered"] {
            assert_eq!(CallStatus::parse(s).unwrap().as_str(), s);
        }
    }
}
