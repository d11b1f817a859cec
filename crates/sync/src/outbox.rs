//! The outbox sender: drains the store's pending writes to the backend.

use std::sync::Mutex;

use ringside_store::{Store, StoreError};
use tracing::{info, warn};

use crate::client::{Client, SyncError};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DrainReport {
    pub sent: u64,
    pub failed: u64,
    /// The drain stopped on a transient error; the rest waits for the next attempt.
    pub stopped_on: Option<String>,
    /// How long the whole outbox should wait before the next drain (backoff, Retry-After).
    pub pause_ms: i64,
    pub unauthorized: bool,
}

/// Delay before retry `attempts` (0-based): 0.5 s doubling to 30 s, plus up to 25 % jitter
/// derived from the entry so that many clients coming back at once do not stampede.
pub fn backoff_ms(attempts: u32, seed: i64) -> i64 {
    let base = 500i64.saturating_mul(1i64 << attempts.min(6)).min(30_000);
    let jitter = (seed.unsigned_abs() % 1000) as i64 * base / 4000;
    base + jitter
}

/// Sends due entries in order until the outbox is empty or the backend stops answering.
pub async fn drain(
    store: &Mutex<Store>,
    client: &Client,
    now_ms: impl Fn() -> i64,
) -> Result<DrainReport, StoreError> {
    let mut report = DrainReport::default();
    loop {
        let item = {
            let mut s = store.lock().map_err(|_| poisoned())?;
            s.next_outbox(now_ms())?
        };
        let Some(item) = item else { break };
        match client.send(&item).await {
            Ok(()) => {
                store.lock().map_err(|_| poisoned())?.outbox_done(&item)?;
                report.sent += 1;
            }
            Err(SyncError::Unauthorized) => {
                report.unauthorized = true;
                report.stopped_on = Some(SyncError::Unauthorized.to_string());
                break;
            }
            Err(e) if e.is_transient() => {
                let wait = match &e {
                    SyncError::RateLimited { retry_after_ms } => {
                        i64::try_from(*retry_after_ms).unwrap_or(60_000)
                    }
                    _ => backoff_ms(item.attempts, item.head_seq),
                };
                warn!(error = %e, wait_ms = wait, "write not delivered; will retry");
                store.lock().map_err(|_| poisoned())?.outbox_retry(
                    &item,
                    now_ms() + wait,
                    &e.to_string(),
                )?;
                report.stopped_on = Some(e.to_string());
                report.pause_ms = wait;
                break;
            }
            Err(e) => {
                warn!(error = %e, entity_id = %item.entity_id, "write refused by the backend; kept as failed");
                store
                    .lock()
                    .map_err(|_| poisoned())?
                    .outbox_failed(&item, &e.to_string())?;
                report.failed += 1;
            }
        }
    }
    if report.sent > 0 {
        info!(sent = report.sent, "outbox drained");
    }
    Ok(report)
}

fn poisoned() -> StoreError {
    StoreError::Corrupt("store lock poisoned".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff_ms(0, 0) >= 500 && backoff_ms(0, 0) < 700);
        assert!(backoff_ms(3, 7) >= 4000);
        assert!(backoff_ms(30, 999) <= 30_000 + 7_500);
    }
}
