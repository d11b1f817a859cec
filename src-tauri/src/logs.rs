//! Logging: human-readable to stderr, JSON to daily files in the profile (kept 14 days), so
//! a support engineer can read what happened at 2 a.m. Secrets never reach either: the types
//! that hold them print `***`.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

pub fn init(profile_dir: &Path) -> Option<WorkerGuard> {
    let filter = || {
        EnvFilter::try_from_env("RINGSIDE_LOG")
            .unwrap_or_else(|_| EnvFilter::new("info,tao=warn,wry=warn"))
    };
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
