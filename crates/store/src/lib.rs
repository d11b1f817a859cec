//! # Ringside store
//!
//! Durable state on the agent's machine. Principle: write before you send. Every change that
//! must reach the backend commits in one SQLite transaction with its outbox entry, before any
//! network I/O.
//!
//! ## Layout
//! - [`db`]: opening (WAL, integrity check, corrupt files moved aside), migrations.
//! - [`records`]: call logs and after-call drafts.
//! - [`outbox`]: pending writes for the backend, their order, retries and idempotency keys.
//! - [`profile`]: the profile folder made owner-only.
//! - [`journal`]: the rotating JSON Lines journal of raw webphone callbacks, secrets redacted.
//! - [`redact`]: what keeps secrets out of the journal, by value and by structure.

pub mod db;
pub mod journal;
pub mod outbox;
pub mod profile;
pub mod records;
pub mod redact;
pub mod state;

pub use db::{OpenReport, Store};
pub use journal::JournalWriter;
pub use outbox::{EntityKind, OutboxItem};

/// Errors of the store, each with a stable code for the IPC boundary.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("the profile database {path} cannot be opened: {source}")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the profile folder {path} cannot be used: {source}")]
    ProfileDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the disk is full; nothing was written")]
    DiskFull,
    #[error("the profile database is read-only ({0})")]
    ReadOnly(String),
    #[error("the profile database is busy (locked by another Ringside?)")]
    Locked,
    #[error("migrating the profile database failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("a stored record is unreadable: {0}")]
    Corrupt(String),
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Open { .. } => "store_open",
            Self::ProfileDir { .. } => "store_profile",
            Self::DiskFull => "disk_full",
            Self::ReadOnly(_) => "store_read_only",
            Self::Locked => "store_locked",
            Self::Migration(_) => "store_migration",
            Self::Sqlite(_) => "store_error",
            Self::Corrupt(_) => "store_corrupt_record",
            Self::Io(_) => "store_io",
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => Self::DiskFull,
            Some(ErrorCode::ReadOnly) => Self::ReadOnly(e.to_string()),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Self::Locked,
            _ => Self::Sqlite(e),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Corrupt(e.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
