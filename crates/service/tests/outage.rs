//! A backend outage during a busy hour: 200 calls with after-call notes while the backend
//! refuses connections; when it is back, every record arrives exactly once, in order per call.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use ringside_backend::faults::FaultSettings;
use ringside_core::call::call_log_id;
use ringside_core::{CallDraft, Direction, RawPhoneEvent, Snapshot};
use ringside_service::{Config, Mode, Outlet, Service, WebphoneSource};
use serde_json::Value;

struct Quiet;
impl Outlet for Quiet {
    fn snapshot(&self, _: &Snapshot) {}
    fn phone_command(&self, _: &Value) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_calls_during_an_outage_arrive_once_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let backend = ringside_backend::spawn_embedded(&dir.path().join("backend.db"))
        .await
        .unwrap();
    let config = Config {
        mode: Mode::Demo,
        backend_url: Some(backend.base_url()),
        webphone: WebphoneSource::Simulator,
        username: None,
        profile_dir: dir.path().join("profile"),
        transfer_route: Default::default(),
        registration_timeout_s: 20,
        locked: vec![],
        warnings: vec![],
    };
    let svc = Service::start(config, Arc::new(Quiet)).await.unwrap();
    while svc.snapshot().engine.agent.is_none() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    backend.faults.set(FaultSettings {
        refuse: true,
        ..Default::default()
    });

    for i in 0..200 {
        let id = format!("[out-{i}]");
        let ev = |name: &str| RawPhoneEvent::call(name, Direction::Inbound, "1001", &id).args;
        svc.phone_event("call".into(), ev("setup"));
        svc.phone_event("call".into(), ev("connected"));
        svc.phone_event("call".into(), ev("disconnected"));
        let draft = CallDraft {
            call_log_id: call_log_id("1002", &format!("out-{i}")),
            notes: format!("offline note {i}"),
            ..CallDraft::default()
        };
        svc.save_draft(draft.clone()).unwrap();
        svc.submit_draft(draft).unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let snap = svc.snapshot();
    assert!(!snap.sync.online, "the outage must show: {:?}", snap.sync);
    assert!(snap.sync.pending >= 400, "{:?}", snap.sync);

    backend.faults.set(FaultSettings::default());
    let deadline = Instant::now() + Duration::from_secs(90);
    while svc.snapshot().sync.pending > 0 {
        assert!(
            Instant::now() < deadline,
            "not delivered after the outage: {:?}",
            svc.snapshot().sync
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
