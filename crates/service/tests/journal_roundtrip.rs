//! The whole core process (engine + SQLite store + journal + sync to the in-process reference
//! backend) fed a recorded trace: the backend gets the right call log, the journal replays to
//! the same outcome, and no secret reaches the journal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringside_core::journal::replay;
use ringside_core::Snapshot;
use ringside_service::{Config, Mode, Outlet, Service, WebphoneSource};
use serde_json::Value;

#[derive(Default)]
struct Recorder {
    commands: Mutex<Vec<Value>>,
    snapshots: Mutex<u64>,
}

impl Outlet for Recorder {
    fn snapshot(&self, _: &Snapshot) {
        *self.snapshots.lock().unwrap() += 1;
    }
    fn phone_command(&self, c: &Value) {
        self.commands.lock().unwrap().push(c.clone());
    }
}

fn config(profile: PathBuf) -> Config {
    Config {
        mode: Mode::Demo,
        backend_url: None,
        webphone: WebphoneSource::Simulator,
        username: None,
        profile_dir: profile,
        transfer_route: Default::default(),
        registration_timeout_s: 20,
        locked: vec![],
        warnings: vec![],
    }
}

async fn until(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out: {what}");
}

include!("../../../tests/fixtures/fixture_traces.rs");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_call_reaches_the_backend_and_replays_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Arc::new(Recorder::default());
    let svc = Service::start(config(dir.path().to_path_buf()), rec.clone())
        .await
        .unwrap();
    until("signed in", || svc.snapshot().engine.agent.is_some()).await;

    let trace =
        std::fs::read_to_string(fixture_traces().join("mizu-3.6/answer_caller_hangs.1002.jsonl"))
            .unwrap();
    for line in trace.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let args = v["args"].as_array().cloned().unwrap();
        svc.phone_event(v["kind"].as_str().unwrap().to_string(), args);
    }
    // A library that echoes its parameters must not leak them into the journal.
    svc.phone_event(
        "event".into(),
        vec![
            "event".into(),
            "STATUS,-1,setparameter password=demo-sip-secret".into(),
        ],
    );

    let cmds = rec.commands.lock().unwrap().clone();
    assert_eq!(cmds[0]["cmd"], "configure", "{cmds:?}");
    assert_eq!(cmds[0]["params"]["password"], "demo-sip-secret");
    assert_eq!(cmds[1]["cmd"], "start");

    let mut logs = Vec::new();
    for _ in 0..200 {
        logs = svc.client().call_logs().await.unwrap();
        if logs.len() == 1 && logs[0]["talk_seconds"] == 3 && logs[0]["contact_id"] == "ct-1" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0]["status"], "answered");
    assert_eq!(logs[0]["talk_seconds"], 3, "reconciled with the CDR");
    assert_eq!(logs[0]["contact_id"], "ct-1");
    assert_eq!(
        svc.snapshot().engine.wrap_up.len(),
        1,
        "after-call work opened"
    );

    let journal_dir = dir.path().join("journal");
    let mut text = String::new();
    for f in std::fs::read_dir(&journal_dir).unwrap() {
        text.push_str(&std::fs::read_to_string(f.unwrap().path()).unwrap());
    }
    assert!(!text.contains("demo-sip-secret"), "secret in the journal");
    assert!(text.contains("password=***"));
    let out = replay(&text, None);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(out.calls.len(), 1);
    assert_eq!(out.calls[0].status, "answered");
    assert_eq!(out.calls[0].talk_seconds, 3);
    assert!(*rec.snapshots.lock().unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_survive_a_restart_of_the_core() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Arc::new(Recorder::default());
    {
        let svc = Service::start(config(dir.path().to_path_buf()), rec.clone())
            .await
            .unwrap();
        until("signed in", || svc.snapshot().engine.agent.is_some()).await;
        for (kind, args) in [
            (
                "call",
                serde_json::json!(["setup", 2, "1001", "1001", 1, "[d-1]"]),
            ),
            (
                "call",
                serde_json::json!(["connected", 2, "1001", "1001", 1, "[d-1]"]),
            ),
            (
                "call",
                serde_json::json!(["disconnected", 2, "1001", "1001", 1, "[d-1]"]),
            ),
        ] {
            svc.phone_event(kind.into(), args.as_array().cloned().unwrap());
        }
        let mut draft = svc.snapshot().drafts[0].draft.clone();
        draft.notes = "typed before the crash".into();
        svc.save_draft(draft).unwrap();
    }
    let svc = Service::start(config(dir.path().to_path_buf()), rec)
        .await
        .unwrap();
    let drafts = svc.snapshot().drafts;
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].draft.notes, "typed before the crash");
    assert_eq!(
        drafts[0].log.as_ref().unwrap().status,
        ringside_core::CallStatus::Answered
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_sent_after_sign_out_and_everything_after_sign_in_again() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Arc::new(Recorder::default());
    let svc = Service::start(config(dir.path().to_path_buf()), rec)
        .await
        .unwrap();
    until("signed in", || svc.snapshot().engine.agent.is_some()).await;
    svc.sign_out().await.unwrap();
    assert_eq!(
        svc.snapshot().session.state,
        ringside_core::SessionState::SignedOut
    );
    for name in ["setup", "disconnected"] {
        svc.phone_event(
            "call".into(),
            serde_json::json!([name, 2, "1001", "1001", 1, "[so-1]"])
                .as_array()
                .cloned()
                .unwrap(),
        );
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // Still queued: a signed-out app does not renew its session behind the agent's back.
    assert!(svc.snapshot().sync.pending > 0);
    assert!(
        svc.snapshot().notice.is_none(),
        "{:?}",
        svc.snapshot().notice
    );
    svc.sign_in("demo".into(), ringside_core::Secret("demo".into()))
        .await
        .unwrap();
    until("delivered after sign-in", || {
        svc.snapshot().sync.pending == 0
    })
    .await;
    let logs = svc.client().call_logs().await.unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["status"], "missed");
}
