//! The fault matrix: every way the backend misbehaves, against the real reference backend
//! over loopback and a real SQLite outbox. Whatever happens, each write lands exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ringside_backend::faults::FaultSettings;
use ringside_core::{CallStatus, Secret, WriteOp};
use ringside_store::Store;
mod common;
use common::{log, now};
use ringside_sync::{drain, Client, SyncError};

struct Rig {
    _dir: tempfile::TempDir,
    store: Store,
    client: Client,
    backend: ringside_backend::Embedded,
}

async fn rig(request_timeout: Duration) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let backend = ringside_backend::spawn_embedded(&dir.path().join("b.db"))
        .await
        .unwrap();
    let (store, _) = Store::open(&dir.path().join("r.db"), now()).unwrap();
    let client =
        Client::with_timeouts(&backend.base_url(), Duration::from_secs(1), request_timeout)
            .unwrap();
    client.login("demo", &Secret("demo".into())).await.unwrap();
    Rig {
        _dir: dir,
        store,
        client,
        backend,
    }
}

impl Rig {
    fn calls(&mut self, n: usize) {
        let s = &mut self.store;
        for i in 0..n {
            let id = format!("f{i}");
            s.save_call_log(&log(&id, CallStatus::Ringing, 0), WriteOp::Create, 1)
                .unwrap();
            s.save_call_log(&log(&id, CallStatus::NoAnswered, 0), WriteOp::Update, 2)
                .unwrap();
        }
    }

    /// Drains until the outbox is empty, waking retries as if their time had come; returns
    /// how many drains it took.
    async fn drain_all(&mut self, max_rounds: usize) -> usize {
        for round in 1..=max_rounds {
            let report = drain(&mut self.store, &self.client, now).await.unwrap();
            if report.unauthorized {
                self.client.refresh().await.unwrap();
            }
            if self.store.pending_count().unwrap() == 0 {
                return round;
            }
            self.store.outbox_wake().unwrap();
        }
        panic!("outbox not empty after {max_rounds} drains");
    }

    async fn assert_exactly_once(&self, n: usize) {
        let logs = self.client.call_logs().await.unwrap();
        assert_eq!(logs.len(), n, "one backend record per call");
        for l in &logs {
            assert_eq!(l["status"], "no_answered", "{l}");
        }
    }
}

#[tokio::test]
async fn bursts_of_500s() {
    let mut r = rig(Duration::from_secs(5)).await;
    r.calls(30);
    r.backend.faults.set(FaultSettings {
        error_per_mille: 500,
        ..Default::default()
    });
    let rounds = r.drain_all(200).await;
    assert!(rounds > 1, "the faults must have interrupted the drain");
    r.backend.faults.set(FaultSettings::default());
    r.assert_exactly_once(30).await;
}

#[tokio::test]
async fn rate_limited_with_retry_after() {
    let mut r = rig(Duration::from_secs(5)).await;
    r.calls(5);
    r.backend.faults.set(FaultSettings {
        rate_limit_every: 2,
        ..Default::default()
    });
    let report = drain(&mut r.store, &r.client, now).await.unwrap();
    let err = report.stopped_on.expect("stopped on the 429");
    assert!(err.contains("retry after 1000 ms"), "{err}");
    // Retry-After is honoured: the whole outbox pauses for a second, not just one entry.
    assert_eq!(report.pause_ms, 1000);
    r.drain_all(50).await;
    r.backend.faults.set(FaultSettings::default());
    r.assert_exactly_once(5).await;
}

#[tokio::test]
async fn timeouts_after_the_backend_applied_the_write() {
    let mut r = rig(Duration::from_millis(300)).await;
    r.calls(3);
    r.backend.faults.set(FaultSettings {
        latency_ms: 600,
        ..Default::default()
    });
    let report = drain(&mut r.store, &r.client, now).await.unwrap();
    assert_eq!(report.sent, 0);
    assert!(report.stopped_on.is_some());
    // The slow request still completed on the server: the retry must not duplicate it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    r.backend.faults.set(FaultSettings::default());
    r.drain_all(10).await;
    r.assert_exactly_once(3).await;
    let logs = r.client.call_logs().await.unwrap();
    assert!(logs.iter().all(|l| l["server_writes"] == 1), "{logs:?}");
}

#[tokio::test]
async fn garbage_bodies_on_success() {
    let mut r = rig(Duration::from_secs(5)).await;
    r.calls(4);
    r.backend.faults.set(FaultSettings {
        garbage_every: 1,
        ..Default::default()
    });
    let report = drain(&mut r.store, &r.client, now).await.unwrap();
    let err = report
        .stopped_on
        .expect("garbage is not an acknowledgement");
    assert!(err.contains("unusable backend response"), "{err}");
    r.backend.faults.set(FaultSettings::default());
    r.drain_all(10).await;
    r.assert_exactly_once(4).await;
    let logs = r.client.call_logs().await.unwrap();
    assert!(logs.iter().all(|l| l["server_writes"] == 1), "{logs:?}");
}

#[tokio::test]
async fn slow_bodies_within_and_beyond_the_timeout() {
    let mut r = rig(Duration::from_millis(800)).await;
    r.calls(2);
    r.backend.faults.set(FaultSettings {
        slow_body_ms: 200,
        ..Default::default()
    });
    assert_eq!(
        r.drain_all(1).await,
        1,
        "slow but within the timeout: one pass"
    );
    r.assert_exactly_once(2).await;

    let mut r = rig(Duration::from_millis(300)).await;
    r.calls(2);
    r.backend.faults.set(FaultSettings {
        slow_body_ms: 600,
        ..Default::default()
    });
    let report = drain(&mut r.store, &r.client, now).await.unwrap();
    assert!(report.stopped_on.is_some());
    r.backend.faults.set(FaultSettings::default());
    r.drain_all(10).await;
    r.assert_exactly_once(2).await;
}

#[tokio::test]
async fn expired_token_then_refresh() {
    let mut r = rig(Duration::from_secs(5)).await;
    r.calls(3);
    reqwest::Client::new()
        .post(format!("{}/admin/expire-tokens", r.backend.base_url()))
        .bearer_auth(&r.backend.admin_token)
        .send()
        .await
        .unwrap();
    let report = drain(&mut r.store, &r.client, now).await.unwrap();
    assert!(report.unauthorized);
    assert_eq!(r.store.pending_count().unwrap(), 6, "nothing lost on 401");
    r.client.refresh().await.unwrap();
    // A refresh token is single-use.
    assert!(matches!(
        r.client.refresh().await,
        Ok(_) | Err(SyncError::Unauthorized)
    ));
    r.drain_all(5).await;
    r.assert_exactly_once(3).await;
}

#[tokio::test]
async fn refused_connections_then_recovery() {
    let mut r = rig(Duration::from_secs(2)).await;
    r.calls(10);
    r.backend.faults.set(FaultSettings {
        refuse: true,
        ..Default::default()
    });
    // A fresh client: an open keep-alive connection would still be served.
    let fresh = Client::with_timeouts(
        &r.backend.base_url(),
        Duration::from_secs(1),
        Duration::from_secs(2),
    )
    .unwrap();
    fresh.set_token(r.client.token());
    let report = drain(&mut r.store, &fresh, now).await.unwrap();
    assert_eq!(report.sent, 0);
    let err = report.stopped_on.unwrap();
    assert!(err.contains("unreachable"), "{err}");
    r.backend.faults.set(FaultSettings::default());
    r.drain_all(10).await;
    r.assert_exactly_once(10).await;
}

/// A server on loopback that answers every request with `head` and then `body_len` bytes of
/// `x`, as fast as the client reads them.
async fn hostile_server(head: String, body_len: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let head = head.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b'x'; 64 * 1024];
                let mut sent = 0;
                while sent < body_len {
                    let n = chunk.len().min(body_len - sent);
                    if sock.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                    sent += n;
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_backend_body_too_large_is_refused_before_it_fills_memory() {
    let huge = 64 * 1024 * 1024;
    // Announced, and not announced (chunked): both stopped at the cap.
    let announced = hostile_server(
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {huge}\r\n\r\n"
        ),
        huge,
    )
    .await;
    let streamed = hostile_server(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n".into(),
        huge,
    )
    .await;
    for url in [announced, streamed] {
        let client = Client::new(&url).unwrap();
        let err = client.call_logs().await.unwrap_err();
        assert!(
            matches!(&err, SyncError::BadResponse(m) if m.contains("body over")),
            "{url}: {err}"
        );
    }
}

#[tokio::test]
async fn a_redirect_never_carries_the_password_anywhere() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    // Where a hostile or misconfigured backend points: it counts who comes.
    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let elsewhere_addr = elsewhere.local_addr().unwrap();
    let visits = Arc::new(AtomicUsize::new(0));
    let counted = visits.clone();
    tokio::spawn(async move {
        while elsewhere.accept().await.is_ok() {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    let backend = hostile_server(
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://{elsewhere_addr}/api/auth/login\r\ncontent-length: 0\r\n\r\n"
        ),
        0,
    )
    .await;
    let client = Client::new(&backend).unwrap();
    let err = client
        .login("demo", &Secret("the-password".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SyncError::Rejected { status: 307, .. }),
        "{err}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        visits.load(Ordering::SeqCst),
        0,
        "the sign-in followed the redirect"
    );
}
