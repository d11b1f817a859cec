//! The seed document's cases, one test each, plus the real-world rules of design section 5.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ringside_core::engine::{AgentState, AgentStatus, EngineError, WriteOp};
use ringside_core::phone::RegState;
use ringside_core::{
    CallStatus, Direction, Effect, Input, Intent, PhoneCommand, QueueInfo, RawPhoneEvent,
};
use serde_json::json;

mod common;

use common::{agent, phone_cmds, saves, sip, Harness, ID};

#[test]
fn init_session_then_library_configures_and_starts_once() {
    let mut h = Harness::bare();
    let fx = h.input(Input::SessionStarted {
        agent: agent(),
        sip: Some(sip()),
    });
    assert!(fx.contains(&Effect::FetchAgentStatus));
    assert!(fx.contains(&Effect::OpenAgentSocket));
    assert!(
        phone_cmds(&fx).is_empty(),
        "nothing may be called before `loaded`"
    );

    let fx = h.phone("app", json!(["loaded"]));
    let cmds = phone_cmds(&fx);
    assert_eq!(cmds.len(), 2, "{cmds:?}");
    let PhoneCommand::Configure { params } = &cmds[0] else {
        panic!("configure first: {cmds:?}")
    };
    assert_eq!(params.username, "1002");
    assert_eq!(params.password.0, "sip-secret-123");
    assert_eq!(params.webrtcserveraddress, "wss://pbx.example:8089/ws");
    assert_eq!(cmds[1], PhoneCommand::Start);
    // The password never shows up in logs of the effect.
    assert!(!format!("{fx:?}").contains("sip-secret-123"));

    assert!(phone_cmds(&h.phone("app", json!(["started"]))).is_empty());
    // A reload of the library loses its parameters: configure again.
    assert_eq!(phone_cmds(&h.phone("app", json!(["loaded"]))).len(), 2);
}

#[test]
fn init_library_first_then_session() {
    let mut h = Harness::bare();
    assert!(h.phone("app", json!(["loaded"])).is_empty());
    let fx = h.input(Input::SessionStarted {
        agent: agent(),
        sip: Some(sip()),
    });
    assert_eq!(phone_cmds(&fx).len(), 2);
}

#[test]
fn registration_change_emits_agent_info() {
    let mut h = Harness::new();
    h.input(Input::AgentStatus(AgentStatus {
        state: AgentState::Available,
        reason: None,
    }));
    let fx = h.phone("reg", json!(["failed", "WebRTC failed to start"]));
    let Some(Effect::SendAgentInfo(info)) = fx.first() else {
        panic!("{fx:?}")
    };
    assert_eq!(info.extension, "1002");
    assert_eq!(info.registration, RegState::Failed);
    assert_eq!(info.state, Some(AgentState::Available));
    let view = h.engine.view(h.clock());
    assert_eq!(
        view.registration_reason.as_deref(),
        Some("WebRTC failed to start")
    );
}

#[test]
fn inbound_ringing_creates_the_log_and_resolves_the_contact() {
    let mut h = Harness::new();
    let fx = h.call("setup", 2, "+15550100", ID);
    let s = saves(&fx);
    assert_eq!(s.len(), 1);
    let (log, op) = &s[0];
    assert_eq!(*op, WriteOp::Create);
    assert_eq!(log.call_id, ID);
    assert_eq!(log.direction, Direction::Inbound);
    assert_eq!(log.from, "+15550100");
    assert_eq!(log.to, "1002");
    assert_eq!(log.extension_id.as_deref(), Some("12"));
    assert_eq!(log.status, CallStatus::Ringing);
    assert_eq!(log.talk_seconds, 0);
    assert!(fx.contains(&Effect::ResolveContact {
        call_log_id: log.id.clone(),
        phone: "+15550100".into()
    }));
    // `ringing` after `setup` changes nothing.
    assert!(saves(&h.call("ringing", 2, "+15550100", ID)).is_empty());

    let fx = h.input(Input::ContactResolved {
        call_log_id: log.id.clone(),
        contact_id: "ct-4".into(),
        name: "Diego Alvarez".into(),
    });
    let (log, op) = &saves(&fx)[0];
    assert_eq!(*op, WriteOp::Update);
    assert_eq!(log.contact_id.as_deref(), Some("ct-4"));
    assert_eq!(log.contact_name.as_deref(), Some("Diego Alvarez"));
}

#[test]
fn inbound_connect_starts_the_timer() {
    let mut h = Harness::new();
    h.call("setup", 2, "1001", ID);
    let id = h.log(ID).call_id;
    h.intent(Intent::Accept { call_id: id });
    let fx = h.at(2_000).call("connected", 2, "1001", ID);
    let (log, op) = &saves(&fx)[0];
    assert_eq!((*op, log.status), (WriteOp::Update, CallStatus::Talking));
    h.at(7_400);
    let view = h.engine.view(h.clock());
    assert_eq!(view.calls[0].talk_seconds_now, 5);
}

#[test]
fn outbound_ringing_and_connect() {
    let mut h = Harness::new();
    let fx = h.intent(Intent::Dial {
        number: "+44 (20) 7946-0018".into(),
    });
    assert_eq!(
        phone_cmds(&fx),
        vec![PhoneCommand::Call {
            number: "+442079460018".into()
        }]
    );
    let fx = h.call("setup", 1, "+442079460018", ID);
    let (log, _) = &saves(&fx)[0];
    assert_eq!(log.direction, Direction::Outbound);
    assert_eq!(log.from, "1002");
    assert_eq!(log.to, "+442079460018");
    assert_eq!(log.status, CallStatus::Ringing);
    let fx = h.call("connected", 1, "+442079460018", ID);
    assert_eq!(saves(&fx)[0].0.status, CallStatus::Talking);
}

#[test]
fn ongoing_call_stays_talking_through_hold_mute_and_dtmf() {
    let mut h = Harness::new();
    h.call("setup", 1, "1002", ID);
    h.call("connected", 1, "1002", ID);
    let fx = h.intent(Intent::Hold {
        call_id: ID.into(),
        on: true,
    });
    assert_eq!(
        phone_cmds(&fx),
        vec![PhoneCommand::Hold {
            call_id: ID.into(),
            on: true
        }]
    );
    assert!(h.log(ID).on_hold);
    // Hold shows up as `trying` on the call.
    assert!(saves(&h.call("trying", 1, "1002", ID)).is_empty());
    assert_eq!(h.log(ID).status, CallStatus::Talking);
    // `muted` arrives with empty arguments.
    h.phone("call", json!(["muted", "", "", "", 1, ""]));
    assert!(h.log(ID).muted);
    h.phone("call", json!(["unmuted", "", "", "", 1, ""]));
    assert!(!h.log(ID).muted);
    let fx = h.intent(Intent::Dtmf {
        call_id: ID.into(),
        digits: "12#x".into(),
    });
    assert_eq!(
        phone_cmds(&fx),
        vec![PhoneCommand::Dtmf {
            call_id: ID.into(),
            digits: "12#".into()
        }]
    );
    assert_eq!(h.log(ID).status, CallStatus::Talking);
}

#[test]
fn queue_info_fills_the_call_and_the_transfer_form_then_clears_at_end() {
    let mut h = Harness::new();
    h.call("setup", 2, "+15550100", ID);
    let q = QueueInfo {
        yeastar_call_id: "1725446451.243".into(),
        queue_name: "Support".into(),
        queue_number: "6402".into(),
        server_call_log_token: "tok-1".into(),
        channel_id: "PJSIP/1002-000000a1".into(),
        caller: "+15550100".into(),
    };
    let fx = h.input(Input::QueueInfo(q.clone()));
    assert_eq!(saves(&fx)[0].0.queue.as_ref(), Some(&q));
    assert_eq!(
        h.engine.view(h.clock()).queue.unwrap().channel_id,
        "PJSIP/1002-000000a1"
    );
    h.call("connected", 2, "+15550100", ID);
    h.call("disconnected", 2, "+15550100", ID);
    let view = h.engine.view(h.clock());
    assert_eq!(view.queue, None, "transfer form data cleared at call end");
    assert_eq!(
        h.log(ID).queue.unwrap().queue_name,
        "Support",
        "the record keeps its queue"
    );
}

#[test]
fn queue_info_that_beats_the_webphone_waits_for_its_call() {
    let mut h = Harness::new();
    h.input(Input::QueueInfo(QueueInfo {
        yeastar_call_id: "1.1".into(),
        queue_number: "6402".into(),
        caller: "+15550100".into(),
        ..QueueInfo::default()
    }));
    h.call("setup", 2, "+15550100", ID);
    assert_eq!(h.log(ID).queue.unwrap().queue_number, "6402");
}

#[test]
fn call_end_answered_opens_a_draft() {
    let mut h = Harness::new();
    h.at(1_000).call("setup", 2, "1001", ID);
    h.at(2_000).call("connected", 2, "1001", ID);
    let fx = h.at(5_100).call("disconnected", 2, "1001", ID);
    let (log, _) = &saves(&fx)[0];
    assert_eq!(log.status, CallStatus::Answered);
    assert_eq!(log.talk_seconds, 3);
    assert!(fx.contains(&Effect::OpenDraft {
        call_log_id: log.id.clone()
    }));
    assert_eq!(h.engine.wrap_up().len(), 1);
    h.intent(Intent::CloseWrapUp {
        call_log_id: log.id.clone(),
    });
    assert!(h.engine.wrap_up().is_empty());
}

#[test]
fn call_end_missed_and_no_answered_clear_without_a_draft() {
    let mut h = Harness::new();
    h.call("setup", 2, "1001", ID);
    let fx = h.call("disconnected", 2, "1001", ID);
    assert_eq!(saves(&fx)[0].0.status, CallStatus::Missed);
    assert!(!fx.iter().any(|e| matches!(e, Effect::OpenDraft { .. })));

    let other = "6a19e0c2-0000-4000-8000-000000000002";
    h.call("setup", 1, "1003", other);
    h.call("ringing", 1, "1003", other);
    let fx = h.call("disconnected", 1, "1003", other);
    assert_eq!(saves(&fx)[0].0.status, CallStatus::NoAnswered);
    assert!(h.engine.wrap_up().is_empty());
    assert!(h.engine.view(h.clock()).calls.is_empty());
}

#[test]
fn reject_marks_the_agent_and_ends_missed() {
    let mut h = Harness::new();
    h.call("setup", 2, "1001", ID);
    let fx = h.intent(Intent::Reject { call_id: ID.into() });
    assert!(matches!(phone_cmds(&fx)[0], PhoneCommand::Reject { .. }));
    h.call("disconnected", 2, "1001", ID);
    h.cdr(2, "1001", "0", "Call Rejected", ID);
    let log = h.log(ID);
    assert_eq!(log.status, CallStatus::Missed);
    assert!(log.rejected_by_agent);
    assert_eq!(log.end_reason.as_deref(), Some("Call Rejected"));
}

#[test]
fn blind_transfer_records_the_target() {
    let mut h = Harness::new();
    h.call("setup", 2, "1001", ID);
    h.call("connected", 2, "1001", ID);
    let fx = h.intent(Intent::BlindTransfer {
        call_id: ID.into(),
        number: "1003".into(),
    });
    assert_eq!(
        phone_cmds(&fx),
        vec![PhoneCommand::Transfer {
            call_id: ID.into(),
            number: "1003".into()
        }]
    );
    // The library reports the transfer with empty arguments and line -1.
    let fx = h.phone("call", json!(["transfer", "", "", "", -1, ""]));
    assert_eq!(saves(&fx)[0].0.transferred_to.as_deref(), Some("1003"));
    assert_eq!(
        saves(&fx)[0].0.transfer.as_ref().unwrap().kind,
        ringside_core::call::TransferKind::Blind
    );
    h.phone("call", json!(["transfer", "", "", "", -1, ""]));
    h.call("disconnected", 2, "1001", ID);
    let log = h.log(ID);
    assert_eq!(log.status, CallStatus::Answered);
    assert_eq!(log.transferred_to.as_deref(), Some("1003"));
}

#[test]
fn double_firing_of_old_and_new_names_is_one_transition() {
    let mut h = Harness::new();
    let mut all = Vec::new();
    for (new, old) in [
        ("setup", "callSetup"),
        ("ringing", "callRinging"),
        ("connected", "callConnected"),
        ("disconnected", "callDisconnected"),
    ] {
        all.extend(h.call(new, 2, "1001", ID));
        all.extend(h.call(old, 2, "1001", ID));
    }
    let s = saves(&all);
    assert_eq!(
        s.iter().map(|(l, _)| l.status).collect::<Vec<_>>(),
        vec![
            CallStatus::Ringing,
            CallStatus::Talking,
            CallStatus::Answered
        ]
    );
    assert_eq!(
        all.iter()
            .filter(|e| matches!(e, Effect::OpenDraft { .. }))
            .count(),
        1
    );
}

#[test]
fn a_call_known_only_from_its_cdr() {
    let mut h = Harness::new();
    let fx = h.cdr(2, "1001", "3087", "Call terminated", ID);
    let s = saves(&fx);
    assert_eq!(s[0].1, WriteOp::Create);
    let last = &s.last().unwrap().0;
    assert_eq!(last.status, CallStatus::Answered);
    assert_eq!(last.talk_seconds, 3);
    assert_eq!(last.peer, "1001");
    assert_eq!(last.direction, Direction::Inbound);
    // A rejected-early one: no talk, missed.
    let other = "6a19e0c2-0000-4000-8000-000000000003";
    h.cdr(2, "1003", "0", "Call Rejected", other);
    assert_eq!(h.log(other).status, CallStatus::Missed);
}

#[test]
fn the_cdr_reconciles_talk_time_and_never_changes_the_status() {
    let mut h = Harness::new();
    h.at(0).call("setup", 1, "1002", ID);
    h.at(1_000).call("connected", 1, "1002", ID);
    h.at(5_600).call("disconnected", 1, "1002", ID); // measured 4.6 s -> 5
    assert_eq!(h.log(ID).talk_seconds, 5);
    let fx = h.cdr(1, "1002", "4400", "User hangup", ID);
    let (log, _) = &saves(&fx)[0];
    assert_eq!(log.talk_seconds, 4);
    assert_eq!(log.status, CallStatus::Answered);
    assert_eq!(log.end_reason.as_deref(), Some("User hangup"));
    assert!(
        saves(&h.cdr(1, "1002", "4400", "User hangup", ID)).is_empty(),
        "duplicate CDR"
    );
    assert!(
        saves(&h.call("connected", 1, "1002", ID)).is_empty(),
        "late event"
    );
}

#[test]
fn a_cdr_before_disconnected_ends_the_call() {
    let mut h = Harness::new();
    h.call("setup", 2, "1001", ID);
    h.call("connected", 2, "1001", ID);
    h.cdr(2, "1001", "2000", "Call terminated", ID);
    assert_eq!(h.log(ID).status, CallStatus::Answered);
    assert!(saves(&h.call("disconnected", 2, "1001", ID)).is_empty());
}

#[test]
fn connected_without_setup_or_ringing_creates_a_talking_call() {
    let mut h = Harness::new();
    let fx = h.call("connected", 2, "1001", ID);
    let s = saves(&fx);
    assert_eq!(s.len(), 1);
    assert_eq!(
        (s[0].1, s[0].0.status),
        (WriteOp::Create, CallStatus::Talking)
    );
    h.at(4_000).call("disconnected", 2, "1001", ID);
    assert_eq!(h.log(ID).talk_seconds, 3);
}

#[test]
fn two_calls_on_the_same_line_are_two_logs() {
    let mut h = Harness::new();
    let other = "6a19e0c2-0000-4000-8000-000000000004";
    h.call("setup", 2, "1001", ID);
    h.call("setup", 2, "1003", other);
    h.call("connected", 2, "1001", ID);
    h.call("disconnected", 2, "1001", ID);
    h.call("disconnected", 2, "1003", other);
    assert_eq!(h.log(ID).status, CallStatus::Answered);
    assert_eq!(h.log(other).status, CallStatus::Missed);
}

#[test]
fn unknown_and_malformed_input_is_reported_not_fatal() {
    let mut h = Harness::new();
    assert!(h
        .phone(
            "call",
            json!(["conferenceRinging", 2, "1001", "1001", 1, "[x]"])
        )
        .is_empty());
    assert!(h
        .phone("call", json!(["setup", 2, "1001", "1001", 1, ""]))
        .is_empty());
    assert!(h.phone("weird_kind", json!([1, 2, 3])).is_empty());
    assert!(h
        .try_input(Input::Phone(RawPhoneEvent::new("call", vec![])))
        .is_err());
    assert!(h
        .try_input(Input::Phone(RawPhoneEvent::new(
            "cdr",
            vec![json!("1"), json!("2"), json!({"a": 1}), json!("x")]
        )))
        .is_err());
    assert_eq!(h.engine.call_logs().count(), 0);
}

#[test]
fn intents_on_the_wrong_call_or_state_are_clear_errors() {
    let mut h = Harness::new();
    assert!(matches!(
        h.try_input(Input::User(Intent::Accept {
            call_id: "nope".into()
        })),
        Err(EngineError::NoSuchCall(_))
    ));
    h.call("setup", 2, "1001", ID);
    let err = h
        .try_input(Input::User(Intent::Hold {
            call_id: ID.into(),
            on: true,
        }))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_call_state");
    let err = h
        .try_input(Input::User(Intent::Dial {
            number: "call me maybe".into(),
        }))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_number");
    let mut signed_out = Harness::bare();
    assert_eq!(
        signed_out
            .try_input(Input::User(Intent::Dial {
                number: "1001".into()
            }))
            .unwrap_err()
            .code(),
        "no_session"
    );
}

#[test]
fn answering_a_waiting_call_holds_the_one_in_progress() {
    let mut h = Harness::new();
    let other = "6a19e0c2-0000-4000-8000-000000000005";
    h.call("setup", 2, "1001", ID);
    h.call("connected", 2, "1001", ID);
    h.call("setup", 2, "1003", other);
    let fx = h.intent(Intent::Accept {
        call_id: other.into(),
    });
    assert_eq!(
        phone_cmds(&fx),
        vec![
            PhoneCommand::Hold {
                call_id: ID.into(),
                on: true
            },
            PhoneCommand::Accept {
                call_id: other.into()
            },
        ]
    );
    assert!(h.log(ID).on_hold);
    h.call("connected", 2, "1003", other);
    assert_eq!(h.engine.view(h.clock()).calls.len(), 2);
}

#[test]
fn attended_transfer_consults_then_completes() {
    let mut h = Harness::new();
    let consult = "6a19e0c2-0000-4000-8000-000000000006";
    h.call("setup", 2, "+15550100", ID);
    h.call("connected", 2, "+15550100", ID);
    let fx = h.intent(Intent::ConsultStart {
        call_id: ID.into(),
        number: "1003".into(),
    });
    assert_eq!(
        phone_cmds(&fx),
        vec![
            PhoneCommand::Hold {
                call_id: ID.into(),
                on: true
            },
            PhoneCommand::Call {
                number: "1003".into()
            },
        ]
    );
    h.call("setup", 1, "1003", consult);
    h.call("connected", 1, "1003", consult);
    assert_eq!(h.log(consult).consult_for.as_deref(), Some(ID));
    assert_eq!(h.log(consult).direction, Direction::Outbound);

    // Swap twice: back where we were.
    let fx = h.intent(Intent::ConsultSwap {
        call_id: consult.into(),
    });
    assert_eq!(
        phone_cmds(&fx),
        vec![
            PhoneCommand::Hold {
                call_id: consult.into(),
                on: true
            },
            PhoneCommand::Hold {
                call_id: ID.into(),
                on: false
            },
        ]
    );
    h.intent(Intent::ConsultSwap {
        call_id: consult.into(),
    });
    assert!(h.log(ID).on_hold);

    let fx = h.intent(Intent::ConsultComplete {
        call_id: consult.into(),
    });
    assert_eq!(
        phone_cmds(&fx),
        vec![
            // The library's `transfer("")` throws (recorded): the original call is REFERred to
            // the consulted number, then the consultation ends.
            PhoneCommand::Transfer {
                call_id: ID.into(),
                number: "1003".into()
            },
            PhoneCommand::Hangup {
                call_id: consult.into()
            },
        ]
    );
    h.phone("call", json!(["transfer", "", "", "", -1, ""]));
    let mut fx = h.call("disconnected", 2, "+15550100", ID);
    fx.extend(h.call("disconnected", 1, "1003", consult));
    // One after-call form, the customer's: the consultation leg opens none by default.
    let forms: Vec<&Effect> = fx
        .iter()
        .filter(|e| matches!(e, Effect::OpenDraft { .. }))
        .collect();
    assert_eq!(forms.len(), 1, "{forms:?}");
    assert_eq!(
        forms[0],
        &Effect::OpenDraft {
            call_log_id: h.log(ID).id
        }
    );
    let original = h.log(ID);
    assert_eq!(original.status, CallStatus::Answered);
    assert_eq!(original.transferred_to.as_deref(), Some("1003"));
    let record = original.transfer.unwrap();
    assert_eq!(record.kind, ringside_core::call::TransferKind::Attended);
    assert_eq!(
        record.outcome,
        ringside_core::call::TransferOutcome::Completed
    );
    assert_eq!(h.log(consult).status, CallStatus::Answered);
    assert_eq!(h.log(consult).transferred_to, None);
}

#[test]
fn attended_transfer_cancelled_resumes_the_caller() {
    let mut h = Harness::new();
    let consult = "6a19e0c2-0000-4000-8000-000000000007";
    h.consulting(ID, "+15550100", consult);
    let fx = h.intent(Intent::ConsultCancel {
        call_id: consult.into(),
    });
    assert_eq!(
        phone_cmds(&fx),
        vec![
            PhoneCommand::Hangup {
                call_id: consult.into()
            },
            PhoneCommand::Hold {
                call_id: ID.into(),
                on: false
            },
        ]
    );
    h.call("disconnected", 1, "1003", consult);
    assert!(!h.log(ID).on_hold);
    assert_eq!(h.log(ID).status, CallStatus::Talking);
    let record = h.log(ID).transfer.unwrap();
    assert_eq!(
        (record.to.as_str(), record.outcome),
        ("1003", ringside_core::call::TransferOutcome::Cancelled)
    );
    assert_eq!(h.log(ID).transferred_to, None);
    // Completing on a call that is not a consultation is refused.
    assert_eq!(
        h.try_input(Input::User(Intent::ConsultComplete { call_id: ID.into() }))
            .unwrap_err()
            .code(),
        "invalid_call_state"
    );
}

#[test]
fn a_transfer_that_never_happened_is_not_recorded() {
    let mut h = Harness::new();
    h.call("setup", 2, "1001", ID);
    h.call("connected", 2, "1001", ID);
    h.intent(Intent::BlindTransfer {
        call_id: ID.into(),
        number: "1003".into(),
    });
    // No `transfer` event from the library: the REFER failed; the agent hangs up later.
    h.call("disconnected", 2, "1001", ID);
    assert_eq!(h.log(ID).transferred_to, None);
}

#[test]
fn the_hold_timer_counts_while_the_caller_waits_whoever_held_them() {
    let mut h = Harness::new();
    let other = "6a19e0c2-0000-4000-8000-000000000007";
    h.call("setup", 2, "1001", ID);
    h.call("connected", 2, "1001", ID);
    let held = |h: &Harness, id: &str| {
        h.engine
            .view(h.clock())
            .calls
            .iter()
            .find(|c| c.log.call_id == id)
            .and_then(|c| c.hold_seconds_now)
    };
    assert_eq!(held(&h, ID), None);
    h.at(5_000).intent(Intent::Hold {
        call_id: ID.into(),
        on: true,
    });
    h.at(17_400);
    assert_eq!(held(&h, ID), Some(12));
    h.intent(Intent::Hold {
        call_id: ID.into(),
        on: false,
    });
    assert_eq!(held(&h, ID), None, "resumed: no hold timer");
    // Held by the engine itself, when the agent answers a waiting call.
    h.at(20_000).call("setup", 2, "1003", other);
    h.intent(Intent::Accept {
        call_id: other.into(),
    });
    h.at(23_000);
    assert_eq!(held(&h, ID), Some(3));
}

#[test]
fn policy_can_give_a_consultation_leg_its_own_form() {
    let mut h = Harness::new();
    h.engine.set_consult_after_call_work(true);
    let consult = "6a19e0c2-0000-4000-8000-000000000008";
    h.consulting(ID, "+15550100", consult);
    h.call("connected", 1, "1003", consult);
    let fx = h.call("disconnected", 1, "1003", consult);
    assert!(fx.contains(&Effect::OpenDraft {
        call_log_id: h.log(consult).id
    }));
}
