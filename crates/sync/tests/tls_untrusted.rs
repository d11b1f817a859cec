//! A backend whose CA nobody named: the client and the agent socket refuse it, saying why.
//! (With the CA named, see `tls_private_ca.rs`: the process's trust is set once, so each case
//! is its own test binary.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tls_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringside_core::Secret;
use ringside_sync::{AgentSocket, Client, SocketEvent, SyncError};

#[tokio::test]
async fn a_server_signed_by_an_unknown_ca_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pki = tls_support::make_pki(dir.path());
    assert!(pki.ca.is_file(), "the CA exists; it is just not trusted");
    let https = tls_support::https(&pki).await;
    let client = Client::new(&format!("https://{https}")).unwrap();
    match client.probe().await {
        Err(SyncError::Offline(why)) => assert!(why.contains("UnknownIssuer"), "{why}"),
        other => panic!("an unknown CA was trusted: {other:?}"),
    }

    let wss = tls_support::wss(&pki).await;
    let events: Arc<Mutex<Vec<SocketEvent>>> = Arc::default();
    let sink = events.clone();
    let _socket = AgentSocket::spawn(
        &tokio::runtime::Handle::current(),
        format!("wss://{wss}/ws/agent"),
        || Some(Secret("t".into())),
        move |e| sink.lock().unwrap().push(e),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let refused = events.lock().unwrap().iter().any(|e| {
            matches!(e, SocketEvent::Disconnected { reason, .. } if reason.contains("UnknownIssuer"))
        });
        if refused {
            break;
        }
        assert!(
            !events
                .lock()
                .unwrap()
                .iter()
                .any(|e| matches!(e, SocketEvent::Connected)),
            "connected to an untrusted server"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            events.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
