//! The core's snapshot as the UI holds it: one [`Rc`] per part, brought up to date by the
//! deltas the core sends over the subscription channel.
//!
//! A delta carries only the parts that changed, and only those parts get a new `Rc`: every
//! other part keeps its allocation. Components receive these `Rc`s as props, and `Rc`'s
//! `PartialEq` on an `Eq` type answers "equal" from the pointer alone when both sides share an
//! allocation. So the once-a-second engine delta of a talking agent re-renders what shows the
//! engine (header, call cards) and costs one pointer comparison for the history, the contacts
//! and the drafts, however long they are.

use std::rc::Rc;

use ringside_core::ipc::SnapshotDelta;
use ringside_core::{
    ContactView, DialOffer, Disposition, DraftView, EngineView, HistoryEntry, IpcError,
    PauseReason, Preferences, SessionView, SettingsView, SyncView,
};
use yew::Reducible;

/// The parts of [`ringside_core::Snapshot`], those worth sharing behind an `Rc`. Small `Copy`
/// parts and the rare notice are held as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parts {
    /// When the core built the last delta applied (Unix ms).
    pub built_at_ms: i64,
    pub engine: Rc<EngineView>,
    pub sync: Rc<SyncView>,
    pub drafts: Rc<Vec<DraftView>>,
    pub session: Rc<SessionView>,
    pub preferences: Preferences,
    pub dispositions: Rc<Vec<Disposition>>,
    pub contacts: Rc<Vec<ContactView>>,
    /// Each row shared: a delta that adds one row leaves the others' allocations alone, so
    /// the list compares them by pointer and renders only the new one.
    pub history: Rc<Vec<Rc<HistoryEntry>>>,
    pub settings: Rc<SettingsView>,
    pub demo: bool,
    pub notice: Option<IpcError>,
    pub pause_reasons: Rc<Vec<PauseReason>>,
    pub webrtc_missing: bool,
    pub dial_offer: Option<DialOffer>,
    pub quit_prompt: Option<String>,
}

impl Parts {
    /// What [`ringside_core::Snapshot::apply`] does, part by part, replacing only the `Rc`s of
    /// the parts the delta carries.
    pub fn apply(&mut self, delta: SnapshotDelta) {
        // Destructured without `..`: a part added to the delta does not compile until it is
        // handled here, so this cannot drift from the core's own `apply`.
        let SnapshotDelta {
            built_at_ms,
            engine,
            sync,
            drafts,
            session,
            preferences,
            dispositions,
            contacts,
            history,
            settings,
            demo,
            notice,
            pause_reasons,
            webrtc_missing,
            dial_offer,
            quit_prompt,
        } = delta;
        self.built_at_ms = built_at_ms;
        replace(&mut self.engine, engine);
        replace(&mut self.sync, sync);
        replace(&mut self.drafts, drafts);
        replace(&mut self.session, session);
        replace(&mut self.dispositions, dispositions);
        replace(&mut self.contacts, contacts);
        if let Some(h) = history {
            let mut rows = (*self.history).clone();
            h.apply_to(&mut rows);
            self.history = Rc::new(rows);
        }
        replace(&mut self.settings, settings);
        replace(&mut self.pause_reasons, pause_reasons);
        if let Some(v) = preferences {
            self.preferences = v;
        }
        if let Some(v) = demo {
            self.demo = v;
        }
        if let Some(v) = notice {
            self.notice = v;
        }
        if let Some(v) = webrtc_missing {
            self.webrtc_missing = v;
        }
        if let Some(v) = dial_offer {
            self.dial_offer = v;
        }
        if let Some(v) = quit_prompt {
            self.quit_prompt = v;
        }
    }
}

fn replace<T>(part: &mut Rc<T>, new: Option<T>) {
    if let Some(v) = new {
        *part = Rc::new(v);
    }
}

/// The App's reducer state: nothing until the core's first delta, which carries every part.
#[derive(Debug, Default, PartialEq)]
pub struct Held {
    pub parts: Option<Parts>,
}

impl Reducible for Held {
    type Action = SnapshotDelta;

    fn reduce(self: Rc<Self>, delta: SnapshotDelta) -> Rc<Self> {
        // Cloning `Parts` copies pointers, not lists.
        let mut parts = self.parts.clone().unwrap_or_default();
        parts.apply(delta);
        Rc::new(Self { parts: Some(parts) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringside_core::{CallLog, CallStatus, Direction, Snapshot};

    impl Parts {
        fn to_snapshot(&self) -> Snapshot {
            Snapshot {
                built_at_ms: self.built_at_ms,
                engine: (*self.engine).clone(),
                sync: (*self.sync).clone(),
                drafts: (*self.drafts).clone(),
                session: (*self.session).clone(),
                preferences: self.preferences,
                dispositions: (*self.dispositions).clone(),
                contacts: (*self.contacts).clone(),
                history: std::sync::Arc::new(self.history.iter().map(|r| (**r).clone()).collect()),
                settings: (*self.settings).clone(),
                demo: self.demo,
                notice: self.notice.clone(),
                pause_reasons: (*self.pause_reasons).clone(),
                webrtc_missing: self.webrtc_missing,
                dial_offer: self.dial_offer.clone(),
                quit_prompt: self.quit_prompt.clone(),
            }
        }
    }

    fn snapshot(calls: usize, built_at_ms: i64) -> Snapshot {
        let mut s = Snapshot {
            built_at_ms,
            history: std::sync::Arc::new(
                (0..calls)
                    .map(|i| HistoryEntry {
                        log: CallLog::new(
                            format!("log-{i}"),
                            format!("call-{i}"),
                            Direction::Inbound,
                            "+15550100",
                            CallStatus::Answered,
                        ),
                        draft: None,
                        synced: true,
                        notes: None,
                        disposition: None,
                    })
                    .collect(),
            ),
            contacts: vec![ContactView {
                id: "c1".into(),
                name: "Alice Martin".into(),
                phone: "+33100000001".into(),
            }],
            notice: Some(IpcError::new("webphone_failed", "no webphone")),
            demo: true,
            ..Snapshot::default()
        };
        // As the core keeps it.
        std::sync::Arc::make_mut(&mut s.history).sort_by(ringside_core::ipc::history_order);
        s
    }

    #[test]
    fn deltas_rebuild_what_the_core_holds() {
        let first = snapshot(2, 1);
        let mut second = snapshot(3, 2);
        second.notice = None;
        second.engine.phone_status = Some("Registered.".into());

        let mut parts = Parts::default();
        parts.apply(
            first
                .delta_since(None)
                .expect("a first delta carries everything"),
        );
        assert_eq!(parts.to_snapshot(), first);
        parts.apply(second.delta_since(Some(&first)).expect("changed"));
        assert_eq!(
            parts.to_snapshot(),
            second,
            "a cleared notice is cleared too"
        );
    }

    #[test]
    fn a_part_the_delta_does_not_carry_keeps_its_allocation() {
        let first = snapshot(200, 1);
        let mut tick = first.clone();
        tick.built_at_ms = 2;
        tick.engine.phone_status = Some("Registered.".into());

        let held = Rc::new(Held::default()).reduce(first.delta_since(None).expect("first"));
        let after = held
            .clone()
            .reduce(tick.delta_since(Some(&first)).expect("the engine changed"));
        let (Some(before), Some(after)) = (&held.parts, &after.parts) else {
            panic!("both deltas were applied");
        };
        assert!(!Rc::ptr_eq(&before.engine, &after.engine));
        assert!(Rc::ptr_eq(&before.history, &after.history));
        assert!(Rc::ptr_eq(&before.contacts, &after.contacts));
        assert!(Rc::ptr_eq(&before.drafts, &after.drafts));
        assert_eq!(after.built_at_ms, 2);
    }

    /// A delta that adds a call's row shares every other row with the list before it: the
    /// history list compares them by pointer and renders only the new one.
    #[test]
    fn a_new_history_row_leaves_the_other_rows_shared() {
        let first = snapshot(100, 1);
        let mut second = snapshot(101, 2);
        second.contacts = first.contacts.clone();
        let held = Rc::new(Held::default()).reduce(first.delta_since(None).expect("first"));
        let after = held
            .clone()
            .reduce(second.delta_since(Some(&first)).expect("a row was added"));
        let (Some(before), Some(after)) = (&held.parts, &after.parts) else {
            panic!("both deltas were applied");
        };
        assert_eq!(after.history.len(), 101);
        let shared = after
            .history
            .iter()
            .filter(|row| before.history.iter().any(|old| Rc::ptr_eq(old, row)))
            .count();
        assert_eq!(shared, 100);
    }

    #[test]
    fn nothing_is_held_before_the_first_delta() {
        assert_eq!(Held::default().parts, None);
    }
}
