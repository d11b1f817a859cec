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
    allocator_returns_free_memory();
    std::process::exit(app::run(&args));
}

/// On glibc, Ringside's processes keep memory they have freed: `cargo xtask bench -- soak
/// --trim` found 52–57 MiB of the web process's PSS after 600 calls given back by one
/// `malloc_trim(0)`, and the app's own idle PSS varied from 119 to 139 MiB between runs. WebKit
/// trims only under memory pressure, whose thresholds are a construct-only property of the web
/// context that wry creates (default limit: gigabytes). Fixed allocator thresholds stop glibc
/// raising them after each large free, so memory goes back as it is freed: after 600 calls,
/// app 119 → 102 MiB and web process 411 → 394 MiB (medians of 3 alternating runs each).
///
/// glibc reads them at start, so they are set in the environment and this process starts
/// again in place (`exec`: same pid, same arguments) before any thread or window exists; the
/// web and network processes inherit them. A value IT or the user set is kept, and a failed
/// `exec` only costs the app's own share. glibc ignores these variables in setuid programs, so
/// nothing started with privileges is affected.
fn allocator_returns_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        let mut missing = false;
        for (key, value) in [
            ("MALLOC_MMAP_THRESHOLD_", "131072"),
            ("MALLOC_TRIM_THRESHOLD_", "131072"),
        ] {
            if std::env::var_os(key).is_none() {
                std::env::set_var(key, value);
                missing = true;
            }
        }
        // Once both are set, the started-again process goes on: no loop.
        if !missing {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let mut cmd = std::process::Command::new(exe);
        if let Some(arg0) = args.next() {
            cmd.arg0(arg0);
        }
        // Returns only if the exec failed; Ringside then runs with glibc's defaults.
        let _ = cmd.args(args).exec();
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
