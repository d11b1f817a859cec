//! What the desktop around the window needs to know, whatever the window shows or whether it
//! is open: the calls ringing (for the notification, the ringtone and the urgency hint), whether
//! a call is up, the agent's status (for the tray), and the work that quitting now would put at
//! risk. The core computes it from each snapshot; the shell sends it on only when it changed.

use serde::{Deserialize, Serialize};

use crate::call::{CallStatus, Direction};
use crate::engine::{AgentState, AgentStatus};
use crate::ipc::{Language, SessionState, Snapshot};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesktopState {
    pub signed_in: bool,
    /// Inbound calls ringing, oldest first.
    pub ringing: Vec<RingingCall>,
    /// A call connected, held, or being dialled.
    pub in_call: bool,
    pub agent_status: Option<AgentStatus>,
    /// Records committed here and not yet acknowledged by the backend.
    pub unsynced: u64,
    /// After-call work not submitted yet.
    pub open_drafts: usize,
    pub language: Language,
    /// The backend's pause reasons: (the reason as the backend names it, its label in the
    /// agent's language), for the tray's status menu.
    pub pause_reasons: Vec<(String, String)>,
    /// The call a "Hang up" from outside the window ends: the one connected, else the one
    /// being dialled.
    pub current_call: Option<String>,
    /// Whether the current call is muted (the mute shortcut toggles it).
    pub current_muted: bool,
    /// A call on hold (the hold shortcut resumes it when none is connected).
    pub held_call: Option<String>,
}

/// An inbound call ringing, as a notification names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RingingCall {
    /// The call as intents name it (`Intent::Accept { call_id }`).
    pub call_id: String,
    pub number: String,
    /// The CRM contact's name, else the name the caller's phone sent.
    pub name: Option<String>,
    pub queue: Option<String>,
}

impl DesktopState {
    pub fn of(snapshot: &Snapshot) -> Self {
        let calls = &snapshot.engine.calls;
        let ringing = calls
            .iter()
            .filter(|c| {
                c.log.status == CallStatus::Ringing && c.log.direction == Direction::Inbound
            })
            .map(|c| RingingCall {
                call_id: c.log.call_id.clone(),
                number: c.log.peer.clone(),
                name: c
                    .log
                    .contact_name
                    .clone()
                    .or_else(|| c.log.peer_name.clone())
                    .filter(|n| !n.trim().is_empty() && *n != c.log.peer),
                queue: c
                    .log
                    .queue
                    .as_ref()
                    .map(|q| q.queue_name.clone())
                    .filter(|q| !q.is_empty()),
            })
            .collect();
        let in_call = calls.iter().any(|c| {
            !(c.log.status == CallStatus::Ringing && c.log.direction == Direction::Inbound)
        });
        let current_call = calls
            .iter()
            .find(|c| c.log.status == CallStatus::Talking && !c.log.on_hold)
            .or_else(|| {
                calls.iter().find(|c| {
                    c.log.status == CallStatus::Ringing && c.log.direction == Direction::Outbound
                })
            })
            .map(|c| c.log.call_id.clone());
        let lang = snapshot.preferences.language.as_str();
        let current_muted = calls
            .iter()
            .find(|c| Some(&c.log.call_id) == current_call.as_ref())
            .is_some_and(|c| c.log.muted);
        let held_call = calls
            .iter()
            .find(|c| c.log.on_hold)
            .map(|c| c.log.call_id.clone());
        Self {
            pause_reasons: snapshot
                .pause_reasons
                .iter()
                .map(|r| (r.reason.clone(), r.label_in(lang).to_string()))
                .collect(),
            current_call,
            current_muted,
            held_call,
            signed_in: snapshot.session.state == SessionState::SignedIn,
            ringing,
            in_call,
            agent_status: snapshot.engine.agent_status.clone(),
            unsynced: snapshot.sync.pending,
            open_drafts: snapshot.drafts.len(),
            language: snapshot.preferences.language,
        }
    }

    /// Whether an update may restart Ringside now: no call up or ringing, no after-call work
    /// open, nothing waiting for the backend. A restart keeps all of that (it is in SQLite),
    /// but it would take the screen from an agent in the middle of it.
    pub fn quiet_for_update(&self) -> bool {
        !self.in_call && self.ringing.is_empty() && self.open_drafts == 0 && self.unsynced == 0
    }

    /// What quitting now would cost the agent, in their language; `None` when nothing would.
    /// A call up is cut; unsynced records stay on this computer and go at the next start, but
    /// nobody sees them in the CRM meanwhile.
    pub fn quit_warning(&self) -> Option<String> {
        let fr = self.language == Language::Fr;
        let mut parts = Vec::new();
        if self.in_call || !self.ringing.is_empty() {
            parts.push(if fr {
                "l'appel en cours sera coupé".to_string()
            } else {
                "the call in progress will be cut off".to_string()
            });
        }
        if self.open_drafts > 0 {
            parts.push(if fr {
                format!(
                    "{} fiche(s) d'après-appel non envoyée(s) attendront le prochain démarrage",
                    self.open_drafts
                )
            } else {
                format!(
                    "{} unfinished after-call form(s) will wait for the next start",
                    self.open_drafts
                )
            });
        }
        if self.unsynced > 0 {
            parts.push(if fr {
                format!(
                    "{} enregistrement(s) pas encore reçu(s) par le CRM partiront au prochain démarrage",
                    self.unsynced
                )
            } else {
                format!(
                    "{} record(s) not yet received by the CRM will be sent at the next start",
                    self.unsynced
                )
            });
        }
        if parts.is_empty() {
            return None;
        }
        let text = parts.join("; ");
        let mut chars = text.chars();
        let first: String = chars.next()?.to_uppercase().collect();
        Some(format!("{first}{}.", chars.as_str()))
    }

    /// The status as the tray's tooltip says it.
    pub fn status_line(&self) -> String {
        let fr = self.language == Language::Fr;
        if !self.ringing.is_empty() {
            return if fr { "Appel entrant" } else { "Incoming call" }.into();
        }
        if self.in_call {
            return if fr { "En communication" } else { "On a call" }.into();
        }
        if !self.signed_in {
            return if fr { "Déconnecté" } else { "Signed out" }.into();
        }
        match &self.agent_status {
            Some(AgentStatus {
                state: AgentState::Available,
                ..
            }) => if fr { "Disponible" } else { "Available" }.into(),
            Some(AgentStatus {
                state: AgentState::Paused,
                reason,
            }) => {
                let base = if fr { "En pause" } else { "Paused" };
                match reason {
                    Some(r) if !r.is_empty() => format!("{base} ({r})"),
                    _ => base.into(),
                }
            }
            _ => if fr {
                "Hors file"
            } else {
                "Logged out of queues"
            }
            .into(),
        }
    }
}

/// What a system-wide shortcut does, whatever window has the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalAction {
    Answer,
    HangUp,
    Mute,
    Hold,
}

impl GlobalAction {
    pub const ALL: [GlobalAction; 4] = [Self::Answer, Self::HangUp, Self::Mute, Self::Hold];

    /// The name in settings (`shortcut_<name>`) and in Settings' list.
    pub fn name(self) -> &'static str {
        match self {
            Self::Answer => "answer",
            Self::HangUp => "hang_up",
            Self::Mute => "mute",
            Self::Hold => "hold",
        }
    }

    /// The intent for the calls as they are; `None` when there is nothing to act on (an answer
    /// key with nothing ringing does nothing, rather than something surprising).
    pub fn intent(self, state: &DesktopState) -> Option<crate::Intent> {
        use crate::Intent;
        match self {
            Self::Answer => state.ringing.first().map(|c| Intent::Accept {
                call_id: c.call_id.clone(),
            }),
            // Ends the call in progress; with none, declines the one ringing.
            Self::HangUp => match (&state.current_call, state.ringing.first()) {
                (Some(call_id), _) => Some(Intent::Hangup {
                    call_id: call_id.clone(),
                }),
                (None, Some(c)) => Some(Intent::Reject {
                    call_id: c.call_id.clone(),
                }),
                (None, None) => None,
            },
            Self::Mute => state.current_call.as_ref().map(|call_id| Intent::Mute {
                call_id: call_id.clone(),
                on: !state.current_muted,
            }),
            // Holds the call in progress; with none, resumes the one on hold.
            Self::Hold => match (&state.current_call, &state.held_call) {
                (Some(call_id), _) => Some(Intent::Hold {
                    call_id: call_id.clone(),
                    on: true,
                }),
                (None, Some(call_id)) => Some(Intent::Hold {
                    call_id: call_id.clone(),
                    on: false,
                }),
                (None, None) => None,
            },
        }
    }
}

impl RingingCall {
    /// The notification's title and body, in the agent's language: who is calling, and through
    /// which queue.
    pub fn notification(&self, language: Language) -> (String, String) {
        let fr = language == Language::Fr;
        let title = if fr { "Appel entrant" } else { "Incoming call" };
        let who = match &self.name {
            Some(name) => format!("{name} ({})", self.number),
            None => self.number.clone(),
        };
        let body = match &self.queue {
            Some(q) if fr => format!("{who}\nFile : {q}"),
            Some(q) => format!("{who}\nQueue: {q}"),
            None => who,
        };
        (title.to_string(), body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::{CallLog, QueueInfo};
    use crate::engine::LiveCall;

    fn call(id: &str, status: CallStatus, direction: Direction) -> LiveCall {
        LiveCall {
            log: CallLog {
                peer_name: Some("+33612345678".into()),
                ..CallLog::new(format!("log-{id}"), id, direction, "+33612345678", status)
            },
            talk_seconds_now: 0,
            hold_seconds_now: None,
            pbx_transfer: None,
        }
    }

    #[test]
    fn a_ringing_inbound_call_is_named_with_its_contact_and_queue() {
        let mut snap = Snapshot::default();
        let mut c = call("a", CallStatus::Ringing, Direction::Inbound);
        c.log.contact_name = Some("Ada Lovelace".into());
        c.log.queue = Some(QueueInfo {
            queue_name: "Sales".into(),
            ..QueueInfo::default()
        });
        snap.engine.calls.push(c);
        let d = DesktopState::of(&snap);
        assert!(!d.in_call);
        assert_eq!(d.ringing.len(), 1);
        let (title, body) = d.ringing[0].notification(Language::En);
        assert_eq!(title, "Incoming call");
        assert_eq!(body, "Ada Lovelace (+33612345678)\nQueue: Sales");
        let (title, body) = d.ringing[0].notification(Language::Fr);
        assert_eq!(title, "Appel entrant");
        assert_eq!(body, "Ada Lovelace (+33612345678)\nFile : Sales");
    }

    #[test]
    fn an_outbound_call_ringing_out_is_a_call_up_not_a_call_to_answer() {
        let mut snap = Snapshot::default();
        snap.engine
            .calls
            .push(call("b", CallStatus::Ringing, Direction::Outbound));
        let d = DesktopState::of(&snap);
        assert!(d.ringing.is_empty());
        assert!(d.in_call);
        // The number the caller's phone sent as its name is not repeated as a name.
        snap.engine
            .calls
            .push(call("c", CallStatus::Ringing, Direction::Inbound));
        let d = DesktopState::of(&snap);
        assert_eq!(d.ringing[0].name, None);
        assert_eq!(d.ringing[0].notification(Language::En).1, "+33612345678");
    }

    #[test]
    fn an_update_waits_for_calls_forms_and_the_backend() {
        let quiet = DesktopState {
            signed_in: true,
            ..DesktopState::default()
        };
        assert!(quiet.quiet_for_update());
        let ringing = RingingCall {
            call_id: "c1".into(),
            number: "1001".into(),
            name: None,
            queue: None,
        };
        for busy in [
            DesktopState {
                in_call: true,
                ..quiet.clone()
            },
            DesktopState {
                ringing: vec![ringing],
                ..quiet.clone()
            },
            DesktopState {
                open_drafts: 1,
                ..quiet.clone()
            },
            DesktopState {
                unsynced: 3,
                ..quiet.clone()
            },
        ] {
            assert!(!busy.quiet_for_update(), "{busy:?}");
        }
    }

    #[test]
    fn quitting_says_what_would_be_lost_and_nothing_when_nothing_would() {
        let mut d = DesktopState::default();
        assert_eq!(d.quit_warning(), None);
        d.in_call = true;
        d.unsynced = 2;
        d.open_drafts = 1;
        let w = d.quit_warning().unwrap();
        assert!(w.contains("call in progress will be cut off"), "{w}");
        assert!(w.contains("1 unfinished after-call form"), "{w}");
        assert!(w.contains("2 record(s)"), "{w}");
        d.language = Language::Fr;
        assert!(d
            .quit_warning()
            .unwrap()
            .starts_with("L'appel en cours sera coupé; "));
    }

    #[test]
    fn global_shortcuts_act_on_the_calls_as_they_are() {
        use crate::Intent;
        let mut d = DesktopState::default();
        for a in GlobalAction::ALL {
            assert_eq!(a.intent(&d), None, "{a:?} with no call");
        }
        d.ringing.push(RingingCall {
            call_id: "r".into(),
            number: "1".into(),
            name: None,
            queue: None,
        });
        assert_eq!(
            GlobalAction::Answer.intent(&d),
            Some(Intent::Accept {
                call_id: "r".into()
            })
        );
        assert_eq!(
            GlobalAction::HangUp.intent(&d),
            Some(Intent::Reject {
                call_id: "r".into()
            })
        );
        d.current_call = Some("t".into());
        d.current_muted = true;
        assert_eq!(
            GlobalAction::HangUp.intent(&d),
            Some(Intent::Hangup {
                call_id: "t".into()
            })
        );
        assert_eq!(
            GlobalAction::Mute.intent(&d),
            Some(Intent::Mute {
                call_id: "t".into(),
                on: false
            })
        );
        assert_eq!(
            GlobalAction::Hold.intent(&d),
            Some(Intent::Hold {
                call_id: "t".into(),
                on: true
            })
        );
        d.current_call = None;
        d.held_call = Some("h".into());
        assert_eq!(
            GlobalAction::Hold.intent(&d),
            Some(Intent::Hold {
                call_id: "h".into(),
                on: false
            })
        );
    }

    #[test]
    fn the_status_line_follows_calls_then_the_agent_status() {
        let mut d = DesktopState {
            signed_in: true,
            agent_status: Some(AgentStatus {
                state: AgentState::Paused,
                reason: Some("Lunch".into()),
            }),
            ..DesktopState::default()
        };
        assert_eq!(d.status_line(), "Paused (Lunch)");
        d.in_call = true;
        assert_eq!(d.status_line(), "On a call");
        d.ringing.push(RingingCall {
            call_id: "a".into(),
            number: "1".into(),
            name: None,
            queue: None,
        });
        d.language = Language::Fr;
        assert_eq!(d.status_line(), "Appel entrant");
    }
}
