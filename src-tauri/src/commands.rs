//! The IPC surface. Every command returns `Result<_, IpcError>`, i.e. `{code, message}`.

use std::sync::Arc;

use ringside_core::{AgentStatus, CallDraft, Intent, IpcError, Preferences, Secret, Snapshot};
use ringside_service::Service;
use serde_json::Value;
use tauri::{State, Webview};
use tracing::instrument;

use crate::webphone;

/// Arguments longer than this are cut: the webphone's callbacks are short, and a runaway
/// library must not fill the journal.
const MAX_ARGS: usize = 32;

/// Ingress for the webphone's callbacks: the only command the webphone window may call.
#[tauri::command]
pub fn phone_event(
    webview: Webview,
    service: State<'_, Arc<Service>>,
    kind: String,
    args: Vec<Value>,
) -> Result<(), IpcError> {
    if webview.label() != webphone::WINDOW {
        return Err(IpcError::new(
            "forbidden",
            "phone events come from the webphone window only",
        ));
    }
    if kind.len() > 32 {
        return Err(IpcError::new(
            "phone_event_invalid",
            "callback kind too long",
        ));
    }
    let mut args = args;
    args.truncate(MAX_ARGS);
    service.phone_event(kind, args);
    Ok(())
}

/// Why the core could not start (a damaged or read-only profile, a bad config...), kept so
/// that the window can say it in plain words instead of staying blank.
pub struct StartupFailure(pub IpcError);

#[tauri::command]
pub fn get_snapshot(app: tauri::AppHandle) -> Result<Snapshot, IpcError> {
    use tauri::Manager;
    if let Some(service) = app.try_state::<Arc<Service>>() {
        return Ok(service.snapshot());
    }
    Err(app
        .try_state::<StartupFailure>()
        .map(|f| f.0.clone())
        .unwrap_or_else(|| IpcError::new("starting", "Ringside is still starting.")))
}

#[tauri::command]
#[instrument(skip(service), err(Debug))]
pub fn intent(service: State<'_, Arc<Service>>, intent: Intent) -> Result<(), IpcError> {
    service.intent(intent)
}

#[tauri::command]
pub fn save_draft(service: State<'_, Arc<Service>>, draft: CallDraft) -> Result<(), IpcError> {
    service.save_draft(draft)
}

#[tauri::command]
#[instrument(skip(service, draft), fields(call_log_id = %draft.call_log_id), err(Debug))]
pub fn submit_draft(service: State<'_, Arc<Service>>, draft: CallDraft) -> Result<(), IpcError> {
    service.submit_draft(draft)
}

#[tauri::command]
#[instrument(skip(service), err(Debug))]
pub fn simulate_incoming(service: State<'_, Arc<Service>>, number: String) -> Result<(), IpcError> {
    service.simulate_incoming(&number)
}

/// The password crosses IPC once, into a `Secret`, and is never logged.
#[tauri::command]
#[instrument(skip(service, password), err(Debug))]
pub async fn sign_in(
    service: State<'_, Arc<Service>>,
    username: String,
    password: String,
) -> Result<(), IpcError> {
    let service = service.inner().clone();
    service.sign_in(username, Secret(password)).await
}

#[tauri::command]
#[instrument(skip(service), err(Debug))]
pub async fn sign_out(service: State<'_, Arc<Service>>) -> Result<(), IpcError> {
    let service = service.inner().clone();
    service.sign_out().await
}

#[tauri::command]
#[instrument(skip(service), err(Debug))]
pub async fn set_agent_status(
    service: State<'_, Arc<Service>>,
    status: AgentStatus,
) -> Result<(), IpcError> {
    let service = service.inner().clone();
    service.set_agent_status(status).await
}

#[tauri::command]
pub fn set_preferences(
    service: State<'_, Arc<Service>>,
    preferences: Preferences,
) -> Result<(), IpcError> {
    service.set_preferences(preferences)
}

#[tauri::command]
#[instrument(skip(service), err(Debug))]
pub fn set_webphone_location(
    service: State<'_, Arc<Service>>,
    location: String,
) -> Result<(), IpcError> {
    service.set_webphone_location(&location)
}

#[tauri::command]
#[instrument(skip(service), err(Debug))]
pub fn simulate(
    service: State<'_, Arc<Service>>,
    action: String,
    call_id: Option<String>,
) -> Result<(), IpcError> {
    service.simulate(&action, call_id.as_deref())
}

#[tauri::command]
pub fn dismiss_notice(service: State<'_, Arc<Service>>) {
    service.dismiss_notice();
}
