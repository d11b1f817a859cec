//! The Tauri application: its one window, the core's handle as managed state, and the
//! shutdown that lets the core finish its work when the app quits. Output reaches the window
//! through the channels it hands over (`subscribe`, and `phone_attach` for the webphone's
//! iframe, whose commands the window relays), never as app events.

use ringside_core::IpcError;
use ringside_service::{Config, Handle, WebphoneSource};
use std::time::Duration;

use tauri::{Manager, RunEvent, WebviewUrl, WebviewWindowBuilder};
use tracing::{error, info, warn};

use crate::{commands, desktop, logs, probe, shortcuts, tray, updates, webphone};

fn usage() -> i32 {
    eprintln!(
        "usage: ringside [--temp-profile] [--profile DIR] [tel:NUMBER | sip:NUMBER@HOST | callto:NUMBER]\n       ringside [--profile DIR] dial NUMBER\n       ringside replay FILE [--extension EXT]\n       ringside policy\n       ringside --version\n\nA link or a number goes to the Ringside already running on the profile, if one is."
    );
    2
}

/// A command-line argument that is a click-to-dial link (what the desktop passes for `%u`).
fn is_link(arg: &str) -> bool {
    let lower = arg.to_ascii_lowercase();
    ["tel:", "sip:", "sips:", "callto:"]
        .iter()
        .any(|s| lower.starts_with(s))
}

/// Tauri's context (config, assets): one place, so the assets are embedded once.
fn context() -> tauri::Context<tauri::Wry> {
    tauri::generate_context!()
}

/// What support asks first: the version, and whether this build can run demo mode alone.
/// The version is the app's (Tauri's config), which the bundles and the updater go by.
pub fn version() -> String {
    format!(
        "ringside {} (demo backend: {})",
        context().package_info().version,
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
    let mut link: Option<String> = None;
    let mut minimized = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--temp-profile" => temp_profile = true,
            // How the login entry starts it: in the taskbar, not in the agent's face.
            "--minimized" => minimized = true,
            "--profile" => profile = it.next().cloned(),
            "-V" | "--version" => {
                println!("{}", version());
                return 0;
            }
            "dial" if link.is_none() => match it.next() {
                Some(n) => link = Some(n.clone()),
                None => return usage(),
            },
            l if is_link(l) && link.is_none() => link = Some(l.to_string()),
            _ => return usage(),
        }
    }
    // Started by the version this one replaces: it must be gone before this one looks for a
    // running Ringside to hand over to.
    updates::wait_for_previous();
    let mut config = match Config::load() {
        Ok(c) => c,
        Err(e) => return cannot_start(&e),
    };
    let _temp_dir_guard;
    if temp_profile {
        let dir = std::env::temp_dir().join(format!("ringside-profile-{}", std::process::id()));
        if let Err(e) = config.profile_from_command_line(dir.clone(), "--temp-profile") {
            return cannot_start(&e);
        }
        _temp_dir_guard = TempDir(dir);
    }
    if let Some(p) = profile {
        if let Err(e) = config.profile_from_command_line(p.into(), "--profile") {
            return cannot_start(&e);
        }
    }
    let request = desktop::request(link.as_deref());
    if let Some(code) = hand_over(&config.profile_dir, &request, Duration::ZERO) {
        return code;
    }
    // The profile holds customer data: owner-only before the first log line lands in it. A
    // failure here is reported by the core, which tries again and cannot start without it.
    let _ = ringside_service::secure_profile(&config.profile_dir);
    let _log_guard = logs::init(&config.profile_dir);
    info!(profile = %config.profile_dir.display(), mode = ?config.mode, webphone = ?config.webphone, "starting Ringside");
    let source: WebphoneSource = config.webphone.clone();
    let protocol_source = source.clone();
    let webphone_connect = config.webphone_connect.clone();
    let profile_dir = config.profile_dir.clone();
    let raise_on_ring = config.raise_on_ring;
    let run_config = commands::RunConfig(config.clone());
    let close_to_tray = config.close_to_tray;
    let (shortcuts_on, shortcut_keys) = (config.global_shortcuts, config.shortcuts.clone());
    let start_at_login = config.start_at_login;
    let update_policy = updates::Policy::of(&config);
    let mut context = context();
    context
        .config_mut()
        .plugins
        .0
        .insert("updater".into(), update_policy.plugin_config());
    let window_state_file = format!(
        ".window-state-{}.json",
        ringside_desktop::instance::profile_key(&config.profile_dir)
    );
    // A tray icon only where the desktop shows one: a hidden window with no tray to bring it
    // back is the lost call an agent reported.
    let tray_host = tauri::async_runtime::block_on(async {
        tokio::time::timeout(
            Duration::from_secs(2),
            ringside_desktop::notify::tray_host_present(None),
        )
        .await
        .unwrap_or(false)
    });
    // The core first: it takes the profile's lock, and an instance starting at the same
    // moment on the same profile (two clicks on a link) is then handed the request instead.
    // The session is kept in the OS keyring between runs (live mode; demo signs in by itself).
    let keyring: std::sync::Arc<dyn ringside_service::Vault> =
        std::sync::Arc::new(ringside_desktop::keyring::OsKeyring);
    let core = tauri::async_runtime::block_on(ringside_service::start_with(config, Some(keyring)));
    if let Err(e) = &core {
        if e.to_ipc().code == "profile_in_use" {
            if let Some(code) = hand_over(&profile_dir, &request, Duration::from_secs(5)) {
                return code;
            }
        }
    }

    let built = tauri::Builder::default()
        .register_uri_scheme_protocol(webphone::SCHEME, move |ctx, request| {
            webphone::serve_with(
                &protocol_source,
                &webphone_connect,
                ctx.webview_label(),
                &request,
            )
        })
        .plugin(shortcuts::plugin())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--minimized"]),
        ))
        // The window's size and place, per profile, restored at the next start.
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_filename(window_state_file)
                .with_state_flags(
                    tauri_plugin_window_state::StateFlags::SIZE
                        | tauri_plugin_window_state::StateFlags::POSITION
                        | tauri_plugin_window_state::StateFlags::MAXIMIZED,
                )
                .build(),
        )
        .manage(shortcuts::Latest::default())
        .invoke_handler(commands::ipc_commands!(handlers))
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                let app = window.app_handle();
                let Some(handle) = app.try_state::<Handle>().map(|h| h.inner().clone()) else {
                    return;
                };
                api.prevent_close();
                if app.try_state::<InTray>().is_some() {
                    info!("window closed: Ringside stays in the tray");
                    let _ = window.hide();
                } else {
                    let app = app.clone();
                    tauri::async_runtime::spawn(async move { tray::quit(&app, &handle).await });
                }
            }
        })
        .setup(move |app| {
            info!(version = %app.package_info().version, "Ringside is up");
            probe::start(app.handle());
            app.manage(run_config);
            if tray_host {
                match tray::create(app.handle()) {
                    Ok(t) => {
                        app.manage(t);
                        if close_to_tray {
                            app.manage(InTray);
                        }
                    }
                    Err(e) => warn!(error = %e, "no tray icon"),
                }
            } else {
                info!("the desktop shows no tray icons: closing the window quits");
            }
            match core {
                Ok(handle) => {
                    desktop::watch(app.handle(), &handle, raise_on_ring);
                    shortcuts::defer(app.handle(), &handle, shortcuts_on, &shortcut_keys);
                    desktop::apply_start_at_login(app.handle(), &handle, start_at_login);
                    updates::start(app.handle(), &handle, update_policy);
                    app.manage(handle.clone());
                    if let Some(l) = desktop::listen(app.handle(), &profile_dir) {
                        app.manage(l);
                    }
                    if let Some(link) = link {
                        // Launched by a link: offered once signed in, as any link is.
                        tauri::async_runtime::spawn(async move {
                            if let Err(e) = handle.open_link(link).await {
                                info!(error = %e, "the link this launch was given");
                            }
                        });
                    }
                }
                Err(e) => {
                    // The window still opens, and says what is wrong.
                    error!(error = %e, "the core could not start");
                    app.manage(commands::StartupFailure(e.to_ipc()));
                }
            }
            let window = agent_window(app)
                .inner_size(1120.0, 760.0)
                .min_inner_size(720.0, 520.0)
                .build()?;
            if minimized {
                let _ = window.minimize();
            }
            Ok(())
        })
        .build(context);
    let app = match built {
        Ok(app) => app,
        Err(e) => {
            error!(error = %e, "Ringside could not start");
            eprintln!("ringside: {e}");
            return 1;
        }
    };
    app.run(|app, event| match event {
        RunEvent::Exit => {
            // The core finishes what it can (a write in flight, the journal) before the
            // process ends; the outbox keeps the rest for the next start.
            if let Some(handle) = app.try_state::<Handle>() {
                let handle = handle.inner().clone();
                tauri::async_runtime::block_on(handle.shutdown());
            }
            if app
                .try_state::<updates::Restart>()
                .is_some_and(|r| r.requested())
            {
                updates::start_again(app);
            } else {
                updates::install_at_quit(app);
            }
        }
        // macOS hands a clicked `tel:` link to the running app as an event, not arguments
        // (Linux and Windows start `ringside tel:…`, which the instance socket hands over).
        #[cfg(target_os = "macos")]
        RunEvent::Opened { urls } => {
            desktop::bring_forward(app);
            if let Some(handle) = app.try_state::<Handle>() {
                let handle = handle.inner().clone();
                for url in urls {
                    let handle = handle.clone();
                    tauri::async_runtime::spawn(async move {
                        let _ = handle.open_link(url.to_string()).await;
                    });
                }
            }
        }
        _ => {}
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

/// Gives `request` to the Ringside running on `profile`, trying for up to `wait`: the exit
/// code when it was handed over (or refused), `None` when this launch is the first.
fn hand_over(profile: &std::path::Path, request: &[String], wait: Duration) -> Option<i32> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        match ringside_desktop::instance::hand_over(profile, request) {
            Ok(true) => {
                println!("ringside: handed over to the Ringside already running on this profile");
                return Some(0);
            }
            Ok(false) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(200));
            }
            Ok(false) => return None,
            Err(ringside_desktop::instance::InstanceError::Refused(why)) => {
                eprintln!("ringside: {why}");
                return Some(1);
            }
            Err(e) => {
                // No single instance on this system: start as before (the profile lock
                // still stops a second copy from touching the data).
                eprintln!("ringside: {e}");
                return None;
            }
        }
    }
}

/// Ringside cannot start with these settings (IT's policy file broken, a value that is not
/// one, a locked setting forced): said on the terminal and in a window, since an agent who
/// started it from a menu has no terminal. The window is the app's own page, which shows a
/// start-up failure in place of everything else.
fn cannot_start(e: &ringside_service::config::ConfigError) -> i32 {
    error!(error = %e, "Ringside cannot start with these settings");
    eprintln!("ringside: {e}");
    let failure = IpcError::new(e.code(), e.to_string());
    let built = tauri::Builder::default()
        .manage(commands::StartupFailure(failure))
        .invoke_handler(commands::ipc_commands!(handlers))
        .setup(|app| {
            agent_window(app).inner_size(720.0, 420.0).build()?;
            Ok(())
        })
        .build(context());
    match built {
        Ok(app) => app.run(|_, _| {}),
        Err(e) => eprintln!("ringside: {e}"),
    }
    1
}

/// The agent's window: the app's page, which the webphone scheme's frame and the e2e harness
/// find by its label and title.
fn agent_window(app: &tauri::App) -> WebviewWindowBuilder<'_, tauri::Wry, tauri::App> {
    WebviewWindowBuilder::new(
        app,
        webphone::HOST_WEBVIEW,
        WebviewUrl::App("index.html".into()),
    )
    .title("Ringside")
}

/// Managed when closing the window hides it in the tray.
struct InTray;

/// Removes a `--temp-profile` directory when the app exits.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
