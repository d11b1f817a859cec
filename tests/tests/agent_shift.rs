//! An agent's shift, from the agent's side: the real app under Xvfb, driven through
//! WebDriver, against the reference backend binary and the webphone simulator. Each test
//! checks the screen and what reached the backend. Screenshots land in
//! `target/e2e-screenshots/` (and `docs/screenshots/` with `RINGSIDE_UPDATE_SCREENSHOTS=1`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use reqwest::Method;
use ringside_e2e::{eventually, repo_path, work_dir, App, Backend, Mode, SERIAL};
use serde_json::{json, Value};

async fn ready(name: &str, mode: Mode) -> (Backend, App) {
    ready_env(name, mode, &[]).await
}

/// As `ready`, with extra environment for the app (settings such as `RINGSIDE_TRANSFER_ROUTE`).
async fn ready_env(name: &str, mode: Mode, env: &[(&str, &str)]) -> (Backend, App) {
    let dir = work_dir(name);
    let backend = Backend::start(&dir).await;
    let app = App::launch_env(&backend, dir.join("profile"), mode, env).await;
    if mode == Mode::Demo {
        app.wait_text("#registration", |t| t == "Phone ready").await;
        app.wait_text("#agent-name", |t| t.contains("1002")).await;
    }
    (backend, app)
}

async fn backend_logs(backend: &Backend, n: usize, what: &str) -> Vec<Value> {
    eventually(15, what, || async {
        let logs = backend.get("/api/call-logs").await;
        let arr = logs.as_array().cloned().unwrap_or_default();
        (arr.len() == n
            && arr.iter().all(|l| {
                ["answered", "missed", "no_answered"].contains(&l["status"].as_str().unwrap_or(""))
            }))
        .then_some(arr)
    })
    .await
}

/// Seed cases "inbound ringing", "inbound connect", "call end" with after-call work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_call_answered_with_notes_reaches_the_backend() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready("inbound_answered", Mode::Demo).await;
    app.screenshot("01-idle").await;

    app.click("#sim-incoming").await;
    app.wait_text(".call-card[data-status=ringing] .contact-name", |t| {
        t == "Diego Alvarez"
    })
    .await;
    // The backend pushed the queue this call came through (WebSocket, call_queue_info).
    app.wait_text(".call-card[data-status=ringing] .queue", |t| {
        t.contains("6402") && t.contains("Support")
    })
    .await;
    app.screenshot("02-ringing").await;

    app.click(".call-card[data-status=ringing] [data-action=accept]")
        .await;
    app.wait_text(".call-card[data-status=talking] .talk-timer", |t| {
        t == "0:02"
    })
    .await;
    app.screenshot("03-talking").await;

    app.click(".call-card[data-status=talking] [data-action=hangup]")
        .await;
    app.type_into(".wrap-up .draft-notes", "Wants a callback on Friday")
        .await;
    app.select(".wrap-up .draft-disposition", "callback").await;
    app.type_into(".wrap-up .draft-tags", "vip, billing").await;
    app.wait_text(".wrap-up .save-state", |t| t == "Saved on this computer")
        .await;
    app.screenshot("04-after-call").await;

    // Saved in the profile's SQLite file as the agent typed, before any submit.
    let db = rusqlite::Connection::open(app.profile.join("ringside.db")).unwrap();
    let body: String = db
        .query_row("SELECT body FROM drafts", [], |r| r.get(0))
        .unwrap();
    let saved: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(saved["notes"], "Wants a callback on Friday");
    assert_eq!(saved["disposition"], "callback");

    app.click(".wrap-up [data-action=submit-draft]").await;
    app.wait_text(".recent-call[data-status=answered] .who", |t| {
        t == "Diego Alvarez"
    })
    .await;
    app.wait_text(".recent-call[data-status=answered] .badge", |t| {
        t == "Synced"
    })
    .await;

    let logs = backend_logs(&backend, 1, "the answered call log").await;
    let log = &logs[0];
    assert_eq!(log["status"], "answered");
    assert_eq!(log["direction"], "inbound");
    assert_eq!(log["from"], "+15550100");
    assert_eq!(log["to"], "1002");
    assert_eq!(log["contact_id"], "ct-4");
    assert_eq!(log["queue"]["queue_number"], "6402");
    assert!(log["talk_seconds"].as_u64().unwrap() >= 1, "{log}");
    let drafts = eventually(10, "the draft on the backend", || async {
        let d = backend.get("/api/call-drafts").await;
        let arr = d.as_array().cloned().unwrap_or_default();
        (arr.len() == 1).then_some(arr)
    })
    .await;
    assert_eq!(drafts[0]["notes"], "Wants a callback on Friday");
    assert_eq!(drafts[0]["tags"], json!(["vip", "billing"]));
    assert_eq!(drafts[0]["call_log_id"], log["id"]);

    // A figure for the notes, not an assertion: core snapshot → rendered, in this run.
    let lag = app
        .client
        .execute("return window.ringsideLag || [];", vec![])
        .await
        .unwrap();
    let mut lag: Vec<f64> = lag
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    assert!(!lag.is_empty(), "the UI records its lag");
    lag.sort_by(f64::total_cmp);
    let pct = |p: f64| lag[((lag.len() - 1) as f64 * p).round() as usize];
    eprintln!(
        "ui lag over {} snapshots: p50 {:.1} ms, p99 {:.1} ms",
        lag.len(),
        pct(0.5),
        pct(0.99)
    );
    app.close().await;
}

/// Seed case "call end", inbound never connected: missed, no after-call work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_call_missed_when_the_caller_gives_up() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready("inbound_missed", Mode::Demo).await;
    app.click("#sim-incoming").await;
    app.wait(".call-card[data-status=ringing]").await;
    app.click(".call-card[data-status=ringing] [data-action=remote-hangup]")
        .await;
    app.wait_text(".recent-call[data-status=missed] .status", |t| {
        t == "Missed"
    })
    .await;
    assert!(
        !app.exists(".wrap-up").await,
        "no after-call work for a missed call"
    );
    backend_logs(&backend, 1, "the missed call log").await;
    // The CDR (and its reason) follows `disconnected` by about half a second.
    let logs = eventually(10, "the end reason from the CDR", || async {
        let logs = backend.get("/api/call-logs").await;
        (!logs[0]["end_reason"].is_null()).then_some(logs)
    })
    .await;
    assert_eq!(logs[0]["status"], "missed");
    assert_eq!(logs[0]["talk_seconds"], 0);
    assert_eq!(logs[0]["end_reason"], "Request Cancelled");
    app.close().await;
}

/// Seed cases "outbound ringing" and "outbound connect", dialled from the keypad.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_call_answered() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready("outbound_answered", Mode::Demo).await;
    for key in ["1", "0", "0", "3"] {
        app.click(&format!(".dialer [data-key='{key}']")).await;
    }
    app.click("#dial-call").await;
    app.wait_text(".call-card[data-status=ringing] .call-label", |t| {
        t == "Calling…"
    })
    .await;
    app.wait_text(".call-card[data-status=talking] .contact-name", |t| {
        t == "Bruno Keller"
    })
    .await;
    app.click(".call-card[data-status=talking] [data-action=hangup]")
        .await;
    app.click(".wrap-up [data-action=submit-draft]").await;
    app.wait(".recent-call[data-status=answered][data-direction=outbound]")
        .await;
    let logs = backend_logs(&backend, 1, "the outbound call log").await;
    assert_eq!(logs[0]["direction"], "outbound");
    assert_eq!(logs[0]["from"], "1002");
    assert_eq!(logs[0]["to"], "1003");
    assert_eq!(logs[0]["status"], "answered");
    app.close().await;
}

/// An outbound call that never connects, and input the dialler must refuse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_call_not_answered_and_bad_numbers_explained() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready("outbound_not_answered", Mode::Demo).await;
    app.type_into("#dial-number", "call mom").await;
    app.click("#dial-call").await;
    app.wait_text("#dial-error", |t| t.contains("digits")).await;
    app.wait_attr("#dial-number", "aria-invalid", "true").await;

    app.clear_field("#dial-number").await;
    // Pasted with punctuation: cleaned before dialling. 1999 does not exist on the PBX.
    app.type_into("#dial-number", "(1999)").await;
    app.click("#dial-call").await;
    app.wait_text(".recent-call[data-status=no_answered] .status", |t| {
        t == "Not answered"
    })
    .await;
    backend_logs(&backend, 1, "the unanswered call log").await;
    let logs = eventually(10, "the end reason from the CDR", || async {
        let logs = backend.get("/api/call-logs").await;
        (!logs[0]["end_reason"].is_null()).then_some(logs)
    })
    .await;
    assert_eq!(logs[0]["status"], "no_answered");
    assert_eq!(logs[0]["to"], "1999");
    assert_eq!(logs[0]["end_reason"], "Not Found");
    // Redial offers the last number.
    app.wait_text("#redial", |t| t.contains("1999")).await;
    app.close().await;
}

/// Seed case "ongoing call": hold, resume, mute and DTMF keep the call talking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_mute_and_dtmf_during_a_call() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready("hold_mute_dtmf", Mode::Demo).await;
    app.answer_demo_call().await;

    app.click("[data-action=hold]").await;
    app.wait_attr("[data-action=hold]", "aria-pressed", "true")
        .await;
    app.wait_text(".call-card .call-label", |t| t == "On hold")
        .await;
    app.click("[data-action=hold]").await;
    app.wait_attr("[data-action=hold]", "aria-pressed", "false")
        .await;

    app.click("[data-action=mute]").await;
    app.wait_attr("[data-action=mute]", "aria-pressed", "true")
        .await;
    app.click("[data-action=keypad]").await;
    for d in ["1", "2", "#"] {
        app.click(&format!(".dtmf [data-dtmf='{d}']")).await;
    }
    app.screenshot("05-in-call-controls").await;
    app.wait_text(".call-card .call-label", |t| t == "Talking")
        .await;
    app.click("[data-action=hangup]").await;
    app.wait(".wrap-up").await;

    // The journal recorded every intent for support, tones as how many were sent, never
    // which (callers key in card numbers and PINs).
    let mut journal = String::new();
    for f in std::fs::read_dir(app.profile.join("journal")).unwrap() {
        journal.push_str(&std::fs::read_to_string(f.unwrap().path()).unwrap());
    }
    let tones = journal
        .lines()
        .filter(|l| l.contains("\"intent\":\"dtmf\""))
        .count();
    assert_eq!(tones, 3, "each tone sent is journaled");
    assert!(journal.contains("\"digits\":\"•\""));
    for digits in ["\"digits\":\"1\"", "\"digits\":\"2\"", "\"digits\":\"#\""] {
        assert!(
            !journal.contains(digits),
            "{digits} in clear in the journal"
        );
    }
    let logs = backend_logs(&backend, 1, "the answered call").await;
    assert_eq!(logs[0]["status"], "answered");
    assert_eq!(logs[0]["on_hold"], false);

    // What the library was asked, seen from its side: the call selected by its bare Call-ID,
    // and mute on the microphone only (direction 2), never both ways.
    let asked = app.phone_eval("return webphone_api.__sim.log();").await;
    let asked = asked.as_array().cloned().unwrap_or_default();
    let mutes: Vec<&Value> = asked.iter().filter(|c| c["fn"] == "mute").collect();
    assert_eq!(mutes.len(), 1, "{asked:?}");
    assert_eq!(mutes[0]["args"], json!([true, 2]));
    let call_id = logs[0]["call_id"].as_str().unwrap();
    for c in asked.iter().filter(|c| c["fn"] == "setline") {
        assert_eq!(
            c["args"],
            json!([call_id]),
            "setline takes the bare Call-ID"
        );
    }
    app.close().await;
}

/// After-call notes written while the backend is down are kept and synced when it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draft_written_offline_syncs_when_the_backend_returns() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready("draft_offline", Mode::Demo).await;
    app.answer_demo_call().await;
    backend.set_faults(json!({"down": true})).await;
    app.click("[data-action=hangup]").await;
    app.type_into(".wrap-up .draft-notes", "Typed while the CRM was down")
        .await;
    app.wait_text(".wrap-up .save-state", |t| t == "Saved on this computer")
        .await;
    app.click(".wrap-up [data-action=submit-draft]").await;
    app.wait_text("#sync-state", |t| t.contains("saved here, will sync"))
        .await;
    app.wait(".notice.offline").await;
    app.wait_text(".recent-call .badge", |t| t == "Notes waiting to sync")
        .await;
    app.screenshot("06-offline").await;
    assert!(backend
        .get("/api/call-drafts")
        .await
        .as_array()
        .is_none_or(|a| a.is_empty()));

    backend.set_faults(json!({})).await;
    app.wait_text("#sync-state", |t| t == "Backend connected")
        .await;
    let drafts = eventually(40, "the offline draft on the backend", || async {
        let d = backend.get("/api/call-drafts").await;
        let arr = d.as_array().cloned().unwrap_or_default();
        (arr.len() == 1).then_some(arr)
    })
    .await;
    assert_eq!(drafts[0]["notes"], "Typed while the CRM was down");
    let logs = backend_logs(&backend, 1, "the call log").await;
    assert_eq!(logs[0]["status"], "answered");
    app.close().await;
}

/// Agent status: the agent pauses with a reason; a supervisor's change arrives live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_status_changes_both_ways() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready("agent_status", Mode::Demo).await;
    app.wait_text("#live-state", |t| t == "Live updates on")
        .await;
    app.wait_text("#agent-status option", |t| t.contains("Lunch"))
        .await;
    app.select("#agent-status", "paused:Lunch").await;
    eventually(10, "paused on the backend", || async {
        let s = backend.get("/api/agent/status").await;
        (s["state"] == "paused" && s["reason"] == "Lunch").then_some(())
    })
    .await;
    app.wait_attr("#agent-status", "data-state", "paused:Lunch")
        .await;

    backend
        .admin(
            Method::PUT,
            "/admin/agent-status",
            json!({"extension": "1002", "state": "available"}),
        )
        .await;
    app.wait_attr("#agent-status", "data-state", "available")
        .await;
    // The app reported its registration on the agent socket.
    let info = eventually(10, "agent_info on the backend", || async {
        let i = backend
            .admin(Method::GET, "/admin/agent-info", json!({}))
            .await;
        (i["agt-1002"]["registration"] == "registered").then_some(i)
    })
    .await;
    assert_eq!(info["agt-1002"]["extension"], "1002");
    app.close().await;
}

/// Live mode: sign-in with a plain error for a wrong password, then sign-out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_sign_out() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready("sign_in", Mode::Live).await;
    app.wait("#signin-username").await;
    let backend_field = app
        .attr("#signin-backend", "value")
        .await
        .unwrap_or_default();
    assert_eq!(
        backend_field, backend.url,
        "the backend URL comes prefilled from the config"
    );
    app.screenshot("00-sign-in").await;
    app.type_into("#signin-username", "demo").await;
    app.type_into("#signin-password", "wrong").await;
    app.click("#signin-submit").await;
    app.wait_text(".form-error", |t| t == "Wrong username or password.")
        .await;

    app.clear_field("#signin-password").await;
    app.type_into("#signin-password", "demo").await;
    app.click("#signin-submit").await;
    app.wait_text("#agent-name", |t| t.contains("Dana Demo"))
        .await;
    app.wait_text("#registration", |t| t == "Phone ready").await;

    app.click("#sign-out").await;
    app.wait("#signin-username").await;
    // Signing out logs the agent out of the queues.
    eventually(10, "logged out on the backend", || async {
        (backend.get("/api/agent/status").await["state"] == "logged_out").then_some(())
    })
    .await;
    app.close().await;
}

/// Keyboard only: answer, mute and hang up with the in-window shortcuts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_shortcuts_answer_mute_and_hang_up() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready("shortcuts", Mode::Demo).await;
    app.click("#sim-incoming").await;
    app.wait(".call-card[data-status=ringing]").await;
    app.alt('a').await;
    app.wait(".call-card[data-status=talking]").await;
    app.alt('m').await;
    app.wait_attr("[data-action=mute]", "aria-pressed", "true")
        .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    app.alt('h').await;
    app.wait(".wrap-up").await;
    let logs = backend_logs(&backend, 1, "the call answered by keyboard").await;
    assert_eq!(logs[0]["status"], "answered");
    app.close().await;
}

/// Settings: theme and language apply at once and survive; screenshots in both themes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_theme_and_language() {
    let _serial = SERIAL.lock().await;
    let (_backend, app) = ready("settings", Mode::Demo).await;
    app.click("#settings-open").await;
    app.wait("#settings-title").await;
    app.screenshot("07-settings").await;
    app.click("#theme-dark").await;
    app.wait_attr("html", "data-theme", "dark").await;
    app.screenshot("08-settings-dark").await;
    app.click("#settings-close").await;
    app.screenshot("09-idle-dark").await;

    app.answer_demo_call().await;
    app.wait_text(".call-card[data-status=talking] .talk-timer", |t| {
        t == "0:01"
    })
    .await;
    app.screenshot("10-talking-dark").await;
    app.click("[data-action=hangup]").await;
    app.wait(".wrap-up").await;
    app.screenshot("11-after-call-dark").await;

    app.click("#settings-open").await;
    app.select("#language", "fr").await;
    app.wait_attr("html", "lang", "fr").await;
    app.wait_text("#settings-title", |t| t == "Réglages").await;
    app.click("#theme-light").await;
    app.wait_attr("html", "data-theme", "light").await;
    app.click("#settings-close").await;
    app.wait_text("#sign-out", |t| t == "Se déconnecter").await;
    app.click("#tab-contacts").await;
    app.wait_text(".contact-row .who", |t| t == "Alice Martin")
        .await;
    app.screenshot("12-contacts-fr").await;

    // French in a call: buttons are actions ("Couper le micro" before muting, "Réactiver le
    // micro" after), outcomes and pause reasons in French, history rows with French words.
    app.click("#tab-history").await;
    app.answer_demo_call().await;
    app.wait_text("[data-action=mute]", |t| t == "Couper le micro")
        .await;
    app.click("[data-action=mute]").await;
    app.wait_text("[data-action=mute]", |t| t == "Réactiver le micro")
        .await;
    app.wait_text("[data-action=hold]", |t| t == "Mettre en attente")
        .await;
    app.wait_text("#agent-status option", |t| t == "En pause — Déjeuner")
        .await;
    app.screenshot("19-talking-fr").await;
    app.click("[data-action=hangup]").await;
    // The call just ended opens its own form; the earlier call's unfinished one becomes a row.
    app.wait(".draft-row").await;
    app.wait_text(".wrap-up .draft-disposition option", |t| t == "À rappeler")
        .await;
    app.select(".wrap-up .draft-disposition", "callback").await;
    app.type_into(".wrap-up .draft-notes", "Rappeler vendredi")
        .await;
    app.wait_text(".wrap-up .save-state", |t| {
        t == "Enregistré sur cet ordinateur"
    })
    .await;
    app.screenshot("20-after-call-fr").await;
    app.click(".wrap-up [data-action=submit-draft]").await;
    app.wait_text(".recent-call .outcome", |t| t == "À rappeler")
        .await;
    app.wait_text(".recent-call .notes-preview", |t| t == "Rappeler vendredi")
        .await;
    app.screenshot("21-history-fr").await;

    // Preferences are the core's, in SQLite: they survive a restart.
    let db = rusqlite::Connection::open(app.profile.join("ringside.db")).unwrap();
    let lang: String = db
        .query_row(
            "SELECT value FROM settings WHERE key = 'language'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(lang, "fr");
    app.close().await;
}

/// A profile the core cannot open (here: on a read-only file system) gives a plain message in
/// the window, not a blank screen or a silent exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_profile_is_explained_on_screen() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("bad_profile");
    let backend = Backend::start(&dir).await;
    let app = App::launch_with(&backend, "/proc/self/ringside-profile".into(), Mode::Demo).await;
    app.wait_text(".startup-error h1", |t| t == "Ringside cannot start")
        .await;
    app.wait_text(".startup-error p", |t| {
        t.contains("/proc/self/ringside-profile")
    })
    .await;
    app.close().await;
}

/// Starts the app with the webphone library taken from a folder of the test's making;
/// `library` is the `webphone_api.js` to put in it, if any.
async fn with_webphone_folder(name: &str, library: Option<&std::path::Path>) -> (Backend, App) {
    let dir = work_dir(name);
    let folder = dir.join("customer-webphone");
    std::fs::create_dir_all(&folder).unwrap();
    if let Some(lib) = library {
        std::fs::copy(lib, folder.join("webphone_api.js")).unwrap();
    }
    let backend = Backend::start(&dir).await;
    let env = [("RINGSIDE_WEBPHONE", folder.to_str().unwrap())];
    let app = App::launch_env(&backend, dir.join("profile"), Mode::Demo, &env).await;
    (backend, app)
}

/// The customer's webphone folder has no library in it: the agent is told so, plainly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_webphone_library_is_explained() {
    let _serial = SERIAL.lock().await;
    let (_backend, app) = with_webphone_folder("webphone_missing", None).await;
    app.wait_text(".notice[data-code=webphone_failed]", |t| {
        t.contains("webphone location")
    })
    .await;
    app.close().await;
}

/// A real webphone folder on a web engine without WebRTC (this machine's WebKitGTK): the
/// agent learns that calls cannot work here, instead of a phone that silently never rings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_engine_without_webrtc_is_explained() {
    let _serial = SERIAL.lock().await;
    // A stand-in for the customer's copy, served from a folder like the real one.
    let sim = repo_path("ui/webphone-sim/webphone_api.js");
    let (_backend, app) = with_webphone_folder("no_webrtc", Some(&sim)).await;
    app.wait_text(".notice[data-code=no_webrtc]", |t| t.contains("WebRTC"))
        .await;
    app.screenshot("13-no-webrtc").await;
    app.close().await;
}

/// Answers a demo call and asks to transfer it to 1003 with `action` (`transfer-blind` or
/// `transfer-consult`).
async fn start_transfer(app: &App, action: &str) {
    app.answer_demo_call().await;
    app.click(".call-card[data-status=talking] [data-action=transfer]")
        .await;
    app.type_into(".call-card .transfer-number", "1003").await;
    app.click(&format!(".call-card [data-action={action}]"))
        .await;
}

/// The PBX's record of the transfer requests for the agent's calls.
async fn pbx_transfers(backend: &Backend) -> Vec<Value> {
    backend
        .get("/admin/transfers")
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn transferred_log(backend: &Backend, what: &str, to: &str) -> Value {
    eventually(15, what, || async {
        let logs = backend.get("/api/call-logs").await;
        let arr = logs.as_array().cloned().unwrap_or_default();
        arr.into_iter().find(|l| {
            l["status"] == "answered"
                && l["transfer"]["to"] == to
                && l["transfer"]["outcome"] != Value::Null
        })
    })
    .await
}

/// Seed case "blind transfer" of a queue call: the PBX moves the caller with the call's
/// `channel_id`; the agent's leg ends when the PBX has done it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blind_transfer_through_the_pbx() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready("blind_transfer_pbx", Mode::Demo).await;
    start_transfer(&app, "transfer-blind").await;
    app.wait(".wrap-up").await;
    let log = transferred_log(&backend, "the transferred call log", "1003").await;
    assert_eq!(log["transferred_to"], "1003");
    assert_eq!(log["transfer"]["kind"], "blind");
    assert_eq!(log["transfer"]["via"], "pbx");
    assert_eq!(log["transfer"]["outcome"], "completed");
    let sent = pbx_transfers(&backend).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["request"]["type"], "blind");
    assert_eq!(sent[0]["request"]["number"], "1003");
    assert_eq!(
        sent[0]["request"]["channel_id"], log["queue"]["channel_id"],
        "the PBX was given the queue call's channel"
    );
    app.close().await;
}

/// A busy target: the agent is told in plain words and keeps the caller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pbx_transfer_to_a_busy_target_keeps_the_caller() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready("pbx_transfer_busy", Mode::Demo).await;
    backend
        .admin(
            Method::PUT,
            "/admin/pbx",
            json!({"targets": {"1003": "busy"}}),
        )
        .await;
    start_transfer(&app, "transfer-blind").await;
    let said = app
        .wait_text(".notice[data-code=transfer_failed]", |t| t.contains("busy"))
        .await;
    assert!(said.contains("still with you"), "{said}");
    app.wait(".call-card[data-status=talking]:not(.held) [data-action=hangup]")
        .await;
    app.screenshot("16-transfer-busy").await;
    app.click(".call-card[data-status=talking] [data-action=hangup]")
        .await;
    let logs = backend_logs(&backend, 1, "the call, not transferred").await;
    assert_eq!(logs[0]["transferred_to"], Value::Null);
    assert_eq!(logs[0]["transfer"]["outcome"], "failed");
    assert_eq!(logs[0]["transfer"]["reason"], "busy");
    app.close().await;
}

/// Seed case "attended transfer" of a queue call through the PBX: consult 1003, swap,
/// three-way, then complete. The webphone keeps one call throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attended_transfer_through_the_pbx_with_a_three_way() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready("attended_transfer_pbx", Mode::Demo).await;
    start_transfer(&app, "transfer-consult").await;
    app.wait_text(".pbx-transfer[data-pbx-state=consulting]", |t| {
        t.contains("1003") && t.contains("on hold")
    })
    .await;
    app.screenshot("14-attended-transfer").await;
    app.click("[data-action=consult-swap]").await;
    app.wait_text(".pbx-transfer[data-pbx-state=consulting]", |t| {
        t.starts_with("Talking to the caller")
    })
    .await;
    app.click("[data-action=consult-threeway]").await;
    app.wait_text(".pbx-transfer[data-pbx-state=threeway]", |t| {
        t.contains("the caller, you and 1003")
    })
    .await;
    app.screenshot("15-three-way").await;
    assert!(
        !app.exists(".call-card ~ .call-card").await,
        "one webphone call throughout"
    );
    app.click("[data-action=consult-complete]").await;
    app.wait(".wrap-up").await;
    let log = transferred_log(&backend, "the caller transferred", "1003").await;
    assert_eq!(
        log["transfer"],
        json!({"kind": "attended", "to": "1003", "outcome": "completed", "via": "pbx", "conference": true})
    );
    let ops: Vec<Value> = pbx_transfers(&backend)
        .await
        .iter()
        .map(|t| t["request"]["operate"].clone())
        .collect();
    assert_eq!(
        ops,
        vec![
            Value::Null,
            json!("swap"),
            json!("threeway"),
            json!("complete")
        ]
    );
    app.close().await;
}

/// Seed case "blind transfer" by the webphone (policy `webphone`): a REFER on the call's own
/// line, with `transfertype` 1 so the agent's leg ends at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blind_transfer_by_the_webphone() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready_env(
        "blind_transfer_webphone",
        Mode::Demo,
        &[("RINGSIDE_TRANSFER_ROUTE", "webphone")],
    )
    .await;
    start_transfer(&app, "transfer-blind").await;
    app.wait(".wrap-up").await;
    let log = transferred_log(&backend, "the transferred call log", "1003").await;
    assert_eq!(log["transfer"]["via"], "webphone");
    assert_eq!(log["transfer"]["kind"], "blind");
    assert!(pbx_transfers(&backend).await.is_empty());
    app.close().await;
}

/// Seed case "attended transfer" by the webphone: hold the caller, consult 1003 on a second
/// call, swap, then complete with a REFER of the original call (never `transfer("")`, which
/// throws in the real library).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attended_transfer_by_the_webphone() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready_env(
        "attended_transfer_webphone",
        Mode::Demo,
        &[("RINGSIDE_TRANSFER_ROUTE", "webphone")],
    )
    .await;
    start_transfer(&app, "transfer-consult").await;
    // The caller waits on hold while the consultation rings, then answers (after ~2 s).
    app.wait_text(".call-card.held .call-label", |t| t == "On hold")
        .await;
    app.wait(".call-card[data-status=talking] [data-action=consult-swap]")
        .await;
    app.click("[data-action=consult-swap]").await;
    app.wait_text(".call-card.held .contact-name", |t| t == "Bruno Keller")
        .await;
    app.click("[data-action=consult-swap]").await;
    app.wait_text(".call-card.held .contact-name", |t| t == "Diego Alvarez")
        .await;
    app.click("[data-action=consult-complete]").await;
    let logs = eventually(15, "both calls ended, the caller transferred", || async {
        let logs = backend.get("/api/call-logs").await;
        let arr = logs.as_array().cloned().unwrap_or_default();
        (arr.len() == 2 && arr.iter().all(|l| l["status"] == "answered")).then_some(arr)
    })
    .await;
    let caller = logs.iter().find(|l| l["direction"] == "inbound").unwrap();
    let consult = logs.iter().find(|l| l["direction"] == "outbound").unwrap();
    assert_eq!(caller["transferred_to"], "1003");
    assert_eq!(
        caller["transfer"],
        json!({"kind": "attended", "to": "1003", "outcome": "completed", "via": "webphone"})
    );
    assert_eq!(consult["consult_for"], caller["call_id"]);
    app.close().await;
}

/// A registration that never completes (the real library under a policy without
/// `'unsafe-eval'`) is said in plain words after the bound; the pill never says ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_that_never_completes_is_reported() {
    let _serial = SERIAL.lock().await;
    // A customer folder whose library sends REGISTER and never hears back, as the real one did
    // under the old policy (csp_register recording), with a 3 s bound instead of 20.
    let dir = work_dir("registration_stalled");
    let folder = dir.join("customer-webphone");
    std::fs::create_dir_all(&folder).unwrap();
    let sim = std::fs::read_to_string(repo_path("ui/webphone-sim/webphone_api.js")).unwrap();
    std::fs::write(
        folder.join("webphone_api.js"),
        format!("{sim}\nwebphone_api.__sim.configure({{registerNeverCompletes: true}});\n"),
    )
    .unwrap();
    let backend = Backend::start(&dir).await;
    let app = App::launch_env(
        &backend,
        dir.join("profile"),
        Mode::Demo,
        &[
            ("RINGSIDE_WEBPHONE", folder.to_str().unwrap()),
            ("RINGSIDE_REGISTRATION_TIMEOUT_S", "3"),
        ],
    )
    .await;
    let said = app
        .wait_text(".notice[data-code=registration_stalled]", |t| {
            t.contains("Registering...")
        })
        .await;
    assert!(said.contains("has not registered"), "{said}");
    // Never "ready": "not registering", or "no WebRTC" where this machine's web engine lacks it.
    let pill = app.wait_text("#registration", |t| !t.is_empty()).await;
    assert_ne!(pill, "Phone ready");
    assert_eq!(
        app.attr("#registration", "class").await.unwrap_or_default(),
        "pill bad"
    );
    app.screenshot("17-registration-stalled").await;
    app.close().await;
}

/// Call waiting: a second caller rings during a call; answering holds the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_waiting_is_shown_and_answerable() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready("call_waiting", Mode::Demo).await;
    app.answer_demo_call().await;

    app.clear_field("#sim-number").await;
    app.type_into("#sim-number", "1001").await;
    app.click("#sim-incoming").await;
    app.wait_text(".call-card[data-status=ringing] .call-label", |t| {
        t == "Call waiting"
    })
    .await;
    app.wait_text(".call-card[data-status=ringing] .contact-name", |t| {
        t == "Alice Martin"
    })
    .await;
    app.click(".call-card[data-status=ringing] [data-action=accept]")
        .await;
    app.wait_text(".call-card.held .contact-name", |t| t == "Diego Alvarez")
        .await;
    app.wait_text(
        ".call-card[data-status=talking]:not(.held) .contact-name",
        |t| t == "Alice Martin",
    )
    .await;

    // Hang up on Alice, resume and end Diego's call: two answered calls.
    app.click(".call-card[data-status=talking]:not(.held) [data-action=hangup]")
        .await;
    // Alice's card goes once the library reports her call ended; resuming Diego before that
    // would race two talking calls through the engine's hold rule.
    ringside_e2e::eventually(10, "Alice's call ended", || async {
        (!app.exists(".call-card:not(.held)").await).then_some(())
    })
    .await;
    app.click(".call-card.held [data-action=hold]").await;
    app.wait_attr(
        ".call-card[data-status=talking] [data-action=hold]",
        "aria-pressed",
        "false",
    )
    .await;
    app.click(".call-card[data-status=talking] [data-action=hangup]")
        .await;
    let logs = backend_logs(&backend, 2, "two answered calls").await;
    assert!(logs.iter().all(|l| l["status"] == "answered"), "{logs:?}");
    app.close().await;
}

/// `cargo xtask run` as an agent trying Ringside gets it: no backend URL, so demo mode starts
/// its own in-process backend (the `demo` feature); a call made there syncs to it, and its
/// database sits in the profile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_mode_runs_on_its_own_backend() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("demo_embedded");
    let app = App::launch_embedded(dir.join("profile"), &[]).await;
    app.wait_text("#registration", |t| t == "Phone ready").await;
    app.wait_text("#agent-name", |t| t.contains("1002")).await;
    app.click("#sim-incoming").await;
    // The queue's details come through the in-process backend's admin routes, with the token
    // it made for this run: without it the call would ring bare.
    app.wait(".call-card[data-status=ringing] .queue").await;
    app.click(".call-card[data-status=ringing] [data-action=accept]")
        .await;
    app.click(".call-card[data-status=talking] [data-action=hangup]")
        .await;
    app.type_into(".wrap-up .draft-notes", "Tried the demo")
        .await;
    app.wait_text(".wrap-up .save-state", |t| t == "Saved on this computer")
        .await;
    app.click(".wrap-up [data-action=submit-draft]").await;
    eventually(10, "the after-call work closed", || async {
        (!app.exists(".wrap-up").await).then_some(())
    })
    .await;
    app.wait_text(".recent-call[data-status=answered] .badge", |t| {
        t == "Synced"
    })
    .await;
    app.screenshot("demo-embedded").await;
    // The backend it synced to is the in-process one, with its database in the profile.
    let backend_db = rusqlite::Connection::open(app.profile.join("demo-backend.db")).unwrap();
    let notes: String = backend_db
        .query_row("SELECT body FROM call_drafts", [], |r| r.get(0))
        .unwrap_or_default();
    assert!(notes.contains("Tried the demo"), "{notes}");
    app.close().await;
}
