//! Types that cross the IPC boundary between the core process and the UI.

use serde::{Deserialize, Serialize};

use crate::call::CallDraft;
use crate::engine::EngineView;

/// Errors as the UI receives them: a stable code to branch on and a message to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpcError {
    pub code: String,
    pub message: String,
}

impl IpcError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for IpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<crate::engine::EngineError> for IpcError {
    fn from(e: crate::engine::EngineError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

/// The backend link as the header shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncView {
    /// The REST API answered the last request.
    pub online: bool,
    /// The agent WebSocket is connected.
    #[serde(default)]
    pub agent_socket: bool,
    /// Writes committed locally and not yet acknowledged by the backend.
    pub pending: u64,
    pub last_error: Option<String>,
}

/// Everything the UI renders, pushed by the core on every change and every second.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub engine: EngineView,
    pub sync: SyncView,
    /// Open after-call drafts, keyed by call log id, as last saved.
    pub drafts: Vec<CallDraft>,
    /// Demo mode: the webphone is the simulator and the backend runs in-process.
    pub demo: bool,
    /// A problem the agent must know about (webphone failed to load, no WebRTC, ...).
    pub notice: Option<IpcError>,
    /// The backend's pause reasons, for the status menu.
    #[serde(default)]
    pub pause_reasons: Vec<PauseReason>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseReason {
    pub code: String,
    pub reason: String,
}

/// The Tauri event name the snapshot is pushed under.
pub const SNAPSHOT_EVENT: &str = "ringside://snapshot";
/// The Tauri event name commands to the webphone bridge are pushed under.
pub const PHONE_COMMAND_EVENT: &str = "ringside://phone-command";
