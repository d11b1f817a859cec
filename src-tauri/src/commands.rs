//! The IPC surface. Every command is async (Tauri runs synchronous commands on the main
//! thread, where a SQLite write would stall the window) and only forwards to the core's
//! event loop; every error reaches the UI as `{code, message}`.
//!
//! The names live once, in `ringside_core::ipc::COMMANDS`: `build.rs` declares them, and
//! the tests below check this handler list and both capability files against it.

use ringside_core::phone::INGRESS_MAX_BATCH;
use ringside_core::{
    AgentStatus, CallDraft, Intent, IpcError, OfferAction, PhoneCommand, Preferences, Secret,
    SnapshotDelta,
};
use ringside_service::Handle;
use serde_json::Value;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager};
use tracing::{debug, instrument};

/// Arguments longer than this are cut: the webphone's callbacks are short, and a runaway
/// library must not fill the journal.
const MAX_ARGS: usize = 32;

/// The list `tauri::generate_handler!` gets, written once; the test compares it with core's.
macro_rules! ipc_commands {
    ($callback:ident) => {
        $callback![
            phone_event,
            phone_attach,
            subscribe,
            intent,
            save_draft,
            submit_draft,
            simulate_incoming,
            sign_in,
            sign_out,
            set_agent_status,
            set_preferences,
            set_webphone_location,
            simulate,
            dismiss_notice,
            dial_offer,
            save_diagnostics,
            quit,
            set_start_at_login
        ]
    };
}
pub(crate) use ipc_commands;

/// Why the core could not start (a damaged or read-only profile, a bad config...), kept so
/// that the window can say it in plain words instead of staying blank.
pub struct StartupFailure(pub IpcError);

/// The running core, or why there is none.
fn core(app: &AppHandle) -> Result<Handle, IpcError> {
    if let Some(handle) = app.try_state::<Handle>() {
        return Ok(handle.inner().clone());
    }
    Err(app
        .try_state::<StartupFailure>()
        .map(|f| f.0.clone())
        .unwrap_or_else(|| IpcError::new("starting", "Ringside is still starting.")))
}

/// Ingress for the webphone's callbacks, relayed by the agent's window (`relay.js`) in the
/// order the library reported them, several at once when they came faster than the core
/// answered. Answered once the core journaled and handled them all.
#[tauri::command]
pub async fn phone_event(
    app: AppHandle,
    events: Vec<(String, Vec<Value>)>,
) -> Result<(), IpcError> {
    if events.len() > INGRESS_MAX_BATCH {
        return Err(IpcError::new(
            "phone_event_invalid",
            format!("too many callbacks in one batch (at most {INGRESS_MAX_BATCH})"),
        ));
    }
    let mut events = events;
    for (kind, args) in &mut events {
        if kind.len() > 32 {
            return Err(IpcError::new(
                "phone_event_invalid",
                "callback kind too long",
            ));
        }
        args.truncate(MAX_ARGS);
    }
    core(&app)?.phone_events(events).await
}

/// The relay hands over the channel the webphone's commands arrive on; it posts each to the
/// webphone's iframe, which has no IPC of its own.
#[tauri::command]
pub async fn phone_attach(app: AppHandle, commands: Channel<PhoneCommand>) -> Result<(), IpcError> {
    core(&app)?.attach_phone(sink(commands, "webphone")).await
}

/// A window's channel as the core's sink: `false` once the window is gone, and the core
/// stops sending until that window attaches again.
fn sink<T>(channel: Channel<T>, window: &'static str) -> Box<dyn Fn(&T) -> bool + Send>
where
    T: tauri::ipc::IpcResponse + Clone + Send + 'static,
{
    Box::new(move |item| match channel.send(item.clone()) {
        Ok(()) => true,
        Err(e) => {
            debug!(error = %e, window, "channel closed");
            false
        }
    })
}

/// The main window hands over the channel its snapshot deltas arrive on.
#[tauri::command]
pub async fn subscribe(app: AppHandle, updates: Channel<SnapshotDelta>) -> Result<(), IpcError> {
    core(&app)?.subscribe(sink(updates, "main")).await?;
    // The first snapshot is on its way to the window: the shortcuts' grabs can take the main
    // thread now.
    crate::shortcuts::register_deferred(&app);
    Ok(())
}

#[tauri::command]
#[instrument(skip(app, intent), fields(intent = ?intent.for_logs()), err(Debug))]
pub async fn intent(app: AppHandle, intent: Intent) -> Result<(), IpcError> {
    core(&app)?.intent(intent).await
}

#[tauri::command]
pub async fn save_draft(app: AppHandle, draft: CallDraft) -> Result<(), IpcError> {
    core(&app)?.save_draft(draft).await
}

#[tauri::command]
#[instrument(skip(app, draft), fields(call_log_id = %draft.call_log_id), err(Debug))]
pub async fn submit_draft(app: AppHandle, draft: CallDraft) -> Result<(), IpcError> {
    core(&app)?.submit_draft(draft).await
}

#[tauri::command]
#[instrument(skip(app), err(Debug))]
pub async fn simulate_incoming(app: AppHandle, number: String) -> Result<(), IpcError> {
    core(&app)?.simulate_incoming(number).await
}

/// The password crosses IPC once, into a `Secret`, and is never logged.
#[tauri::command]
#[instrument(skip(app, password), err(Debug))]
pub async fn sign_in(app: AppHandle, username: String, password: String) -> Result<(), IpcError> {
    core(&app)?.sign_in(username, Secret(password)).await
}

#[tauri::command]
#[instrument(skip(app), err(Debug))]
pub async fn sign_out(app: AppHandle) -> Result<(), IpcError> {
    core(&app)?.sign_out().await
}

#[tauri::command]
#[instrument(skip(app), err(Debug))]
pub async fn set_agent_status(app: AppHandle, status: AgentStatus) -> Result<(), IpcError> {
    core(&app)?.set_agent_status(status).await
}

#[tauri::command]
pub async fn set_preferences(app: AppHandle, preferences: Preferences) -> Result<(), IpcError> {
    core(&app)?.set_preferences(preferences).await
}

#[tauri::command]
#[instrument(skip(app), err(Debug))]
pub async fn set_webphone_location(app: AppHandle, location: String) -> Result<(), IpcError> {
    core(&app)?.set_webphone_location(location).await
}

#[tauri::command]
#[instrument(skip(app), err(Debug))]
pub async fn simulate(
    app: AppHandle,
    action: String,
    call_id: Option<String>,
) -> Result<(), IpcError> {
    core(&app)?.simulate(action, call_id).await
}

#[tauri::command]
pub async fn dismiss_notice(app: AppHandle) -> Result<(), IpcError> {
    core(&app)?.dismiss_notice().await
}

/// The agent's answer to a number a link offered: call, call after this one, or dismiss.
#[tauri::command]
#[instrument(skip(app), err(Debug))]
pub async fn dial_offer(app: AppHandle, action: OfferAction) -> Result<(), IpcError> {
    core(&app)?.dial_offer(action).await
}

/// The window's answer to the quit prompt: quit anyway, or stay.
#[tauri::command]
#[instrument(skip(app), err(Debug))]
pub async fn quit(app: AppHandle, confirmed: bool) -> Result<(), IpcError> {
    let answered = core(&app)?.answer_quit(confirmed).await;
    if confirmed {
        app.exit(0);
    }
    answered
}

/// Settings' "Start Ringside when I sign in": refused when IT decides it.
#[tauri::command]
#[instrument(skip(app), err(Debug))]
pub async fn set_start_at_login(app: AppHandle, enabled: bool) -> Result<(), IpcError> {
    use tauri_plugin_autostart::ManagerExt;
    let handle = core(&app)?;
    let locked = app.try_state::<RunConfig>().is_some_and(|c| {
        c.0.start_at_login.is_some() && c.0.locked.iter().any(|k| k == "start_at_login")
    });
    if locked {
        return Err(IpcError::new(
            "locked",
            "Your IT department decides whether Ringside starts at sign-in.",
        ));
    }
    let launcher = app.autolaunch();
    let result = if enabled {
        launcher.enable()
    } else {
        launcher.disable()
    };
    result.map_err(|e| IpcError::new("start_at_login_failed", e.to_string()))?;
    handle
        .report_start_at_login(launcher.is_enabled().ok())
        .await
}

/// The settings the app runs with, for the diagnostics archive.
pub struct RunConfig(pub ringside_service::Config);

/// Settings → "Save diagnostics": the support archive in the Downloads folder (else home);
/// answers with its path, which the window shows.
#[tauri::command]
#[instrument(skip(app), err(Debug))]
pub async fn save_diagnostics(app: AppHandle) -> Result<String, IpcError> {
    let config = app
        .try_state::<RunConfig>()
        .map(|c| c.0.clone())
        .ok_or_else(|| IpcError::new("starting", "Ringside is still starting."))?;
    let out = ringside_service::diagnostics::default_path()
        .ok_or_else(|| IpcError::new("diagnostics_failed", "This account has no home folder."))?;
    // Reading the logs and zipping them is blocking work: off the async threads.
    tauri::async_runtime::spawn_blocking(move || {
        ringside_service::diagnostics::write(&config, &crate::diagnostics::versions(), &out)
    })
    .await
    .map_err(|e| IpcError::new("diagnostics_failed", e.to_string()))?
    .map(|w| w.path.display().to_string())
    .map_err(|e| IpcError::new(e.code(), e.to_string()))
}

#[cfg(test)]
mod tests {
    use ringside_core::ipc::COMMANDS;

    macro_rules! names {
        ($($name:ident),*) => { vec![$(stringify!($name)),*] };
    }

    fn capability(file: &str) -> serde_json::Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("capabilities")
            .join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        serde_json::from_str(&text).unwrap_or_default()
    }

    #[test]
    fn the_handler_list_is_core_s_command_list() {
        let handlers: Vec<&str> = super::ipc_commands!(names);
        assert_eq!(handlers, COMMANDS);
    }

    /// The relay batches no more callbacks than `phone_event` takes: its `MAX_BATCH` is the
    /// core's, or every full batch would be refused.
    #[test]
    fn the_relay_batches_what_the_core_takes() {
        let relay = include_str!("../../ui/static/relay.js");
        let batch = format!(
            "var MAX_BATCH = {};",
            ringside_core::phone::INGRESS_MAX_BATCH
        );
        assert!(relay.contains(&batch), "relay.js must say {batch}");
    }

    /// One window, one capability: the webphone's iframe gets no IPC from Tauri (its scripts
    /// are injected into the top frame only, and each request must carry the window's invoke
    /// key), so there is no second capability to keep narrow.
    #[test]
    fn the_agent_s_window_is_granted_exactly_the_commands_and_is_the_only_one() {
        let main = capability("main.json");
        let granted: Vec<String> = main["permissions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str())
                    .filter(|p| p.starts_with("allow-"))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let expected: Vec<String> = COMMANDS
            .iter()
            .map(|n| format!("allow-{}", n.replace('_', "-")))
            .collect();
        assert_eq!(granted, expected);
        assert_eq!(main["windows"], serde_json::json!(["main"]));
        let files: Vec<String> = std::fs::read_dir(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("capabilities"),
        )
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
        assert_eq!(files, ["main.json"]);
    }
}
