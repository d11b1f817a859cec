//! Types that cross the IPC boundary between the core process and the UI.

use serde::{Deserialize, Serialize};

use crate::call::{CallDraft, CallLog, DraftState};
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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    #[default]
    SignedOut,
    SigningIn,
    SignedIn,
}

/// Sign-in as the UI shows it. No secret ever goes in here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub state: SessionState,
    pub username: String,
    pub backend_url: String,
    pub error: Option<IpcError>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    En,
    Fr,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    pub theme: Theme,
    pub language: Language,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disposition {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactView {
    pub id: String,
    pub name: String,
    pub phone: String,
}

/// An unfinished after-call draft with the call it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftView {
    pub draft: CallDraft,
    pub log: Option<CallLog>,
}

/// One row of the day's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub log: CallLog,
    pub draft: Option<DraftState>,
    /// Nothing about this call is waiting for the backend.
    pub synced: bool,
}

/// Settings that come from configuration, with what IT locked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub webphone: String,
    pub webphone_locked: bool,
    pub backend_locked: bool,
    /// The webphone library does not expose audio devices: the UI says so instead of a list.
    pub audio_devices: Vec<String>,
}

/// Everything the UI renders, pushed by the core on every change and every second.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// When the core built this snapshot (Unix ms): the UI measures its own lag against it.
    #[serde(default)]
    pub built_at_ms: i64,
    pub engine: EngineView,
    pub sync: SyncView,
    /// Unfinished after-call drafts, oldest first, as last saved.
    pub drafts: Vec<DraftView>,
    #[serde(default)]
    pub session: SessionView,
    #[serde(default)]
    pub preferences: Preferences,
    #[serde(default)]
    pub dispositions: Vec<Disposition>,
    #[serde(default)]
    pub contacts: Vec<ContactView>,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    #[serde(default)]
    pub settings: SettingsView,
    /// Demo mode: the webphone is the simulator and the backend runs in-process.
    pub demo: bool,
    /// A problem the agent must know about (webphone failed to load, no WebRTC, ...).
    pub notice: Option<IpcError>,
    /// The backend's pause reasons, for the status menu.
    #[serde(default)]
    pub pause_reasons: Vec<PauseReason>,
    /// The web engine hosting the customer's webphone has no WebRTC: no call can be carried.
    #[serde(default)]
    pub webrtc_missing: bool,
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
