//! # Ringside, the desktop shell
//!
//! A thin Tauri layer over `ringside-service`: it opens the windows, serves the webphone
//! library, and turns IPC calls into service calls and service output into events.
//!
//! ## Layout
//! - [`app`]: the Tauri builder: windows, managed state, the outlet that emits events.
//! - [`commands`]: the IPC surface, one function per command, errors as `{code, message}`.
//! - [`webphone`]: the `webphone://` scheme that serves the host page, the bridge and the
//!   library (the customer's folder or the simulator), under a strict CSP.
//! - [`desktop`]: one instance per profile, incoming-call notifications, the urgency hint.
//! - [`tray`]: the tray icon, its status menu, and quitting (which asks when work is at risk).
//! - [`shortcuts`]: answer, hang up, mute and hold from any application.
//! - [`logs`]: rolling log files in the profile for support.
//! - [`probe`]: the main-thread stall probe that measurement runs turn on.
//! - [`replay`]: `ringside replay FILE`, which needs no display and no network.
//! - [`diagnostics`]: `ringside diagnostics`, the support archive (Settings saves it too).
//! - [`updates`]: automatic updates, signed, installed when the agent is between calls.
//! - `ringside policy`: the effective settings, their origin and IT's locks.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod app;
mod commands;
mod desktop;
mod diagnostics;
mod logs;
mod probe;
mod replay;
mod shortcuts;
mod tray;
mod updates;
mod webphone;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("replay") => std::process::exit(replay::run(&args[1..])),
        Some("diagnostics") => std::process::exit(diagnostics::run(&args[1..])),
        Some("policy") => std::process::exit(policy()),
        _ => {}
    }
    web_processes_return_free_memory();
    std::process::exit(app::run(&args));
}

/// WebKitGTK's web process, on glibc, keeps memory it has freed: `cargo xtask bench -- soak
/// --trim` found 52–57 MiB of its PSS after 600 calls given back by one `malloc_trim(0)`.
/// WebKit trims only under memory pressure, whose thresholds are a construct-only property of
/// the web context that wry creates (default limit: gigabytes). Fixed allocator thresholds
/// stop glibc raising them after each large free, so memory goes back as it is freed: the web
/// process after 600 calls 411 → 394 MiB (medians of 3 alternating runs each), and what one
/// `malloc_trim(0)` still finds after 1,000 calls fell from 52–57 to 33 MiB.
///
/// Set here, before any thread or web process exists, for the web and network processes,
/// which inherit the environment; a value IT or the user set is kept. Ringside's own process
/// read its allocator settings before `main`: starting it again in place (`exec`) to give it
/// the same saved about 17 MiB of its PSS but cost 100 ms of every launch (first render 617 →
/// 716 ms, `app-bench footprint`), so it is not done. glibc ignores these variables in setuid
/// programs, so nothing started with privileges is affected.
fn web_processes_return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    for (key, value) in [
        ("MALLOC_MMAP_THRESHOLD_", "131072"),
        ("MALLOC_TRIM_THRESHOLD_", "131072"),
    ] {
        if std::env::var_os(key).is_none() {
            std::env::set_var(key, value);
        }
    }
}

/// `ringside policy`: the effective settings, where each came from and which IT locked; what
/// a help desk asks for first. Exits 1, saying why, when the settings stop Ringside.
fn policy() -> i32 {
    use ringside_service::config;
    let (policy, user) = (config::policy_path(), config::user_config_path());
    match ringside_service::Config::load() {
        Ok(c) => {
            println!("{}", app::version());
            print!("{}", c.report(&policy, user.as_deref()));
            0
        }
        Err(e) => {
            eprintln!("ringside: {e}");
            1
        }
    }
}
