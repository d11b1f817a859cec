//! System-wide shortcuts (`tauri-plugin-global-shortcut`): answer, hang up, mute and hold
//! from any application, as the agent's CRM usually has the focus. The keys come from the
//! settings (`shortcut_answer`…, IT may lock them or turn them all off with
//! `global_shortcuts = false`). Each is checked before it is taken: unreadable, the same keys
//! twice, or already taken by another application (the system refuses the grab). Settings
//! lists each with its state, and the core says once which are off and why.

use std::str::FromStr;
use std::sync::Mutex;

use ringside_core::desktop::{DesktopState, GlobalAction};
use ringside_core::ShortcutView;
use ringside_service::Handle;
use tauri::{AppHandle, Manager};
use tauri_plugin_global_shortcut::{GlobalShortcutExt, Shortcut, ShortcutState};
use tracing::{info, warn};

/// The desktop state as last heard, for the shortcuts to act on.
#[derive(Default)]
pub struct Latest(pub Mutex<DesktopState>);

/// The registered shortcuts and what each does.
#[derive(Default)]
struct Registered(Mutex<Vec<(Shortcut, GlobalAction)>>);

pub fn plugin() -> tauri::plugin::TauriPlugin<tauri::Wry> {
    tauri_plugin_global_shortcut::Builder::new()
        .with_handler(|app, shortcut, event| {
            if event.state != ShortcutState::Pressed {
                return;
            }
            let action = app.try_state::<Registered>().and_then(|r| {
                r.0.lock()
                    .ok()?
                    .iter()
                    .find(|(s, _)| s == shortcut)
                    .map(|(_, a)| *a)
            });
            if let Some(action) = action {
                act(app, action);
            }
        })
        .build()
}

/// Carries out `action` on the calls as last heard (a shortcut, or the tray's Hang up).
pub fn act(app: &AppHandle, action: GlobalAction) {
    let state = app
        .try_state::<Latest>()
        .and_then(|l| l.0.lock().ok().map(|s| s.clone()))
        .unwrap_or_default();
    let Some(intent) = action.intent(&state) else {
        info!(action = action.name(), "global shortcut: nothing to act on");
        return;
    };
    info!(action = action.name(), "global shortcut");
    if action == GlobalAction::Answer {
        crate::desktop::bring_forward(app);
    }
    if let Some(handle) = app.try_state::<Handle>() {
        let handle = handle.inner().clone();
        tauri::async_runtime::spawn(async move {
            if let Err(e) = handle.intent(intent).await {
                warn!(error = %e, "global shortcut refused");
            }
        });
    }
}

/// The shortcuts to register once the agent's window shows the core's state.
type Deferred = (Handle, bool, Vec<(String, String)>);
struct Pending(Mutex<Option<Deferred>>);

/// How long the shortcuts wait for the window before they are registered anyway (a window
/// that never loads still leaves the agent their keys).
const AT_THE_LATEST: std::time::Duration = std::time::Duration::from_secs(10);

/// Keeps the shortcuts for [`register_deferred`]. Each grab is a round trip to global-hotkey's
/// X11 thread, which looks for work every 50 ms, on the main thread: four took 150 ms of the
/// launch, before the window existed (and creating the window first was slower still: its
/// page's files are served by that same, busy, thread). Registered once the window has
/// subscribed, they cost the launch nothing.
pub fn defer(app: &AppHandle, handle: &Handle, enabled: bool, keys: &[(String, String)]) {
    app.manage(Pending(Mutex::new(Some((
        handle.clone(),
        enabled,
        keys.to_vec(),
    )))));
    let app = app.clone();
    std::thread::spawn(move || {
        std::thread::sleep(AT_THE_LATEST);
        register_deferred(&app);
    });
}

/// Registers the deferred shortcuts, once, off the calling thread.
pub fn register_deferred(app: &AppHandle) {
    let Some((handle, enabled, keys)) = app
        .try_state::<Pending>()
        .and_then(|p| p.0.lock().ok()?.take())
    else {
        return;
    };
    let app = app.clone();
    std::thread::spawn(move || register(&app, &handle, enabled, &keys));
}

/// Registers the configured shortcuts and tells the core what became of each.
fn register(app: &AppHandle, handle: &Handle, enabled: bool, keys: &[(String, String)]) {
    app.manage(Registered::default());
    let mut views = Vec::new();
    let mut taken: Vec<(Shortcut, GlobalAction)> = Vec::new();
    let mut seen: Vec<Shortcut> = Vec::new();
    for action in GlobalAction::ALL {
        let Some((_, text)) = keys.iter().find(|(a, _)| a == action.name()) else {
            continue;
        };
        let mut view = ShortcutView {
            action: action.name().to_string(),
            keys: text.clone(),
            active: false,
            problem: None,
        };
        if !enabled {
            view.problem = Some("turned off by policy".into());
            views.push(view);
            continue;
        }
        match Shortcut::from_str(text) {
            Err(e) => view.problem = Some(format!("unreadable keys ({e})")),
            Ok(s) if seen.contains(&s) => {
                view.problem = Some("the same keys as another of Ringside's shortcuts".into())
            }
            Ok(s) => {
                seen.push(s);
                match app.global_shortcut().register(s) {
                    Ok(()) => {
                        view.active = true;
                        taken.push((s, action));
                    }
                    Err(e) => {
                        warn!(keys = %text, error = %e, "global shortcut not registered");
                        view.problem = Some("taken by another application".into());
                    }
                }
            }
        }
        views.push(view);
    }
    if let Some(r) = app.try_state::<Registered>() {
        if let Ok(mut list) = r.0.lock() {
            *list = taken;
        }
    }
    let handle = handle.clone();
    tauri::async_runtime::spawn(async move {
        let _ = handle.report_shortcuts(views).await;
    });
}
