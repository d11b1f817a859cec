//! An agent's day without surprises (issue 12): the defects a first shift found, each driven
//! through the real app under Xvfb against the reference backend binary, as an agent would
//! meet them. Each test fails on the code before the fix.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use reqwest::Method;
use ringside_e2e::{eventually, work_dir, App, Backend, Mode, SERIAL};
use serde_json::{json, Value};

async fn ready(name: &str) -> (Backend, App) {
    let dir = work_dir(name);
    let backend = Backend::start(&dir).await;
    let app = App::launch_env(&backend, dir.join("profile"), Mode::Demo, &[]).await;
    app.wait_text("#registration", |t| t == "Phone ready").await;
    app.wait_text("#agent-name", |t| t.contains("1002")).await;
    (backend, app)
}

async fn js(app: &App, script: &str) -> Value {
    app.client.execute(script, vec![]).await.unwrap()
}

/// Keys pressed wherever the focus is, as on a keyboard.
async fn press(app: &App, keys: &str) {
    app.client
        .active_element()
        .await
        .unwrap()
        .send_keys(keys)
        .await
        .unwrap();
}

/// Puts the value of the JavaScript expression `value` into the field at `css` at once, as a
/// paste does (typing 100,000 characters through WebDriver would take minutes).
async fn paste(app: &App, css: &str, value: &str) {
    js(
        app,
        &format!(
            "const t = document.querySelector(\"{css}\");
             t.value = {value};
             t.dispatchEvent(new Event('input', {{ bubbles: true }}));
             return null;"
        ),
    )
    .await;
}

/// The focused element's id (or tag), for messages.
async fn focused(app: &App) -> Value {
    js(
        app,
        "const a = document.activeElement; return a ? (a.id || a.tagName) : null;",
    )
    .await
}

/// The drafts saved in the profile's SQLite file, by call log id.
fn saved_notes(app: &App) -> std::collections::BTreeMap<String, String> {
    let db = rusqlite::Connection::open(app.profile.join("ringside.db")).unwrap();
    let mut stmt = db.prepare("SELECT call_log_id, body FROM drafts").unwrap();
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .map(|row| {
            let (id, body) = row.unwrap();
            let v: Value = serde_json::from_str(&body).unwrap();
            (id, v["notes"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

/// A customer calls from `number`; the agent answers, then hangs up.
async fn take_call_from(app: &App, number: &str) {
    app.clear_field("#sim-number").await;
    app.type_into("#sim-number", number).await;
    app.answer_demo_call().await;
    app.click(".call-card[data-status=talking] [data-action=hangup]")
        .await;
}

/// "With two after-call forms open, typing in one re-sorted the list 300 ms later and the
/// other call's form took its place: notes can land on the wrong call."
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_open_forms_never_swap_under_the_agent() {
    use fantoccini::key::Key;
    let _serial = SERIAL.lock().await;
    let (_backend, app) = ready("two_forms").await;
    take_call_from(&app, "+15550100").await;
    app.wait(".wrap-up").await;
    let first = app.attr(".wrap-up", "data-call-log-id").await.unwrap();
    // The agent hangs up a second call without writing the first one's notes: the call just
    // ended is the one whose form opens, the other waits in the list.
    take_call_from(&app, "+442079460018").await;
    app.wait(".draft-row [data-action=resume-draft]").await;
    let second = app.attr(".wrap-up", "data-call-log-id").await.unwrap();
    assert_ne!(first, second);
    assert_eq!(
        app.attr(".draft-row", "data-call-log-id").await.as_deref(),
        Some(first.as_str())
    );

    // The agent goes back to the first call's form, types, pauses past the autosave and a
    // few deltas, types again: the form stays that call's.
    app.click(".draft-row [data-action=resume-draft]").await;
    app.wait_attr(".wrap-up", "data-call-log-id", &first).await;
    app.type_into(".wrap-up .draft-notes", "Diego: invoice")
        .await;
    app.wait_text(".wrap-up .save-state", |t| t == "Saved on this computer")
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.attr(".wrap-up", "data-call-log-id").await.as_deref(),
        Some(first.as_str()),
        "typing moved another call's form under the agent"
    );

    // While they type, a third call rings, is answered by keyboard and ends from the far side:
    // the form being typed in stays, the new call's notes wait in the list.
    let before = js(
        &app,
        "return [...document.querySelectorAll('.draft-row')].length;",
    )
    .await;
    js(
        &app,
        "window.__TAURI_INTERNALS__.invoke('simulate_incoming', { number: '1001' }); return null;",
    )
    .await;
    app.wait(".call-card[data-status=ringing]").await;
    let alt_a = format!("{}a{}", char::from(Key::Alt), char::from(Key::Null));
    press(&app, &alt_a).await;
    app.wait(".call-card[data-status=talking]").await;
    let call_id = app
        .attr(".call-card[data-status=talking]", "data-call-id")
        .await
        .unwrap();
    js(
        &app,
        &format!(
            "window.__TAURI_INTERNALS__.invoke('simulate', {{ action: 'remote_hangup', callId: '{call_id}' }}); return null;"
        ),
    )
    .await;
    eventually(10, "the third call's draft in the list", || async {
        let rows = js(
            &app,
            "return [...document.querySelectorAll('.draft-row')].length;",
        )
        .await;
        (rows.as_u64() > before.as_u64()).then_some(())
    })
    .await;
    assert_eq!(
        app.attr(".wrap-up", "data-call-log-id").await.as_deref(),
        Some(first.as_str()),
        "a call that ended took the form the agent was typing in"
    );
    press(&app, " re-sent").await;
    app.wait_text(".wrap-up .save-state", |t| t == "Saved on this computer")
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let notes = saved_notes(&app);
    assert_eq!(notes[&first], "Diego: invoice re-sent");
    assert_eq!(notes[&second], "", "nothing landed on the other call");
    assert_eq!(notes.len(), 3);
    assert!(notes.values().filter(|n| n.is_empty()).count() == 2);
    app.screenshot("22-two-forms").await;
    app.close().await;
}

/// "A 100 KB note was accepted, refused by the backend, and the screen said 'Syncing 1…' for
/// ever; the note could not be reopened or corrected."
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_over_the_limit_are_held_back_and_a_refusal_reopens_them() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready("notes_limit").await;
    take_call_from(&app, "+15550100").await;
    app.wait(".wrap-up .draft-notes").await;
    // After hang-up the notes are where the agent types.
    let focused = js(
        &app,
        "return document.activeElement && document.activeElement.className;",
    )
    .await;
    assert_eq!(focused, json!("draft-notes"), "the notes field has focus");

    // 100 KB pasted: the form says how much is too much and will not submit.
    paste(&app, ".wrap-up .draft-notes", "'x'.repeat(100 * 1024)").await;
    app.wait_text(".wrap-up .notes-left", |t| {
        t.contains("remove 36864 characters")
    })
    .await;
    app.wait_attr(".wrap-up [data-action=submit-draft]", "disabled", "true")
        .await;
    app.screenshot("23-notes-too-long").await;

    // Within the contract's limit, but this customer's CRM takes 50 bytes at most.
    backend.set_faults(json!({"notes_max_bytes": 50})).await;
    paste(
        &app,
        ".wrap-up .draft-notes",
        "'The customer explained the whole billing history in detail.'",
    )
    .await;
    app.wait_text(".wrap-up .save-state", |t| t == "Saved on this computer")
        .await;
    app.click(".wrap-up [data-action=submit-draft]").await;
    app.wait_text(".notice[data-code=draft_submitted]", |t| {
        t.contains("Diego Alvarez")
    })
    .await;
    // Refused: the draft is back, with the backend's reason on it, and nothing is "syncing".
    app.wait_text(".wrap-up .refused", |t| {
        t.contains("notes are limited to 50 bytes")
    })
    .await;
    app.wait_text("#sync-state", |t| t == "Backend connected")
        .await;
    let text = js(
        &app,
        "return document.querySelector('.wrap-up .draft-notes').value;",
    )
    .await;
    assert_eq!(
        text,
        json!("The customer explained the whole billing history in detail."),
        "the refused notes are there to correct"
    );
    app.screenshot("24-notes-refused").await;

    app.clear_field(".wrap-up .draft-notes").await;
    app.type_into(".wrap-up .draft-notes", "Billing history explained.")
        .await;
    app.click(".wrap-up [data-action=submit-draft]").await;
    let drafts = eventually(15, "the corrected draft on the backend", || async {
        let d = backend.get("/api/call-drafts").await;
        let arr = d.as_array().cloned().unwrap_or_default();
        (arr.len() == 1 && arr[0]["notes"] == "Billing history explained.").then_some(arr)
    })
    .await;
    assert_eq!(drafts[0]["state"], "submitted");
    eventually(10, "the form gone", || async {
        (!app.exists(".wrap-up").await).then_some(())
    })
    .await;
    app.close().await;
}

/// "Queue calls rang while the agent was 'Logged out' or 'Paused — Lunch'. Offline, choosing
/// 'Paused — Break' left the menu on Break while the banner said the status was not changed."
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_menu_tells_the_truth_and_queues_respect_it() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready("status_truth").await;
    app.wait_attr("#agent-status", "data-state", "available")
        .await;
    app.wait_text("#agent-status option", |t| t.contains("Lunch"))
        .await;
    app.select("#agent-status", "paused:Lunch").await;
    app.wait_attr("#agent-status", "data-state", "paused:Lunch")
        .await;
    app.wait_attr("#agent-status", "data-pending", "false")
        .await;

    // Paused: the queue does not offer the call, and the agent is told why.
    app.click("#sim-incoming").await;
    app.wait_text(".notice[data-code=agent_not_available]", |t| {
        t.contains("paused")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !app.exists(".call-card").await,
        "a paused agent's phone rang"
    );
    app.click(".notice[data-code=agent_not_available] button")
        .await;

    // Offline, a change cannot be made: the menu goes back to what the backend has.
    backend.set_faults(json!({"down": true})).await;
    app.select("#agent-status", "paused:Break").await;
    app.wait_text(".notice", |t| t.contains("not changed"))
        .await;
    let shown = eventually(10, "the menu back on Lunch", || async {
        let v = js(
            &app,
            "return document.getElementById('agent-status').value;",
        )
        .await;
        (v == json!("paused:Lunch")).then_some(v)
    })
    .await;
    assert_eq!(shown, json!("paused:Lunch"));
    assert_eq!(
        app.attr("#agent-status", "data-pending").await.as_deref(),
        Some("false")
    );
    backend.set_faults(json!({})).await;
    let s = backend.get("/api/agent/status").await;
    assert_eq!(
        (s["state"].clone(), s["reason"].clone()),
        (json!("paused"), json!("Lunch"))
    );

    // Available again: the call rings.
    app.select("#agent-status", "available").await;
    app.wait_attr("#agent-status", "data-state", "available")
        .await;
    app.click("#sim-incoming").await;
    app.wait(".call-card[data-status=ringing]").await;
    app.close().await;
}

/// How long after `since` the backend pill said the backend is (`up`) or is not reachable.
async fn sync_pill_after(app: &App, since: Instant, up: bool) -> Duration {
    app.wait_text("#sync-state", |t| {
        if up {
            t == "Backend connected"
        } else {
            t.contains("unreachable")
        }
    })
    .await;
    since.elapsed()
}

/// Figures for the notes, not assertions: timings depend on the machine.
fn report(what: &str, detected: Duration, recovered: Duration) {
    eprintln!(
        "backend {what}: outage shown after {} ms, recovery after {} ms",
        detected.as_millis(),
        recovered.as_millis()
    );
}

/// "12 s after the backend died the header still said 'Backend connected'; when the longer pill
/// appeared the header wrapped, the page jumped ~90 px under the mouse."
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_shows_within_seconds_and_moves_nothing() {
    let _serial = SERIAL.lock().await;
    let (mut backend, app) = ready("outage_layout").await;
    app.wait_text("#sync-state", |t| t == "Backend connected")
        .await;
    app.wait_text("#live-state", |t| t == "Live updates on")
        .await;
    let rects = "return ['#dial-number', '#agent-status', '#sim-incoming', '.idle']
        .map(s => { const r = document.querySelector(s).getBoundingClientRect();
                    return [s, Math.round(r.left), Math.round(r.top), Math.round(r.width)]; });";
    let before = js(&app, rects).await;

    // The backend dies: its process is gone, connections refused.
    let died = Instant::now();
    backend.kill();
    let detected = sync_pill_after(&app, died, false).await;
    app.wait(".notice.offline").await;
    let after = js(&app, rects).await;
    app.screenshot("25-outage").await;
    assert_eq!(before, after, "a control moved when the backend went away");
    let backend = backend.restart().await;
    let recovered = sync_pill_after(&app, Instant::now(), true).await;
    report("killed", detected, recovered);

    // A hung backend (or a dead link) closes nothing: only the socket's heartbeat and the
    // probe's short timeout can tell. The issue's bar: shown within 5 s, recovery within 2 s.
    app.wait_text("#live-state", |t| t == "Live updates on")
        .await;
    let hung = Instant::now();
    backend.freeze(true);
    let detected = sync_pill_after(&app, hung, false).await;
    backend.freeze(false);
    let recovered = sync_pill_after(&app, Instant::now(), true).await;
    report("hung", detected, recovered);
    assert_eq!(
        js(&app, rects).await,
        before,
        "a control moved when the backend went away"
    );
    let _ = backend.admin(Method::GET, "/admin/faults", json!({})).await;
    app.close().await;
}

/// "'+33 (0)6 12-34 56 78' was dialled as +330612345678 (the national trunk prefix kept). A
/// pasted 100,000-digit number was dialled; the card pushed Cancel off screen."
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_are_dialled_as_people_write_them() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready("numbers").await;
    paste(&app, "#dial-number", "'1'.repeat(100000)").await;
    app.click("#dial-call").await;
    app.wait_text("#dial-error", |t| t.contains("Too long"))
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !app.exists(".call-card").await,
        "a 100,000-digit number was dialled"
    );

    // Emptied as a person would select all and delete (100,000 backspaces would take minutes).
    paste(&app, "#dial-number", "''").await;
    app.type_into("#dial-number", "+33 (0)6 12-34 56 78").await;
    app.click("#dial-call").await;
    app.wait(".call-card").await;
    let logs = eventually(15, "the call log", || async {
        let logs = backend.get("/api/call-logs").await;
        logs.as_array()
            .filter(|a| !a.is_empty())
            .map(|a| a[0].clone())
    })
    .await;
    assert_eq!(logs["to"], "+33612345678", "{logs}");
    app.close().await;
}

/// "Settings opened from the keyboard did not take focus, Tab went behind it, Escape did
/// nothing; after Alt+H the notes field was not focused." And during a call the digit keys
/// send tones, shown on the call; a held caller's wait is timed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shift_by_keyboard_alone() {
    use fantoccini::key::Key;
    let _serial = SERIAL.lock().await;
    let (_backend, app) = ready("keyboard").await;
    let focus_in = |css: &'static str| {
        let app = &app;
        async move {
            js(
                app,
                &format!(
                    "return !!(document.activeElement && document.activeElement.closest('{css}'));"
                ),
            )
            .await
                == json!(true)
        }
    };

    // Settings: opened with Enter, focus inside, Tab stays inside, Escape closes and returns.
    js(
        &app,
        "document.getElementById('settings-open').focus(); return null;",
    )
    .await;
    press(&app, &char::from(Key::Enter).to_string()).await;
    app.wait(".modal").await;
    assert!(focus_in(".modal").await, "the dialog took focus");
    for _ in 0..25 {
        press(&app, &char::from(Key::Tab).to_string()).await;
        let now = focused(&app).await;
        assert!(
            focus_in(".modal").await,
            "Tab left the dialog (now on {now})"
        );
    }
    let shift_tab = format!(
        "{}{}{}",
        char::from(Key::Shift),
        char::from(Key::Tab),
        char::from(Key::Null)
    );
    for _ in 0..5 {
        press(&app, &shift_tab).await;
        let now = focused(&app).await;
        assert!(
            focus_in(".modal").await,
            "Shift+Tab left the dialog (now on {now})"
        );
    }
    press(&app, &char::from(Key::Escape).to_string()).await;
    eventually(5, "the dialog closed", || async {
        (!app.exists(".modal").await).then_some(())
    })
    .await;
    assert_eq!(
        js(
            &app,
            "return document.activeElement && document.activeElement.id;"
        )
        .await,
        json!("settings-open"),
        "focus went back to the button that opened it"
    );

    // A call answered with Alt+A; tones by the digit keys; hold timed; Alt+H, then notes.
    app.click("#sim-incoming").await;
    app.wait(".call-card[data-status=ringing]").await;
    app.alt('a').await;
    app.wait(".call-card[data-status=talking]").await;
    js(
        &app,
        "document.querySelector('[data-action=hold]').focus(); return null;",
    )
    .await;
    press(&app, "12#").await;
    app.wait_text(".call-card .dtmf-sent", |t| t.ends_with("12#"))
        .await;
    let asked = app.phone_eval("return webphone_api.__sim.log();").await;
    let tones: Vec<Value> = asked
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c["fn"] == "dtmf")
        .map(|c| c["args"][0].clone())
        .collect();
    assert_eq!(tones, vec![json!("1"), json!("2"), json!("#")], "{asked}");

    app.alt('o').await;
    app.wait_text(".call-card .hold-timer", |t| t.ends_with("0:02"))
        .await;
    app.alt('o').await;
    eventually(5, "the hold timer gone", || async {
        (!app.exists(".call-card .hold-timer").await).then_some(())
    })
    .await;
    // The agent's last key press went to the dial field (that is where `alt` types); it is
    // empty, so the notes take focus after the hang-up.
    app.alt('h').await;
    app.wait(".wrap-up .draft-notes").await;
    eventually(5, "the notes focused", || async {
        focus_in(".wrap-up .draft-notes").await.then_some(())
    })
    .await;
    press(&app, "Typed without the mouse").await;
    app.wait_text(".wrap-up .save-state", |t| t == "Saved on this computer")
        .await;
    let notes = saved_notes(&app);
    assert_eq!(
        notes.values().next().map(String::as_str),
        Some("Typed without the mouse")
    );
    // Tab to Submit (through outcome, follow-up date and tags: the date field used to keep
    // Tab for ever) and press Enter.
    let mut on_submit = false;
    for _ in 0..8 {
        press(&app, &char::from(Key::Tab).to_string()).await;
        let action = js(
            &app,
            "return document.activeElement.dataset.action || null;",
        )
        .await;
        if action == json!("submit-draft") {
            on_submit = true;
            break;
        }
    }
    assert!(
        on_submit,
        "Tab never reached Submit (last on {})",
        focused(&app).await
    );
    press(&app, &char::from(Key::Enter).to_string()).await;
    app.wait(".notice[data-code=draft_submitted]").await;
    eventually(5, "the form gone", || async {
        (!app.exists(".wrap-up").await).then_some(())
    })
    .await;
    app.close().await;
}

/// A day's history is paged: the first 25 calls, then "Show more" adds the next ones. The
/// calls come as the real library reports them, through the bridge in the webphone's iframe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_history_is_shown_a_page_at_a_time() {
    let _serial = SERIAL.lock().await;
    let (_backend, app) = ready("history_pages").await;
    app.phone_eval(
        r#"
        const send = window.ringsideBridge.transport.send;
        for (let i = 0; i < 30; i++) {
          const id = "page-" + i, peer = "+1555" + String(1000000 + i).slice(1);
          const call = (state) => [state, 2, peer, peer, 1, "[" + id + "]"];
          send("call", call("setup"));
          send("call", call("ringing"));
          send("call", call("disconnected"));
        }
        return null;
        "#,
    )
    .await;
    let more = app
        .wait_text("#history-more", |t| t == "Show more (5 more)")
        .await;
    assert_eq!(more, "Show more (5 more)");
    let rows = js(
        &app,
        "return document.querySelectorAll('.recent-call').length;",
    )
    .await;
    assert_eq!(rows, json!(25));
    js(
        &app,
        "document.getElementById('history-more').scrollIntoView(); return null;",
    )
    .await;
    app.screenshot("26-history-pages").await;
    // The newest call is on top.
    app.wait_text(".recent-call .who", |t| t.ends_with("000029"))
        .await;
    app.click("#history-more").await;
    eventually(10, "every call shown", || async {
        let n = js(
            &app,
            "return document.querySelectorAll('.recent-call').length;",
        )
        .await;
        (n == json!(30)).then_some(())
    })
    .await;
    assert!(!app.exists("#history-more").await);

    // "Calls ringing unseen": scrolled to the bottom of the day's history, a call rings and
    // its card is in view, pinned under the header, with its buttons reachable.
    js(
        &app,
        "window.scrollTo(0, document.body.scrollHeight); return null;",
    )
    .await;
    js(
        &app,
        "window.__TAURI_INTERNALS__.invoke('simulate_incoming', { number: '+33612345678' }); return null;",
    )
    .await;
    app.wait(".call-card[data-status=ringing]").await;
    let place = js(
        &app,
        "const r = document.querySelector('.call-card[data-status=ringing]').getBoundingClientRect();
         return [window.scrollY, r.top, r.bottom, window.innerHeight];",
    )
    .await;
    let [scrolled, top, bottom, height] = [0, 1, 2, 3].map(|i| place[i].as_f64().unwrap());
    assert!(scrolled > 200.0, "the page is scrolled: {place}");
    assert!(
        top >= 86.0 && bottom <= height,
        "the ringing card is in view: {place}"
    );
    app.click(".call-card[data-status=ringing] [data-action=accept]")
        .await;
    app.wait(".call-card[data-status=talking]").await;
    app.close().await;
}

/// The webphone lives in the agent's window (issue 14): with that window minimised, its page
/// hidden and its timers throttled, a call still rings through, reaches the core and the
/// backend, and is on screen when the agent brings the window back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_rings_through_while_the_window_is_minimised() {
    let _serial = SERIAL.lock().await;
    let (backend, app) = ready("minimised").await;
    app.client.minimize_window().await.unwrap();
    let hidden = eventually(10, "the page is hidden", || async {
        let v = js(&app, "return document.visibilityState;").await;
        (v == json!("hidden")).then_some(v)
    })
    .await;
    assert_eq!(hidden, json!("hidden"));
    // What the demo panel's button asks for, asked while nobody can click it.
    js(
        &app,
        "window.__TAURI_INTERNALS__.invoke('simulate_incoming', { number: '+33612345678' }); return null;",
    )
    .await;
    let logged = eventually(20, "the ringing call logged while minimised", || async {
        let logs = backend.get("/api/call-logs").await;
        logs.as_array()
            .and_then(|a| a.iter().find(|l| l["status"] == json!("ringing")).cloned())
    })
    .await;
    assert_eq!(logged["direction"], json!("inbound"), "{logged}");
    app.client.maximize_window().await.unwrap();
    app.wait(".call-card[data-status=ringing]").await;
    app.alt('a').await;
    app.wait(".call-card[data-status=talking]").await;
    app.close().await;
}
