//! A backend outage during a busy hour: 200 calls with after-call notes while the backend
//! refuses connections; when it is back, every record arrives exactly once, in order per call.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use ringside_backend::faults::FaultSettings;
use ringside_core::call::call_log_id;
use ringside_core::{CallDraft, Direction, RawPhoneEvent};
use serde_json::Value;

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_calls_during_an_outage_arrive_once_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path()).await;
    let core = common::start(&dir.path().join("profile"), &backend.base_url()).await;
    let svc = &core.handle;
    backend.faults.set(FaultSettings {
        refuse: true,
        ..Default::default()
    });

    for i in 0..200 {
        let id = format!("[out-{i}]");
        let ev = |name: &str| RawPhoneEvent::call(name, Direction::Inbound, "1001", &id).args;
        for name in ["setup", "connected", "disconnected"] {
            svc.phone_event("call".into(), ev(name)).await.unwrap();
        }
        let draft = CallDraft {
            call_log_id: call_log_id("1002", &format!("out-{i}")),
            notes: format!("offline note {i}"),
            ..CallDraft::default()
        };
        svc.save_draft(draft.clone()).await.unwrap();
        svc.submit_draft(draft).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let snap = svc.snapshot().await.unwrap();
    assert!(!snap.sync.online, "the outage must show: {:?}", snap.sync);
    assert!(snap.sync.pending >= 400, "{:?}", snap.sync);

    backend.faults.set(FaultSettings::default());
    let deadline = Instant::now() + Duration::from_secs(90);
    while svc.snapshot().await.unwrap().sync.pending > 0 {
        assert!(
            Instant::now() < deadline,
            "not delivered after the outage: {:?}",
            svc.snapshot().await.unwrap().sync
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let logs = svc.client().call_logs().await.unwrap();
    assert_eq!(logs.len(), 200);
    for l in &logs {
        assert_eq!(l["status"], "answered", "{l}");
        // Ordered and coalesced: the create carried the final state, nothing was re-applied.
        assert_eq!(l["server_writes"], 1, "{l}");
    }
    let token = svc.client().token().unwrap();
    let drafts: Vec<Value> = reqwest::Client::new()
        .get(format!("{}/api/call-drafts", backend.base_url()))
        .bearer_auth(token.0)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(drafts.len(), 200);
    assert!(drafts
        .iter()
        .all(|d| d["notes"].as_str().unwrap().starts_with("offline note")));
}
