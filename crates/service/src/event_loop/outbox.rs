//! The outbox, in steps the loop owns: take a due batch, let a worker send it, settle the
//! answers. One batch is out at a time.

use ringside_core::SessionState;
use ringside_sync::{DrainReport, SyncError};
use tracing::error;

use super::Core;
use crate::wall_ms;

impl Core {
    /// Hands the next due batch to a sender, unless one is out already, the session is not
    /// signed in (the outbox keeps everything for the next sign-in), or a 429 or an outage
    /// paused the whole outbox.
    pub(super) fn drain(&mut self) {
        if self.draining
            || self.session.state != SessionState::SignedIn
            || wall_ms() < self.drain_paused_until
        {
            return;
        }
        match self
            .store
            .next_outbox_batch(wall_ms(), ringside_sync::outbox::IN_FLIGHT)
        {
            Ok(batch) if batch.is_empty() => {}
            Ok(batch) => {
                self.draining = true;
                self.workers.deliver(batch);
            }
            Err(e) => {
                error!(error = %e, "outbox unreadable");
                self.sync.last_error = Some(e.to_string());
            }
        }
    }

    pub(super) fn on_delivered(
        &mut self,
        batch: &[ringside_store::OutboxItem],
        results: Vec<Result<(), SyncError>>,
    ) {
        self.draining = false;
        self.stale.pending = true;
        self.stale
            .history
            .extend(batch.iter().map(|item| item.entity_id.clone()));
        let mut report = DrainReport::default();
        match ringside_sync::settle(&mut self.store, batch, results, wall_ms(), &mut report) {
            Ok(stop) => {
                if report.unauthorized {
                    self.reauthenticate();
                }
                if report.pause_ms > 0 {
                    self.drain_paused_until = wall_ms() + report.pause_ms;
                }
                if let Some(reason) = report.stopped_on {
                    self.sync.online = false;
                    self.sync.last_error = Some(reason);
                } else if report.sent > 0 {
                    self.set_online(true, None);
                }
                if report.failed > 0 {
                    self.stale.drafts = true;
                }
                if !stop {
                    self.drain();
                }
            }
            Err(e) => {
                error!(error = %e, "outbox answers not recorded; they will be sent again");
                self.sync.last_error = Some(e.to_string());
            }
        }
    }
}
