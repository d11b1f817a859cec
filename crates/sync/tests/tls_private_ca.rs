//! A backend behind a company's private CA: trusted once IT names the CA in `extra_ca_file`,
//! for the REST client and the agent socket alike. (The process's trust is set once, so the
//! refusal without the CA is its own test binary: `tls_untrusted.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tls_support;

use ringside_sync::{Client, ServerFrame, SocketEvent};

#[tokio::test]
async fn with_the_private_ca_trusted_the_client_and_the_socket_connect() {
    let dir = tempfile::tempdir().unwrap();
    let pki = tls_support::make_pki(dir.path());
    let certs = ringside_sync::tls::read_ca_file(&pki.ca).unwrap();
    ringside_sync::tls::trust_extra_ca(certs).unwrap();

    let https = tls_support::https(&pki).await;
    let client = Client::new(&format!("https://{https}")).unwrap();
    let status = client.probe().await.unwrap();
    assert_eq!(status.reason, None);

    let wss = tls_support::wss(&pki).await;
    let (_socket, events) = tls_support::socket(format!("wss://{wss}/ws/agent"));
    tls_support::until(
        &events,
        |e| matches!(e, SocketEvent::Frame(ServerFrame::AgentStatus(s)) if s.reason.as_deref() == Some("Lunch")),
        |_| false,
    )
    .await;
    // Set once: a second CA later is refused rather than silently ignored.
    assert!(ringside_sync::tls::trust_extra_ca(Vec::new()).is_err());
}
