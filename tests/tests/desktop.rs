//! The desktop around the window (issue 11), in the real app under Xvfb against the reference
//! backend: a `tel:` link handed from a second launch to the running Ringside and offered to
//! the agent; an incoming call notified on a real D-Bus session bus, answered and declined from
//! the notification's buttons, with the window minimised.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ringside_desktop::testing::{NotificationServer, PrivateBus, Shown};
use ringside_e2e::{eventually, work_dir, App, Backend, Mode, SERIAL};
use serde_json::{json, Value};

async fn js(app: &App, script: &str) -> Value {
    app.client.execute(script, vec![]).await.unwrap()
}

async fn focused(app: &App) -> Value {
    js(
        app,
        "const a = document.activeElement; return a ? (a.id || a.tagName) : null;",
    )
    .await
}

/// A backend, and the app in demo mode on `bus` as its session bus, ready for calls.
async fn on_bus(dir: &std::path::Path, bus: &PrivateBus) -> (Backend, App) {
    let backend = Backend::start(dir).await;
    let app = App::launch_env(
        &backend,
        dir.join("profile"),
        Mode::Demo,
        &[("DBUS_SESSION_BUS_ADDRESS", &bus.address)],
    )
    .await;
    ready(&app).await;
    (backend, app)
}

async fn ready(app: &App) {
    app.wait_text("#registration", |t| t == "Phone ready").await;
    app.wait_text("#agent-name", |t| t.contains("1002")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tel_link_from_a_second_launch_is_offered_in_the_running_ringside() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("tel-link");
    let backend = Backend::start(&dir).await;
    let app = App::launch_env(&backend, dir.join("profile"), Mode::Demo, &[]).await;
    ready(&app).await;

    // The desktop runs `ringside tel:…` for a click on a link: it hands over and exits.
    let out = app.launch_again(&["tel:+33-6-12-34-56-78"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("handed over"));
    let title = app
        .wait_text("#dial-offer-title", |t| t.contains("+33612345678"))
        .await;
    assert_eq!(title, "Call +33612345678?");
    // `confirm`, the default: nothing dialled yet, and one key calls.
    assert!(!app.exists(".call-card").await);
    assert_eq!(focused(&app).await, json!("offer-call"));
    app.client
        .active_element()
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    app.wait(".call-card").await;
    assert!(!app.exists("#dial-offer").await);

    // During a call: offered, never dialled over it.
    let out = app.launch_again(&["dial", "1003"]).await;
    assert!(out.status.success());
    app.wait_text("#offer-call", |t| t == "Hold and call").await;
    app.screenshot("28-link-during-a-call").await;
    app.click("#offer-after").await;
    app.wait_attr("#dial-offer", "data-after-call", "true")
        .await;
    app.wait_text("#dial-offer-title", |t| t.contains("once this call ends"))
        .await;
    app.click(".call-card [data-action=hangup]").await;
    // The call ended: offered again, pre-filled, not dialled.
    app.wait_text("#offer-call", |t| t == "Call").await;
    assert!(!app.exists(".call-card").await);
    app.click("#offer-dismiss").await;
    app.wait_gone("#dial-offer").await;

    // A link with no number: the second launch says why and fails; the agent is told too.
    let out = app.launch_again(&["sip:alice@pbx.example.com"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"alice\" is not a number"), "{err}");
    app.wait_text(".notice[data-code=invalid_number]", |t| {
        t.contains("Ringside cannot call that link")
    })
    .await;
    assert!(!app.exists("#dial-offer").await);
    app.close().await;
}

fn notification_for(server: &NotificationServer, number: &str) -> Option<Shown> {
    server
        .shown()
        .into_iter()
        .rev()
        .find(|s| s.body.contains(number) && !s.closed)
}

async fn ring(app: &App, number: &str) {
    js(
        app,
        &format!(
            "window.__TAURI_INTERNALS__.invoke('simulate_incoming', {{ number: '{number}' }}); return null;"
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incoming_call_is_notified_and_answered_from_the_notification() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("notification");
    let bus = PrivateBus::start(&dir);
    let server = NotificationServer::start(&bus.address, true).await;
    let (backend, app) = on_bus(&dir, &bus).await;

    // The agent is in another application: the window is minimised.
    app.client.minimize_window().await.unwrap();
    ring(&app, "+33612345678").await;
    let shown = eventually(20, "the call notified", || async {
        notification_for(&server, "+33612345678")
    })
    .await;
    assert_eq!(shown.summary, "Incoming call");
    assert!(shown.body.contains("Queue"), "{}", shown.body);
    assert_eq!(shown.urgency, Some(2));
    assert_eq!(
        shown.actions,
        ["default", "", "answer", "Answer", "decline", "Decline"]
    );
    let buttons: Vec<&str> = shown
        .actions
        .chunks(2)
        .filter_map(|p| p.get(1).map(String::as_str))
        .filter(|l| !l.is_empty())
        .collect();
    ringside_e2e::render_view(
        "32-notification",
        &format!(
            "{}  ·  {}\n\n{}\n\n[ {} ]",
            shown.app_name,
            shown.summary,
            shown.body,
            buttons.join(" ]   [ ")
        ),
    );
    // The ringtone plays: the simulator does not ring by itself.
    let playing = eventually(10, "the ringtone sounding", || async {
        let v = js(
            &app,
            "return document.getElementById('ringtone').getAttribute('data-playing');",
        )
        .await;
        (v != json!("false") && v != json!("loading")).then_some(v)
    })
    .await;
    assert_eq!(playing, json!("true"), "the ringtone sounds");

    server.click(shown.id, "answer").await;
    app.wait(".call-card[data-status=talking]").await;
    let visible = eventually(10, "the window back", || async {
        let v = js(&app, "return document.visibilityState;").await;
        (v == json!("visible")).then_some(v)
    })
    .await;
    assert_eq!(visible, json!("visible"));
    assert_eq!(
        js(
            &app,
            "return document.getElementById('ringtone').getAttribute('data-playing');"
        )
        .await,
        json!("false"),
        "the ringtone stops once answered"
    );
    app.click(".call-card[data-status=talking] [data-action=hangup]")
        .await;

    // Declined from the notification: the call is rejected, nothing left up.
    ring(&app, "+33699999999").await;
    let shown = eventually(20, "the second call notified", || async {
        notification_for(&server, "+33699999999")
    })
    .await;
    server.click(shown.id, "decline").await;
    let rejected = eventually(20, "the rejected call logged", || async {
        let logs = backend.get("/api/call-logs").await;
        logs.as_array().and_then(|a| {
            a.iter()
                .find(|l| l["from"] == json!("+33699999999"))
                .filter(|l| l["status"] != json!("ringing"))
                .cloned()
        })
    })
    .await;
    assert_eq!(rejected["status"], json!("missed"), "{rejected}");

    // Answered in the window: the notification goes with the ringing.
    ring(&app, "+33611111111").await;
    let shown = eventually(20, "the third call notified", || async {
        notification_for(&server, "+33611111111")
    })
    .await;
    app.wait(".call-card[data-status=ringing]").await;
    app.click(".call-card[data-status=ringing] [data-action=accept]")
        .await;
    eventually(10, "the notification closed", || async {
        server
            .shown()
            .iter()
            .filter(|s| s.id == shown.id)
            .all(|s| s.closed)
            .then_some(())
    })
    .await;
    app.click(".call-card[data-status=talking] [data-action=hangup]")
        .await;

    // The agent tries the ringtone from Settings before the next call: one ring, then quiet.
    let ringtone = || async {
        js(
            &app,
            "return document.getElementById('ringtone').getAttribute('data-playing');",
        )
        .await
    };
    app.click("#settings-open").await;
    app.click("#ring-test").await;
    eventually(5, "the test ring sounding", || async {
        (ringtone().await == json!("true")).then_some(())
    })
    .await;
    eventually(8, "the test ring over", || async {
        (ringtone().await == json!("false")).then_some(())
    })
    .await;
    // At volume 0 there is nothing to hear, and nothing to test.
    js(
        &app,
        "const r = document.getElementById('ring-volume'); r.value = '0'; \
         r.dispatchEvent(new Event('change', { bubbles: true })); return null;",
    )
    .await;
    app.wait("#ring-test[disabled]").await;
    app.close().await;
}

/// Every file under `dir`, as bytes.
fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p, bytes));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_is_kept_in_the_keyring_across_a_restart_and_sign_out_forgets_it() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("keyring");
    let bus = PrivateBus::start(&dir);
    let keyring = ringside_desktop::testing::KeyringDaemon::start(&dir, &bus).await;
    let backend = Backend::start(&dir).await;
    let env = [("DBUS_SESSION_BUS_ADDRESS", bus.address.as_str())];
    let profile = dir.join("profile");
    let account = format!("demo@{}", backend.url.trim_end_matches('/'));

    let app = App::launch_env(&backend, profile.clone(), Mode::Live, &env).await;
    app.wait("#signin-username").await;
    assert!(
        !app.exists("#signin-no-keyring").await,
        "a keyring is there"
    );
    app.type_into("#signin-username", "demo").await;
    app.type_into("#signin-password", "demo").await;
    app.click("#signin-submit").await;
    ready(&app).await;
    let token = eventually(10, "the session kept in the keyring", || async {
        keyring.lookup(&account)
    })
    .await;
    app.close_and_wait().await;
    // Never in a plain file: not in the profile (database, journal, logs, config).
    for (path, bytes) in files_under(&profile) {
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "the refresh token is in {}",
            path.display()
        );
    }

    // A restart: signed in without the password; the single-use token replaced.
    let app = App::launch_env(&backend, profile.clone(), Mode::Live, &env).await;
    ready(&app).await;
    assert!(!app.exists("#signin-username").await);
    eventually(10, "the keyring holds the new token", || async {
        keyring.lookup(&account).filter(|t| *t != token)
    })
    .await;
    app.click("#sign-out").await;
    app.wait("#signin-username").await;
    eventually(10, "the keyring forgot it", || async {
        keyring.lookup(&account).is_none().then_some(())
    })
    .await;
    app.close_and_wait().await;

    // Signed out stays signed out.
    let app = App::launch_env(&backend, profile, Mode::Live, &env).await;
    app.wait("#signin-username").await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert!(app.exists("#signin-username").await);
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keyring_the_sign_in_screen_says_the_password_is_asked_each_time() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("no-keyring");
    // A session bus with no Secret Service on it.
    let bus = PrivateBus::start(&dir);
    let backend = Backend::start(&dir).await;
    let app = App::launch_env(
        &backend,
        dir.join("profile"),
        Mode::Live,
        &[("DBUS_SESSION_BUS_ADDRESS", bus.address.as_str())],
    )
    .await;
    let note = app
        .wait_text("#signin-no-keyring", |t| t.contains("no keyring"))
        .await;
    assert!(note.contains("never saved elsewhere"), "{note}");
    app.screenshot("29-sign-in-without-keyring").await;
    app.close().await;
}

/// The archive's entries and their text.
fn unzip(path: &std::path::Path) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut f, &mut text).unwrap();
            (f.name().unwrap().to_string(), text)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_diagnostics_hold_logs_and_sync_state_but_no_note_or_secret() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("diagnostics");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let backend = Backend::start(&dir).await;
    let home_s = home.to_string_lossy().into_owned();
    let app = App::launch_env(
        &backend,
        dir.join("profile"),
        Mode::Demo,
        &[("HOME", home_s.as_str())],
    )
    .await;
    ready(&app).await;
    // A call with notes typed and submitted, and one left open.
    let note = "Customer's card ends 4242, confidential";
    for submit in [true, false] {
        app.answer_demo_call().await;
        app.click(".call-card[data-status=talking] [data-action=hangup]")
            .await;
        app.type_into(".wrap-up .draft-notes", note).await;
        if submit {
            app.click(".wrap-up [data-action=submit-draft]").await;
            app.wait_gone(".wrap-up .draft-notes").await;
        }
    }
    // Saved from Settings, where the agent is told where the file is.
    app.click("#settings-open").await;
    app.click("#save-diagnostics").await;
    let saved = app
        .wait_text("#diagnostics-saved", |t| t.starts_with("Saved to "))
        .await;
    let path = std::path::PathBuf::from(saved.trim_start_matches("Saved to "));
    assert!(path.starts_with(&home), "{}", path.display());
    // And from the command line, while the app runs.
    let cli = dir.join("cli.zip");
    let out = app
        .launch_again(&["diagnostics", "--out", &cli.to_string_lossy()])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.close().await;

    for archive in [path, cli] {
        let entries = unzip(&archive);
        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        for want in [
            "versions.txt",
            "settings.txt",
            "sync-state.json",
            "README.txt",
        ] {
            assert!(names.contains(&want), "{want} missing: {names:?}");
        }
        assert!(names.iter().any(|n| n.starts_with("logs/")), "{names:?}");
        assert!(names.iter().any(|n| n.starts_with("journal/")), "{names:?}");
        let get = |n: &str| &entries.iter().find(|(name, _)| name == n).unwrap().1;
        assert!(get("versions.txt").contains("ringside 0.1.0"));
        let state: Value = serde_json::from_str(get("sync-state.json")).unwrap();
        assert_eq!(state["drafts"]["editing"], json!(1), "{state}");
        assert!(
            state["call_logs"]["answered"].as_u64().unwrap() >= 2,
            "{state}"
        );
        for (name, text) in &entries {
            assert!(!text.contains("4242"), "the note is in {name}");
            assert!(
                !text.contains("demo-sip-secret"),
                "the SIP password is in {name}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tray_menu_changes_status_and_quitting_during_a_call_asks_first() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("tray");
    let bus = PrivateBus::start(&dir);
    let tray = ringside_desktop::testing::TrayHost::start(&bus.address).await;
    let (_backend, app) = on_bus(&dir, &bus).await;
    let menu = eventually(20, "the tray's menu with the pause reasons", || async {
        let m = tray.menu().await;
        m.iter().any(|e| e.label.contains("Lunch")).then_some(m)
    })
    .await;
    let labels: Vec<&str> = menu
        .iter()
        .filter(|e| !e.separator)
        .map(|e| e.label.as_str())
        .collect();
    assert_eq!(
        labels,
        [
            "Show Ringside",
            "Available",
            "Paused — Lunch",
            "Paused — Break",
            "Paused — Wrap up",
            "Log out of queues",
            "Hang up",
            "Quit Ringside"
        ]
    );
    ringside_e2e::render_view(
        "33-tray-menu",
        &menu
            .iter()
            .map(|e| {
                if e.separator {
                    "────────────────────".to_string()
                } else {
                    let mark = match e.checked {
                        Some(1) => "✓ ",
                        Some(0) => "   ",
                        _ => "",
                    };
                    let dim = if e.enabled { "" } else { "  (greyed out)" };
                    format!("{mark}{}{dim}", e.label)
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let entry = |m: &[ringside_desktop::testing::TrayEntry], l: &str| {
        m.iter().find(|e| e.label == l).cloned().unwrap()
    };
    assert_eq!(entry(&menu, "Available").checked, Some(1));
    assert!(!entry(&menu, "Hang up").enabled, "no call to hang up");

    // A status from the tray reaches the backend (the header shows what it answered).
    tray.click("Paused — Lunch").await;
    app.wait_attr("#agent-status", "data-state", "paused:Lunch")
        .await;
    eventually(10, "the tray shows the pause", || async {
        let m = tray.menu().await;
        (m.iter()
            .any(|e| e.label == "Paused — Lunch" && e.checked == Some(1)))
        .then_some(())
    })
    .await;
    tray.click("Available").await;
    app.wait_attr("#agent-status", "data-state", "available")
        .await;

    // Quitting during a call: the window asks, Stay is the default, and the call goes on.
    app.answer_demo_call().await;
    eventually(10, "hang up enabled", || async {
        entry(&tray.menu().await, "Hang up").enabled.then_some(())
    })
    .await;
    tray.click("Quit Ringside").await;
    let warning = app
        .wait_text("#quit-warning", |t| t.contains("cut off"))
        .await;
    assert_eq!(warning, "The call in progress will be cut off.");
    assert_eq!(
        js(&app, "return document.activeElement.id;").await,
        json!("quit-stay")
    );
    app.screenshot("30-quit-during-a-call").await;
    app.click("#quit-stay").await;
    app.wait_gone("#quit-prompt").await;
    app.wait(".call-card[data-status=talking]").await;

    // Hang up from the tray; the unfinished after-call form is what quitting would lose now.
    tray.click("Hang up").await;
    app.wait(".wrap-up").await;
    tray.click("Quit Ringside").await;
    app.wait_text("#quit-warning", |t| t.contains("after-call form"))
        .await;
    // Clicked from a script: the app exits under WebDriver, which would otherwise wait on a
    // page that is gone and retry the click.
    let _ = app
        .client
        .execute(
            "setTimeout(() => document.getElementById('quit-anyway').click(), 0); return null;",
            vec![],
        )
        .await;
    ringside_e2e::exited(&app.profile).await;
}

/// Keys pressed on the X display, as from another application's window.
fn xdotool(keys: &str) {
    let status = std::process::Command::new("xdotool")
        .args(["key", "--clearmodifiers", keys])
        .status()
        .expect("xdotool (Debian's xdotool; cargo xtask setup installs it)");
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_shortcuts_work_from_outside_and_a_taken_one_is_said() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("shortcuts");
    let backend = Backend::start(&dir).await;
    let app = App::launch_env(&backend, dir.join("profile"), Mode::Demo, &[]).await;
    ready(&app).await;
    app.client.minimize_window().await.unwrap();
    ring(&app, "+33612345678").await;
    app.wait(".call-card[data-status=ringing]").await;
    xdotool("ctrl+alt+a");
    app.wait(".call-card[data-status=talking]").await;
    xdotool("ctrl+alt+m");
    app.wait_attr("[data-action=mute]", "aria-pressed", "true")
        .await;
    xdotool("ctrl+alt+o");
    app.wait_attr("[data-action=hold]", "aria-pressed", "true")
        .await;
    xdotool("ctrl+alt+o");
    app.wait_attr("[data-action=hold]", "aria-pressed", "false")
        .await;
    xdotool("ctrl+alt+h");
    app.wait(".wrap-up").await;
    assert!(!app.exists(".call-card").await);

    // A second Ringside (another profile) cannot take the same keys: it says so, and its own
    // duplicate is refused too; the first keeps working.
    let other = App::launch_env(
        &backend,
        dir.join("profile-2"),
        Mode::Demo,
        &[("RINGSIDE_SHORTCUT_HOLD", "Ctrl+Alt+M")],
    )
    .await;
    other.wait_text("#agent-name", |t| t.contains("1002")).await;
    other.click("#settings-open").await;
    let answer = other
        .wait_text("#global-shortcuts tr[data-action=answer]", |t| {
            !t.is_empty()
        })
        .await;
    assert!(answer.contains("taken by another application"), "{answer}");
    assert_eq!(
        other
            .attr("#global-shortcuts tr[data-action=hold]", "data-active")
            .await
            .as_deref(),
        Some("false")
    );
    other
        .wait_text("#global-shortcuts tr[data-action=hold]", |t| {
            t.contains("the same keys")
        })
        .await;
    other.screenshot("31-shortcuts-taken").await;
    other.close().await;
    app.close().await;
}

/// Waits until Settings' "start at login" box shows `on`.
async fn start_at_login_shows(app: &App, on: bool) {
    eventually(10, "the start-at-login box", || async {
        let v = js(
            app,
            "const b = document.getElementById('start-at-login'); return b ? b.checked : null;",
        )
        .await;
        (v == json!(on)).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_at_login_and_the_window_s_place_are_kept() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("autostart");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let home_s = home.to_string_lossy().into_owned();
    let env = [("HOME", home_s.as_str()), ("XDG_CONFIG_HOME", "")];
    let backend = Backend::start(&dir).await;
    let profile = dir.join("profile");
    let app = App::launch_env(&backend, profile.clone(), Mode::Demo, &env).await;
    ready(&app).await;
    app.click("#settings-open").await;
    start_at_login_shows(&app, false).await;
    app.click("#start-at-login").await;
    let entry = home.join(".config/autostart/Ringside.desktop");
    let text = eventually(10, "the login entry written", || async {
        std::fs::read_to_string(&entry).ok()
    })
    .await;
    assert!(text.contains("--minimized"), "{text}");
    app.click("#settings-close").await;

    // The agent moves and sizes the window, then quits.
    app.client.set_window_rect(40, 30, 1000, 700).await.unwrap();
    let before = app.client.get_window_size().await.unwrap();
    assert_ne!(
        before,
        (1120, 760),
        "the window was resized from its default"
    );
    // The app may be gone before WebDriver has answered the script (the fresh-clone run met
    // it as an "unknown error"): that it quit is what `exited` checks.
    let _ = app
        .client
        .execute(
            "window.__TAURI_INTERNALS__.invoke('quit', { confirmed: true }); return null;",
            vec![],
        )
        .await;
    ringside_e2e::exited(&profile).await;
    drop(app);

    let app = App::launch_env(&backend, profile.clone(), Mode::Demo, &env).await;
    ready(&app).await;
    let after = app.client.get_window_size().await.unwrap();
    assert_eq!(after, before, "the window's size is kept");
    // Turned off again: the entry goes.
    app.click("#settings-open").await;
    start_at_login_shows(&app, true).await;
    app.click("#start-at-login").await;
    eventually(10, "the login entry removed", || async {
        (!entry.exists()).then_some(())
    })
    .await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_dial_policy_a_link_calls_at_once() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("tel-dial");
    // A desktop with no tray (a bus with no StatusNotifierWatcher), as on a bare GNOME.
    let bus = PrivateBus::start(&dir);
    let backend = Backend::start(&dir).await;
    let app = App::launch_env(
        &backend,
        dir.join("profile"),
        Mode::Demo,
        &[
            ("RINGSIDE_LINK_ACTION", "dial"),
            ("DBUS_SESSION_BUS_ADDRESS", &bus.address),
        ],
    )
    .await;
    ready(&app).await;
    let out = app.launch_again(&["callto://+1-555-0100"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.wait(".call-card").await;
    assert!(!app.exists("#dial-offer").await, "dialled, not offered");
    app.wait_text(".call-card .contact-name, .call-card .peer", |t| {
        t.contains("+15550100")
    })
    .await;

    // No tray to come back from: the close button quits, and during a call asks first.
    let window = app.window().await;
    window.close_button();
    app.wait_text("#quit-warning", |t| t.contains("cut off"))
        .await;
    assert!(window.shown(), "never hidden with no tray to bring it back");
    app.click("#quit-stay").await;
    app.wait_gone("#quit-prompt").await;
    app.close().await;
}

/// The window's close button (a window manager's `WM_DELETE_WINDOW`, not WebDriver's close,
/// which destroys the window without asking) keeps Ringside in the tray, even during a call;
/// a ringing call flags the window urgent until it is answered, and by default does not pull a
/// hidden window forward.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_close_button_hides_to_the_tray_and_a_ring_flags_the_window() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("close-to-tray");
    let bus = PrivateBus::start(&dir);
    let tray = ringside_desktop::testing::TrayHost::start(&bus.address).await;
    let (backend, app) = on_bus(&dir, &bus).await;
    let window = app.window().await;
    assert!(window.shown());
    assert!(!window.urgent(), "nothing rings yet");

    ring(&app, "+33612345678").await;
    app.wait(".call-card[data-status=ringing]").await;
    eventually(10, "the urgency hint while ringing", || async {
        window.urgent().then_some(())
    })
    .await;
    app.click(".call-card[data-status=ringing] [data-action=accept]")
        .await;
    app.wait(".call-card[data-status=talking]").await;
    eventually(10, "the urgency hint gone once answered", || async {
        (!window.urgent()).then_some(())
    })
    .await;

    // The close button during a call: hidden, not quit, and the call goes on.
    window.close_button();
    eventually(10, "the window hidden to the tray", || async {
        (!window.shown()).then_some(())
    })
    .await;
    eventually(10, "the tray still answering", || async {
        tray.menu()
            .await
            .iter()
            .any(|e| e.label == "Hang up" && e.enabled)
            .then_some(())
    })
    .await;
    tray.click("Show Ringside").await;
    eventually(10, "the window back from the tray", || async {
        window.shown().then_some(())
    })
    .await;
    app.wait(".call-card[data-status=talking]").await;
    tray.click("Hang up").await;
    app.wait(".wrap-up").await;

    // Hidden again, a new call rings: notified (see the notification test) and flagged, but
    // the window is not pulled over the agent's work unless IT sets `raise_on_ring`.
    window.close_button();
    eventually(10, "hidden again", || async {
        (!window.shown()).then_some(())
    })
    .await;
    ring(&app, "+33611111111").await;
    eventually(20, "the second call ringing at the backend", || async {
        let logs = backend.get("/api/call-logs").await;
        logs.as_array()?
            .iter()
            .any(|l| l["from"] == json!("+33611111111"))
            .then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(!window.shown(), "raise_on_ring is off by default");
    app.close().await;
}

/// With `raise_on_ring`, a call brings the hidden window forward by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_raise_on_ring_a_call_brings_the_hidden_window_forward() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("raise-on-ring");
    let bus = PrivateBus::start(&dir);
    let _tray = ringside_desktop::testing::TrayHost::start(&bus.address).await;
    let backend = Backend::start(&dir).await;
    let app = App::launch_env(
        &backend,
        dir.join("profile"),
        Mode::Demo,
        &[
            ("DBUS_SESSION_BUS_ADDRESS", &bus.address),
            ("RINGSIDE_RAISE_ON_RING", "true"),
        ],
    )
    .await;
    ready(&app).await;
    let window = app.window().await;
    window.close_button();
    eventually(10, "the window hidden to the tray", || async {
        (!window.shown()).then_some(())
    })
    .await;
    ring(&app, "+33612345678").await;
    eventually(10, "the window raised by the ring", || async {
        window.shown().then_some(())
    })
    .await;
    app.wait(".call-card[data-status=ringing]").await;
    app.close().await;
}

/// The environment a process started with (`/proc/<pid>/environ`), by exe name.
fn environs(app: &App) -> Vec<(String, Vec<String>)> {
    ringside_e2e::descendants(app.driver_pid())
        .into_iter()
        .filter_map(|pid| {
            let name = ringside_e2e::exe_name(pid);
            let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
            let vars = env
                .split(|b| *b == 0)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect();
            Some((name, vars))
        })
        .filter(|(name, _)| name == "WebKitWebProcess" || name == "WebKitNetworkProcess")
        .collect()
}

/// docs/deployment.md: fixed glibc thresholds make the web processes give freed memory back;
/// the app sets them before it starts any, they inherit them, and a value set outside is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_processes_run_with_allocator_thresholds_that_give_memory_back() {
    let _serial = SERIAL.lock().await;
    for key in ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"] {
        assert!(
            std::env::var_os(key).is_none(),
            "{key} is set in the test's own environment: the test would prove nothing"
        );
    }
    let dir = work_dir("allocator-thresholds");
    let backend = Backend::start(&dir).await;
    for (outside, trim) in [(None, "131072"), (Some("262144"), "262144")] {
        let env: Vec<(&str, &str)> = outside
            .map(|v| vec![("MALLOC_TRIM_THRESHOLD_", v)])
            .unwrap_or_default();
        let app = App::launch_env(&backend, dir.join("profile"), Mode::Demo, &env).await;
        ready(&app).await;
        let procs = environs(&app);
        for name in ["WebKitWebProcess", "WebKitNetworkProcess"] {
            let (_, vars) = procs
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("no {name} among {procs:?}"));
            assert!(
                vars.iter().any(|v| v == "MALLOC_MMAP_THRESHOLD_=131072"),
                "{name}: {vars:?}"
            );
            assert!(
                vars.iter()
                    .any(|v| *v == format!("MALLOC_TRIM_THRESHOLD_={trim}")),
                "{name}: {vars:?}"
            );
        }
        app.close_and_wait().await;
    }
}
