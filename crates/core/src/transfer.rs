//! Transfers carried out by the PBX through the backend (Yeastar `call/transfer` and
//! `attended_operate`), and the choice between the PBX and the webphone.
//!
//! The seed designs queue-call transfers through the PBX with the queue call's `channel_id`:
//! that path does not depend on the webphone library at all (whose `transfer("")` throws in
//! the 3.6 build, see shared/reference/mizu-webphone-api.md). Calls without a channel id (direct
//! calls, outbound calls) are transferred by the webphone. The contract is in
//! docs/backend-api.md, "Transfers through the PBX".

use serde::{Deserialize, Serialize};

use crate::call::TransferKind;

/// Which side carries a transfer out: a policy key (`transfer_route`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferRoute {
    /// The PBX when the call has a `channel_id` (a queue call), the webphone otherwise.
    #[default]
    Auto,
    /// Only the PBX: a call without a channel id cannot be transferred.
    Pbx,
    /// Only the webphone, even for queue calls.
    Webphone,
}

impl TransferRoute {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Self::Auto),
            "pbx" => Some(Self::Pbx),
            "webphone" => Some(Self::Webphone),
            _ => None,
        }
    }
}

/// Step 2 of an attended transfer through the PBX (`attended_operate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operate {
    Complete,
    Abort,
    Threeway,
    Swap,
}

/// The body of `POST /api/calls/{yeastar_call_id}/transfer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PbxTransferRequest {
    #[serde(rename = "type")]
    pub kind: TransferKind,
    pub channel_id: String,
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operate: Option<Operate>,
}

/// Where a PBX transfer stands, as the backend pushes it (`transfer_update` frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PbxTransferState {
    /// Asked for; the backend has not answered or the PBX has not acted yet.
    Pending,
    /// Attended: the target answered; the caller waits on hold (or hears the agent after a swap).
    Consulting,
    /// Attended: caller, agent and target all talk.
    Threeway,
    Completed,
    Aborted,
    Failed,
}

/// Who the agent hears during a PBX consultation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TalkingTo {
    Caller,
    Target,
}

/// A `transfer_update` frame from the agent socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferUpdate {
    pub yeastar_call_id: String,
    #[serde(default)]
    pub transfer_id: String,
    pub kind: TransferKind,
    #[serde(default)]
    pub number: String,
    pub state: PbxTransferState,
    #[serde(default)]
    pub talking_to: Option<TalkingTo>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// A PBX transfer under way on a live call, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PbxTransfer {
    pub kind: TransferKind,
    pub number: String,
    pub state: PbxTransferState,
    #[serde(default)]
    pub talking_to: Option<TalkingTo>,
    /// Whether this consultation went through a three-way conference.
    #[serde(default)]
    pub was_threeway: bool,
    /// The step asked for and not yet answered by the backend, so the UI can show it pending.
    #[serde(default)]
    pub requested: Option<Operate>,
}

/// What the backend answered to a transfer request (the outcome itself comes later, pushed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PbxAnswer {
    Accepted,
    /// Refused or not delivered: `code` is the backend's (`call_gone`, `pbx_unreachable`, ...)
    /// or the client's (`offline`, `timeout`).
    Refused {
        code: String,
        message: String,
    },
}

/// Plain words for a failure reason, for the agent.
pub fn failure_words(reason: Option<&str>, message: Option<&str>) -> String {
    let base = match reason.unwrap_or("") {
        "busy" => "the person you transferred to is busy",
        "no_answer" => "the person you transferred to did not answer",
        "call_gone" => "the call is no longer on the phone system",
        "pbx_unreachable" => "the phone system cannot be reached",
        "no_consultation" => "there is no consultation in progress for this call",
        "transfer_in_progress" => "a transfer is already under way for this call",
        "offline" => "the backend cannot be reached",
        _ => "",
    };
    match (base.is_empty(), message.filter(|m| !m.is_empty())) {
        (false, Some(m)) => format!("{base} ({m})"),
        (false, None) => base.to_string(),
        (true, Some(m)) => m.to_string(),
        (true, None) => "the phone system refused it".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse_as_the_contract_writes_them() {
        let f: TransferUpdate = serde_json::from_str(
            r#"{"type":"transfer_update","yeastar_call_id":"1.2","transfer_id":"t","kind":"attended",
               "number":"1003","state":"consulting","talking_to":"target","reason":null,"message":null}"#,
        )
        .unwrap();
        assert_eq!(f.state, PbxTransferState::Consulting);
        assert_eq!(f.talking_to, Some(TalkingTo::Target));
        let body = serde_json::to_value(PbxTransferRequest {
            kind: TransferKind::Attended,
            channel_id: "PJSIP/1002-1".into(),
            number: "1003".into(),
            operate: Some(Operate::Threeway),
        })
        .unwrap();
        assert_eq!(body["type"], "attended");
        assert_eq!(body["operate"], "threeway");
    }

    #[test]
    fn reasons_read_as_words() {
        assert_eq!(
            failure_words(Some("busy"), Some("486 Busy Here")),
            "the person you transferred to is busy (486 Busy Here)"
        );
        assert_eq!(failure_words(None, None), "the phone system refused it");
        assert_eq!(TransferRoute::parse("PBX"), Some(TransferRoute::Pbx));
        assert_eq!(TransferRoute::parse("x"), None);
    }
}
