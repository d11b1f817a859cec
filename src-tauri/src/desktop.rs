//! The desktop around the window, wired to the core (`ringside-desktop` does the work): one
//! instance per profile, later launches handing their link over; incoming calls notified with
//! Answer and Decline; the taskbar's urgency hint while a call rings; the window raised, by
//! setting.

use std::path::Path;
use std::time::Duration;

use ringside_core::desktop::DesktopState;
use ringside_desktop::instance::Listener;
use ringside_desktop::notify::Notifier;
use ringside_desktop::ring::Reaction;
use ringside_service::Handle;
use tauri::{AppHandle, Manager, UserAttentionType};
use tracing::{info, warn, Instrument};

use crate::webphone::HOST_WEBVIEW;

/// What a launch asks of the running instance: `["link", X]` to call X, `[]` to come forward.
pub fn request(link: Option<&str>) -> Vec<String> {
    match link {
        Some(l) => vec!["link".into(), l.into()],
        None => Vec::new(),
    }
}

fn requested_link(args: &[String]) -> Option<&str> {
    match args {
        [kind, link] if kind == "link" => Some(link.as_str()),
        _ => None,
    }
}

/// The agent's window to the front: un-minimised, shown (it may be in the tray), focused.
pub fn bring_forward(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(HOST_WEBVIEW) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Listens for later launches on `profile`. Call only once the core holds the profile.
pub fn listen(app: &AppHandle, profile: &Path) -> Option<Listener> {
    let app = app.clone();
    let on_args = move |args: Vec<String>| {
        info!(
            link = requested_link(&args).is_some(),
            "a later launch handed over"
        );
        bring_forward(&app);
        let Some(link) = requested_link(&args) else {
            return Ok(());
        };
        let Some(handle) = app.try_state::<Handle>() else {
            return Err("Ringside could not start its core; see its window".to_string());
        };
        let handle = handle.inner().clone();
        tauri::async_runtime::block_on(handle.open_link(link.to_string())).map_err(|e| e.message)
    };
    match Listener::start(profile, on_args) {
        Ok(l) => Some(l),
        Err(e) => {
            warn!(error = %e, "later launches will not reach this one");
            None
        }
    }
}

/// Start at login: IT's setting applied at every start, then what the system says reported
/// to Settings. The entry starts Ringside minimised (`--minimized`).
pub fn apply_start_at_login(app: &AppHandle, handle: &Handle, policy: Option<bool>) {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    if let Some(on) = policy {
        if launcher.is_enabled().ok() != Some(on) {
            let result = if on {
                launcher.enable()
            } else {
                launcher.disable()
            };
            if let Err(e) = result {
                warn!(error = %e, on, "start at login not applied");
            }
        }
    }
    let now = launcher.is_enabled().ok();
    let handle = handle.clone();
    tauri::async_runtime::spawn(async move {
        let _ = handle.report_start_at_login(now).await;
    });
}

/// Watches the core's desktop state: notifications, the urgency hint, the raised window.
pub fn watch(app: &AppHandle, handle: &Handle, raise_on_ring: bool) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<DesktopState>();
    let sink_tx = tx.clone();
    let app = app.clone();
    let core = handle.clone();
    tauri::async_runtime::spawn(
        async move {
            if let Err(e) = core
                .watch_desktop(Box::new(move |s| sink_tx.send(s.clone()).is_ok()))
                .await
            {
                warn!(error = %e, "desktop state unavailable");
                return;
            }
            drop(tx);
            let notifier = match tokio::time::timeout(
                Duration::from_secs(3),
                Notifier::connect(None),
            )
            .await
            {
                Ok(Ok(n)) => Some(n),
                Ok(Err(e)) => {
                    warn!(error = %e, "incoming calls are shown by the window and the taskbar only");
                    None
                }
                Err(_) => {
                    warn!("the notification server did not answer; incoming calls are shown by the window and the taskbar only");
                    None
                }
            };
            let notes = notifier.map(|n| {
                let (ntx, nrx) = tokio::sync::mpsc::unbounded_channel();
                let app = app.clone();
                let core = core.clone();
                tauri::async_runtime::spawn(n.run(nrx, move |reaction| {
                    react(&app, &core, reaction);
                }));
                ntx
            });
            let mut was_ringing = false;
            while let Some(state) = rx.recv().await {
                crate::tray::update(&app, &state);
                if let Some(latest) = app.try_state::<crate::shortcuts::Latest>() {
                    if let Ok(mut l) = latest.0.lock() {
                        l.clone_from(&state);
                    }
                }
                let ringing = !state.ringing.is_empty();
                if ringing != was_ringing {
                    attention(&app, ringing, raise_on_ring);
                    was_ringing = ringing;
                }
                if let Some(n) = &notes {
                    let _ = n.send(state);
                }
            }
        }
        .instrument(tracing::info_span!("desktop")),
    );
}

fn attention(app: &AppHandle, ringing: bool, raise: bool) {
    let Some(w) = app.get_webview_window(HOST_WEBVIEW) else {
        return;
    };
    // The taskbar entry flashes (X11: the urgency hint) until the call stops ringing.
    let kind = ringing.then_some(UserAttentionType::Critical);
    if let Err(e) = w.request_user_attention(kind) {
        warn!(error = %e, "urgency hint not set");
    }
    if ringing && raise {
        bring_forward(app);
    }
}

fn react(app: &AppHandle, core: &Handle, reaction: Reaction) {
    match reaction {
        Reaction::Focus => bring_forward(app),
        Reaction::Intent { intent, focus } => {
            if focus {
                bring_forward(app);
            }
            let core = core.clone();
            tauri::async_runtime::spawn(async move {
                if let Err(e) = core.intent(intent).await {
                    // Too late (answered elsewhere, or the caller gave up): the window says.
                    warn!(error = %e, "notification action refused");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    /// A clicked `tel:` link reaches Ringside only if the packages declare the schemes and the
    /// desktop entry passes the URL (`%u`): Tauri's own template has no `%u`.
    #[test]
    fn the_packages_declare_the_link_schemes_and_pass_the_link() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let conf: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("tauri.conf.json")).unwrap_or_default(),
        )
        .unwrap_or_default();
        assert_eq!(
            conf["plugins"]["deep-link"]["desktop"]["schemes"],
            serde_json::json!(["tel", "sip", "sips", "callto"])
        );
        for pkg in ["deb", "rpm"] {
            let template = conf["bundle"]["linux"][pkg]["desktopTemplate"]
                .as_str()
                .unwrap_or_default();
            assert!(!template.is_empty(), "{pkg} has no desktop template");
            let text = std::fs::read_to_string(dir.join(template)).unwrap_or_default();
            assert!(text.contains("Exec={{exec}} %u"), "{pkg}: {text}");
            assert!(text.contains("MimeType={{mime_type}}"), "{pkg}: {text}");
        }
    }
}
