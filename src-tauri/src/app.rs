//! The Tauri application: windows, state, and the outlet that turns service output into
//! events for the two webviews.

use std::sync::Arc;

use ringside_core::ipc::{PHONE_COMMAND_EVENT, SNAPSHOT_EVENT};
use ringside_core::Snapshot;
use ringside_service::{Config, Outlet, Service, WebphoneSource};
use serde_json::Value;
use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};
use tracing::{error, info};

use crate::{commands, logs, webphone};

struct TauriOutlet {
    app: AppHandle,
}

impl Outlet for TauriOutlet {
    fn snapshot(&self, snapshot: &Snapshot) {
        if let Err(e) = self.app.emit_to("main", SNAPSHOT_EVENT, snapshot) {
            tracing::debug!(error = %e, "snapshot not delivered");
        }
    }

    fn phone_command(&self, command: &Value) {
        if let Err(e) = self
            .app
            .emit_to(webphone::WINDOW, PHONE_COMMAND_EVENT, command)
        {
            error!(error = %e, "webphone command not delivered");
        }
    }
}

fn usage() -> i32 {
    eprintln!(
        "usage: ringside [--temp-profile] [--profile DIR]\n       ringside replay FILE [--extension EXT]"
    );
    2
}

pub fn run(args: &[String]) -> i32 {
    let mut temp_profile = false;
    let mut profile: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--temp-profile" => temp_profile = true,
            "--profile" => profile = it.next().cloned(),
            "-h" | "--help" => return usage(),
            _ => return usage(),
        }
    }
    let mut config = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ringside: {e}");
            return 1;
        }
    };
    let _temp_dir_guard;
    if temp_profile {
        let dir = std::env::temp_dir().join(format!("ringside-profile-{}", std::process::id()));
        config.profile_dir = dir.clone();
        _temp_dir_guard = TempDir(dir);
    }
    if let Some(p) = profile {
        config.profile_dir = p.into();
    }
    let _log_guard = logs::init(&config.profile_dir);
    info!(profile = %config.profile_dir.display(), mode = ?config.mode, webphone = ?config.webphone, "starting Ringside");
    let source: WebphoneSource = config.webphone.clone();
    let protocol_source = source.clone();

    let result = tauri::Builder::default()
        .register_uri_scheme_protocol(webphone::SCHEME, move |ctx, request| {
            webphone::serve(&protocol_source, ctx.webview_label(), &request)
        })
        .invoke_handler(tauri::generate_handler![
            commands::phone_event,
            commands::get_snapshot,
            commands::intent,
            commands::save_draft,
            commands::submit_draft,
            commands::simulate_incoming,
            commands::sign_in,
            commands::sign_out,
            commands::set_agent_status,
            commands::set_preferences,
            commands::set_webphone_location,
            commands::simulate,
            commands::dismiss_notice,
        ])
        .setup(move |app| {
            let outlet = Arc::new(TauriOutlet {
                app: app.handle().clone(),
            });
            match tauri::async_runtime::block_on(Service::start(config.clone(), outlet)) {
                Ok(service) => {
                    app.manage(service);
                }
                Err(e) => {
                    // The window still opens, and says what is wrong.
                    error!(error = %e, "the core could not start");
                    app.manage(commands::StartupFailure(e.to_ipc()));
                }
            }
            WebviewWindowBuilder::new(app, "main", WebviewUrl::App("index.html".into()))
                .title("Ringside")
                .inner_size(1120.0, 760.0)
                .min_inner_size(720.0, 520.0)
                .build()?;
            let host = webphone::host_url()
                .parse()
                .map_err(|e| format!("host URL: {e}"))?;
            WebviewWindowBuilder::new(app, webphone::WINDOW, WebviewUrl::CustomProtocol(host))
                .title("Ringside webphone")
                .visible(false)
                .build()?;
            Ok(())
        })
        .run(tauri::generate_context!());
    match result {
        Ok(()) => 0,
        Err(e) => {
            error!(error = %e, "Ringside stopped");
            eprintln!("ringside: {e}");
            1
        }
    }
}

/// Removes a `--temp-profile` directory when the app exits.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
