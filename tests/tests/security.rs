//! The boundaries of docs/security.md, tested against the real app: what a script in the
//! webphone window (the vendor's library, or anything injected through it) can and cannot do.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ringside_e2e::{eventually, work_dir, App, Backend, Mode, SERIAL};
use serde_json::{json, Value};

/// A hostile script in the webphone window tries to pass for the agent, to reach the agent's
/// commands and data, and to flood the core. Everything but its own callbacks is refused, and
/// nothing it forged reaches the journal or the phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_webphone_script_reaches_nothing_but_its_own_callbacks() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("hostile_webphone");
    let backend = Backend::start(&dir).await;
    let app = App::launch_env(&backend, dir.join("profile"), Mode::Demo, &[]).await;
    app.wait_text("#registration", |t| t == "Phone ready").await;

    // Run from the webphone window, with exactly the vendor script's privileges.
    app.phone_eval(
        r#"
        const core = window.__TAURI__.core;
        const tries = {
          forged_intent: core.invoke('phone_event', { kind: 'intent',
              args: [{ intent: 'dial', number: '0900123456' }] }),
          huge_callback: core.invoke('phone_event', { kind: 'event',
              args: ['x'.repeat(200 * 1024)] }),
          subscribe: core.invoke('subscribe', { updates: new core.Channel() }),
          intent: core.invoke('intent', { intent: { intent: 'dial', number: '0900123456' } }),
          save_draft: core.invoke('save_draft', { draft: { call_log_id: 'x', updated_at_ms: 0 } }),
          sign_out: core.invoke('sign_out', {}),
          set_agent_status: core.invoke('set_agent_status',
              { status: { state: 'logged_out', reason: null } }),
          simulate_incoming: core.invoke('simulate_incoming', { number: '1' }),
          set_webphone_location: core.invoke('set_webphone_location', { location: '/tmp' }),
          listen: window.__TAURI__.event.listen('updates', () => {}),
        };
        window.__hostile = null;
        Promise.allSettled(Object.values(tries)).then((out) => {
          window.__hostile = Object.fromEntries(Object.keys(tries).map((k, i) =>
            [k, out[i].status === 'fulfilled' ? 'accepted'
                : typeof out[i].reason === 'string' ? out[i].reason
                : JSON.stringify(out[i].reason)]));
        });
        return null;
        "#,
    )
    .await;
    let results = eventually(10, "every attempt settled", || async {
        let r = app.phone_eval("return window.__hostile;").await;
        (!r.is_null()).then_some(r)
    })
    .await;
    let results = results.as_object().unwrap();
    assert_eq!(results.len(), 10, "{results:?}");
    for (what, outcome) in results {
        assert_ne!(outcome, "accepted", "{what} was accepted: {results:?}");
    }
    assert!(
        results["forged_intent"]
            .as_str()
            .unwrap()
            .contains("not a webphone callback"),
        "{results:?}"
    );
    assert!(
        results["huge_callback"]
            .as_str()
            .unwrap()
            .contains("too large"),
        "{results:?}"
    );

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
