fn main() {
    // Declaring the app's commands turns on Tauri's access control for them: each window
    // gets only what its capability file grants. The names come from the one list in core.
    let names: Vec<&str> = ringside_core::ipc::COMMANDS
        .iter()
        .map(|(n, _)| *n)
        .collect();
    // The manifest wants a 'static list; a build script lives for one run.
    let names: &'static [&'static str] = Box::leak(names.into_boxed_slice());
    let manifest = tauri_build::AppManifest::new().commands(names);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        panic!("tauri build step failed: {e:#}");
    }
}
