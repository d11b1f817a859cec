//! The store's outbox drained to the real reference backend over loopback HTTP, with a real
//! SQLite file on each side.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ringside_backend::faults::FaultSettings;
use ringside_core::{CallDraft, CallStatus, Secret, WriteOp};
use ringside_store::Store;
mod common;
use common::{log, now};
use ringside_sync::{drain, Client, SyncError};

struct Setup {
    _dir: tempfile::TempDir,
    store: Store,
    client: Client,
    backend: ringside_backend::Embedded,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let backend = ringside_backend::spawn_embedded(&dir.path().join("backend.db"))
        .await
        .unwrap();
    let (store, _) = Store::open(&dir.path().join("ringside.db"), now()).unwrap();
    let client = Client::new(&backend.base_url()).unwrap();
    let session = client.login("demo", &Secret("demo".into())).await.unwrap();
    assert_eq!(session.agent.extension, "1002");
    Setup {
        _dir: dir,
        store,
        client,
        backend,
    }
}

#[tokio::test]
async fn a_call_log_lifecycle_arrives_once_with_its_final_state() {
    let mut s = setup().await;
    {
        let st = &mut s.store;
        st.save_call_log(&log("l1", CallStatus::Ringing, 0), WriteOp::Create, 1)
            .unwrap();
        st.save_call_log(&log("l1", CallStatus::Talking, 0), WriteOp::Update, 2)
            .unwrap();
        st.save_call_log(&log("l1", CallStatus::Answered, 3), WriteOp::Update, 3)
            .unwrap();
        let d = st.open_draft("l1", 4).unwrap();
        st.submit_draft(
            &CallDraft {
                notes: "callback Friday".into(),
                ..d
            },
            5,
        )
        .unwrap();
    }
    let report = drain(&mut s.store, &s.client, now).await.unwrap();
    assert_eq!(
        report.sent, 2,
        "{report:?}: one call log write, one draft write"
    );
    assert_eq!(s.store.pending_count().unwrap(), 0);
    let logs = s.client.call_logs().await.unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["status"], "answered");
    assert_eq!(logs[0]["talk_seconds"], 3);
    assert_eq!(logs[0]["server_writes"], 1);
}

#[tokio::test]
async fn a_resent_write_is_not_applied_twice() {
    let mut s = setup().await;
    s.store
        .save_call_log(&log("l2", CallStatus::Ringing, 0), WriteOp::Create, 1)
        .unwrap();
    s.store
        .save_call_log(&log("l2", CallStatus::Missed, 0), WriteOp::Update, 2)
        .unwrap();
    // Send the head but "crash" before acknowledging it locally.
    let item = s.store.next_outbox(now()).unwrap().unwrap();
    s.client.send(&item).await.unwrap();
    // After restart the same state goes again, under the same key.
    let again = s.store.next_outbox(now()).unwrap().unwrap();
    assert_eq!(again.idempotency_key, item.idempotency_key);
    s.client.send(&again).await.unwrap();
    s.store.outbox_done(&again).unwrap();
    let logs = s.client.call_logs().await.unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(
        logs[0]["server_writes"], 1,
        "the repeat was answered from the key"
    );
    assert_eq!(logs[0]["status"], "missed");
}

#[tokio::test]
async fn an_outage_keeps_everything_and_delivers_it_after() {
    let mut s = setup().await;
    s.backend.faults.set(FaultSettings {
        down: true,
        ..FaultSettings::default()
    });
    for i in 0..20 {
        let st = &mut s.store;
        let id = format!("o{i}");
        st.save_call_log(&log(&id, CallStatus::Ringing, 0), WriteOp::Create, i)
            .unwrap();
        st.save_call_log(&log(&id, CallStatus::Missed, 0), WriteOp::Update, i)
            .unwrap();
    }
    let report = drain(&mut s.store, &s.client, now).await.unwrap();
    assert_eq!(report.sent, 0);
    assert!(report.stopped_on.is_some());
    assert_eq!(s.store.pending_count().unwrap(), 40);

    s.backend.faults.set(FaultSettings::default());
    s.store.outbox_wake().unwrap();
    let report = drain(&mut s.store, &s.client, now).await.unwrap();
    assert_eq!(report.sent, 20, "{report:?}");
    let logs = s.client.call_logs().await.unwrap();
    assert_eq!(logs.len(), 20);
    assert!(logs.iter().all(|l| l["status"] == "missed"));
}

#[tokio::test]
async fn refused_connections_are_transient() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = Client::new(&url).unwrap();
    let err = client.resolve_contact("1001").await.unwrap_err();
    assert!(matches!(err, SyncError::Offline(_)), "{err}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn no_token_is_unauthorized_and_bad_writes_are_kept_as_failed() {
    let mut s = setup().await;
    let anon = Client::new(&s.backend.base_url()).unwrap();
    assert!(matches!(
        anon.call_logs().await.unwrap_err(),
        SyncError::Unauthorized
    ));
    let mut bad = log("bad", CallStatus::Ringing, 0);
    bad.call_id = String::new();
    s.store.save_call_log(&bad, WriteOp::Create, 1).unwrap();
    let report = drain(&mut s.store, &s.client, now).await.unwrap();
    assert_eq!(report.failed, 1);
    let st = s.store;
    assert_eq!(st.failed_count().unwrap(), 1);
    assert!(st.last_outbox_error().unwrap().unwrap().contains("422"));
}

#[tokio::test]
async fn contacts_resolve_to_the_same_record() {
    let s = setup().await;
    let known = s.client.resolve_contact("+15550100").await.unwrap();
    assert_eq!(known.name, "Diego Alvarez");
    let new1 = s.client.resolve_contact("+4930123456").await.unwrap();
    let new2 = s.client.resolve_contact("+4930123456").await.unwrap();
    assert_eq!(new1, new2);
}

#[tokio::test]
async fn notes_the_backend_refuses_open_again_with_its_reason_and_go_once_corrected() {
    let mut s = setup().await;
    // A customer's CRM with a smaller notes field than the contract's.
    s.backend.faults.set(FaultSettings {
        notes_max_bytes: 10,
        ..FaultSettings::default()
    });
    s.store
        .save_call_log(&log("l1", CallStatus::Answered, 3), WriteOp::Create, 1)
        .unwrap();
    let d = s.store.open_draft("l1", 2).unwrap();
    let long = CallDraft {
        notes: "much longer than ten".into(),
        ..d
    };
    s.store.submit_draft(&long, 3).unwrap();
    let report = drain(&mut s.store, &s.client, now).await.unwrap();
    assert_eq!((report.sent, report.failed), (1, 1), "{report:?}");

    let open = s.store.open_drafts().unwrap();
    assert_eq!(open.len(), 1, "the draft is open again");
    assert_eq!(open[0].draft.notes, "much longer than ten", "nothing lost");
    assert_eq!(
        open[0].refused.as_deref(),
        Some("notes are limited to 10 bytes"),
        "the backend's own words"
    );
    assert_eq!(
        s.store.unsynced_records().unwrap(),
        (0, 0),
        "not syncing for ever"
    );

    let fixed = CallDraft {
        notes: "short".into(),
        ..open[0].draft.clone()
    };
    s.store.submit_draft(&fixed, 4).unwrap();
    let report = drain(&mut s.store, &s.client, now).await.unwrap();
    assert_eq!((report.sent, report.failed), (1, 0), "{report:?}");
    assert!(s.store.open_drafts().unwrap().is_empty());
    let drafts = s.client.call_drafts().await.unwrap();
    assert_eq!(drafts[0]["notes"], "short");
}
