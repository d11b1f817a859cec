//! The whole core process (engine + SQLite store + journal + sync to the reference backend
//! over loopback) fed a recorded trace: the backend gets the right call log, the journal
//! replays to the same outcome, no secret reaches the journal, and the core shuts down and
//! starts again in one process without losing or repeating anything.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use ringside_core::journal::replay;
use ringside_core::{CallStatus, PhoneCommand, SessionState};
use serde_json::{json, Value};

mod common;

include!("../../../tests/fixtures/fixture_traces.rs");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_call_reaches_the_backend_and_replays_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path()).await;
    let core = common::start(&dir.path().join("p"), &backend.base_url()).await;

    let trace =
        std::fs::read_to_string(fixture_traces().join("mizu-3.6/answer_caller_hangs.1002.jsonl"))
            .unwrap();
    for line in trace.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let args = v["args"].as_array().cloned().unwrap();
        core.handle
            .phone_event(v["kind"].as_str().unwrap().to_string(), args)
            .await
            .unwrap();
    }
    // A library that echoes its parameters must not leak them into the journal.
    core.handle
        .phone_event(
            "event".into(),
            vec![
                "event".into(),
                "STATUS,-1,setparameter password=demo-sip-secret".into(),
            ],
        )
        .await
        .unwrap();

    let cmds = core.rec.commands.lock().unwrap().clone();
    let PhoneCommand::Configure { params } = &cmds[0] else {
        panic!("configure first: {cmds:?}");
    };
    assert_eq!(params.password.0, "demo-sip-secret");
    assert_eq!(cmds[1], PhoneCommand::Start);

    let mut logs = Vec::new();
    for _ in 0..200 {
        logs = core.handle.client().call_logs().await.unwrap();
        if logs.len() == 1 && logs[0]["talk_seconds"] == 3 && logs[0]["contact_id"] == "ct-1" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0]["status"], "answered");
    assert_eq!(logs[0]["talk_seconds"], 3, "reconciled with the CDR");
    assert_eq!(logs[0]["contact_id"], "ct-1");
    let snap = core.snapshot().await;
    assert_eq!(snap.drafts.len(), 1, "after-call work opened");
    // The UI's copy, rebuilt from deltas alone, is the core's snapshot.
    let ui = core.rec.ui.lock().unwrap().clone();
    assert_eq!(ui.drafts, snap.drafts);
    assert_eq!(ui.history, snap.history);

    let journal_dir = dir.path().join("p/journal");
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
    core.handle.shutdown().await;
}

fn call(name: &str, id: &str) -> Vec<Value> {
    vec![
        json!(name),
        json!(2),
        json!("1001"),
        json!("1001"),
        json!(1),
        json!(format!("[{id}]")),
    ]
}

/// The webphone reports these `call` events, in order, for call `id`.
async fn events(core: &common::Core, names: &[&str], id: &str) {
    for name in names {
        core.handle
            .phone_event("call".into(), call(name, id))
            .await
            .unwrap();
    }
}

async fn answered_call(core: &common::Core, id: &str) {
    events(core, &["setup", "connected", "disconnected"], id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shut_down_and_restarted_in_one_process_nothing_is_lost_or_done_twice() {
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path()).await;
    let profile = dir.path().join("p");
    let first = common::start(&profile, &backend.base_url()).await;
    answered_call(&first, "r-1").await;
    first
        .until("delivered", |s| s.sync.pending == 0 && s.drafts.len() == 1)
        .await;
    // The backend goes away: the next call and the note typed for the first stay queued.
    backend.faults.set(ringside_backend::faults::FaultSettings {
        refuse: true,
        ..Default::default()
    });
    answered_call(&first, "r-2").await;
    let mut draft = first.snapshot().await.drafts[0].draft.clone();
    draft.notes = "typed before the restart".into();
    first.handle.save_draft(draft).await.unwrap();
    assert!(first.snapshot().await.sync.pending > 0);

    // A second copy on the same profile while the first runs: refused, nothing opened.
    let Err(twin) = ringside_service::start(common::config(&profile, &backend.base_url())).await
    else {
        panic!("a second writer on a running profile was let in");
    };
    assert_eq!(twin.to_ipc().code, "profile_in_use", "{twin}");

    first.handle.shutdown().await;
    let gone = first.handle.snapshot().await.unwrap_err();
    assert_eq!(gone.code, "stopped", "the first core must be gone");
    let commands_before = first.rec.commands.lock().unwrap().len();

    backend.faults.set(Default::default());
    let second = common::start(&profile, &backend.base_url()).await;
    let snap = second
        .until("everything delivered", |s| s.sync.pending == 0)
        .await;
    assert_eq!(snap.drafts.len(), 2, "both calls' after-call work is open");
    assert!(snap
        .drafts
        .iter()
        .any(|d| d.draft.notes == "typed before the restart"));
    assert!(snap
        .drafts
        .iter()
        .all(|d| d.log.as_ref().unwrap().status == CallStatus::Answered));
    let logs = second.handle.client().call_logs().await.unwrap();
    assert_eq!(logs.len(), 2, "each call once: {logs:?}");
    // Nothing of the first core runs on: it sent no command after it stopped.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(first.rec.commands.lock().unwrap().len(), commands_before);
    // The journal goes on in the same directory.
    let out = {
        let mut text = String::new();
        for f in std::fs::read_dir(profile.join("journal")).unwrap() {
            text.push_str(&std::fs::read_to_string(f.unwrap().path()).unwrap());
        }
        replay(&text, None)
    };
    assert_eq!(out.calls.len(), 2);
    second.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_sent_after_sign_out_and_everything_after_sign_in_again() {
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path()).await;
    let core = common::start(&dir.path().join("p"), &backend.base_url()).await;
    core.handle.sign_out().await.unwrap();
    assert_eq!(core.snapshot().await.session.state, SessionState::SignedOut);
    assert_eq!(
        core.rec.commands.lock().unwrap().last(),
        Some(&PhoneCommand::Stop)
    );
    events(&core, &["setup", "disconnected"], "so-1").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // Still queued: a signed-out app does not renew its session behind the agent's back.
    let snap = core.snapshot().await;
    assert!(snap.sync.pending > 0);
    assert!(snap.notice.is_none(), "{:?}", snap.notice);
    core.handle
        .sign_in("demo".into(), ringside_core::Secret("demo".into()))
        .await
        .unwrap();
    core.until("delivered after sign-in", |s| s.sync.pending == 0)
        .await;
    let logs = core.handle.client().call_logs().await.unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["status"], "missed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_core_sends_the_ui_nothing_and_a_call_sends_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path()).await;
    let core = common::start(&dir.path().join("p"), &backend.base_url()).await;
    // Let the directory fetches and the socket settle, then watch an idle second or two.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = core.rec.deltas.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let idle: Vec<_> = core.rec.deltas.lock().unwrap()[before..].to_vec();
    assert!(idle.is_empty(), "an idle core re-sent {idle:?}");

    answered_call(&core, "d-1").await;
    core.until("delivered", |s| s.sync.pending == 0).await;
    // While talking on a second call, the timer ticks: the engine part goes, history stays.
    events(&core, &["setup", "connected"], "d-2").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = core.rec.deltas.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let talking: Vec<_> = core.rec.deltas.lock().unwrap()[before..].to_vec();
    assert!(!talking.is_empty(), "the talk timer must reach the UI");
    for d in &talking {
        assert!(d.engine.is_some());
        assert!(
            d.history.is_none() && d.contacts.is_none() && d.drafts.is_none(),
            "a tick re-sent a list: {d:?}"
        );
    }
    let ui = core.rec.ui.lock().unwrap().clone();
    assert_eq!(ui.engine.calls.len(), 1);
    assert_eq!(ui.history, core.snapshot().await.history);
}

/// The core keeps the day's history row by row (only the rows a write touched are re-read):
/// after more calls than it holds, with their outbox answers arriving in between, it holds
/// exactly what a fresh read at start gives, and the UI rebuilt from deltas holds the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_kept_row_by_row_is_what_a_fresh_read_gives() {
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path()).await;
    let profile = dir.path().join("p");
    let core = common::start(&profile, &backend.base_url()).await;
    for i in 0..205 {
        events(&core, &["setup", "disconnected"], &format!("h-{i:03}")).await;
    }
    let kept = core
        .until("every call delivered", |s| {
            s.sync.pending == 0 && s.history.iter().all(|r| r.synced)
        })
        .await
        .history;
    assert_eq!(kept.len(), 200, "the day's history holds 200 calls at most");
    assert_eq!(*core.rec.ui.lock().unwrap().history, *kept);
    let most = core
        .rec
        .deltas
        .lock()
        .unwrap()
        .iter()
        .skip(1)
        .filter_map(|d| d.history.as_ref().map(|h| h.upsert.len()))
        .max()
        .unwrap_or(0);
    // Up to a batch of messages (64) changes rows between two deltas; never the whole day.
    assert!(most <= 100, "a delta carried {most} history rows");
    core.handle.shutdown().await;

    let again = common::start(&profile, &backend.base_url()).await;
    assert_eq!(again.snapshot().await.history, kept, "read afresh at start");
    again.handle.shutdown().await;
}

/// A burst of callbacks (one by one, each answered, as the relay sends them under load)
/// reaches the UI as at most one delta a frame, never one per callback, and the UI still ends
/// up with exactly the core's state; a batch of callbacks is handled in its order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_reaches_the_ui_at_most_once_a_frame_and_whole() {
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path()).await;
    let core = common::start(&dir.path().join("p"), &backend.base_url()).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = core.rec.deltas.lock().unwrap().len();
    let started = std::time::Instant::now();
    for i in 0..60 {
        events(
            &core,
            &["setup", "ringing", "disconnected"],
            &format!("b-{i:02}"),
        )
        .await;
    }
    let batch: Vec<(String, Vec<Value>)> = ["setup", "connected", "disconnected"]
        .iter()
        .map(|name| ("call".to_string(), call(name, "b-batch")))
        .collect();
    core.handle.phone_events(batch).await.unwrap();
    let elapsed_ms = started.elapsed().as_millis();
    let snap = core.snapshot().await;
    let sent = core.rec.deltas.lock().unwrap().len() - before;
    // One delta may open the burst; the others are a frame (16 ms) apart at least.
    let bound = elapsed_ms / 16 + 2;
    assert!(
        (sent as u128) <= bound,
        "{sent} deltas for 183 callbacks in {elapsed_ms} ms (at most {bound})"
    );
    let ui = core.rec.ui.lock().unwrap().clone();
    assert_eq!(ui.history, snap.history);
    assert_eq!(ui.drafts, snap.drafts);
    // The 60 calls given up while ringing open no form; the batch's, answered, opens one,
    // which it does only if its callbacks were handled in their order.
    let forms: Vec<_> = snap
        .drafts
        .iter()
        .filter_map(|d| d.log.as_ref().map(|l| l.call_id.clone()))
        .collect();
    assert_eq!(forms, ["b-batch"], "{:?}", snap.drafts);
}
