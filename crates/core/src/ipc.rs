//! Types that cross the IPC boundary between the core process and the UI.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::call::{CallDraft, CallLog, DraftState};
use crate::engine::EngineView;

/// Errors as the UI receives them: a stable code to branch on and a message to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpcError {
    pub code: String,
    pub message: String,
}

impl IpcError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for IpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<crate::engine::EngineError> for IpcError {
    fn from(e: crate::engine::EngineError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

/// The backend link as the header shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncView {
    /// The REST API answered the last request.
    pub online: bool,
    /// The agent WebSocket is connected.
    #[serde(default)]
    pub agent_socket: bool,
    /// Records (a call's log, a call's notes) committed locally and not yet acknowledged by
    /// the backend: what the agent would lose without this computer.
    pub pending: u64,
    /// Call logs the backend refused for good (4xx): kept here, not re-sent as they are.
    #[serde(default)]
    pub refused: u64,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    #[default]
    SignedOut,
    SigningIn,
    SignedIn,
}

/// Sign-in as the UI shows it. No secret ever goes in here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub state: SessionState,
    pub username: String,
    pub backend_url: String,
    pub error: Option<IpcError>,
    /// The backend or the webphone is reached without encryption beyond this computer, which
    /// only a lab's policy (`allow_insecure_transport`) allows: the window says so, on the
    /// sign-in screen (the password goes that way) and in the header.
    #[serde(default)]
    pub insecure: bool,
    /// Why the session cannot be remembered between runs (no keyring on this system): the
    /// sign-in screen says so, since the agent will type the password at every start.
    #[serde(default)]
    pub keyring_unavailable: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    /// The one spelling used in the settings table, the page's `data-theme` and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    /// Anything unknown is the system theme: a stale setting must not fail start-up.
    pub fn parse(s: &str) -> Self {
        match s {
            "light" => Self::Light,
            "dark" => Self::Dark,
            _ => Self::System,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    En,
    Fr,
}

impl Language {
    /// The one spelling used in the settings table, the page's `lang` and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
        }
    }

    /// Anything unknown is English.
    pub fn parse(s: &str) -> Self {
        match s {
            "fr" => Self::Fr,
            _ => Self::En,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    pub theme: Theme,
    pub language: Language,
    /// The ringtone's volume, 0 (silent) to 100.
    #[serde(default = "default_ring_volume")]
    pub ring_volume: u8,
}

fn default_ring_volume() -> u8 {
    80
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            theme: Theme::default(),
            language: Language::default(),
            ring_volume: default_ring_volume(),
        }
    }
}

impl Preferences {
    /// The stored text of a volume, read leniently: out of range is clamped, garbage is the
    /// default.
    pub fn parse_volume(s: &str) -> u8 {
        s.trim()
            .parse::<u32>()
            .map(|v| v.min(100) as u8)
            .unwrap_or_else(|_| default_ring_volume())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disposition {
    pub code: String,
    pub label: String,
    /// The label in other languages, by language code (`"fr"`), when the backend has them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl Disposition {
    /// The label in `language`, else the backend's default one.
    pub fn label_in(&self, language: &str) -> &str {
        self.labels
            .get(language)
            .map_or(&self.label, String::as_str)
    }
}

/// A CRM contact, as the backend sends it and the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactView {
    pub id: String,
    pub name: String,
    pub phone: String,
}

/// An unfinished after-call draft with the call it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftView {
    pub draft: CallDraft,
    pub log: Option<CallLog>,
    /// The backend refused this draft when it was submitted (its reason, as it gave it): the
    /// draft is open again for the agent to correct and resubmit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// One row of the day's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub log: CallLog,
    pub draft: Option<DraftState>,
    /// Nothing about this call is waiting for the backend.
    pub synced: bool,
    /// The submitted notes' first characters (read-only in the history; a preview keeps the
    /// day's history small on the IPC), and the outcome's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
}

/// How much of a call's notes its history row carries.
pub const NOTES_PREVIEW_CHARS: usize = 160;

/// Settings that come from configuration, with what IT locked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub webphone: String,
    pub webphone_locked: bool,
    pub backend_locked: bool,
    /// The webphone library does not expose audio devices: the UI says so instead of a list.
    pub audio_devices: Vec<String>,
    /// Ringside plays its own ringtone for incoming calls (the simulator has none; a
    /// customer's library rings by itself, unless IT says otherwise with `ringtone`).
    #[serde(default)]
    pub ringtone: bool,
    /// The system-wide shortcuts (answer, hang up, mute, hold) and whether each works.
    #[serde(default)]
    pub global_shortcuts: Vec<ShortcutView>,
    /// Ringside starts when the agent signs in to the computer (`None`: not known here).
    #[serde(default)]
    pub start_at_login: Option<bool>,
    /// IT decides it (`start_at_login` in the machine's settings).
    #[serde(default)]
    pub start_at_login_locked: bool,
    /// An update on its way, ready, or refused (the shell's updater reports it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<UpdateView>,
}

/// What became of an update the channel offered, for the agent (a line under the header)
/// and for Settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateView {
    /// The version running now.
    pub current: String,
    /// The version offered (`None`: the channel's answer could not be read).
    #[serde(default)]
    pub version: Option<String>,
    pub state: UpdateState,
    /// Why it failed, in the updater's words (logged too); the UI says the state in the
    /// agent's language and shows this underneath.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateState {
    Downloading,
    /// Downloaded and its signature checked: installs once no call is up or ringing and
    /// nothing waits for the backend, or at quit.
    Ready,
    /// Downloaded and checked; IT installs it (`update_mode = notify`, or a copy of Ringside
    /// that was not installed from a package).
    ReadyForIt,
    Installing,
    /// Not signed with the key IT's policy names, or altered on the way: not installed.
    Refused,
    /// The channel, the download or the installer failed: Ringside keeps running as it is.
    Failed,
}

/// One system-wide shortcut as Settings shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShortcutView {
    /// `answer`, `hang_up`, `mute`, `hold`.
    pub action: String,
    pub keys: String,
    pub active: bool,
    /// Why it is not active: taken by another application, unreadable, a duplicate.
    #[serde(default)]
    pub problem: Option<String>,
}

/// Everything the UI renders, pushed by the core on every change and every second.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// When the core built this snapshot (Unix ms): the UI measures its own lag against it.
    #[serde(default)]
    pub built_at_ms: i64,
    pub engine: EngineView,
    pub sync: SyncView,
    /// Unfinished after-call drafts in the order their calls ended (oldest first), a fixed
    /// order: saving a draft never moves it.
    pub drafts: Vec<DraftView>,
    #[serde(default)]
    pub session: SessionView,
    #[serde(default)]
    pub preferences: Preferences,
    #[serde(default)]
    pub dispositions: Vec<Disposition>,
    #[serde(default)]
    pub contacts: Vec<ContactView>,
    /// Shared, not copied: the core builds a snapshot per change (a keystroke in the notes
    /// is one), and the day's history rarely changes with it.
    #[serde(default, with = "shared")]
    pub history: Arc<Vec<HistoryEntry>>,
    #[serde(default)]
    pub settings: SettingsView,
    /// Demo mode: the webphone is the simulator and the backend runs in-process.
    pub demo: bool,
    /// A problem the agent must know about (webphone failed to load, no WebRTC, ...).
    pub notice: Option<IpcError>,
    /// The backend's pause reasons, for the status menu.
    #[serde(default)]
    pub pause_reasons: Vec<PauseReason>,
    /// The web engine hosting the customer's webphone has no WebRTC: no call can be carried.
    #[serde(default)]
    pub webrtc_missing: bool,
    /// A number a link or `ringside dial` asked to call, waiting for the agent.
    #[serde(default)]
    pub dial_offer: Option<DialOffer>,
    /// The agent asked to quit (the tray, the window's close) with work at risk: what would
    /// be lost, in their language, for the window to ask "quit anyway?".
    #[serde(default)]
    pub quit_prompt: Option<String>,
}

/// A number from outside Ringside (a `tel:` link, `ringside dial`), offered to the agent
/// rather than dialled, per the `link_action` policy or because a call is up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialOffer {
    /// Already through the dial pad's cleaning: what the webphone will dial.
    pub number: String,
    /// The agent chose "call after this one": it comes back, pre-filled, once no call is up.
    #[serde(default)]
    pub after_call: bool,
}

/// What the agent does with a [`DialOffer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferAction {
    /// Call now; a call in progress goes on hold first, as for any dial.
    Call,
    /// Keep it until the calls in progress end.
    AfterCall,
    Dismiss,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseReason {
    pub code: String,
    /// The reason as the backend stores it, which is also what a status change names.
    pub reason: String,
    /// The reason in other languages, for display only.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl PauseReason {
    pub fn label_in(&self, language: &str) -> &str {
        self.labels
            .get(language)
            .map_or(&self.reason, String::as_str)
    }
}

/// What the core pushes to the main window over the channel it handed over with
/// [`cmd::SUBSCRIBE`]: the first message carries every part, later ones only the parts that
/// changed. Nothing is sent when nothing changed, so an idle agent's window receives nothing
/// and a talking agent's receives the small `engine` part once a second; the day's history is
/// re-sent only when a call or a note changes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotDelta {
    /// When the core built it (Unix ms): the UI measures its own lag against it.
    pub built_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<EngineView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drafts: Option<Vec<DraftView>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferences: Option<Preferences>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispositions: Option<Vec<Disposition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<ContactView>>,
    /// Row by row: a finished call adds one row and a synced note changes one, so a delta
    /// carries those rows, not the day's hundreds again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryDelta>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<SettingsView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demo: Option<bool>,
    /// `Some(None)` clears the banner.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub notice: Option<Option<IpcError>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_reasons: Option<Vec<PauseReason>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webrtc_missing: Option<bool>,
    /// `Some(None)` clears the offer.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub dial_offer: Option<Option<DialOffer>>,
    /// `Some(None)` clears the prompt.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub quit_prompt: Option<Option<String>>,
}

/// How the day's history changed: rows new or changed, and rows that left it (older than its
/// window). History is ordered newest first by [`history_order`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryDelta {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upsert: Vec<HistoryEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

/// Newest first; calls that started in the same millisecond by id, so that the core's list
/// and every copy built from deltas agree on the order.
pub fn history_order(a: &HistoryEntry, b: &HistoryEntry) -> std::cmp::Ordering {
    b.log
        .started_at_ms
        .cmp(&a.log.started_at_ms)
        .then_with(|| b.log.id.cmp(&a.log.id))
}

impl HistoryDelta {
    /// The rows of `now` that `before` lacks or holds differently, and the ids `now` dropped;
    /// `None` when both hold the same rows.
    pub fn between(before: &[HistoryEntry], now: &[HistoryEntry]) -> Option<HistoryDelta> {
        let old: std::collections::HashMap<&str, &HistoryEntry> =
            before.iter().map(|r| (r.log.id.as_str(), r)).collect();
        let kept: std::collections::HashSet<&str> = now.iter().map(|r| r.log.id.as_str()).collect();
        let delta = HistoryDelta {
            upsert: now
                .iter()
                .filter(|r| old.get(r.log.id.as_str()) != Some(r))
                .cloned()
                .collect(),
            remove: before
                .iter()
                .filter(|r| !kept.contains(r.log.id.as_str()))
                .map(|r| r.log.id.clone())
                .collect(),
        };
        (!delta.upsert.is_empty() || !delta.remove.is_empty()).then_some(delta)
    }

    /// Applies the change to `rows` (kept in [`history_order`]). Rows may be held as they are
    /// or shared (`Rc<HistoryEntry>` in the UI, where an unchanged row then compares equal by
    /// its pointer and is neither copied nor re-rendered).
    pub fn apply_to<R>(self, rows: &mut Vec<R>)
    where
        R: std::borrow::Borrow<HistoryEntry> + From<HistoryEntry>,
    {
        let gone: std::collections::HashSet<String> = self
            .remove
            .into_iter()
            .chain(self.upsert.iter().map(|r| r.log.id.clone()))
            .collect();
        rows.retain(|r| !gone.contains(&r.borrow().log.id));
        rows.extend(self.upsert.into_iter().map(R::from));
        rows.sort_by(|a, b| history_order(a.borrow(), b.borrow()));
    }
}

/// An `Arc` on the wire is its contents (serde's own support for it is a crate feature that
/// would rebuild every crate depending on serde).
mod shared {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(v: &Arc<T>, s: S) -> Result<S::Ok, S::Error> {
        T::serialize(v, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Arc<T>, D::Error> {
        T::deserialize(d).map(Arc::new)
    }
}

/// A field that is present is `Some`, even when it is `null`: serde's default would read a
/// cleared notice (`"notice": null`) as "unchanged".
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// One list of the snapshot's parts, so that diffing and applying cannot drift apart. The
/// history, sent row by row, is diffed and applied on its own (see [`HistoryDelta`]).
macro_rules! snapshot_parts {
    ($mac:ident) => {
        $mac!(
            engine,
            sync,
            drafts,
            session,
            preferences,
            dispositions,
            contacts,
            settings,
            demo,
            notice,
            pause_reasons,
            webrtc_missing,
            dial_offer,
            quit_prompt
        )
    };
}

impl Snapshot {
    /// The parts of `self` that differ from `previous` (all of them without one); `None` when
    /// nothing differs.
    pub fn delta_since(&self, previous: Option<&Snapshot>) -> Option<SnapshotDelta> {
        let mut delta = SnapshotDelta {
            built_at_ms: self.built_at_ms,
            ..SnapshotDelta::default()
        };
        let mut changed = false;
        macro_rules! diff {
            ($($part:ident),*) => {$(
                if previous.is_none_or(|p| p.$part != self.$part) {
                    delta.$part = Some(self.$part.clone());
                    changed = true;
                }
            )*};
        }
        snapshot_parts!(diff);
        delta.history = match previous {
            Some(p) if Arc::ptr_eq(&p.history, &self.history) => None,
            p => HistoryDelta::between(
                p.map(|p| p.history.as_slice()).unwrap_or_default(),
                &self.history,
            ),
        };
        // The first message carries the history even when empty: "no calls yet" is news.
        if previous.is_none() && delta.history.is_none() {
            delta.history = Some(HistoryDelta::default());
        }
        changed |= delta.history.is_some();
        changed.then_some(delta)
    }

    /// Brings `self` up to date with a delta built by [`Snapshot::delta_since`].
    pub fn apply(&mut self, delta: SnapshotDelta) {
        self.built_at_ms = delta.built_at_ms;
        macro_rules! apply {
            ($($part:ident),*) => {$(
                if let Some(v) = delta.$part {
                    self.$part = v;
                }
            )*};
        }
        snapshot_parts!(apply);
        if let Some(h) = delta.history {
            h.apply_to(Arc::make_mut(&mut self.history));
        }
    }
}

/// The IPC commands' names: the UI calls them by these constants, the shell's build script
/// declares them from [`COMMANDS`], and a shell test checks its handler list and the agent's
/// window's capability file against it. A command is named here once.
pub mod cmd {
    pub const PHONE_EVENT: &str = "phone_event";
    pub const PHONE_ATTACH: &str = "phone_attach";
    pub const SUBSCRIBE: &str = "subscribe";
    pub const INTENT: &str = "intent";
    pub const SAVE_DRAFT: &str = "save_draft";
    pub const SUBMIT_DRAFT: &str = "submit_draft";
    pub const SIMULATE_INCOMING: &str = "simulate_incoming";
    pub const SIGN_IN: &str = "sign_in";
    pub const SIGN_OUT: &str = "sign_out";
    pub const SET_AGENT_STATUS: &str = "set_agent_status";
    pub const SET_PREFERENCES: &str = "set_preferences";
    pub const SET_WEBPHONE_LOCATION: &str = "set_webphone_location";
    pub const SIMULATE: &str = "simulate";
    pub const DISMISS_NOTICE: &str = "dismiss_notice";
    pub const DIAL_OFFER: &str = "dial_offer";
    pub const SAVE_DIAGNOSTICS: &str = "save_diagnostics";
    pub const QUIT: &str = "quit";
    pub const SET_START_AT_LOGIN: &str = "set_start_at_login";
}

/// Every IPC command. Only the agent's window has IPC: the webphone library runs in a
/// sandboxed iframe of that window with none, and the window relays its callbacks
/// (`phone_event`) and its commands (`phone_attach`'s channel).
pub const COMMANDS: &[&str] = &[
    cmd::PHONE_EVENT,
    cmd::PHONE_ATTACH,
    cmd::SUBSCRIBE,
    cmd::INTENT,
    cmd::SAVE_DRAFT,
    cmd::SUBMIT_DRAFT,
    cmd::SIMULATE_INCOMING,
    cmd::SIGN_IN,
    cmd::SIGN_OUT,
    cmd::SET_AGENT_STATUS,
    cmd::SET_PREFERENCES,
    cmd::SET_WEBPHONE_LOCATION,
    cmd::SIMULATE,
    cmd::DISMISS_NOTICE,
    cmd::DIAL_OFFER,
    cmd::SAVE_DIAGNOSTICS,
    cmd::QUIT,
    cmd::SET_START_AT_LOGIN,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize) -> Snapshot {
        Snapshot {
            built_at_ms: n as i64,
            contacts: (0..n)
                .map(|i| ContactView {
                    id: i.to_string(),
                    name: format!("C{i}"),
                    phone: format!("+3310000{i}"),
                })
                .collect(),
            notice: n.is_multiple_of(2).then(|| IpcError::new("x", "y")),
            ..Snapshot::default()
        }
    }

    #[test]
    fn a_delta_carries_only_what_changed_and_rebuilds_the_snapshot() {
        let a = sample(4);
        let full = a.delta_since(None).expect("first delta");
        assert!(full.engine.is_some() && full.contacts.is_some() && full.history.is_some());
        let mut ui = Snapshot::default();
        ui.apply(full);
        assert_eq!(ui, a);

        let mut b = a.clone();
        b.built_at_ms = 99;
        assert_eq!(b.delta_since(Some(&a)), None, "only the build time changed");

        b.notice = None;
        let d = b.delta_since(Some(&a)).expect("the notice changed");
        assert_eq!(d.notice, Some(None));
        assert!(d.contacts.is_none() && d.engine.is_none() && d.history.is_none());
        ui.apply(d);
        assert_eq!(ui, b);
    }

    #[test]
    fn a_delta_survives_json_both_ways() {
        let a = sample(2);
        let mut b = sample(5);
        b.notice = None;
        let d = b.delta_since(Some(&a)).expect("changed");
        let json = serde_json::to_string(&d).expect("serialise");
        assert!(
            !json.contains("\"history\""),
            "unchanged parts are left out: {json}"
        );
        let back: SnapshotDelta = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, d, "Some(None) must survive as a cleared notice");
        let mut ui = a.clone();
        ui.apply(back);
        assert_eq!(ui, b);
    }

    fn row(id: &str, started_at_ms: i64, synced: bool) -> HistoryEntry {
        let mut log = CallLog::new(
            id.to_string(),
            format!("call-{id}"),
            crate::Direction::Inbound,
            "+15550100",
            crate::CallStatus::Answered,
        );
        log.started_at_ms = started_at_ms;
        HistoryEntry {
            log,
            draft: None,
            synced,
            notes: None,
            disposition: None,
        }
    }

    #[test]
    fn history_goes_row_by_row_and_rebuilds_the_same_list() {
        let mut a = Snapshot::default();
        let mut rows: Vec<HistoryEntry> = (0..200)
            .map(|i| row(&format!("c{i:03}"), 1_000 - i, true))
            .collect();
        rows.sort_by(history_order);
        a.history = Arc::new(rows);
        let mut ui = Snapshot::default();
        ui.apply(a.delta_since(None).expect("first"));
        assert_eq!(ui, a);

        // A new call (same start millisecond as another: ordered by id), a row changed, and
        // the oldest row out of the window.
        let mut b = a.clone();
        let rows = Arc::make_mut(&mut b.history);
        rows.pop();
        rows.push(row("c500", 1_000, false));
        rows[5].synced = false;
        rows.sort_by(history_order);
        let d = b.delta_since(Some(&a)).expect("changed");
        let h = d.history.clone().expect("history changed");
        assert_eq!(
            h.upsert.len(),
            2,
            "the new row and the changed one, not 200"
        );
        assert_eq!(h.remove, ["c199"]);
        let json = serde_json::to_string(&d).expect("serialise");
        assert!(json.len() < 1_500, "{} bytes: {json}", json.len());
        ui.apply(serde_json::from_str(&json).expect("parse"));
        assert_eq!(ui, b);

        let mut c = b.clone();
        c.built_at_ms += 1;
        assert_eq!(c.delta_since(Some(&b)), None, "same rows, nothing to send");
        c.history = Arc::new((*b.history).clone());
        assert_eq!(
            c.delta_since(Some(&b)),
            None,
            "equal rows in a new list: nothing either"
        );
        c.history = Arc::default();
        ui.apply(c.delta_since(Some(&b)).expect("all gone"));
        assert!(ui.history.is_empty());
    }

    #[test]
    fn the_first_delta_says_the_history_is_empty() {
        let d = Snapshot::default().delta_since(None).expect("first");
        assert_eq!(d.history, Some(HistoryDelta::default()));
    }

    #[test]
    fn every_command_is_listed_once() {
        let mut names: Vec<&str> = COMMANDS.to_vec();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }
}
