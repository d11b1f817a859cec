//! # Ringside core
//!
//! The sans-IO heart of Ringside: no tokio, no Tauri, no SQLite; it builds for wasm32 so the
//! UI shares its types.
//!
//! ## Layout
//! - [`phone`]: webphone callbacks, raw (as `bridge.js` forwards them) and typed; all the
//!   library's quirks are normalised here.
//! - [`call`]: the call log, its status rules and after-call drafts.
//! - [`engine`]: the call engine, `(state, input, clock) -> effects`, one place per seed case.
//! - [`limits`]: the backend's limits on drafts and numbers, checked before anything is queued.
//! - [`number`]: numbers as agents type and paste them, to what the webphone dials.
//! - [`journal`]: the event journal's line format and the replay behind `ringside replay`.
//! - [`ipc`]: the snapshot pushed to the UI and the `{code, message}` error it receives.

pub mod call;
pub mod desktop;
pub mod engine;
pub mod ipc;
pub mod journal;
pub mod limits;
pub mod link;
pub mod number;
pub mod phone;
pub mod transfer;

pub use call::{CallDraft, CallLog, CallStatus, Direction, DraftState, QueueInfo};
pub use engine::{
    Agent, AgentInfo, AgentState, AgentStatus, Clock, Effect, Engine, EngineError, EngineView,
    Input, Intent, LiveCall, PhoneCommand, Secret, SipAccount, WebphoneParams, WriteOp,
};
pub use ipc::{
    ContactView, DialOffer, Disposition, DraftView, HistoryEntry, IpcError, Language, OfferAction,
    PauseReason, Preferences, SessionState, SessionView, SettingsView, ShortcutView, Snapshot,
    SnapshotDelta, SyncView, Theme, UpdateState, UpdateView,
};
pub use phone::{CallId, RawPhoneEvent};
pub use transfer::{
    Operate, PbxAnswer, PbxTransfer, PbxTransferRequest, PbxTransferState, TalkingTo,
    TransferRoute, TransferUpdate,
};
