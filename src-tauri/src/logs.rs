//! Logging: human-readable to stderr, JSON to daily files in the profile (kept 14 days), so
//! a support engineer can read what happened at 2 a.m. Secrets never reach either: the types
//! that hold them print `***`.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

/// Libraries that write request headers (the bearer token among them) at their most verbose
/// levels: capped whatever `RINGSIDE_LOG` asks, so that a support engineer who turns tracing
/// on for a night does not collect the agent's token with it.
const SECRET_SAFE: &[&str] = &[
    "tungstenite=debug",
    "tokio_tungstenite=debug",
    "reqwest=debug",
    "hyper=info",
    "hyper_util=info",
    "h2=info",
];

/// The filter for every log output: `RINGSIDE_LOG` (or the default), then the caps above,
/// which override what it said for those crates.
fn filter(from_env: Option<&str>) -> EnvFilter {
    let mut filter = from_env
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new("info,tao=warn,wry=warn"));
    for cap in SECRET_SAFE {
        if let Ok(directive) = cap.parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

pub fn init(profile_dir: &Path) -> Option<WorkerGuard> {
    let spec = std::env::var("RINGSIDE_LOG").ok();
    let filter = || filter(spec.as_deref());
    // The appender prunes old files at start and complains if the folder is not there yet.
    let _ = std::fs::create_dir_all(profile_dir.join("logs"));
    let file = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("ringside")
        .filename_suffix("log")
        .max_log_files(14)
        .build(profile_dir.join("logs"));
    let (file_layer, guard) = match file {
        Ok(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (
                Some(
                    fmt::layer()
                        .json()
                        .with_writer(writer)
                        .with_filter(filter()),
                ),
                Some(guard),
            )
        }
        Err(_) => (None, None),
    };
    let _ = tracing_subscriber::registry()
        .with(
            fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter()),
        )
        .with(file_layer)
        .try_init();
    guard
}

use tracing_subscriber::Layer;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(spec: &str) -> String {
        let buf = Buffer::default();
        let out = buf.clone();
        let subscriber = tracing_subscriber::registry().with(
            fmt::layer()
                .with_writer(move || out.clone())
                .with_filter(filter(Some(spec))),
        );
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "tungstenite::handshake::client", "authorization: Bearer tok-SECRET-1");
            tracing::trace!(target: "reqwest::connect", "authorization: Bearer tok-SECRET-2");
            tracing::trace!(target: "ringside_core::engine", "our own trace");
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        text
    }

    #[test]
    fn tracing_everything_still_keeps_the_token_out() {
        for spec in ["trace", "trace,tungstenite=trace,reqwest=trace"] {
            let text = logged(spec);
            assert!(
                text.contains("our own trace"),
                "{spec}: our traces are kept"
            );
            assert!(
                !text.contains("SECRET"),
                "{spec}: a token reached the log:\n{text}"
            );
        }
    }
}
