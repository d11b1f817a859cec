//! Opening the profile database: pragmas, integrity check, migrations.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};
use tracing::{error, info, warn};

use crate::{Result, StoreError};

/// The SQLite store of one agent profile. Not `Sync`: the shell owns it on one thread.
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
}

/// What happened while opening, for the UI and the logs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OpenReport {
    /// A corrupt database was found and moved here; a fresh one was created.
    pub moved_aside: Option<PathBuf>,
}

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            "CREATE TABLE call_logs (
            id TEXT PRIMARY KEY,
            call_id TEXT NOT NULL,
            status TEXT NOT NULL,
            started_at_ms INTEGER NOT NULL,
            body TEXT NOT NULL,
            updated_at_ms INTEGER NOT NULL
        );
        CREATE INDEX call_logs_started ON call_logs(started_at_ms);
        CREATE TABLE drafts (
            call_log_id TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            body TEXT NOT NULL,
            updated_at_ms INTEGER NOT NULL
        );
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            idem_key TEXT NOT NULL UNIQUE,
            entity TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            op TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_ms INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            failed INTEGER NOT NULL DEFAULT 0,
            created_ms INTEGER NOT NULL
        );
        CREATE INDEX outbox_entity ON outbox(entity, entity_id, seq);",
        ),
        M::up("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"),
        // The backend's reason when it refused a submitted draft; cleared on the next submit.
        M::up("ALTER TABLE drafts ADD COLUMN refused TEXT;"),
    ])
}

impl Store {
    /// Opens (or creates) the database at `path`. A file that fails SQLite's integrity check
    /// is renamed to `<name>.corrupt-<unix-ms>` and reported, never deleted.
    pub fn open(path: &Path, now_ms: i64) -> Result<(Self, OpenReport)> {
        let mut report = OpenReport::default();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::ProfileDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let conn = match Self::open_checked(path) {
            Ok(conn) => conn,
            Err(StoreError::Corrupt(why)) => {
                let aside = path.with_extension(format!("corrupt-{now_ms}"));
                error!(path = %path.display(), aside = %aside.display(), %why, "corrupt database moved aside");
                std::fs::rename(path, &aside)?;
                for ext in ["db-wal", "db-shm"] {
                    let side = path.with_extension(ext);
                    if side.exists() {
                        let _ =
                            std::fs::rename(&side, aside.with_extension(format!("{ext}-{now_ms}")));
                    }
                }
                report.moved_aside = Some(aside);
                Self::open_checked(path)?
            }
            Err(e) => return Err(e),
        };
        info!(path = %path.display(), "store open");
        Ok((Self { conn }, report))
    }

    /// An in-memory store for tests and the replay tool.
    pub fn in_memory() -> Result<Self> {
        let mut conn = Connection::open_in_memory()?;
        migrations()
            .to_latest(&mut conn)
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(Self { conn })
    }

    fn open_checked(path: &Path) -> Result<Connection> {
        let mut conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        conn.busy_timeout(std::time::Duration::from_secs(2))?;
        // `journal_mode` is the first statement that reads the file: a non-database file
        // fails here with NotADatabase.
        let mode: String = match conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)) {
            Ok(m) => m,
            Err(e) if is_corruption(&e) => return Err(StoreError::Corrupt(e.to_string())),
            Err(e) => return Err(e.into()),
        };
        if mode != "wal" {
            warn!(%mode, "WAL not available; continuing in {mode} mode");
        }
        // FULL: a committed call log survives power loss too, not only a crash of the app.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let check: String = match conn.query_row("PRAGMA quick_check", [], |r| r.get(0)) {
            Ok(c) => c,
            Err(e) if is_corruption(&e) => return Err(StoreError::Corrupt(e.to_string())),
            Err(e) => return Err(e.into()),
        };
        if check != "ok" {
            return Err(StoreError::Corrupt(check));
        }
        migrations().to_latest(&mut conn).map_err(|e| match e {
            rusqlite_migration::Error::RusqliteError { err, .. } => StoreError::from(err),
            other => StoreError::Migration(other.to_string()),
        })?;
        // SQLite opens a file it cannot write read-only, silently: without this, the first
        // call log of the day would be the first to fail.
        if conn.is_readonly(rusqlite::MAIN_DB)? {
            return Err(StoreError::ReadOnly(format!(
                "{} can be read but not written: a read-only disk, or a file locked against changes",
                path.display()
            )));
        }
        Ok(conn)
    }
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(migrations().validate().is_ok());
    }

    #[test]
    fn a_garbage_file_is_moved_aside_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ringside.db");
        std::fs::write(
            &path,
            b"this is not a database, it is a note an agent typed",
        )
        .unwrap();
        let (_store, report) = Store::open(&path, 42).unwrap();
        let aside = report.moved_aside.expect("moved aside");
        assert_eq!(
            std::fs::read(&aside).unwrap(),
            b"this is not a database, it is a note an agent typed"
        );
        // And the fresh one works.
        let (_again, report) = Store::open(&path, 43).unwrap();
        assert_eq!(report.moved_aside, None);
    }

    #[test]
    fn a_full_disk_is_a_clear_error_and_leaves_no_partial_write() {
        use ringside_core::{CallStatus, WriteOp};
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("ringside.db"), 1).unwrap();
        let mut log = crate::records::tests_support::log("a", CallStatus::Ringing);
        store.save_call_log(&log, WriteOp::Create, 1).unwrap();
        // Cap the file at its current size: the next write has nowhere to go.
        let pages: i64 = store
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        store
            .conn
            .pragma_update(None, "max_page_count", pages)
            .unwrap();
        log.status = CallStatus::Missed;
        log.end_reason = Some("x".repeat(64 * 1024));
        let err = store.save_call_log(&log, WriteOp::Update, 2).unwrap_err();
        assert!(matches!(err, StoreError::DiskFull), "{err}");
        assert_eq!(err.code(), "disk_full");
        // Nothing half-written: the row and its outbox entry are as before.
        assert_eq!(
            store.call_log("a").unwrap().unwrap().status,
            CallStatus::Ringing
        );
        assert_eq!(store.pending_count().unwrap(), 1);
    }

    #[test]
    fn a_read_only_file_system_is_a_clear_error() {
        // /proc is read-only for everyone, root included.
        let err = Store::open(Path::new("/proc/self/ringside-profile/ringside.db"), 1).unwrap_err();
        assert_eq!(err.code(), "store_profile", "{err}");
        assert!(
            err.to_string().contains("/proc/self/ringside-profile"),
            "{err}"
        );
    }

    /// A database that opens but cannot be written, as an immutable file or a read-only mount
    /// leaves it: said at start, before the agent takes a call whose log could not be kept.
    /// Made so for root too (CI runs as root, and root ignores permission bits): `chattr +i`.
    #[cfg(unix)]
    #[test]
    fn a_database_that_opens_but_cannot_be_written_is_refused_at_start() {
        use std::os::unix::fs::PermissionsExt;
        use std::process::Command;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ringside.db");
        {
            let (mut store, _) = Store::open(&path, 1).unwrap();
            store.set_setting("theme", "dark").unwrap();
        }
        let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
        let immutable = |on: bool| {
            let flag = if on { "+i" } else { "-i" };
            let ok = Command::new("chattr")
                .arg(flag)
                .arg(&path)
                .status()
                .is_ok_and(|s| s.success());
            assert!(
                ok,
                "chattr {flag} failed: this test needs it when run as root"
            );
        };
        if root {
            immutable(true);
        } else {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
        }
        let result = Store::open(&path, 2);
        if root {
            immutable(false);
        }
        let err = result.expect_err("a database that cannot be written was opened");
        assert_eq!(err.code(), "store_read_only", "{err}");
        assert!(err.to_string().contains("read-only"), "{err}");
        // Nothing was lost: the file still holds what was written.
        let (store, _) = Store::open(&path, 3).unwrap();
        assert_eq!(store.setting("theme").unwrap().as_deref(), Some("dark"));
    }

    #[test]
    fn a_database_that_cannot_be_created_is_a_clear_error() {
        // What an unwritable profile folder means for the store: SQLite cannot create or open
        // the database file. Permission bits do not show it when run as root (CI is), so the
        // path is taken by a directory instead, which no one can open as a database file.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ringside.db");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("keep.txt"), b"an agent's file").unwrap();

        let err = Store::open(&path, 7).unwrap_err();
        assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
        assert_eq!(err.code(), "store_open", "{err}");
        assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");

        // Not mistaken for a corrupt file: nothing was moved aside, renamed or created.
        assert!(path.is_dir(), "the path was moved away");
        assert_eq!(
            std::fs::read(path.join("keep.txt")).unwrap(),
            b"an agent's file"
        );
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["ringside.db"]);
    }
}
