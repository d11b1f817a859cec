//! `ringside diagnostics [--profile DIR] [--out FILE]`: the support archive, written without a
//! display or the app running (the database is read read-only, so it also works while the
//! app runs). Settings → "Save diagnostics" writes the same archive.

use std::path::PathBuf;

use ringside_service::Config;

/// What support asks about the build, for `versions.txt`.
pub fn versions() -> String {
    format!(
        "{}\ntauri: {}\nwebkit: system WebKitGTK 4.1 (Linux), WebView2 (Windows), WKWebView (macOS)",
        crate::app::version(),
        tauri::VERSION
    )
}

pub fn run(args: &[String]) -> i32 {
    let usage = "usage: ringside diagnostics [--profile DIR] [--out FILE]";
    let mut out: Option<PathBuf> = None;
    let mut profile: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => out = it.next().map(PathBuf::from),
            "--profile" => profile = it.next().map(PathBuf::from),
            "-h" | "--help" => {
                eprintln!("{usage}");
                return 0;
            }
            other => {
                eprintln!("ringside diagnostics: unexpected argument `{other}`\n{usage}");
                return 2;
            }
        }
    }
    let mut config = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ringside diagnostics: {e}");
            return 1;
        }
    };
    if let Some(p) = profile {
        config.profile_dir = p;
    }
    let Some(out) = out.or_else(ringside_service::diagnostics::default_path) else {
        eprintln!("ringside diagnostics: no home folder; give --out FILE\n{usage}");
        return 2;
    };
    match ringside_service::diagnostics::write(&config, &versions(), &out) {
        Ok(w) => {
            println!("{}", w.path.display());
            for p in &w.problems {
                eprintln!("ringside diagnostics: not included: {p}");
            }
            0
        }
        Err(e) => {
            eprintln!("ringside diagnostics: {e}");
            1
        }
    }
}
