//! The one fixture for the service's tests and benchmarks: a reference backend over loopback
//! with its own SQLite file, and a core started against it that records what it sends.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringside_core::{PhoneCommand, Snapshot, SnapshotDelta};
use ringside_service::{Config, Handle};

pub async fn backend(dir: &Path) -> ringside_backend::Embedded {
    ringside_backend::spawn_embedded(&dir.join("backend.db"))
        .await
        .unwrap()
}

/// Demo credentials and the simulator, against the given backend.
pub fn config(profile: &Path, backend_url: &str) -> Config {
    Config::headless_demo(backend_url, profile.to_path_buf())
}

/// What the core sent out: webphone commands and the UI's deltas, rebuilt into the snapshot
/// the UI would hold.
#[derive(Default)]
pub struct Recorder {
    pub commands: Mutex<Vec<PhoneCommand>>,
    pub deltas: Mutex<Vec<SnapshotDelta>>,
    pub ui: Mutex<Snapshot>,
}

pub struct Core {
    pub handle: Handle,
    pub rec: Arc<Recorder>,
}

impl Core {
    pub async fn snapshot(&self) -> Snapshot {
        self.handle.snapshot().await.unwrap()
    }

    /// Waits (5 s at most) until the core's snapshot satisfies `f`.
    pub async fn until(&self, what: &str, f: impl Fn(&Snapshot) -> bool) -> Snapshot {
        for _ in 0..200 {
            let s = self.snapshot().await;
            if f(&s) {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("timed out: {what}: {:?}", self.snapshot().await.sync);
    }

    pub async fn phone(&self, args: &serde_json::Value) {
        let args = args.as_array().cloned().unwrap();
        let kind = if args.len() == 9 { "cdr" } else { "call" };
        self.handle.phone_event(kind.into(), args).await.unwrap();
    }
}

/// Starts a core on `profile`, attaches a recording UI and webphone, and waits for sign-in.
pub async fn start(profile: &Path, backend_url: &str) -> Core {
    start_with(config(profile, backend_url)).await
}

/// As [`start`], with the configuration given.
pub async fn start_with(config: Config) -> Core {
    let handle = ringside_service::start(config).await.unwrap();
    let rec = Arc::new(Recorder::default());
    let r = rec.clone();
    handle
        .attach_phone(Box::new(move |c| {
            r.commands.lock().unwrap().push(c.clone());
            true
        }))
        .await
        .unwrap();
    let r = rec.clone();
    handle
        .subscribe(Box::new(move |d| {
            r.ui.lock().unwrap().apply(d.clone());
            r.deltas.lock().unwrap().push(d.clone());
            true
        }))
        .await
        .unwrap();
    let core = Core { handle, rec };
    core.until("signed in", |s| s.engine.agent.is_some()).await;
    core
}
