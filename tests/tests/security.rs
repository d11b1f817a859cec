//! The boundaries of docs/security.md, tested against the real app: what a script in the
//! webphone's iframe (the vendor's library, or anything injected through it) can and cannot do.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ringside_e2e::{eventually, work_dir, App, Backend, Mode, SERIAL};
use serde_json::{json, Value};

/// A hostile script in the webphone's iframe tries to pass for the agent, to reach the
/// agent's commands, page and data, to leave its frame, and to flood the core. It has no IPC
/// at all; the only door is the relay, which takes webphone callbacks and nothing else; and
/// nothing it forged reaches the journal or the phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_webphone_script_reaches_nothing_but_its_own_callbacks() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("hostile_webphone");
    let backend = Backend::start(&dir).await;
    let app = App::launch_env(&backend, dir.join("profile"), Mode::Demo, &[]).await;
    app.wait_text("#registration", |t| t == "Phone ready").await;

    // Run in the webphone's iframe, with exactly the vendor script's privileges.
    app.phone_eval(
        r#"
        const dial = { intent: 'dial', number: '0900123456' };
        const refused = (e) => 'refused: ' + ((e && e.name) || String(e));
        const r = {};
        r.tauri = typeof window.__TAURI__ + '/' + typeof window.__TAURI_INTERNALS__;
        try { r.parent_page = 'read: ' + window.parent.document.title; } catch (e) { r.parent_page = refused(e); }
        try { r.parent_storage = 'read: ' + window.parent.localStorage.length; } catch (e) { r.parent_storage = refused(e); }
        try { r.popup = window.open('https://evil.example/') ? 'opened' : 'refused: null'; } catch (e) { r.popup = refused(e); }
        try { window.top.location.href = 'https://evil.example/'; r.leave_top = 'no error'; } catch (e) { r.leave_top = refused(e); }
        // Tauri's IPC, forged: both of its transports, with a guessed invoke key.
        try {
          window.webkit.messageHandlers.ipc.postMessage(JSON.stringify({ cmd: 'intent', callback: 1,
            error: 2, payload: { intent: dial }, options: {}, invoke_key: 'guess' }));
          r.ipc_message = 'posted';
        } catch (e) { r.ipc_message = refused(e); }
        const tries = [
          fetch('ipc://localhost/intent', { method: 'POST', body: JSON.stringify({ intent: dial }),
            headers: { 'Content-Type': 'application/json', 'Tauri-Callback': '1', 'Tauri-Error': '2',
              'Tauri-Invoke-Key': 'guess' } })
            .then((res) => { r.ipc_fetch = 'answered ' + res.status; }, (e) => { r.ipc_fetch = refused(e); }),
        ];
        // The one door: callbacks through the relay. A forged intent and a flood are refused
        // by the core, and the relay says so.
        r.refusals = [];
        window.addEventListener('message', (e) => {
          if (e.data && e.data.ringside === 'refused') r.refusals.push(e.data.message);
        });
        parent.postMessage({ ringside: 'events', events: [['intent', [dial]]] }, 'tauri://localhost');
        parent.postMessage({ ringside: 'events', events: [['event', ['x'.repeat(200 * 1024)]]] }, 'tauri://localhost');
        window.__hostile = null;
        Promise.allSettled(tries).then(() => setTimeout(() => { window.__hostile = r; }, 1500));
        return null;
        "#,
    )
    .await;
    let results = eventually(15, "every attempt settled", || async {
        let r = app.phone_eval("return window.__hostile;").await;
        (!r.is_null()).then_some(r)
    })
    .await;
    println!("hostile iframe: {results}");
    assert_eq!(results["tauri"], json!("undefined/undefined"), "{results}");
    for what in [
        "parent_page",
        "parent_storage",
        "popup",
        "leave_top",
        "ipc_fetch",
    ] {
        let outcome = results[what].as_str().unwrap_or("");
        assert!(outcome.starts_with("refused"), "{what}: {results}");
    }
    let refusals = results["refusals"].to_string();
    assert!(refusals.contains("not a webphone callback"), "{results}");
    assert!(refusals.contains("too large"), "{results}");
    // The agent's page is still there: the frame could not take the window elsewhere.
    app.wait(".shell").await;

    // Nothing it forged was acted on or written down; the agent is still signed in and the
    // phone still works.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!app.exists(".call-card").await, "a forged dial was placed");
    let mut journal = String::new();
    for f in std::fs::read_dir(app.profile.join("journal")).unwrap() {
        journal.push_str(&std::fs::read_to_string(f.unwrap().path()).unwrap());
    }
    assert!(
        !journal.contains("0900123456"),
        "a forged line was journaled"
    );
    assert!(
        !journal.contains(&"x".repeat(1024)),
        "the flood was journaled"
    );
    let status: Value = backend.get("/api/agent/status").await;
    assert_eq!(status["state"], json!("available"));
    app.click("#sim-incoming").await;
    app.wait(".call-card[data-status=ringing]").await;
    app.close().await;
}

/// A lab's policy may let the app reach a backend unencrypted beyond this computer; the agent
/// is then told, on the sign-in screen, before a password goes that way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unencrypted_backend_allowed_by_policy_is_said_before_sign_in() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("not_secure");
    let backend = Backend::start(&dir).await;
    let app = App::launch_env(
        &backend,
        dir.join("profile"),
        Mode::Live,
        &[
            // A documentation address (RFC 5737): nothing answers, and nothing needs to.
            ("RINGSIDE_BACKEND_URL", "http://192.0.2.10:9"),
            ("RINGSIDE_ALLOW_INSECURE_TRANSPORT", "true"),
        ],
    )
    .await;
    let warning = app
        .wait_text("#signin-not-secure", |t| t.contains("not encrypted"))
        .await;
    assert!(warning.contains("password"), "{warning}");
    app.screenshot("27-not-secure-sign-in").await;
    app.close().await;
}

/// IT's `webphone_connect`: the webphone's frame reaches the listed PBX and nothing else, and a
/// PBX the backend hands out that is not on the list is said at sign-in rather than leaving the
/// phone "Registering..." forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webphone_reaches_only_the_servers_it_lists() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("webphone_connect");
    let backend = Backend::start(&dir).await;
    // The reference backend hands out wss://pbx.demo.invalid:8089/ws.
    let app = App::launch_env(
        &backend,
        dir.join("profile"),
        Mode::Demo,
        &[("RINGSIDE_WEBPHONE_CONNECT", "wss://pbx.demo.invalid:8089")],
    )
    .await;
    app.wait_text("#registration", |t| t == "Phone ready").await;
    app.phone_eval(
        r#"
        const r = { violations: [], threw: {} };
        document.addEventListener('securitypolicyviolation', (e) => r.violations.push(e.blockedURI));
        const tries = [
          ['pbx', () => new WebSocket('wss://pbx.demo.invalid:8089/ws')],
          ['evil_ws', () => new WebSocket('wss://evil.example/ws')],
          ['evil_fetch', () => { fetch('https://evil.example/x').catch(() => {}); }],
        ];
        for (const [name, go] of tries) {
          try { go(); r.threw[name] = 'no'; } catch (e) { r.threw[name] = e.name; }
        }
        window.__connect = null;
        setTimeout(() => { window.__connect = r; }, 1500);
        return null;
        "#,
    )
    .await;
    let r = eventually(10, "the connection attempts settled", || async {
        let r = app.phone_eval("return window.__connect;").await;
        (!r.is_null()).then_some(r)
    })
    .await;
    println!("webphone connections: {r}");
    let violations = r["violations"].to_string();
    let blocked =
        |name: &str, host: &str| r["threw"][name] != json!("no") || violations.contains(host);
    assert!(blocked("evil_ws", "evil.example"), "{r}");
    assert!(blocked("evil_fetch", "evil.example"), "{r}");
    assert_eq!(r["threw"]["pbx"], json!("no"), "{r}");
    assert!(!violations.contains("pbx.demo.invalid"), "{r}");
    assert!(
        !app.exists(".notice[data-code=webphone_server_not_allowed]")
            .await,
        "the backend's PBX is on the list"
    );
    app.close().await;

    // A list without the backend's PBX: the agent is told at sign-in.
    let app = App::launch_env(
        &backend,
        dir.join("profile-other-pbx"),
        Mode::Demo,
        &[("RINGSIDE_WEBPHONE_CONNECT", "wss://other-pbx.example")],
    )
    .await;
    let said = app
        .wait_text(".notice[data-code=webphone_server_not_allowed]", |t| {
            t.contains("wss://pbx.demo.invalid:8089/ws")
        })
        .await;
    assert!(said.contains("webphone_connect"), "{said}");
    app.close().await;
}
