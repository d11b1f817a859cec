//! # Ringside service
//!
//! The core process with no UI toolkit in it. One task, the **event loop**, owns everything
//! that must stay consistent: the call engine, the SQLite store, the event journal and the
//! state the UI is shown. Nothing else holds them and no lock guards them.
//!
//! ```text
//!  Tauri commands ──┐ Msg (bounded: back-pressure)         ┌─► UI sink (SnapshotDelta)
//!  (Handle)         ├──────────────► event loop ───────────┤
//!  workers, socket ─┘ Done (unbounded)  │ owns: Engine,     └─► phone sink (PhoneCommand)
//!        ▲                              │ Store, Journal,
//!        └──── spawns, with a stop ─────┘ views
//! ```
//!
//! - **Inputs** arrive on two channels: [`Msg`](handle) from the outside (webphone
//!   callbacks, the agent's intents and drafts, sign-in, status, preferences, subscriptions,
//!   shutdown), each answered on its own oneshot once handled; and `Done` from the workers
//!   (sign-in, re-authentication, contact lookup, directory, agent status, PBX transfers, the
//!   outbox sender) and the agent WebSocket. A one-second tick drives the engine's timers and
//!   the outbox's retries.
//! - **Handling order is journal order**: a callback or intent is journaled by the loop as it
//!   is handled, so replaying the journal reproduces exactly what the engine saw.
//! - **Effects** of the engine are carried out by the loop in the order produced: commits to
//!   SQLite first (a call log and its outbox entry in one transaction), then commands to the
//!   webphone, then work for the workers. Workers never touch the store: they do network IO
//!   and post their result back as an input.
//! - **Output**: after each batch of inputs the loop builds the snapshot from the state it
//!   holds (SQLite is re-read only for what a write made stale: the drafts, the pending
//!   count, and the history rows of the calls it touched) and sends the UI only the parts
//!   that changed ([`SnapshotDelta`]); the history goes row by row.
//! - **Shutdown** ([`Handle::shutdown`]): the workers are stopped, an outbox batch in flight
//!   is given a few seconds to be acknowledged (else it stays in the outbox), the journal and
//!   the store are closed, and the call returns.
//!
//! ## Layout
//! - [`config`]: layered settings (defaults, IT's locked file, the user's file, environment).
//! - `handle`: [`Handle`], the cheap clonable way in, and the messages it sends.
//! - `event_loop`: the loop, its state and the engine's effects; its submodules open the
//!   profile (`open`), hold the backend session (`session`), the outbox steps (`outbox`) and
//!   the snapshot sent to the UI (`view`).
//! - `workers`: the network jobs the loop hands out.
//! - `demo` (cargo feature `demo`): the reference backend started in-process for demo mode.
//!   Release bundles are built without it.

pub mod config;
#[cfg(feature = "demo")]
mod demo;
pub mod diagnostics;
mod event_loop;
mod handle;
mod vault;
mod workers;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ringside_core::{IpcError, PhoneCommand, SnapshotDelta};
use tokio::sync::mpsc;
use tracing::info;

pub use config::{Config, LinkAction, Mode, Ringtone, WebphoneSource};
pub use handle::Handle;
pub use ringside_store::profile::secure as secure_profile;
pub use vault::{MemoryVault, Vault};

/// Where snapshot deltas go (the main window's channel). Returns `false` once the receiver is
/// gone; the loop then stops sending until the next subscription.
pub type UiSink = Box<dyn Fn(&SnapshotDelta) -> bool + Send>;
/// Where the desktop's state goes (notifications, tray, quit prompt). Returns `false` once gone.
pub type DesktopSink = Box<dyn Fn(&ringside_core::desktop::DesktopState) -> bool + Send>;
/// Where webphone commands go (the channel the agent's window relays to the webphone's iframe). Returns `false` once gone.
pub type PhoneSink = Box<dyn Fn(&PhoneCommand) -> bool + Send>;

/// Whether this build carries the in-process reference backend for demo mode.
pub const HAS_DEMO_BACKEND: bool = cfg!(feature = "demo");

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Store(#[from] ringside_store::StoreError),
    #[error(transparent)]
    Sync(#[from] ringside_sync::SyncError),
    #[error(transparent)]
    ProfileLock(#[from] ringside_store::profile::LockError),
    #[error("the demo backend could not start: {0}")]
    DemoBackend(String),
    #[error("this build of Ringside has no demo backend: set backend_url (or RINGSIDE_BACKEND_URL) to your CRM backend")]
    NoDemoBackend,
}

impl ServiceError {
    pub fn to_ipc(&self) -> IpcError {
        let code = match self {
            Self::Config(e) => e.code(),
            Self::Store(e) => e.code(),
            Self::Sync(e) => e.code(),
            Self::ProfileLock(ringside_store::profile::LockError::InUse(_)) => "profile_in_use",
            Self::ProfileLock(_) => "profile_lock",
            Self::DemoBackend(_) => "demo_backend",
            Self::NoDemoBackend => "no_demo_backend",
        };
        IpcError::new(code, self.to_string())
    }
}

pub(crate) fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// How many outside messages may wait for the loop before senders wait in turn.
const INBOX: usize = 1024;

/// Opens the profile, starts the backend link (and in demo mode the backend itself), spawns
/// the event loop and signs in when it can do so unattended. Must run inside a tokio runtime;
/// the loop runs on it until [`Handle::shutdown`].
pub async fn start(config: Config) -> Result<Handle, ServiceError> {
    start_with(config, None).await
}

/// As [`start`], keeping the session between runs in `vault` (the OS keyring): live mode
/// then resumes it at start instead of asking for the password.
pub async fn start_with(
    config: Config,
    vault: Option<Arc<dyn Vault>>,
) -> Result<Handle, ServiceError> {
    let (msg_tx, msg_rx) = mpsc::channel(INBOX);
    let (core, done_rx) = event_loop::Core::open(config, vault).await?;
    let handle = Handle::new(msg_tx, Arc::clone(core.client()), core.is_demo());
    info!(demo = core.is_demo(), "core started");
    tokio::spawn(event_loop::run(core, msg_rx, done_rx));
    Ok(handle)
}
