//! Which notifications should be up, from the desktop state: one per inbound call ringing,
//! shown when it starts ringing and closed when it stops (answered here, on a desk phone,
//! picked up by another agent, or abandoned). Sans-IO: the notifier carries out the steps.

use std::collections::BTreeMap;

use ringside_core::desktop::{DesktopState, RingingCall};
use ringside_core::{Intent, Language};

/// Action keys: the freedesktop spec's `default` is a click on the notification itself.
pub const ANSWER: &str = "answer";
pub const DECLINE: &str = "decline";
pub const DEFAULT: &str = "default";

/// One step for the notifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Show {
        call_id: String,
        title: String,
        body: String,
        /// (key, label) pairs in the agent's language.
        actions: Vec<(String, String)>,
    },
    /// Close the notification shown for this call.
    Close { call_id: String },
}

/// What an action on a call's notification means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reaction {
    /// Carry out the intent and bring the window forward (an answered call's window is where
    /// the agent works it).
    Intent { intent: Intent, focus: bool },
    /// Just bring the window forward.
    Focus,
}

#[derive(Debug, Default)]
pub struct RingNotifications {
    /// Calls with a notification up.
    shown: BTreeMap<String, RingingCall>,
}

impl RingNotifications {
    pub fn update(&mut self, state: &DesktopState) -> Vec<Step> {
        let mut steps = Vec::new();
        let ringing: BTreeMap<&str, &RingingCall> = state
            .ringing
            .iter()
            .map(|c| (c.call_id.as_str(), c))
            .collect();
        let gone: Vec<String> = self
            .shown
            .keys()
            .filter(|id| !ringing.contains_key(id.as_str()))
            .cloned()
            .collect();
        for call_id in gone {
            self.shown.remove(&call_id);
            steps.push(Step::Close { call_id });
        }
        for call in &state.ringing {
            // A contact or queue found after the first ring updates the notification.
            if self.shown.get(&call.call_id) == Some(call) {
                continue;
            }
            let (title, body) = call.notification(state.language);
            steps.push(Step::Show {
                call_id: call.call_id.clone(),
                title,
                body,
                actions: actions(state.language),
            });
            self.shown.insert(call.call_id.clone(), call.clone());
        }
        steps
    }

    /// The agent acted on the notification of `call_id`.
    pub fn react(&self, call_id: &str, action: &str) -> Option<Reaction> {
        let ringing = self.shown.contains_key(call_id);
        match action {
            ANSWER if ringing => Some(Reaction::Intent {
                intent: Intent::Accept {
                    call_id: call_id.to_string(),
                },
                focus: true,
            }),
            DECLINE if ringing => Some(Reaction::Intent {
                intent: Intent::Reject {
                    call_id: call_id.to_string(),
                },
                focus: false,
            }),
            // Too late to answer (it stopped ringing as the agent clicked), or a click on the
            // notification: the window shows what happened.
            ANSWER | DEFAULT => Some(Reaction::Focus),
            _ => None,
        }
    }
}

fn actions(language: Language) -> Vec<(String, String)> {
    let (answer, decline) = match language {
        Language::Fr => ("Répondre", "Refuser"),
        Language::En => ("Answer", "Decline"),
    };
    vec![
        (DEFAULT.to_string(), String::new()),
        (ANSWER.to_string(), answer.to_string()),
        (DECLINE.to_string(), decline.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ringing(ids: &[&str]) -> DesktopState {
        DesktopState {
            ringing: ids
                .iter()
                .map(|id| RingingCall {
                    call_id: (*id).into(),
                    number: "+33612345678".into(),
                    name: None,
                    queue: None,
                })
                .collect(),
            ..DesktopState::default()
        }
    }

    #[test]
    fn each_ringing_call_is_shown_once_and_closed_when_it_stops() {
        let mut n = RingNotifications::default();
        let steps = n.update(&ringing(&["a"]));
        assert!(matches!(&steps[..], [Step::Show { call_id, actions, .. }]
            if call_id == "a" && actions[1] == ("answer".into(), "Answer".into())));
        assert!(n.update(&ringing(&["a"])).is_empty(), "not shown twice");
        let steps = n.update(&ringing(&["a", "b"]));
        assert_eq!(steps.len(), 1);
        let steps = n.update(&ringing(&["b"]));
        assert_eq!(
            steps,
            [Step::Close {
                call_id: "a".into()
            }]
        );
        assert_eq!(n.update(&ringing(&[])).len(), 1);
    }

    #[test]
    fn a_contact_found_after_the_first_ring_updates_the_notification() {
        let mut n = RingNotifications::default();
        let mut state = ringing(&["a"]);
        n.update(&state);
        state.ringing[0].name = Some("Ada".into());
        state.language = Language::Fr;
        let steps = n.update(&state);
        assert!(matches!(&steps[..], [Step::Show { body, actions, .. }]
            if body.starts_with("Ada") && actions[2].1 == "Refuser"));
    }

    #[test]
    fn answer_and_decline_only_while_ringing() {
        let mut n = RingNotifications::default();
        n.update(&ringing(&["a"]));
        assert_eq!(
            n.react("a", ANSWER),
            Some(Reaction::Intent {
                intent: Intent::Accept {
                    call_id: "a".into()
                },
                focus: true
            })
        );
        assert!(matches!(
            n.react("a", DECLINE),
            Some(Reaction::Intent {
                intent: Intent::Reject { .. },
                focus: false
            })
        ));
        n.update(&ringing(&[]));
        assert_eq!(n.react("a", ANSWER), Some(Reaction::Focus));
        assert_eq!(n.react("a", DECLINE), None);
        assert_eq!(n.react("a", "rm -rf"), None);
    }
}
