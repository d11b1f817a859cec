//! The bare Tauri app `cargo xtask bench` measures Ringside against: same Tauri version, same
//! release profile, one window, one command. Its page stamps `window.bareReady` (Unix ms) when
//! the command's answer arrives: the end of its launch → interactive.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

#[tauri::command]
fn ping() -> &'static str {
    "pong"
}

fn main() {
    let result = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![ping])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("bare-tauri: {e}");
        std::process::exit(1);
    }
}
