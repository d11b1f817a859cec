//! The main-thread probe, for measurement runs only (`cargo xtask bench`).
//!
//! Tauri runs synchronous commands and every window on the main (GTK) thread: whatever blocks
//! it freezes both windows. With `RINGSIDE_MAIN_THREAD_PROBE=FILE` set, a thread asks the main
//! thread to run an empty task every 10 ms and appends, per task, one JSON line to FILE:
//! `{"at_ms": <epoch ms when asked>, "delay_us": <how long the task waited>}`. The bench reads
//! the longest delay inside the window it cares about. Unset, nothing runs.
//!
//! The file holds timings only, no call or agent data.

use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tauri::{AppHandle, Runtime};

pub const ENV: &str = "RINGSIDE_MAIN_THREAD_PROBE";
const EVERY: Duration = Duration::from_millis(10);

pub fn start<R: Runtime>(app: &AppHandle<R>) {
    let Some(path) = std::env::var_os(ENV) else {
        return;
    };
    let file = match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e, "main-thread probe: cannot open its file");
            return;
        }
    };
    let app = app.clone();
    let spawned = std::thread::Builder::new()
        .name("main-thread-probe".into())
        .spawn(move || probe(app, file));
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "main-thread probe: cannot start");
    }
}

fn probe<R: Runtime>(app: AppHandle<R>, mut file: std::fs::File) {
    loop {
        let asked = Instant::now();
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let (tx, rx) = std::sync::mpsc::channel();
        if app
            .run_on_main_thread(move || {
                let _ = tx.send(asked.elapsed());
            })
            .is_err()
        {
            return; // the event loop is gone: the app is quitting
        }
        let Ok(delay) = rx.recv() else { return };
        let line = format!("{{\"at_ms\":{at_ms},\"delay_us\":{}}}\n", delay.as_micros());
        if file.write_all(line.as_bytes()).is_err() {
            return;
        }
        std::thread::sleep(EVERY);
    }
}
