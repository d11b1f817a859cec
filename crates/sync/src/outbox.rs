//! The outbox sender: drains the store's pending writes to the backend.
//!
//! Sending and settling are separate steps so that the owner of the store (the service's
//! event loop) never waits on the network: it takes a batch, hands it to a worker that calls
//! [`send_batch`], and settles the answers with [`settle`] when they come back. [`drain`]
//! chains the steps for callers that own an outbox outright (tests, benchmarks).

use futures_util::future::join_all;
use ringside_store::{EntityKind, OutboxItem, Store, StoreError};
use tracing::{info, warn};

use crate::client::{Client, SyncError};

/// What the sender needs from the store, and nothing more.
pub trait Outbox {
    /// Up to `limit` due writes, at most one per record.
    fn next_batch(&mut self, now_ms: i64, limit: usize) -> Result<Vec<OutboxItem>, StoreError>;
    fn done(&mut self, items: &[&OutboxItem]) -> Result<(), StoreError>;
    fn retry(&mut self, item: &OutboxItem, at_ms: i64, error: &str) -> Result<(), StoreError>;
    /// The backend refused the write for good (4xx), for `reason` (its own words): never
    /// re-sent as it is. A call log stays queued, marked failed; a draft opens again.
    fn failed(&mut self, item: &OutboxItem, error: &str) -> Result<(), StoreError>;
}

impl Outbox for Store {
    fn next_batch(&mut self, now_ms: i64, limit: usize) -> Result<Vec<OutboxItem>, StoreError> {
        self.next_outbox_batch(now_ms, limit)
    }
    fn done(&mut self, items: &[&OutboxItem]) -> Result<(), StoreError> {
        self.outbox_done_many(items)
    }
    fn retry(&mut self, item: &OutboxItem, at_ms: i64, error: &str) -> Result<(), StoreError> {
        self.outbox_retry(item, at_ms, error)
    }
    fn failed(&mut self, item: &OutboxItem, error: &str) -> Result<(), StoreError> {
        match item.entity {
            // The agent can mend notes: the draft opens again with the reason on it.
            EntityKind::Draft => self.reopen_refused_draft(&item.entity_id, item.upto_seq, error),
            EntityKind::CallLog => self.outbox_failed(item, error),
        }
    }
}

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
/// derived from `seed` so that many clients coming back at once do not stampede. Every retry
/// in Ringside (outbox entries, sign-in, the agent socket) waits by this rule.
pub fn backoff_ms(attempts: u32, seed: i64) -> i64 {
    let base = 500i64.saturating_mul(1i64 << attempts.min(6)).min(30_000);
    let jitter = (seed.unsigned_abs() % 1000) as i64 * base / 4000;
    base + jitter
}

/// How many writes for different records may be in flight at once. Writes to one record
/// stay strictly in order; different records do not wait for each other, which keeps a drain
/// after an outage fast even when the backend is far away.
pub const IN_FLIGHT: usize = 8;

/// Sends a batch, all at once; the answers come back in the batch's order.
pub async fn send_batch(client: &Client, batch: &[OutboxItem]) -> Vec<Result<(), SyncError>> {
    join_all(batch.iter().map(|item| client.send(item))).await
}

/// Records the backend's answers to a batch in the outbox and in `report`. Returns whether
/// the drain must stop here (a transient failure or a refused session).
pub fn settle(
    outbox: &mut impl Outbox,
    batch: &[OutboxItem],
    results: Vec<Result<(), SyncError>>,
    now_ms: i64,
    report: &mut DrainReport,
) -> Result<bool, StoreError> {
    let mut done = Vec::new();
    let mut stop = false;
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
                outbox.retry(item, now_ms + wait, &e.to_string())?;
                report.stopped_on = Some(e.to_string());
                report.pause_ms = report.pause_ms.max(wait);
                stop = true;
            }
            Err(e) => {
                warn!(error = %e, entity_id = %item.entity_id, "write refused by the backend");
                // A draft's refusal is shown to the agent on their notes: the backend's own
                // words. A call log's stays for support, status and code included.
                let reason = match (&e, item.entity) {
                    (SyncError::Rejected { message, .. }, EntityKind::Draft)
                        if !message.is_empty() =>
                    {
                        message.clone()
                    }
                    _ => e.to_string(),
                };
                outbox.failed(item, &reason)?;
                report.failed += 1;
            }
        }
    }
    outbox.done(&done)?;
    report.sent += done.len() as u64;
    Ok(stop)
}

/// Sends due entries until the outbox is empty or the backend stops answering.
pub async fn drain(
    outbox: &mut impl Outbox,
    client: &Client,
    now_ms: impl Fn() -> i64,
) -> Result<DrainReport, StoreError> {
    let mut report = DrainReport::default();
    loop {
        let batch = outbox.next_batch(now_ms(), IN_FLIGHT)?;
        if batch.is_empty() {
            break;
        }
        let results = send_batch(client, &batch).await;
        if settle(outbox, &batch, results, now_ms(), &mut report)? {
            break;
        }
    }
    if report.sent > 0 {
        info!(sent = report.sent, "outbox drained");
    }
    Ok(report)
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
