//! Staying signed in across restarts: the refresh token kept in a vault (the OS keyring in
//! the app; here a vault in memory, the keyring itself is tested end to end), resumed at
//! start without the password, rotated on every use, forgotten at sign-out or when refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use ringside_core::{Secret, SessionState};
use ringside_service::{Handle, MemoryVault, Mode, Vault};

mod common;

fn live(profile: &std::path::Path, url: &str) -> ringside_service::Config {
    let mut c = common::config(profile, url);
    c.mode = Mode::Live;
    c
}

async fn until_state(h: &Handle, want: SessionState) -> ringside_core::Snapshot {
    for _ in 0..200 {
        let s = h.snapshot().await.unwrap();
        if s.session.state == want {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("never {want:?}: {:?}", h.snapshot().await.unwrap().session);
}

/// The vault's thread writes after the loop moved on: wait for it.
async fn until_kept(vault: &MemoryVault, f: impl Fn(Option<&String>) -> bool) -> Option<String> {
    for _ in 0..200 {
        let v = vault.entries.lock().unwrap().values().next().cloned();
        if f(v.as_ref()) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "the vault never got there: {:?}",
        vault.entries.lock().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_the_session_and_sign_out_forgets_it() {
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path()).await;
    let url = backend.base_url();
    let profile = dir.path().join("p");
    let vault = Arc::new(MemoryVault::default());

    let h = ringside_service::start_with(live(&profile, &url), Some(vault.clone()))
        .await
        .unwrap();
    assert_eq!(
        h.snapshot().await.unwrap().session.state,
        SessionState::SignedOut
    );
    h.sign_in("demo".into(), Secret("demo".into()))
        .await
        .unwrap();
    let first = until_kept(&vault, |v| v.is_some()).await.unwrap();
    let key = vault
        .entries
        .lock()
        .unwrap()
        .keys()
        .next()
        .cloned()
        .unwrap();
    assert_eq!(key, format!("demo@{url}"));
    h.shutdown().await;

    // The next start signs in by itself, and the single-use token is replaced.
    let h = ringside_service::start_with(live(&profile, &url), Some(vault.clone()))
        .await
        .unwrap();
    let snap = until_state(&h, SessionState::SignedIn).await;
    assert_eq!(snap.session.username, "demo");
    assert_eq!(snap.session.keyring_unavailable, None);
    let second = until_kept(&vault, |v| v.is_some_and(|v| *v != first)).await;
    assert!(second.is_some());
    h.sign_out().await.unwrap();
    until_kept(&vault, |v| v.is_none()).await;
    h.shutdown().await;

    // Nothing kept: the sign-in screen.
    let h = ringside_service::start_with(live(&profile, &url), Some(vault.clone()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        h.snapshot().await.unwrap().session.state,
        SessionState::SignedOut
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_kept_session_is_forgotten_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path()).await;
    let url = backend.base_url();
    let profile = dir.path().join("p");
    // A first run remembers the username; the token it kept has since been revoked.
    let h = ringside_service::start(live(&profile, &url)).await.unwrap();
    h.sign_in("demo".into(), Secret("demo".into()))
        .await
        .unwrap();
    h.shutdown().await;
    let vault = Arc::new(MemoryVault::default());
    vault
        .save(&format!("demo@{url}"), &Secret("revoked".into()))
        .unwrap();
    let h = ringside_service::start_with(live(&profile, &url), Some(vault.clone()))
        .await
        .unwrap();
    let mut snap = h.snapshot().await.unwrap();
    for _ in 0..200 {
        if snap.session.error.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        snap = h.snapshot().await.unwrap();
    }
    assert_eq!(snap.session.state, SessionState::SignedOut);
    assert_eq!(snap.session.error.unwrap().code, "session_ended");
    until_kept(&vault, |v| v.is_none()).await;
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keyring_the_agent_is_told_and_signs_in_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path()).await;
    let vault = Arc::new(MemoryVault {
        unavailable: Some("no Secret Service on the session bus".into()),
        ..MemoryVault::default()
    });
    let h = ringside_service::start_with(
        live(&dir.path().join("p"), &backend.base_url()),
        Some(vault),
    )
    .await
    .unwrap();
    let snap = h.snapshot().await.unwrap();
    assert_eq!(
        snap.session.keyring_unavailable.as_deref(),
        Some("no Secret Service on the session bus")
    );
    h.sign_in("demo".into(), Secret("demo".into()))
        .await
        .unwrap();
    until_state(&h, SessionState::SignedIn).await;
    h.shutdown().await;
}

/// Guessing is held back by the backend, and the agent is told how long to wait, not "the
/// backend asks to slow down".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_failed_sign_ins_say_how_long_to_wait() {
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path()).await;
    let h = ringside_service::start(live(&dir.path().join("p"), &backend.base_url()))
        .await
        .unwrap();
    for _ in 0..5 {
        let e = h
            .sign_in("demo".into(), Secret("guess".into()))
            .await
            .unwrap_err();
        assert_eq!(e.code, "bad_credentials", "{e:?}");
    }
    let e = h
        .sign_in("demo".into(), Secret("demo".into()))
        .await
        .unwrap_err();
    assert_eq!(e.code, "too_many_attempts", "{e:?}");
    assert!(e.message.contains(" s."), "{}", e.message);
    h.shutdown().await;
}
