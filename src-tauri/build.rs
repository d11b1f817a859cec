fn main() {
    // Declaring the app's commands turns on Tauri's access control for them: each window
    // gets only what its capability file grants (the webphone window: `phone_event` alone).
    let manifest = tauri_build::AppManifest::new().commands(&[
        "phone_event",
        "get_snapshot",
        "intent",
        "save_draft",
        "submit_draft",
        "simulate_incoming",
        "sign_in",
        "sign_out",
        "set_agent_status",
        "set_preferences",
        "set_webphone_location",
        "simulate",
        "dismiss_notice",
    ]);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        panic!("tauri build step failed: {e:#}");
    }
}
