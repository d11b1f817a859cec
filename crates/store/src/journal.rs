//! The rotating JSON Lines journal of raw webphone callbacks (the `shared/traces` format),
//! which support engineers export and run through `ringside replay`.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::redact::redact;
use crate::Result;
use ringside_core::journal::JournalLine;

/// Appends journal lines, rotating by size and keeping a bounded number of files.
#[derive(Debug)]
pub struct JournalWriter {
    dir: PathBuf,
    max_bytes: u64,
    keep_files: usize,
    current: Option<(BufWriter<File>, u64)>,
    secrets: Vec<String>,
}

impl JournalWriter {
    pub fn open(dir: &Path, max_bytes: u64, keep_files: usize) -> Result<Self> {
        fs::create_dir_all(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            max_bytes: max_bytes.max(1024),
            keep_files: keep_files.max(1),
            current: None,
            secrets: Vec::new(),
        })
    }

    /// Strings that must never be written (SIP password, backend token), replaced by `***`
    /// wherever they appear; a short one only where a whole string equals it
    /// ([`crate::redact`]). Whatever looks like a secret is masked as well, known or not.
    pub fn set_secrets(&mut self, secrets: Vec<String>) {
        self.secrets = secrets.into_iter().filter(|s| !s.is_empty()).collect();
    }

    /// One more secret to redact (a renewed token).
    pub fn add_secret(&mut self, secret: String) {
        if !secret.is_empty() {
            self.secrets.push(secret);
        }
    }

    pub fn append(&mut self, line: &JournalLine) -> Result<()> {
        let mut line = line.clone();
        for arg in &mut line.args {
            redact(arg, &self.secrets);
        }
        let mut text = serde_json::to_string(&line)?;
        text.push('\n');
        let len = text.len() as u64;
        let needs_new = match &self.current {
            None => true,
            Some((_, size)) => size + len > self.max_bytes,
        };
        if needs_new {
            self.rotate(line.t_ms)?;
        }
        if let Some((w, size)) = &mut self.current {
            w.write_all(text.as_bytes())?;
            // A crash must not lose the lines that explain it.
            w.flush()?;
            *size += len;
        }
        Ok(())
    }

    fn rotate(&mut self, t_ms: i64) -> Result<()> {
        if let Some((mut w, _)) = self.current.take() {
            w.flush()?;
        }
        let mut n = 0;
        let path = loop {
            let p = self.dir.join(format!("journal-{t_ms:013}-{n}.jsonl"));
            if !p.exists() {
                break p;
            }
            n += 1;
        };
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        self.current = Some((BufWriter::new(file), 0));
        let mut files = self.files()?;
        while files.len() > self.keep_files {
            let old = files.remove(0);
            fs::remove_file(old)?;
        }
        Ok(())
    }

    /// The journal files, oldest first.
    pub fn files(&self) -> Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = fs::read_dir(&self.dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("journal-") && n.ends_with(".jsonl"))
            })
            .collect();
        files.sort();
        Ok(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn line(t: i64, args: Value) -> JournalLine {
        JournalLine {
            t_ms: t,
            agent: "1002".into(),
            kind: "event".into(),
            args: args.as_array().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn secrets_never_reach_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = JournalWriter::open(dir.path(), 1 << 20, 3).unwrap();
        j.set_secrets(vec!["s3cret-pw".into()]);
        j.append(&line(
            1,
            json!(["log", "setparameter password=s3cret-pw ok", {"p": "s3cret-pw"}]),
        ))
        .unwrap();
        let text = fs::read_to_string(&j.files().unwrap()[0]).unwrap();
        assert!(!text.contains("s3cret-pw"), "{text}");
        assert!(text.contains("password=***"));
    }

    #[test]
    fn rotates_and_keeps_a_bounded_number_of_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = JournalWriter::open(dir.path(), 1024, 3).unwrap();
        for t in 0..200 {
            j.append(&line(
                t,
                json!(["event", "STATUS,1,Speaking,1001,1002,2,1001"]),
            ))
            .unwrap();
        }
        let files = j.files().unwrap();
        assert_eq!(files.len(), 3);
        for f in files {
            let text = fs::read_to_string(f).unwrap();
            assert!(text.len() <= 1024);
            for l in text.lines() {
                let _: JournalLine = serde_json::from_str(l).unwrap();
            }
        }
    }
}
