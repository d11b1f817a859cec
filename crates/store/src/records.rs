//! Call logs and after-call drafts, each change committed with its outbox entry.

use ringside_core::{CallDraft, CallLog, DraftState, DraftView, HistoryEntry, WriteOp};
use rusqlite::{params, OptionalExtension};
use tracing::debug;

use crate::outbox::{enqueue, EntityKind};
use crate::{Result, Store};

impl Store {
    /// Upserts the call log and queues it for the backend, in one transaction.
    pub fn save_call_log(&mut self, log: &CallLog, op: WriteOp, now_ms: i64) -> Result<()> {
        let body = serde_json::to_string(log)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO call_logs (id, call_id, status, started_at_ms, body, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(id) DO UPDATE SET status = excluded.status, body = excluded.body,
                 updated_at_ms = excluded.updated_at_ms",
            params![
                log.id,
                log.call_id,
                log.status.as_str(),
                log.started_at_ms,
                body,
                now_ms
            ],
        )?;
        enqueue(&tx, EntityKind::CallLog, &log.id, op, now_ms)?;
        tx.commit()?;
        debug!(call_log_id = %log.id, status = log.status.as_str(), "call log committed");
        Ok(())
    }

    pub fn call_log(&self, id: &str) -> Result<Option<CallLog>> {
        let body: Option<String> = self
            .conn
            .query_row("SELECT body FROM call_logs WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
    }

    /// Call logs started at or after `since_ms`, newest first.
    pub fn call_logs_since(&self, since_ms: i64, limit: u32) -> Result<Vec<CallLog>> {
        self.bodies(
            "SELECT body FROM call_logs WHERE started_at_ms >= ?1
             ORDER BY started_at_ms DESC LIMIT ?2",
            params![since_ms, limit],
        )
    }

    /// Calls that were ringing or talking when the app last stopped.
    pub fn unfinished_call_logs(&self) -> Result<Vec<CallLog>> {
        self.bodies(
            "SELECT body FROM call_logs WHERE status IN ('ringing', 'talking')
             ORDER BY started_at_ms",
            [],
        )
    }

    /// The day's calls with their draft state and whether anything about them still waits
    /// for the backend, in `ringside_core::ipc::history_order` (newest first, then by id), the
    /// order the UI rebuilds row deltas in.
    pub fn history_since(&self, since_ms: i64, limit: u32) -> Result<Vec<HistoryEntry>> {
        self.history_rows(
            "WHERE c.started_at_ms >= ?1 ORDER BY c.started_at_ms DESC, c.id DESC LIMIT ?2",
            params![since_ms, limit],
        )
    }

    /// One call's history row, as [`Store::history_since`] gives it; `None` when there is no
    /// such call. The core re-reads only the rows a write touched.
    pub fn history_row(&self, call_log_id: &str) -> Result<Option<HistoryEntry>> {
        Ok(self
            .history_rows("WHERE c.id = ?1", params![call_log_id])?
            .pop())
    }

    fn history_rows(
        &self,
        filter: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<HistoryEntry>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT c.body, d.state,
                    NOT EXISTS (SELECT 1 FROM outbox o WHERE o.entity_id = c.id),
                    CASE WHEN d.state = 'submitted' THEN d.body END
             FROM call_logs c LEFT JOIN drafts d ON d.call_log_id = c.id {filter}"
        ))?;
        let rows = stmt.query_map(params, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (body, draft, synced, submitted) = row?;
            let draft = draft.map(|s| {
                if s == "submitted" {
                    DraftState::Submitted
                } else {
                    DraftState::Editing
                }
            });
            // A draft body that cannot be read loses its preview, never the row.
            let submitted: Option<CallDraft> =
                submitted.and_then(|b| serde_json::from_str(&b).ok());
            let (notes, disposition) = submitted
                .map(|d| {
                    let notes = d.notes.trim();
                    let preview = (!notes.is_empty()).then(|| {
                        notes
                            .chars()
                            .take(ringside_core::ipc::NOTES_PREVIEW_CHARS)
                            .collect::<String>()
                    });
                    (preview, d.disposition)
                })
                .unwrap_or_default();
            out.push(HistoryEntry {
                log: serde_json::from_str(&body)?,
                draft,
                synced,
                notes,
                disposition,
            });
        }
        Ok(out)
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Autosave: the draft row only. Nothing is queued until the agent submits.
    pub fn save_draft(&mut self, draft: &CallDraft) -> Result<()> {
        upsert_draft(&self.conn, draft)
    }

    /// Opens an empty draft for an answered call unless one exists (a restart re-opens it).
    pub fn open_draft(&mut self, call_log_id: &str, now_ms: i64) -> Result<CallDraft> {
        if let Some(existing) = self.draft(call_log_id)? {
            return Ok(existing);
        }
        let draft = CallDraft {
            call_log_id: call_log_id.to_string(),
            updated_at_ms: now_ms,
            ..CallDraft::default()
        };
        self.save_draft(&draft)?;
        Ok(draft)
    }

    pub fn draft(&self, call_log_id: &str) -> Result<Option<CallDraft>> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM drafts WHERE call_log_id = ?1",
                [call_log_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
    }

    /// Marks the draft submitted and queues it, in one transaction; an earlier refusal is
    /// cleared (this is the corrected draft).
    pub fn submit_draft(&mut self, draft: &CallDraft, now_ms: i64) -> Result<()> {
        let mut draft = draft.clone();
        draft.state = DraftState::Submitted;
        draft.updated_at_ms = now_ms;
        let tx = self.conn.transaction()?;
        upsert_draft(&tx, &draft)?;
        tx.execute(
            "UPDATE drafts SET refused = NULL WHERE call_log_id = ?1",
            [&draft.call_log_id],
        )?;
        enqueue(
            &tx,
            EntityKind::Draft,
            &draft.call_log_id,
            WriteOp::Update,
            now_ms,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Drafts still being written, with their calls: the agent's unfinished after-call work,
    /// in the order the calls ended (then by id). The order never depends on when a draft was
    /// last saved: typing in one form must not move it, or another call's form would take its
    /// place under the agent's cursor.
    pub fn open_drafts(&self) -> Result<Vec<DraftView>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT d.body, c.body, d.refused FROM drafts d
             LEFT JOIN call_logs c ON c.id = d.call_log_id
             WHERE d.state = 'editing'",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (draft, log, refused) = row?;
            let log: Option<CallLog> = match log.map(|b| serde_json::from_str(&b)).transpose() {
                Ok(log) => log,
                // The form stays usable without its call's details.
                Err(e) => {
                    tracing::warn!(error = %e, "call log of a draft unreadable");
                    None
                }
            };
            out.push(DraftView {
                draft: serde_json::from_str(&draft)?,
                log,
                refused,
            });
        }
        out.sort_by(|a, b| draft_order_key(a).cmp(&draft_order_key(b)));
        Ok(out)
    }

    /// The backend refused a submitted draft for good (4xx): the draft is open again, with
    /// the backend's reason, for the agent to correct and submit again; its queued writes go
    /// (the refusal is on the draft, where the agent sees it, not in a queue that never
    /// empties). Done in one transaction with the outbox change.
    pub fn reopen_refused_draft(
        &mut self,
        call_log_id: &str,
        upto_seq: i64,
        reason: &str,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        let body: Option<String> = tx
            .query_row(
                "SELECT body FROM drafts WHERE call_log_id = ?1",
                [call_log_id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(body) = body {
            let mut draft: CallDraft = serde_json::from_str(&body)?;
            draft.state = DraftState::Editing;
            tx.execute(
                "UPDATE drafts SET state = 'editing', body = ?1, refused = ?2 WHERE call_log_id = ?3",
                params![serde_json::to_string(&draft)?, reason, call_log_id],
            )?;
        }
        tx.execute(
            "DELETE FROM outbox WHERE entity = 'draft' AND entity_id = ?1 AND seq <= ?2",
            params![call_log_id, upto_seq],
        )?;
        tx.commit()?;
        tracing::warn!(%call_log_id, %reason, "draft refused by the backend; open again for the agent");
        Ok(())
    }
}

/// When the draft's call ended; a call without a log (never expected) goes last.
fn draft_order_key(v: &DraftView) -> (i64, &str) {
    let ended = v
        .log
        .as_ref()
        .map_or(i64::MAX, |l| l.ended_at_ms.unwrap_or(l.started_at_ms));
    (ended, v.draft.call_log_id.as_str())
}

impl Store {
    /// Rows whose first column is a JSON body, decoded.
    fn bodies<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params, |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for body in rows {
            out.push(serde_json::from_str(&body?)?);
        }
        Ok(out)
    }
}

/// Inserts or replaces a draft row (inside whatever transaction `conn` is in).
fn upsert_draft(conn: &rusqlite::Connection, draft: &CallDraft) -> Result<()> {
    let body = serde_json::to_string(draft)?;
    conn.execute(
        "INSERT INTO drafts (call_log_id, state, body, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(call_log_id) DO UPDATE SET state = excluded.state, body = excluded.body,
             updated_at_ms = excluded.updated_at_ms",
        params![
            draft.call_log_id,
            draft_state(draft.state),
            body,
            draft.updated_at_ms
        ],
    )?;
    Ok(())
}

fn draft_state(state: DraftState) -> &'static str {
    match state {
        DraftState::Editing => "editing",
        DraftState::Submitted => "submitted",
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use ringside_core::{CallLog, CallStatus, Direction};

    pub(crate) fn log(id: &str, status: CallStatus) -> CallLog {
        CallLog {
            from: "+15550100".into(),
            to: "1002".into(),
            extension_id: Some("7".into()),
            started_at_ms: 1000,
            ..CallLog::new(
                id,
                format!("c-{id}"),
                Direction::Inbound,
                "+15550100",
                status,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::tests_support::log;
    use ringside_core::{CallStatus, DraftState};

    #[test]
    fn call_log_round_trips_and_queues() {
        let mut s = Store::in_memory().unwrap();
        s.save_call_log(&log("a", CallStatus::Ringing), WriteOp::Create, 1)
            .unwrap();
        s.save_call_log(&log("a", CallStatus::Answered), WriteOp::Update, 2)
            .unwrap();
        assert_eq!(
            s.call_log("a").unwrap().unwrap().status,
            CallStatus::Answered
        );
        assert_eq!(s.pending_count().unwrap(), 2);
        assert_eq!(s.call_logs_since(0, 10).unwrap().len(), 1);
    }

    #[test]
    fn history_comes_in_the_order_the_ui_rebuilds() {
        let mut s = Store::in_memory().unwrap();
        for id in ["a", "c", "b"] {
            s.save_call_log(&log(id, CallStatus::Missed), WriteOp::Create, 1)
                .unwrap();
        }
        let mut newer = log("0", CallStatus::Missed);
        newer.started_at_ms = 2000;
        s.save_call_log(&newer, WriteOp::Create, 1).unwrap();
        let h = s.history_since(0, 10).unwrap();
        let ids: Vec<&str> = h.iter().map(|e| e.log.id.as_str()).collect();
        assert_eq!(ids, ["0", "c", "b", "a"], "newest first, same start by id");
        let mut sorted = h.clone();
        sorted.sort_by(ringside_core::ipc::history_order);
        assert_eq!(sorted, h);
    }

    #[test]
    fn history_shows_draft_state_and_sync() {
        let mut s = Store::in_memory().unwrap();
        s.save_call_log(&log("a", CallStatus::Answered), WriteOp::Create, 1)
            .unwrap();
        let d = s.open_draft("a", 2).unwrap();
        let h = s.history_since(0, 10).unwrap();
        assert_eq!(h[0].draft, Some(DraftState::Editing));
        assert!(!h[0].synced, "the create is still queued");
        assert_eq!(
            h[0].notes, None,
            "notes being written are not in the history"
        );
        let d = CallDraft {
            notes: format!("  {}", "n".repeat(500)),
            disposition: Some("callback".into()),
            ..d
        };
        s.submit_draft(&d, 3).unwrap();
        while let Some(item) = s.next_outbox(0).unwrap() {
            s.outbox_done(&item).unwrap();
        }
        let h = s.history_since(0, 10).unwrap();
        assert_eq!(h[0].draft, Some(DraftState::Submitted));
        assert!(h[0].synced);
        assert_eq!(
            h[0].notes.as_deref(),
            Some("n".repeat(ringside_core::ipc::NOTES_PREVIEW_CHARS).as_str()),
            "a preview of the submitted notes"
        );
        assert_eq!(h[0].disposition.as_deref(), Some("callback"));
        s.set_setting("theme", "dark").unwrap();
        assert_eq!(s.setting("theme").unwrap().as_deref(), Some("dark"));
    }

    #[test]
    fn drafts_autosave_without_queueing_and_submit_with() {
        let mut s = Store::in_memory().unwrap();
        let mut d = s.open_draft("a", 5).unwrap();
        d.notes = "customer wants a callback".into();
        s.save_draft(&d).unwrap();
        assert_eq!(s.pending_count().unwrap(), 0);
        assert_eq!(
            s.open_drafts().unwrap()[0].draft.notes,
            "customer wants a callback"
        );
        // Re-opening keeps what was typed.
        assert_eq!(
            s.open_draft("a", 6).unwrap().notes,
            "customer wants a callback"
        );
        s.submit_draft(&d, 7).unwrap();
        assert!(s.open_drafts().unwrap().is_empty());
        assert_eq!(s.pending_count().unwrap(), 1);
    }

    fn ended(id: &str, ended_at_ms: i64) -> ringside_core::CallLog {
        let mut l = log(id, CallStatus::Answered);
        l.ended_at_ms = Some(ended_at_ms);
        l
    }

    #[test]
    fn open_drafts_keep_the_order_their_calls_ended_in_whatever_is_typed() {
        let mut s = Store::in_memory().unwrap();
        // Logged in one order, ended in another: the order shown is the order they ended.
        for (id, end) in [("b", 3000), ("a", 2000), ("c", 4000)] {
            s.save_call_log(&ended(id, end), WriteOp::Create, 1)
                .unwrap();
            s.open_draft(id, end).unwrap();
        }
        let ids = |s: &Store| -> Vec<String> {
            s.open_drafts()
                .unwrap()
                .into_iter()
                .map(|v| v.draft.call_log_id)
                .collect()
        };
        assert_eq!(ids(&s), ["a", "b", "c"]);
        // Typing in the first form (a later `updated_at_ms`) does not move it.
        let mut d = s.draft("a").unwrap().unwrap();
        d.notes = "typed".into();
        d.updated_at_ms = 99_999;
        s.save_draft(&d).unwrap();
        assert_eq!(ids(&s), ["a", "b", "c"]);
        let views = s.open_drafts().unwrap();
        assert_eq!(views[0].draft.notes, "typed");
        assert_eq!(
            views[0].log.as_ref().unwrap().id,
            "a",
            "each draft comes with its own call"
        );
    }

    #[test]
    fn a_refused_draft_opens_again_with_the_reason_and_leaves_the_queue() {
        let mut s = Store::in_memory().unwrap();
        s.save_call_log(&ended("a", 2000), WriteOp::Create, 1)
            .unwrap();
        let mut d = s.open_draft("a", 2).unwrap();
        d.notes = "too long, say".into();
        s.submit_draft(&d, 3).unwrap();
        assert!(s.open_drafts().unwrap().is_empty());
        // The call log goes first; then the draft, which the backend refuses.
        let log_item = s.next_outbox(0).unwrap().unwrap();
        s.outbox_done(&log_item).unwrap();
        let item = s.next_outbox(0).unwrap().unwrap();
        assert_eq!(item.entity, crate::EntityKind::Draft);
        s.reopen_refused_draft("a", item.upto_seq, "notes are limited to 64 KiB")
            .unwrap();

        let open = s.open_drafts().unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(
            open[0].draft.notes, "too long, say",
            "nothing typed is lost"
        );
        assert_eq!(open[0].draft.state, DraftState::Editing);
        assert_eq!(
            open[0].refused.as_deref(),
            Some("notes are limited to 64 KiB")
        );
        assert_eq!(
            s.unsynced_records().unwrap(),
            (0, 0),
            "nothing sits in the queue"
        );
        assert_eq!(
            s.history_since(0, 10).unwrap()[0].draft,
            Some(DraftState::Editing)
        );

        // Corrected and submitted again: the refusal is gone, the draft queued once more.
        let mut d = open[0].draft.clone();
        d.notes = "short".into();
        s.submit_draft(&d, 4).unwrap();
        assert_eq!(s.unsynced_records().unwrap(), (1, 0));
        s.save_draft(&CallDraft {
            state: DraftState::Editing,
            ..d
        })
        .unwrap();
        assert_eq!(s.open_drafts().unwrap()[0].refused, None);
    }

    #[test]
    fn waiting_work_is_counted_in_records_not_queue_entries() {
        let mut s = Store::in_memory().unwrap();
        // One call: a create and three updates of its log, then its notes.
        s.save_call_log(&log("a", CallStatus::Ringing), WriteOp::Create, 1)
            .unwrap();
        for _ in 0..3 {
            s.save_call_log(&log("a", CallStatus::Answered), WriteOp::Update, 2)
                .unwrap();
        }
        let d = s.open_draft("a", 3).unwrap();
        s.submit_draft(&d, 4).unwrap();
        assert_eq!(s.pending_count().unwrap(), 5);
        assert_eq!(
            s.unsynced_records().unwrap(),
            (2, 0),
            "the call's log and its notes"
        );
        let item = s.next_outbox(0).unwrap().unwrap();
        s.outbox_failed(&item, "422").unwrap();
        assert_eq!(s.unsynced_records().unwrap(), (1, 1));
    }
}
