//! The outbox sender: drains the store's pending writes to the backend.

use std::sync::Mutex;

use futures_util::future::join_all;
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

/// How many writes for different records may be in flight at once. Writes to one record
/// stay strictly in order; different records do not wait for each other, which keeps a drain
/// after an outage fast even when the backend is far away.
pub const IN_FLIGHT: usize = 8;

/// Sends due entries until the outbox is empty or the backend stops answering.
pub async fn drain(
    store: &Mutex<Store>,
    client: &Client,
    now_ms: impl Fn() -> i64,
) -> Result<DrainReport, StoreError> {
    let mut report = DrainReport::default();
    loop {
        let batch = {
            let mut s = store.lock().map_err(|_| poisoned())?;
            s.next_outbox_batch(now_ms(), IN_FLIGHT)?
        };
        if batch.is_empty() {
            break;
        }
        let results = join_all(batch.iter().map(|item| client.send(item))).await;
        let mut done = Vec::new();
        let mut stop = false;
        let mut s = store.lock().map_err(|_| poisoned())?;
        for (item, result) in batch.iter().zip(results) {
            match result {
                Ok(()) => done.push(item),
                Err(SyncError::Unauthorized) => {
                    report.unauthorized = true;
                    report.stopped_on = Some(SyncError::Unauthorized.to_string());
                    stop = true;
                }
                Err(e) if e.is_transient() => {
                    let wait = match &e {
                        SyncError::RateLimited { retry_after_ms } => {
                            i64::try_from(*retry_after_ms).unwrap_or(60_000)
                        }
                        _ => backoff_ms(item.attempts, item.head_seq),
                    };
                    warn!(error = %e, wait_ms = wait, "write not delivered; will retry");
                    s.outbox_retry(item, now_ms() + wait, &e.to_string())?;
                    report.stopped_on = Some(e.to_string());
                    report.pause_ms = report.pause_ms.max(wait);
                    stop = true;
                }
                Err(e) => {
                    warn!(error = %e, entity_id = %item.entity_id, "write refused by the backend; kept as failed");
                    s.outbox_failed(item, &e.to_string())?;
                    report.failed += 1;
                }
            }
        }
        s.outbox_done_many(&done)?;
        report.sent += done.len() as u64;
        if stop {
            break;
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
