//! `ringside replay FILE [--extension EXT]`: a journal in, one JSON object per call out.

use std::io::Write;

pub fn run(args: &[String]) -> i32 {
    let mut file = None;
    let mut extension = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--extension" => extension = it.next().cloned(),
            "-h" | "--help" => {
                eprintln!("usage: ringside replay FILE [--extension EXT]");
                return 0;
            }
            _ if file.is_none() => file = Some(a.clone()),
            other => {
                eprintln!("ringside replay: unexpected argument `{other}`");
                return 2;
            }
        }
    }
    let Some(file) = file else {
        eprintln!("usage: ringside replay FILE [--extension EXT]");
        return 2;
    };
    let text = match std::fs::read(&file) {
        // A journal cut by a crash can end mid-character: replay what is readable.
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            eprintln!("ringside replay: cannot read {file}: {e}");
            return 1;
        }
    };
    let outcome = ringside_core::journal::replay(&text, extension.as_deref());
    for p in &outcome.problems {
        eprintln!("{file}:{}: skipped: {}", p.line, p.message);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for call in &outcome.calls {
        match serde_json::to_string(call) {
            Ok(line) => {
                if writeln!(out, "{line}").is_err() {
                    return 1;
                }
            }
            Err(e) => eprintln!("ringside replay: {e}"),
        }
    }
    0
}
