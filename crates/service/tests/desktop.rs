//! What the desktop around the window is told (a call ringing, a call up, what quitting would
//! lose) and what reaches the core from outside it (click-to-dial links), through the real
//! core against the reference backend over loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use ringside_core::desktop::DesktopState;
use ringside_core::{OfferAction, PhoneCommand};
use ringside_service::LinkAction;
use serde_json::json;

mod common;

fn calls_dialled(core: &common::Core) -> Vec<String> {
    core.rec
        .commands
        .lock()
        .unwrap()
        .iter()
        .filter_map(|c| match c {
            PhoneCommand::Call { number } => Some(number.clone()),
            _ => None,
        })
        .collect()
}

async fn ring(core: &common::Core, id: &str, name: &str) {
    core.handle
        .phone_event(
            "call".into(),
            vec![
                json!(name),
                json!(2),
                json!("0612345678"),
                json!("Ada"),
                json!(1),
                json!(format!("[{id}]")),
            ],
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_is_offered_by_default_and_dialled_only_when_the_agent_says() {
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path()).await;
    let core = common::start(&dir.path().join("p"), &backend.base_url()).await;

    core.handle
        .open_link("tel:+33-6-12-34-56-78".into())
        .await
        .unwrap();
    let snap = core.snapshot().await;
    let offer = snap.dial_offer.expect("offered");
    assert_eq!(
        offer.number, "+33612345678",
        "cleaned as the dial pad cleans"
    );
    assert!(!offer.after_call);
    assert!(
        calls_dialled(&core).is_empty(),
        "confirm never dials by itself"
    );
    // The UI's copy, rebuilt from deltas, has it too.
    assert_eq!(
        core.rec.ui.lock().unwrap().dial_offer.as_ref(),
        Some(&offer)
    );

    core.handle.dial_offer(OfferAction::Call).await.unwrap();
    assert_eq!(calls_dialled(&core), ["+33612345678"]);
    let snap = core.snapshot().await;
    assert_eq!(snap.dial_offer, None);
    assert_eq!(
        core.rec.ui.lock().unwrap().dial_offer,
        None,
        "cleared in the UI"
    );
    let err = core.handle.dial_offer(OfferAction::Call).await.unwrap_err();
    assert_eq!(err.code, "no_offer");
    core.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_during_a_call_waits_for_it_when_asked_and_a_bad_link_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path()).await;
    let mut config = common::config(&dir.path().join("p"), &backend.base_url());
    config.link_action = LinkAction::Dial;
    let core = common::start_with(config).await;

    // Policy `dial`, no call up: dialled at once.
    core.handle.open_link("sip:1002@pbx".into()).await.unwrap();
    assert_eq!(calls_dialled(&core), ["1002"]);
    assert_eq!(core.snapshot().await.dial_offer, None);

    // A call up: offered, never dialled over it, whatever the policy.
    ring(&core, "in-1", "setup").await;
    ring(&core, "in-1", "connected").await;
    core.handle
        .open_link("callto://0612345678".into())
        .await
        .unwrap();
    assert_eq!(calls_dialled(&core).len(), 1);
    core.handle
        .dial_offer(OfferAction::AfterCall)
        .await
        .unwrap();
    let offer = core.snapshot().await.dial_offer.unwrap();
    assert!(offer.after_call);
    ring(&core, "in-1", "disconnected").await;
    let offer = core.snapshot().await.dial_offer.unwrap();
    assert!(!offer.after_call, "offered again once no call is up");
    assert_eq!(calls_dialled(&core).len(), 1, "but not dialled by itself");
    core.handle.dial_offer(OfferAction::Dismiss).await.unwrap();
    assert_eq!(core.snapshot().await.dial_offer, None);

    // No number in it: refused, the agent told, nothing offered; the password never echoed.
    let err = core
        .handle
        .open_link("sip:alice:hunter2@pbx".into())
        .await
        .unwrap_err();
    assert_eq!(err.code, "invalid_number");
    assert!(!err.message.contains("hunter2"), "{}", err.message);
    let snap = core.snapshot().await;
    assert_eq!(snap.notice.unwrap().code, "invalid_number");
    assert_eq!(snap.dial_offer, None);
    let err = core
        .handle
        .open_link("javascript:alert(1)".into())
        .await
        .unwrap_err();
    assert_eq!(err.code, "link_scheme");
    core.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desktop_hears_a_call_ring_and_stop_ringing_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path()).await;
    let core = common::start(&dir.path().join("p"), &backend.base_url()).await;
    let seen: Arc<Mutex<Vec<DesktopState>>> = Arc::default();
    let s = seen.clone();
    core.handle
        .watch_desktop(Box::new(move |d| {
            s.lock().unwrap().push(d.clone());
            true
        }))
        .await
        .unwrap();
    ring(&core, "in-2", "setup").await;
    ring(&core, "in-2", "ringing").await;
    core.until("ringing", |s| !s.engine.calls.is_empty()).await;
    ring(&core, "in-2", "connected").await;
    core.until("talking", |s| {
        s.engine
            .calls
            .first()
            .is_some_and(|c| c.log.answered_at_ms.is_some())
    })
    .await;
    // Several seconds of talk re-send the engine every second; the desktop hears only changes.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let seen = seen.lock().unwrap().clone();
    let ringing: Vec<_> = seen.iter().filter(|d| !d.ringing.is_empty()).collect();
    assert!(!ringing.is_empty(), "{seen:?}");
    assert_eq!(ringing[0].ringing[0].call_id, "in-2");
    assert_eq!(ringing[0].ringing[0].number, "0612345678");
    assert_eq!(ringing[0].ringing[0].name.as_deref(), Some("Ada"));
    let last = seen.last().unwrap();
    assert!(last.ringing.is_empty() && last.in_call, "{last:?}");
    assert!(last.signed_in);
    for pair in seen.windows(2) {
        assert_ne!(pair[0], pair[1], "only changes are sent");
    }
    assert!(seen.len() <= 6, "{seen:?}");
    core.handle.shutdown().await;
}
