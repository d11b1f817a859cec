//! Staying signed in: the backend's refresh token kept between runs in a [`Vault`] (the OS
//! keyring in the app; memory in tests), never in a plain file. Keyrings answer over D-Bus or
//! system calls that block, so every call runs on one thread of its own, in order: a sign-out
//! right after a sign-in forgets the token after it was saved, never before.

use std::sync::mpsc;
use std::sync::Arc;

use ringside_core::Secret;
use tracing::{debug, warn};

/// A place for one secret per account. Errors are plain text for the agent ("no keyring on
/// this system: …").
pub trait Vault: Send + Sync {
    fn load(&self, account: &str) -> Result<Option<Secret>, String>;
    fn save(&self, account: &str, secret: &Secret) -> Result<(), String>;
    fn forget(&self, account: &str) -> Result<(), String>;
}

/// How long start-up waits for the keyring.
const LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

enum Job {
    Save(String, Secret),
    Forget(String),
}

/// The vault behind its thread.
#[derive(Clone)]
pub(crate) struct VaultWorker {
    vault: Arc<dyn Vault>,
    jobs: mpsc::Sender<Job>,
}

impl VaultWorker {
    pub fn start(vault: Arc<dyn Vault>) -> Self {
        let (jobs, rx) = mpsc::channel::<Job>();
        let v = vault.clone();
        let spawned = std::thread::Builder::new()
            .name("ringside-vault".into())
            .spawn(move || {
                for job in rx {
                    let (what, result) = match job {
                        Job::Save(account, secret) => ("save", v.save(&account, &secret)),
                        Job::Forget(account) => ("forget", v.forget(&account)),
                    };
                    match result {
                        Ok(()) => debug!(what, "keyring updated"),
                        Err(e) => warn!(what, error = %e, "keyring not updated"),
                    }
                }
            });
        if let Err(e) = spawned {
            warn!(error = %e, "no keyring thread: the session will not be remembered");
        }
        Self { vault, jobs }
    }

    /// At start, before the loop runs: off the async runtime's threads, and bounded. A locked
    /// keyring may put up its unlock prompt and wait for the agent: Ringside starts without the
    /// kept session rather than wait with it.
    pub async fn load(&self, account: String) -> Result<Option<Secret>, String> {
        let vault = self.vault.clone();
        match tokio::time::timeout(
            LOAD_TIMEOUT,
            tokio::task::spawn_blocking(move || vault.load(&account)),
        )
        .await
        {
            Ok(joined) => joined.map_err(|e| e.to_string())?,
            Err(_) => Err(format!(
                "the keyring did not answer within {} s (locked?)",
                LOAD_TIMEOUT.as_secs()
            )),
        }
    }

    pub fn save(&self, account: &str, secret: Secret) {
        let _ = self.jobs.send(Job::Save(account.to_string(), secret));
    }

    pub fn forget(&self, account: &str) {
        let _ = self.jobs.send(Job::Forget(account.to_string()));
    }
}

/// The keyring entry's name: one session per backend and agent.
pub(crate) fn account(backend_url: &str, username: &str) -> String {
    format!("{username}@{}", backend_url.trim_end_matches('/'))
}

/// A vault in memory, for tests: what a keyring would hold, and a switch to play one that
/// is missing.
#[derive(Default)]
pub struct MemoryVault {
    pub entries: std::sync::Mutex<std::collections::BTreeMap<String, String>>,
    pub unavailable: Option<String>,
}

impl Vault for MemoryVault {
    fn load(&self, account: &str) -> Result<Option<Secret>, String> {
        if let Some(why) = &self.unavailable {
            return Err(why.clone());
        }
        Ok(self
            .entries
            .lock()
            .map_err(|e| e.to_string())?
            .get(account)
            .cloned()
            .map(Secret))
    }

    fn save(&self, account: &str, secret: &Secret) -> Result<(), String> {
        if let Some(why) = &self.unavailable {
            return Err(why.clone());
        }
        self.entries
            .lock()
            .map_err(|e| e.to_string())?
            .insert(account.to_string(), secret.0.clone());
        Ok(())
    }

    fn forget(&self, account: &str) -> Result<(), String> {
        self.entries
            .lock()
            .map_err(|e| e.to_string())?
            .remove(account);
        Ok(())
    }
}
