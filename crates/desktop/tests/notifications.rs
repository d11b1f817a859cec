//! Incoming-call notifications against a real `dbus-daemon` and a notification server on it:
//! shown with the caller and Answer/Decline, replaced when the contact is found, closed when
//! the call stops ringing, and a click on Answer reaches Ringside as the intent to answer.

#![cfg(all(feature = "testing", target_os = "linux"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringside_core::desktop::{DesktopState, RingingCall};
use ringside_core::{Intent, Language};
use ringside_desktop::notify::Notifier;
use ringside_desktop::ring::Reaction;
use ringside_desktop::testing::{NotificationServer, PrivateBus};

fn state(calls: &[(&str, Option<&str>)]) -> DesktopState {
    DesktopState {
        ringing: calls
            .iter()
            .map(|(id, name)| RingingCall {
                call_id: (*id).into(),
                number: "+33612345678".into(),
                name: name.map(str::to_string),
                queue: Some("Sales".into()),
            })
            .collect(),
        language: Language::En,
        ..DesktopState::default()
    }
}

async fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(v) = f() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out: {what}");
}

#[tokio::test]
async fn a_ringing_call_is_notified_answered_from_the_notification_and_closed() {
    let dir = tempfile::tempdir().unwrap();
    let bus = PrivateBus::start(dir.path());
    let server = NotificationServer::start(&bus.address, true).await;
    let notifier = Notifier::connect(Some(&bus.address)).await.unwrap();
    assert!(notifier.supports_actions());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let reactions: Arc<Mutex<Vec<Reaction>>> = Arc::default();
    let r = reactions.clone();
    let task = tokio::spawn(notifier.run(rx, move |reaction| r.lock().unwrap().push(reaction)));

    tx.send(state(&[("c1", None)])).unwrap();
    let first = until("shown", || server.shown().first().cloned()).await;
    assert_eq!(first.app_name, "Ringside");
    assert_eq!(first.summary, "Incoming call");
    assert_eq!(first.body, "+33612345678\nQueue: Sales");
    assert_eq!(first.urgency, Some(2), "critical: stays up while it rings");
    assert_eq!(first.category.as_deref(), Some("call.incoming"));
    assert_eq!(
        first.actions,
        ["default", "", "answer", "Answer", "decline", "Decline"]
    );

    // The contact is found a moment later: the same notification, updated in place.
    tx.send(state(&[("c1", Some("Ada Lovelace"))])).unwrap();
    let second = until("replaced", || server.shown().get(1).cloned()).await;
    assert_eq!(second.replaces_id, first.id);
    assert!(second.body.starts_with("Ada Lovelace (+33612345678)"));

    server.click(first.id, "answer").await;
    let got = until("reaction", || reactions.lock().unwrap().first().cloned()).await;
    assert_eq!(
        got,
        Reaction::Intent {
            intent: Intent::Accept {
                call_id: "c1".into()
            },
            focus: true
        }
    );

    // Answered: it stops ringing and the notification goes.
    tx.send(state(&[("c2", None)])).unwrap();
    until("closed", || {
        let shown = server.shown();
        (shown.iter().filter(|s| s.id == first.id).all(|s| s.closed) && shown.len() == 3)
            .then_some(())
    })
    .await;
    drop(tx);
    task.await.unwrap();
    assert!(
        server.shown().iter().all(|s| s.closed),
        "nothing left up when Ringside stops watching"
    );
}

#[tokio::test]
async fn a_server_without_buttons_gets_a_plain_notification_and_no_server_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let bus = PrivateBus::start(dir.path());
    let err = Notifier::connect(Some(&bus.address)).await.unwrap_err();
    assert!(
        err.to_string().starts_with("no notification server"),
        "{err}"
    );
    let server = NotificationServer::start(&bus.address, false).await;
    let notifier = Notifier::connect(Some(&bus.address)).await.unwrap();
    assert!(!notifier.supports_actions());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(notifier.run(rx, |_| {}));
    tx.send(state(&[("c1", None)])).unwrap();
    let shown = until("shown", || server.shown().first().cloned()).await;
    assert!(shown.actions.is_empty());
    drop(tx);
    task.await.unwrap();
}
