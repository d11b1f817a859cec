//! Pending writes for the backend.
//!
//! Each change inserts an entry in the same transaction as the change. The sender takes the
//! oldest due entry, reads the entity's *current* row, and sends that; on success it deletes
//! every entry of the entity up to the newest one that existed when it read the row, since
//! that row already contains their changes. The idempotency key is the key of that newest
//! entry, so a retry of the same state carries the same key, while a newer state, which is a
//! different write, carries a new one.

use ringside_core::WriteOp;
use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::Value;

use crate::{Result, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    CallLog,
    Draft,
}

impl EntityKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::CallLog => "call_log",
            Self::Draft => "draft",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "call_log" => Some(Self::CallLog),
            "draft" => Some(Self::Draft),
            _ => None,
        }
    }
}

/// One write to send: the entity's current state and how to send it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub head_seq: i64,
    /// The newest entry this send covers.
    pub upto_seq: i64,
    pub entity: EntityKind,
    pub entity_id: String,
    /// `Create` when any covered entry is a create that the backend has not acknowledged.
    pub op: WriteOp,
    pub idempotency_key: String,
    pub attempts: u32,
    pub payload: Value,
}

pub(crate) fn enqueue(
    tx: &Transaction<'_>,
    entity: EntityKind,
    entity_id: &str,
    op: WriteOp,
    now_ms: i64,
) -> Result<()> {
    let op = match op {
        WriteOp::Create => "create",
        WriteOp::Update => "update",
    };
    tx.execute(
        "INSERT INTO outbox (idem_key, entity, entity_id, op, created_ms, next_attempt_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, 0)",
        params![
            uuid::Uuid::new_v4().to_string(),
            entity.as_str(),
            entity_id,
            op,
            now_ms
        ],
    )?;
    Ok(())
}

impl Store {
    /// Entries not yet acknowledged (failed ones included: they still need the agent's eyes).
    pub fn pending_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// What the agent is told is waiting, counted in records (a call's log, a call's notes),
    /// not in queue entries: `(waiting, refused)`, where refused writes are the ones the
    /// backend turned down for good and that need someone's eyes.
    pub fn unsynced_records(&self) -> Result<(u64, u64)> {
        let count = |failed: i64| -> Result<u64> {
            let n: i64 = self.conn.query_row(
                "SELECT COUNT(*) FROM (SELECT DISTINCT entity, entity_id FROM outbox
                                       WHERE failed = ?1)",
                [failed],
                |r| r.get(0),
            )?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        Ok((count(0)?, count(1)?))
    }

    pub fn failed_count(&self) -> Result<u64> {
        let n: i64 =
            self.conn
                .query_row("SELECT COUNT(*) FROM outbox WHERE failed = 1", [], |r| {
                    r.get(0)
                })?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The oldest entry due at `now_ms` whose entity has no earlier entry still waiting,
    /// which keeps writes ordered per entity (create before update) and drafts behind the
    /// call log they belong to.
    pub fn next_outbox(&mut self, now_ms: i64) -> Result<Option<OutboxItem>> {
        Ok(self.next_outbox_batch(now_ms, 1)?.into_iter().next())
    }

    /// Up to `limit` sendable entries, each the head of a different entity, oldest first.
    /// They can be sent concurrently: none of them waits for another. An entry whose record
    /// has vanished is marked failed (and reported by `last_outbox_error`) instead of blocking
    /// the queue forever.
    pub fn next_outbox_batch(&mut self, now_ms: i64, limit: usize) -> Result<Vec<OutboxItem>> {
        let tx = self.conn.transaction()?;
        let heads: Vec<(i64, String, String, i64)> = {
            let mut stmt = tx.prepare_cached(
                "SELECT o.seq, o.entity, o.entity_id, o.attempts FROM outbox o
                 WHERE o.failed = 0 AND o.next_attempt_ms <= ?1
                   AND NOT EXISTS (SELECT 1 FROM outbox p
                                   WHERE p.entity_id = o.entity_id AND p.seq < o.seq
                                     AND (p.entity = o.entity OR p.entity = 'call_log'))
                 ORDER BY o.seq LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![now_ms, i64::try_from(limit).unwrap_or(1)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut items = Vec::with_capacity(heads.len());
        for (head_seq, entity, entity_id, attempts) in heads {
            let Some(kind) = EntityKind::parse(&entity) else {
                mark_failed(&tx, head_seq, &format!("unknown outbox entity `{entity}`"))?;
                continue;
            };
            let (upto_seq, key): (i64, String) = tx.query_row(
                "SELECT seq, idem_key FROM outbox WHERE entity = ?1 AND entity_id = ?2
                 ORDER BY seq DESC LIMIT 1",
                params![entity, entity_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let has_create: bool = tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM outbox WHERE entity = ?1 AND entity_id = ?2
                               AND op = 'create')",
                params![entity, entity_id],
                |r| r.get(0),
            )?;
            let table = match kind {
                EntityKind::CallLog => "SELECT body FROM call_logs WHERE id = ?1",
                EntityKind::Draft => "SELECT body FROM drafts WHERE call_log_id = ?1",
            };
            let body: Option<String> =
                tx.query_row(table, [&entity_id], |r| r.get(0)).optional()?;
            let payload = match body.map(|b| serde_json::from_str(&b)) {
                Some(Ok(p)) => p,
                Some(Err(e)) => {
                    mark_failed(&tx, head_seq, &format!("stored {entity} unreadable: {e}"))?;
                    continue;
                }
                None => {
                    mark_failed(&tx, head_seq, &format!("{entity} {entity_id} is missing"))?;
                    continue;
                }
            };
            items.push(OutboxItem {
                head_seq,
                upto_seq,
                entity: kind,
                entity_id,
                op: if has_create {
                    WriteOp::Create
                } else {
                    WriteOp::Update
                },
                idempotency_key: key,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                payload,
            });
        }
        tx.commit()?;
        Ok(items)
    }

    /// Many acknowledgements in one transaction (one disk sync instead of one each).
    pub fn outbox_done_many(&mut self, items: &[&OutboxItem]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for item in items {
            tx.execute(
                "DELETE FROM outbox WHERE entity = ?1 AND entity_id = ?2 AND seq <= ?3",
                params![item.entity.as_str(), item.entity_id, item.upto_seq],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The backend acknowledged `item`: drop every entry it covered.
    pub fn outbox_done(&mut self, item: &OutboxItem) -> Result<()> {
        self.conn.execute(
            "DELETE FROM outbox WHERE entity = ?1 AND entity_id = ?2 AND seq <= ?3",
            params![item.entity.as_str(), item.entity_id, item.upto_seq],
        )?;
        Ok(())
    }

    /// A transient failure: try the entity again at `next_attempt_ms`.
    pub fn outbox_retry(
        &mut self,
        item: &OutboxItem,
        next_attempt_ms: i64,
        error: &str,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?1, last_error = ?2
             WHERE seq = ?3",
            params![next_attempt_ms, error, item.head_seq],
        )?;
        Ok(())
    }

    /// The backend refused the write for good (validation): keep it, surface it, stop retrying.
    pub fn outbox_failed(&mut self, item: &OutboxItem, error: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, failed = 1, last_error = ?1
             WHERE entity = ?2 AND entity_id = ?3 AND seq <= ?4",
            params![error, item.entity.as_str(), item.entity_id, item.upto_seq],
        )?;
        Ok(())
    }

    pub fn last_outbox_error(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT last_error FROM outbox WHERE last_error IS NOT NULL
                 ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// After the network comes back, everything is due now.
    pub fn outbox_wake(&mut self) -> Result<()> {
        self.conn
            .execute("UPDATE outbox SET next_attempt_ms = 0 WHERE failed = 0", [])?;
        Ok(())
    }
}

fn mark_failed(tx: &Transaction<'_>, seq: i64, error: &str) -> Result<()> {
    tracing::error!(seq, %error, "outbox entry cannot be sent; kept as failed");
    tx.execute(
        "UPDATE outbox SET failed = 1, last_error = ?1 WHERE seq = ?2",
        params![error, seq],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringside_core::CallStatus;

    fn log(id: &str, status: CallStatus) -> ringside_core::CallLog {
        crate::records::tests_support::log(id, status)
    }

    #[test]
    fn one_send_covers_every_change_made_before_it() {
        let mut s = Store::in_memory().unwrap();
        s.save_call_log(&log("a", CallStatus::Ringing), WriteOp::Create, 1)
            .unwrap();
        s.save_call_log(&log("a", CallStatus::Talking), WriteOp::Update, 2)
            .unwrap();
        let item = s.next_outbox(10).unwrap().unwrap();
        assert_eq!(item.op, WriteOp::Create);
        assert_eq!(item.payload["status"], "talking");
        // A change while the send is in flight is not covered by it.
        s.save_call_log(&log("a", CallStatus::Answered), WriteOp::Update, 3)
            .unwrap();
        s.outbox_done(&item).unwrap();
        let next = s.next_outbox(10).unwrap().unwrap();
        assert_eq!(next.op, WriteOp::Update);
        assert_eq!(next.payload["status"], "answered");
        assert_ne!(next.idempotency_key, item.idempotency_key);
        s.outbox_done(&next).unwrap();
        assert_eq!(s.pending_count().unwrap(), 0);
    }

    #[test]
    fn a_retry_of_the_same_state_has_the_same_key() {
        let mut s = Store::in_memory().unwrap();
        s.save_call_log(&log("a", CallStatus::Ringing), WriteOp::Create, 1)
            .unwrap();
        let first = s.next_outbox(0).unwrap().unwrap();
        s.outbox_retry(&first, 100, "connection refused").unwrap();
        assert!(s.next_outbox(50).unwrap().is_none(), "not due yet");
        let again = s.next_outbox(100).unwrap().unwrap();
        assert_eq!(again.idempotency_key, first.idempotency_key);
        assert_eq!(again.attempts, 1);
        assert_eq!(
            s.last_outbox_error().unwrap().as_deref(),
            Some("connection refused")
        );
    }

    #[test]
    fn drafts_wait_for_their_call_log() {
        let mut s = Store::in_memory().unwrap();
        s.save_call_log(&log("a", CallStatus::Answered), WriteOp::Create, 1)
            .unwrap();
        let d = s.open_draft("a", 2).unwrap();
        s.submit_draft(&d, 3).unwrap();
        let first = s.next_outbox(0).unwrap().unwrap();
        assert_eq!(first.entity, EntityKind::CallLog);
        s.outbox_retry(&first, 1000, "down").unwrap();
        assert!(
            s.next_outbox(10).unwrap().is_none(),
            "draft must not overtake its call log"
        );
        let first = s.next_outbox(1000).unwrap().unwrap();
        s.outbox_done(&first).unwrap();
        let draft = s.next_outbox(1000).unwrap().unwrap();
        assert_eq!(draft.entity, EntityKind::Draft);
    }

    #[test]
    fn a_batch_has_one_head_per_entity_and_never_a_draft_before_its_log() {
        let mut s = Store::in_memory().unwrap();
        for id in ["a", "b", "c"] {
            s.save_call_log(&log(id, CallStatus::Ringing), WriteOp::Create, 1)
                .unwrap();
            s.save_call_log(&log(id, CallStatus::Missed), WriteOp::Update, 2)
                .unwrap();
        }
        let d = s.open_draft("a", 3).unwrap();
        s.submit_draft(&d, 4).unwrap();
        let batch = s.next_outbox_batch(0, 10).unwrap();
        let ids: Vec<_> = batch
            .iter()
            .map(|i| (i.entity, i.entity_id.as_str()))
            .collect();
        assert_eq!(
            ids,
            vec![
                (EntityKind::CallLog, "a"),
                (EntityKind::CallLog, "b"),
                (EntityKind::CallLog, "c")
            ]
        );
        s.outbox_done_many(&batch.iter().collect::<Vec<_>>())
            .unwrap();
        let next = s.next_outbox_batch(0, 10).unwrap();
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].entity, EntityKind::Draft);
    }

    #[test]
    fn an_entry_whose_record_vanished_does_not_block_the_queue() {
        let mut s = Store::in_memory().unwrap();
        s.save_call_log(&log("a", CallStatus::Ringing), WriteOp::Create, 1)
            .unwrap();
        s.save_call_log(&log("b", CallStatus::Ringing), WriteOp::Create, 1)
            .unwrap();
        s.conn
            .execute("DELETE FROM call_logs WHERE id = 'a'", [])
            .unwrap();
        let batch = s.next_outbox_batch(0, 10).unwrap();
        assert_eq!(batch.len(), 1);
        assert_eq!(batch[0].entity_id, "b");
        assert_eq!(s.failed_count().unwrap(), 1);
        assert!(s.last_outbox_error().unwrap().unwrap().contains("missing"));
    }

    #[test]
    fn a_failed_write_stops_retrying_and_stays_visible() {
        let mut s = Store::in_memory().unwrap();
        s.save_call_log(&log("a", CallStatus::Ringing), WriteOp::Create, 1)
            .unwrap();
        let item = s.next_outbox(0).unwrap().unwrap();
        s.outbox_failed(&item, "422 invalid").unwrap();
        assert!(s.next_outbox(i64::MAX).unwrap().is_none());
        assert_eq!(s.failed_count().unwrap(), 1);
        assert_eq!(s.pending_count().unwrap(), 1);
    }
}
