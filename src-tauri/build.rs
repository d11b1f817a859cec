fn main() {
    // Declaring the app's commands turns on Tauri's access control for them: each window
    // gets only what its capability file grants. The names come from the one list in core.
    let manifest = tauri_build::AppManifest::new().commands(ringside_core::ipc::COMMANDS);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        panic!("tauri build step failed: {e:#}");
    }
}
