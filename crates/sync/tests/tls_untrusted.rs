//! A backend whose CA nobody named: the client and the agent socket refuse it, saying why.
//! (With the CA named, see `tls_private_ca.rs`: the process's trust is set once, so each case
//! is its own test binary.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tls_support;

use ringside_sync::{Client, SocketEvent, SyncError};

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
    let (_socket, events) = tls_support::socket(format!("wss://{wss}/ws/agent"));
    tls_support::until(
        &events,
        |e| matches!(e, SocketEvent::Disconnected { reason, .. } if reason.contains("UnknownIssuer")),
        |e| matches!(e, SocketEvent::Connected),
    )
    .await;
}
