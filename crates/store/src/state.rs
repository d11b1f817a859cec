//! The database's sync state as support reads it, from a read-only connection (the app may be
//! running and writing): counts and the outbox's last errors, never a note or a call's body.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use crate::Result;

#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncState {
    /// Call logs by status.
    pub call_logs: BTreeMap<String, u64>,
    /// After-call drafts by state (editing, submitted...).
    pub drafts: BTreeMap<String, u64>,
    /// Outbox entries waiting, by entity.
    pub outbox_waiting: BTreeMap<String, u64>,
    /// Outbox entries the backend refused for good, by entity.
    pub outbox_refused: BTreeMap<String, u64>,
    /// The most recent errors, newest first: entity, operation, attempts, error text.
    pub last_errors: Vec<OutboxError>,
    /// The schema version (SQLite's `user_version`).
    pub schema_version: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxError {
    pub entity: String,
    pub op: String,
    pub attempts: i64,
    pub failed: bool,
    pub error: String,
}

/// Reads `db` without writing to it, and without waiting on a writer.
pub fn read(db: &Path) -> Result<SyncState> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(2))?;
    let grouped = |sql: &str| -> Result<BTreeMap<String, u64>> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
            ))
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    };
    let mut stmt = conn.prepare(
        "SELECT entity, op, attempts, failed, last_error FROM outbox
         WHERE last_error IS NOT NULL ORDER BY seq DESC LIMIT 20",
    )?;
    let last_errors = stmt
        .query_map([], |r| {
            Ok(OutboxError {
                entity: r.get(0)?,
                op: r.get(1)?,
                attempts: r.get(2)?,
                failed: r.get::<_, i64>(3)? != 0,
                error: crate::redact::redact_text(&r.get::<_, String>(4)?),
            })
        })?
        .collect::<std::result::Result<_, _>>()?;
    Ok(SyncState {
        call_logs: grouped("SELECT status, COUNT(*) FROM call_logs GROUP BY status")?,
        drafts: grouped("SELECT state, COUNT(*) FROM drafts GROUP BY state")?,
        outbox_waiting: grouped(
            "SELECT entity, COUNT(*) FROM outbox WHERE failed = 0 GROUP BY entity",
        )?,
        outbox_refused: grouped(
            "SELECT entity, COUNT(*) FROM outbox WHERE failed = 1 GROUP BY entity",
        )?,
        last_errors,
        schema_version: conn.query_row("PRAGMA user_version", [], |r| r.get(0))?,
    })
}
