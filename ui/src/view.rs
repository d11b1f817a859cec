//! Presentation logic with no DOM: what the components print and which call a shortcut acts
//! on. Unit-tested natively, like Yew's todomvc `state.rs`.

use std::borrow::Borrow;

use ringside_core::phone::RegState;
use ringside_core::{
    CallStatus, Direction, HistoryEntry, Intent, IpcError, Language, LiveCall, UpdateState,
    UpdateView,
};

use crate::i18n::Texts;

/// `m:ss` under an hour, `h:mm:ss` after.
pub fn timer(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds / 60) % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

pub fn status_label(
    t: &Texts,
    status: CallStatus,
    direction: Direction,
    on_hold: bool,
) -> &'static str {
    match (status, direction) {
        (CallStatus::Ringing, Direction::Inbound) => t.incoming,
        (CallStatus::Ringing, Direction::Outbound) => t.calling,
        (CallStatus::Talking, _) if on_hold => t.on_hold,
        (CallStatus::Talking, _) => t.talking,
        (CallStatus::Answered, _) => t.answered,
        (CallStatus::Missed, _) => t.missed,
        (CallStatus::NoAnswered, _) => t.not_answered,
    }
}

/// The phone pill. "Ready" only when the phone can carry a call: registered, and neither a
/// web engine without WebRTC nor a registration that never completed.
pub fn registration_label(
    t: &Texts,
    reg: Option<RegState>,
    stalled: bool,
    no_webrtc: bool,
) -> (&'static str, &'static str) {
    if no_webrtc {
        return (t.phone_no_webrtc, "bad");
    }
    if stalled && reg != Some(RegState::Failed) {
        return (t.phone_not_registering, "bad");
    }
    match reg {
        Some(RegState::Registered) => (t.phone_ready, "ok"),
        Some(RegState::Unregistered) => (t.phone_not_registered, "warn"),
        Some(RegState::Failed) => (t.phone_failed, "bad"),
        Some(RegState::Unknown) | None => (t.phone_starting, "warn"),
    }
}

pub fn sync_label(t: &Texts, online: bool, pending: u64) -> String {
    match (online, pending) {
        (true, 0) => t.backend_connected.to_string(),
        (true, n) => format!("{} {n}…", t.syncing),
        (false, 0) => t.backend_offline.to_string(),
        (false, n) => format!("{}: {n} {}", t.backend_offline, t.offline_saved),
    }
}

/// The time of day a call started, as the agent's language writes it ("14:05", "2:05 PM").
pub fn time_of_day(ms: i64, language: Language) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"hour".into(), &"2-digit".into());
    let _ = js_sys::Reflect::set(&options, &"minute".into(), &"2-digit".into());
    date.to_locale_time_string_with_options(language.as_str(), &options)
        .as_string()
        .unwrap_or_default()
}

/// The sign-in screen's words for what went wrong, in the agent's language; a problem the UI
/// has no words for is shown as the core wrote it.
pub fn sign_in_problem(t: &Texts, e: &IpcError, url: &str) -> String {
    let text = match e.code.as_str() {
        "bad_credentials" => t.bad_credentials,
        "sign_in_incomplete" => t.sign_in_incomplete,
        "backend_unreachable" => t.backend_unreachable_at,
        "not_a_ringside_backend" => t.not_a_ringside_backend,
        "backend_url_invalid" => t.backend_url_invalid,
        "session_ended" => t.session_ended,
        _ => return e.message.clone(),
    };
    text.replace("{url}", url)
}

/// A notice in the agent's language when the UI has words for it (the ones an agent meets in
/// a normal day); anything else as the core wrote it, which support can search for.
pub fn notice_text(t: &'static Texts, e: &IpcError) -> String {
    match e.code.as_str() {
        "agent_not_available" => t.queue_not_offered.to_string(),
        "status_not_changed" => t.status_not_changed.to_string(),
        "notes_too_long" | "too_many_tags" | "tag_too_long" => t.draft_over_limits.to_string(),
        // Only a link's number reaches a banner: the dial pad says its own under the field.
        code if code.starts_with("link_") => format!("{} {}", t.link_refused, t.link_no_number),
        code => match number_problem(t, code) {
            Some(problem) => format!("{} {problem}", t.link_refused),
            None => e.message.clone(),
        },
    }
}

/// What the updater has to say, in the agent's language: whether the problem is theirs
/// (never: a refused or failed update leaves Ringside as it was) and what happens next.
pub fn update_text(t: &Texts, u: &UpdateView) -> String {
    let text = match (u.state, &u.version) {
        (UpdateState::Failed, None) => t.update_unreadable,
        (UpdateState::Downloading, _) => t.update_downloading,
        (UpdateState::Ready, _) => t.update_ready,
        (UpdateState::ReadyForIt, _) => t.update_ready_for_it,
        (UpdateState::Installing, _) => t.update_installing,
        (UpdateState::Refused, _) => t.update_refused,
        (UpdateState::Failed, Some(_)) => t.update_failed,
    };
    text.replace("{v}", u.version.as_deref().unwrap_or("?"))
        .replace("{current}", &u.current)
}

/// Ending a consultation: "Back to the caller" while the agent is with the colleague; once
/// they are back with the caller (after a swap), it only drops the colleague, and says so.
pub fn cancel_consult_label(t: &Texts, with_caller: bool, colleague: &str) -> String {
    if with_caller {
        t.drop_consult.replace("{n}", colleague)
    } else {
        t.cancel_consult.to_string()
    }
}

/// A key that is a phone keypad's: sent as a tone during a call.
pub fn is_dtmf_key(key: &str) -> bool {
    matches!(
        key,
        "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "*" | "#"
    )
}

/// The element that has the keyboard focus, if any.
pub fn focused() -> Option<web_sys::Element> {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
}

/// The agent is typing in a field, where digits are text, not tones.
pub fn typing_in_a_field() -> bool {
    focused().is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
}

/// The dial pad's words for the core's verdict on a number (`None`: not about the number).
pub fn number_problem(t: &'static Texts, code: &str) -> Option<&'static str> {
    match code {
        "invalid_number" => Some(t.invalid_number),
        "number_too_long" => Some(t.number_too_long),
        "number_empty" => Some(t.number_empty),
        "number_unparseable" => Some(t.number_unparseable),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryFilter {
    All,
    Missed,
    Inbound,
    Outbound,
}

impl HistoryFilter {
    pub fn parse(s: &str) -> Self {
        match s {
            "missed" => Self::Missed,
            "inbound" => Self::Inbound,
            "outbound" => Self::Outbound,
            _ => Self::All,
        }
    }
}

/// History rows matching the filter and the search text (number or contact name).
pub fn filter_history<'a, R: Borrow<HistoryEntry>>(
    rows: &'a [R],
    filter: HistoryFilter,
    query: &str,
) -> Vec<&'a R> {
    let q = query.trim().to_lowercase();
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    rows.iter()
        .filter(|r| {
            let r: &HistoryEntry = (*r).borrow();
            match filter {
                HistoryFilter::All => true,
                HistoryFilter::Missed => {
                    matches!(r.log.status, CallStatus::Missed | CallStatus::NoAnswered)
                }
                HistoryFilter::Inbound => r.log.direction == Direction::Inbound,
                HistoryFilter::Outbound => r.log.direction == Direction::Outbound,
            }
        })
        .filter(|r| {
            let r: &HistoryEntry = (*r).borrow();
            q.is_empty()
                || r.log
                    .contact_name
                    .as_deref()
                    .is_some_and(|n| n.to_lowercase().contains(&q))
                || (!digits.is_empty() && r.log.peer.contains(&digits))
                || r.log.peer.contains(&q)
        })
        .collect()
}

/// The number to redial: the most recent outbound call's.
pub fn last_dialled<R: Borrow<HistoryEntry>>(rows: &[R]) -> Option<String> {
    // A consultation's target is a colleague, not the customer the agent means to call back.
    rows.iter()
        .map(Borrow::borrow)
        .find(|r: &&HistoryEntry| {
            r.log.direction == Direction::Outbound && r.log.consult_for.is_none()
        })
        .map(|r| r.log.peer.clone())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    Accept,
    Reject,
    HangUp,
    Mute,
    Hold,
}

impl Shortcut {
    /// Alt+letter, case-insensitive.
    pub fn from_key(alt: bool, key: &str) -> Option<Self> {
        if !alt {
            return None;
        }
        Some(match key.to_ascii_lowercase().as_str() {
            "a" => Self::Accept,
            "r" => Self::Reject,
            "h" => Self::HangUp,
            "m" => Self::Mute,
            "o" => Self::Hold,
            _ => return None,
        })
    }

    /// The intent a shortcut means given the calls on screen: ringing calls for answer and
    /// reject, otherwise the call in progress (the one not on hold first).
    pub fn intent(self, calls: &[LiveCall]) -> Option<Intent> {
        let ringing_in = calls
            .iter()
            .find(|c| c.log.status == CallStatus::Ringing && c.log.direction == Direction::Inbound);
        let talking = calls
            .iter()
            .filter(|c| c.log.status == CallStatus::Talking)
            .min_by_key(|c| c.log.on_hold);
        let id = |c: &LiveCall| c.log.call_id.clone();
        match self {
            Self::Accept => ringing_in.map(|c| Intent::Accept { call_id: id(c) }),
            Self::Reject => ringing_in.map(|c| Intent::Reject { call_id: id(c) }),
            Self::HangUp => talking
                .or_else(|| {
                    calls
                        .iter()
                        .find(|c| c.log.direction == Direction::Outbound)
                })
                .map(|c| Intent::Hangup { call_id: id(c) }),
            Self::Mute => talking.map(|c| Intent::Mute {
                call_id: id(c),
                on: !c.log.muted,
            }),
            Self::Hold => talking.map(|c| Intent::Hold {
                call_id: id(c),
                on: !c.log.on_hold,
            }),
        }
    }
}

/// Tags as typed ("vip, billing ,, vip") to a clean list without duplicates.
pub fn parse_tags(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(t)) {
            out.push(t.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{EN, FR};
    use ringside_core::CallLog;

    fn log(
        id: &str,
        dir: Direction,
        status: CallStatus,
        peer: &str,
        name: Option<&str>,
    ) -> CallLog {
        CallLog {
            contact_name: name.map(str::to_string),
            ..CallLog::new(id, id, dir, peer, status)
        }
    }

    fn row(l: CallLog) -> HistoryEntry {
        HistoryEntry {
            log: l,
            draft: None,
            synced: true,
            notes: None,
            disposition: None,
        }
    }

    #[test]
    fn timers() {
        assert_eq!(timer(0), "0:00");
        assert_eq!(timer(65), "1:05");
        assert_eq!(timer(3600 + 62), "1:01:02");
    }

    #[test]
    fn labels() {
        assert_eq!(
            status_label(&EN, CallStatus::Ringing, Direction::Inbound, false),
            "Incoming call"
        );
        assert_eq!(
            status_label(&EN, CallStatus::Talking, Direction::Inbound, true),
            "On hold"
        );
        assert_eq!(
            sync_label(&EN, false, 3),
            "Backend unreachable: 3 saved here, will sync"
        );
        assert_eq!(
            registration_label(&EN, Some(RegState::Registered), false, false).1,
            "ok"
        );
        // Never "ready" when the phone cannot carry a call.
        assert_eq!(
            registration_label(&EN, Some(RegState::Registered), false, true).1,
            "bad"
        );
        assert_eq!(
            registration_label(&EN, None, true, false),
            (EN.phone_not_registering, "bad")
        );
    }

    #[test]
    fn history_filters() {
        let rows = vec![
            row(log(
                "1",
                Direction::Inbound,
                CallStatus::Missed,
                "+15550100",
                Some("Diego Alvarez"),
            )),
            row(log(
                "2",
                Direction::Outbound,
                CallStatus::Answered,
                "1001",
                None,
            )),
            row(log(
                "3",
                Direction::Outbound,
                CallStatus::NoAnswered,
                "1999",
                None,
            )),
        ];
        assert_eq!(filter_history(&rows, HistoryFilter::Missed, "").len(), 2);
        assert_eq!(filter_history(&rows, HistoryFilter::Inbound, "").len(), 1);
        assert_eq!(filter_history(&rows, HistoryFilter::All, "diego").len(), 1);
        assert_eq!(
            filter_history(&rows, HistoryFilter::All, "555-0100").len(),
            1
        );
        assert_eq!(last_dialled(&rows).as_deref(), Some("1001"));
        // A newer consultation leg (to a colleague) is not what redial calls.
        let mut consult = log("4", Direction::Outbound, CallStatus::Answered, "1003", None);
        consult.consult_for = Some("call-2".into());
        let mut with_consult = vec![row(consult)];
        with_consult.extend(rows);
        assert_eq!(last_dialled(&with_consult).as_deref(), Some("1001"));
    }

    #[test]
    fn sign_in_problems_are_worded_in_the_agents_language() {
        let e = |code: &str| IpcError::new(code, "core text");
        let url = "https://crm.example.com";
        assert_eq!(
            sign_in_problem(&EN, &e("bad_credentials"), url),
            "Wrong username or password."
        );
        assert!(sign_in_problem(&FR, &e("not_a_ringside_backend"), url).contains(url));
        assert!(sign_in_problem(&FR, &e("backend_unreachable"), url).starts_with("Impossible"));
        assert_eq!(sign_in_problem(&FR, &e("something_new"), url), "core text");
    }

    #[test]
    fn everyday_notices_are_in_the_agents_language() {
        let e = |code: &str| IpcError::new(code, "core text");
        assert!(notice_text(&FR, &e("agent_not_available")).contains("Disponible"));
        assert!(notice_text(&EN, &e("status_not_changed")).contains("not changed"));
        assert_eq!(notice_text(&FR, &e("webphone_failed")), "core text");
    }

    #[test]
    fn back_to_the_caller_only_when_the_agent_is_not_with_them() {
        assert_eq!(
            cancel_consult_label(&EN, false, "1003"),
            "Back to the caller"
        );
        assert_eq!(cancel_consult_label(&EN, true, "1003"), "Hang up on 1003");
        assert_eq!(
            cancel_consult_label(&FR, true, "1003"),
            "Raccrocher avec 1003"
        );
    }

    #[test]
    fn shortcuts_pick_the_right_call() {
        let mut ringing = log("r", Direction::Inbound, CallStatus::Ringing, "1", None);
        ringing.on_hold = false;
        let mut held = log("h", Direction::Inbound, CallStatus::Talking, "2", None);
        held.on_hold = true;
        let talking = log("t", Direction::Inbound, CallStatus::Talking, "3", None);
        let calls: Vec<LiveCall> = [ringing, held, talking]
            .into_iter()
            .map(|log| LiveCall {
                log,
                talk_seconds_now: 0,
                hold_seconds_now: None,
                pbx_transfer: None,
            })
            .collect();
        assert_eq!(Shortcut::from_key(true, "A"), Some(Shortcut::Accept));
        assert_eq!(Shortcut::from_key(false, "a"), None);
        assert_eq!(
            Shortcut::Accept.intent(&calls),
            Some(Intent::Accept {
                call_id: "r".into()
            })
        );
        assert_eq!(
            Shortcut::HangUp.intent(&calls),
            Some(Intent::Hangup {
                call_id: "t".into()
            })
        );
        assert_eq!(
            Shortcut::Mute.intent(&calls),
            Some(Intent::Mute {
                call_id: "t".into(),
                on: true
            })
        );
        assert_eq!(Shortcut::Hold.intent(&[]), None);
    }

    #[test]
    fn tags() {
        assert_eq!(
            parse_tags("vip, billing ,, VIP"),
            vec!["vip".to_string(), "billing".to_string()]
        );
    }
}
