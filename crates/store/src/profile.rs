//! The profile folder is the agent's alone: notes, call history, the journal and the logs are
//! customer data, and other accounts on a shared workstation must not read them.

use std::path::Path;

/// The one running Ringside that writes in a profile. Two writers would mark each other's
/// live calls as interrupted and send the same outbox twice; the second start is refused and
/// says so. The operating system drops the lock when the process ends, crash included.
#[derive(Debug)]
pub struct ProfileLock {
    _file: std::fs::File,
}

/// Another Ringside holds the profile.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("Ringside is already running with the profile {0}; use that window (a second copy would write over its work)")]
    InUse(String),
    #[error("the profile lock {path} cannot be taken: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Takes the profile's lock, or says who has it.
pub fn lock(dir: &Path) -> Result<ProfileLock, LockError> {
    let path = dir.join("ringside.lock");
    let io = |source| LockError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(ProfileLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(LockError::InUse(dir.display().to_string())),
        Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
    }
}

/// Creates the profile folder if needed and makes it and everything in it owner-only (0700
/// for folders, 0600 for files, on Unix), tightening a profile an older version left open.
/// A folder others cannot enter protects the files created in it later as well.
pub fn secure(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    tighten(dir, 0)
}

#[cfg(unix)]
fn tighten(path: &Path, depth: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(path)?;
    // Links are not followed: a link in the profile must not make us chmod what it points at.
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let mode = if meta.is_dir() { 0o700 } else { 0o600 };
    if meta.permissions().mode() & 0o777 != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    // The profile is shallow (database, journal/, logs/, the demo backend's files).
    if meta.is_dir() && depth < 3 {
        for entry in std::fs::read_dir(path)? {
            tighten(&entry?.path(), depth + 1)?;
        }
    }
    Ok(())
}

/// Elsewhere the profile lives in the user's own folder, whose access rules apply.
#[cfg(not(unix))]
fn tighten(_path: &Path, _depth: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_profile_left_open_is_closed_to_other_accounts() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("profile");
        std::fs::create_dir_all(dir.join("journal")).unwrap();
        std::fs::write(dir.join("ringside.db"), b"x").unwrap();
        std::fs::write(dir.join("journal/journal-1.jsonl"), b"{}").unwrap();
        for (p, m) in [(dir.clone(), 0o755), (dir.join("journal"), 0o777)] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(m)).unwrap();
        }
        std::fs::set_permissions(
            dir.join("ringside.db"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        // Something outside the profile, reached by a link inside it: left alone.
        let outside = tmp.path().join("outside.txt");
        std::fs::write(&outside, b"x").unwrap();
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("link")).unwrap();

        secure(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("journal")), 0o700);
        assert_eq!(mode(&dir.join("ringside.db")), 0o600);
        assert_eq!(mode(&dir.join("journal/journal-1.jsonl")), 0o600);
        assert_eq!(mode(&outside), 0o644, "a link was followed");

        let fresh = tmp.path().join("new/profile");
        secure(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o700);
    }

    #[test]
    fn one_writer_per_profile_until_it_lets_go() {
        let tmp = tempfile::tempdir().unwrap();
        let first = lock(tmp.path()).unwrap();
        let second = lock(tmp.path()).unwrap_err();
        assert!(matches!(second, LockError::InUse(_)), "{second}");
        assert!(second.to_string().contains("already running"));
        drop(first);
        assert!(
            lock(tmp.path()).is_ok(),
            "a stopped Ringside leaves the profile free"
        );
    }
}
