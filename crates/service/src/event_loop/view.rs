//! What the UI is sent: a snapshot built from the state the loop holds (SQLite re-read only
//! for what a write made stale), and the delta since the last one the window received.

use std::collections::BTreeSet;
use std::sync::Arc;

use ringside_core::desktop::DesktopState;
use ringside_core::ipc::history_order;
use ringside_core::Snapshot;
use tracing::{debug, warn};

use super::{Core, HISTORY_ROWS, HISTORY_SPAN_MS};

impl Core {
    /// Re-reads from SQLite what a write made stale, and nothing else.
    pub(super) fn refresh_stale(&mut self, now_ms: i64) {
        let stale = std::mem::take(&mut self.stale);
        if stale.pending {
            match self.store.unsynced_records() {
                Ok((waiting, refused)) => {
                    self.sync.pending = waiting;
                    self.sync.refused = refused;
                }
                Err(e) => warn!(error = %e, "pending count unreadable"),
            }
        }
        if stale.drafts {
            match self.store.open_drafts() {
                Ok(drafts) => self.drafts = drafts,
                Err(e) => warn!(error = %e, "drafts unreadable"),
            }
        }
        if stale.all_history {
            match self
                .store
                .history_since(now_ms - HISTORY_SPAN_MS, HISTORY_ROWS)
            {
                // Already in `history_order`, the order the UI rebuilds row deltas in.
                Ok(rows) => self.history = Arc::new(rows),
                Err(e) => warn!(error = %e, "history unreadable"),
            }
        } else if !stale.history.is_empty() {
            self.refresh_history_rows(stale.history, now_ms);
        }
    }

    /// Re-reads the rows a write touched and puts them in place: a new call goes in at its
    /// position, the oldest leave past the day's limit.
    fn refresh_history_rows(&mut self, ids: BTreeSet<String>, now_ms: i64) {
        let mut fresh = Vec::new();
        let mut read = BTreeSet::new();
        for id in ids {
            match self.store.history_row(&id) {
                Ok(Some(row)) => fresh.push(row),
                Ok(None) => {} // not a call (an agent status write), or gone
                Err(e) => {
                    // The row shown stays as it was rather than vanish.
                    warn!(error = %e, call_log_id = %id, "history row unreadable");
                    continue;
                }
            }
            read.insert(id);
        }
        let since = now_ms - HISTORY_SPAN_MS;
        let rows = Arc::make_mut(&mut self.history);
        rows.retain(|r| !read.contains(&r.log.id) && r.log.started_at_ms >= since);
        rows.extend(fresh.into_iter().filter(|r| r.log.started_at_ms >= since));
        rows.sort_by(history_order);
        rows.truncate(HISTORY_ROWS as usize);
    }

    pub(super) fn snapshot(&mut self) -> Snapshot {
        let clock = self.clock();
        self.refresh_stale(clock.wall_ms);
        // "Call after this one": once no call is up, the number is offered as a link's is.
        if self.engine.live_calls() == 0 {
            if let Some(offer) = self.dial_offer.as_mut().filter(|o| o.after_call) {
                offer.after_call = false;
            }
        }
        Snapshot {
            built_at_ms: clock.wall_ms,
            engine: self.engine.view(clock),
            sync: self.sync.clone(),
            drafts: self.drafts.clone(),
            session: self.session.clone(),
            preferences: self.preferences,
            dispositions: self.dispositions.clone(),
            contacts: self.contacts.clone(),
            history: self.history.clone(),
            settings: self.settings.clone(),
            demo: self.demo,
            notice: self.notice.clone(),
            pause_reasons: self.pause_reasons.clone(),
            webrtc_missing: self.webrtc_missing,
            dial_offer: self.dial_offer.clone(),
            quit_prompt: self.quit_prompt.clone(),
        }
    }

    /// Sends the UI what changed since it last heard from us, and the desktop its state if
    /// that changed; nothing when nothing did. The desktop is told even while no window is
    /// subscribed: a call must ring through a window that is reloading.
    pub(super) fn publish(&mut self) {
        if self.ui.is_none() && self.desktop.is_none() {
            return;
        }
        let snapshot = self.snapshot();
        if let Some(desktop) = &self.desktop {
            let state = DesktopState::of(&snapshot);
            if self.last_desktop.as_ref() != Some(&state) {
                if desktop(&state) {
                    self.last_desktop = Some(state);
                } else {
                    debug!("desktop watcher gone");
                    self.desktop = None;
                    self.last_desktop = None;
                }
            }
        }
        if self.ui.is_none() {
            return;
        }
        let Some(delta) = snapshot.delta_since(self.last_sent.as_ref()) else {
            return;
        };
        if self.ui.as_ref().is_some_and(|ui| ui(&delta)) {
            self.last_sent = Some(snapshot);
        } else {
            debug!("UI gone; nothing is sent until it subscribes again");
            self.ui = None;
            self.last_sent = None;
        }
    }
}
