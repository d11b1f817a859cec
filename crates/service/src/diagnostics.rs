//! `ringside diagnostics --out FILE` and Settings → "Save diagnostics": one zip a support
//! engineer can read at 2 a.m. without asking the agent anything else.
//!
//! | entry | what |
//! |---|---|
//! | `README.txt` | what this is, when it was made, what is left out |
//! | `versions.txt` | Ringside's version and build, the OS |
//! | `settings.txt` | the effective settings and which IT locked |
//! | `sync-state.json` | the database's counts and the outbox's last errors |
//! | `logs/…` | the rolling log files (14 days) |
//! | `journal/…` | the webphone event journal (what the library reported) |
//!
//! Left out: after-call notes and call bodies (they stay in SQLite, which is not copied),
//! passwords and tokens (never written to any of these files; every text entry also goes
//! through the journal's structural redaction, in case).

use std::io::Write;
use std::path::{Path, PathBuf};

use ringside_store::redact::redact_text;
use zip::write::SimpleFileOptions;

use crate::Config;

#[derive(Debug, thiserror::Error)]
pub enum DiagnosticsError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the archive {path}: {source}")]
    Zip {
        path: PathBuf,
        source: zip::result::ZipError,
    },
}

impl DiagnosticsError {
    pub fn code(&self) -> &'static str {
        "diagnostics_failed"
    }
}

/// What went into the archive.
#[derive(Debug, Clone, Default)]
pub struct Written {
    pub path: PathBuf,
    pub entries: Vec<String>,
    /// Parts that could not be read (the database locked, a log unreadable): said in
    /// `README.txt` too, never fatal.
    pub problems: Vec<String>,
}

/// Per file taken from the profile: logs rotate daily and are kept 14 days, the journal is
/// 10 × 8 MiB at most; anything bigger is cut to its last part, which is what support reads.
const MAX_FILE: usize = 16 << 20;

/// Writes the archive for `config`'s profile to `out`; `versions` is what the caller knows of
/// itself (the shell's version line, the web engine).
pub fn write(config: &Config, versions: &str, out: &Path) -> Result<Written, DiagnosticsError> {
    let file = std::fs::File::create(out).map_err(|source| DiagnosticsError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    let zip_err = |source| DiagnosticsError::Zip {
        path: out.to_path_buf(),
        source,
    };
    let mut zip = zip::ZipWriter::new(file);
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut written = Written {
        path: out.to_path_buf(),
        ..Written::default()
    };
    let add = |zip: &mut zip::ZipWriter<std::fs::File>,
               name: &str,
               text: &str,
               written: &mut Written|
     -> Result<(), DiagnosticsError> {
        zip.start_file(name, opts).map_err(zip_err)?;
        zip.write_all(redact_text(text).as_bytes())
            .map_err(|source| DiagnosticsError::Write {
                path: out.to_path_buf(),
                source,
            })?;
        written.entries.push(name.to_string());
        Ok(())
    };

    add(
        &mut zip,
        "versions.txt",
        &versions_text(versions),
        &mut written,
    )?;
    add(
        &mut zip,
        "settings.txt",
        &settings_text(config),
        &mut written,
    )?;
    let db = config.profile_dir.join("ringside.db");
    let state = match ringside_store::state::read(&db) {
        Ok(s) => serde_json::to_string_pretty(&s).unwrap_or_default(),
        Err(e) => {
            written
                .problems
                .push(format!("database {}: {e}", db.display()));
            format!("{{\"unreadable\": {:?}}}", e.to_string())
        }
    };
    add(&mut zip, "sync-state.json", &state, &mut written)?;
    for dir in ["logs", "journal"] {
        let path = config.profile_dir.join(dir);
        let Ok(entries) = std::fs::read_dir(&path) else {
            written
                .problems
                .push(format!("{} not found", path.display()));
            continue;
        };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files.into_iter().filter(|f| f.is_file()) {
            let name = format!(
                "{dir}/{}",
                f.file_name().unwrap_or_default().to_string_lossy()
            );
            match std::fs::read(&f) {
                Ok(bytes) => {
                    let start = bytes.len().saturating_sub(MAX_FILE);
                    let text = String::from_utf8_lossy(&bytes[start..]);
                    add(&mut zip, &name, &text, &mut written)?;
                }
                Err(e) => written.problems.push(format!("{}: {e}", f.display())),
            }
        }
    }
    let readme = readme_text(&written);
    add(&mut zip, "README.txt", &readme, &mut written)?;
    zip.finish().map_err(zip_err)?;
    Ok(written)
}

fn versions_text(versions: &str) -> String {
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    format!(
        "{versions}\nos: {os} ({})\nmade: {} (Unix ms)\n",
        std::env::consts::ARCH,
        crate::wall_ms()
    )
}

/// What `ringside policy` prints: each setting, where it came from, and IT's locks.
fn settings_text(config: &Config) -> String {
    config.report(
        &crate::config::policy_path(),
        crate::config::user_config_path().as_deref(),
    )
}

fn readme_text(w: &Written) -> String {
    let mut s = String::from(
        "Ringside diagnostics\n\nversions.txt, settings.txt: this installation.\nsync-state.json: what the local database holds and has not synced (counts, last errors).\nlogs/: the application's logs. journal/: what the webphone library reported.\n\nNot included: after-call notes, call details beyond the journal, passwords, tokens.\n",
    );
    if !w.problems.is_empty() {
        s.push_str("\nCould not be included:\n");
        for p in &w.problems {
            s.push_str("- ");
            s.push_str(p);
            s.push('\n');
        }
    }
    s
}

/// Where Settings saves the archive: the Downloads folder, else home; named by the time.
pub fn default_path() -> Option<PathBuf> {
    let dirs = directories::UserDirs::new()?;
    let dir = dirs
        .download_dir()
        .filter(|d| d.is_dir())
        .unwrap_or_else(|| dirs.home_dir())
        .to_path_buf();
    Some(dir.join(format!("ringside-diagnostics-{}.zip", crate::wall_ms())))
}
