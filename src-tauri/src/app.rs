//! The Tauri application: its one window, the core's handle as managed state, and the
//! shutdown that lets the core finish its work when the app quits. Output reaches the window
//! through the channels it hands over (`subscribe`, and `phone_attach` for the webphone's
//! iframe, whose commands the window relays), never as app events.

use ringside_service::{Config, Handle, WebphoneSource};
use tauri::{Manager, RunEvent, WebviewUrl, WebviewWindowBuilder};
use tracing::{error, info};

use crate::{commands, logs, probe, webphone};

fn usage() -> i32 {
    eprintln!(
        "usage: ringside [--temp-profile] [--profile DIR]\n       ringside replay FILE [--extension EXT]\n       ringside --version"
    );
    2
}

/// What support asks first: the version, and whether this build can run demo mode alone.
pub fn version() -> String {
    format!(
        "ringside {} (demo backend: {})",
        env!("CARGO_PKG_VERSION"),
        if ringside_service::HAS_DEMO_BACKEND {
            "included"
        } else {
            "not included"
        }
    )
}

pub fn run(args: &[String]) -> i32 {
    let mut temp_profile = false;
    let mut profile: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--temp-profile" => temp_profile = true,
            "--profile" => profile = it.next().cloned(),
            "-V" | "--version" => {
                println!("{}", version());
                return 0;
            }
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
    // The profile holds customer data: owner-only before the first log line lands in it. A
    // failure here is reported by the core, which tries again and cannot start without it.
    let _ = ringside_service::secure_profile(&config.profile_dir);
    let _log_guard = logs::init(&config.profile_dir);
    info!(profile = %config.profile_dir.display(), mode = ?config.mode, webphone = ?config.webphone, "starting Ringside");
    let source: WebphoneSource = config.webphone.clone();
    let protocol_source = source.clone();

    let built = tauri::Builder::default()
        .register_uri_scheme_protocol(webphone::SCHEME, move |ctx, request| {
            webphone::serve(&protocol_source, ctx.webview_label(), &request)
        })
        .invoke_handler(commands::ipc_commands!(handlers))
        .setup(move |app| {
            probe::start(app.handle());
            match tauri::async_runtime::block_on(ringside_service::start(config.clone())) {
                Ok(handle) => {
                    app.manage(handle);
                }
                Err(e) => {
                    // The window still opens, and says what is wrong.
                    error!(error = %e, "the core could not start");
                    app.manage(commands::StartupFailure(e.to_ipc()));
                }
            }
            WebviewWindowBuilder::new(
                app,
                webphone::HOST_WEBVIEW,
                WebviewUrl::App("index.html".into()),
            )
            .title("Ringside")
            .inner_size(1120.0, 760.0)
            .min_inner_size(720.0, 520.0)
            .build()?;
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match built {
        Ok(app) => app,
        Err(e) => {
            error!(error = %e, "Ringside could not start");
            eprintln!("ringside: {e}");
            return 1;
        }
    };
    app.run(|app, event| {
        if let RunEvent::Exit = event {
            // The core finishes what it can (a write in flight, the journal) before the
            // process ends; the outbox keeps the rest for the next start.
            if let Some(handle) = app.try_state::<Handle>() {
                let handle = handle.inner().clone();
                tauri::async_runtime::block_on(handle.shutdown());
            }
        }
    });
    0
}

/// `generate_handler!` over the command list in `commands`.
macro_rules! handlers {
    ($($name:ident),*) => {
        tauri::generate_handler![$(commands::$name),*]
    };
}
use handlers;

/// Removes a `--temp-profile` directory when the app exits.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
