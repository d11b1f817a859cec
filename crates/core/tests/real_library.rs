//! What the real Mizu WebPhone 3.6 did through Ringside's bridge (recordings in
//! tests/fixtures/traces/mizu-3.6-bridge), as engine rules: each of these failed on the engine
//! that was written from the vendor's documentation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{phone_cmds, Harness, ID};
use ringside_core::engine::DEFAULT_REGISTRATION_TIMEOUT_MS;
use ringside_core::{CallStatus, Effect, Input, Intent, PhoneCommand};
use serde_json::json;

fn notices(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Notice { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// two_inbound_second: `setline("[id]")` kept the current line and the first caller was
/// answered. Commands must name the bare Call-ID.
#[test]
fn commands_name_the_bare_call_id() {
    let mut h = Harness::new();
    let second = "b2c1-second";
    h.call("setup", 2, "1001", ID);
    h.call("setup", 2, "1003", second);
    let fx = h.intent(Intent::Accept {
        call_id: second.into(),
    });
    assert_eq!(
        phone_cmds(&fx),
        vec![PhoneCommand::Accept {
            call_id: second.into()
        }]
    );
    let json = serde_json::to_value(&phone_cmds(&fx)[0]).unwrap();
    assert!(!json["call_id"].as_str().unwrap().contains('['));
}

/// Dialling while a call is up used to leave two calls talking at once.
#[test]
fn dialling_during_a_call_holds_it_first() {
    let mut h = Harness::new();
    h.call("setup", 2, "1001", ID);
    h.call("connected", 2, "1001", ID);
    let fx = h.intent(Intent::Dial {
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
            }
        ]
    );
    assert!(h.log(ID).on_hold);
    // Already on hold: nothing more to do before the next dial.
    let fx = h.intent(Intent::Dial {
        number: "1004".into(),
    });
    assert_eq!(phone_cmds(&fx).len(), 1);
}

/// A command the bridge could not apply (the library no longer has the call) is undone and
/// said, never silently assumed.
#[test]
fn a_refused_command_is_undone_and_said() {
    let mut h = Harness::new();
    h.call("setup", 2, "1001", ID);
    h.call("connected", 2, "1001", ID);
    h.intent(Intent::Hold {
        call_id: ID.into(),
        on: true,
    });
    assert!(h.log(ID).on_hold);
    let fx = h.phone(
        "command_failed",
        json!([{"cmd": "hold", "call_id": ID, "code": "call_unknown", "message": "x"}]),
    );
    assert!(
        !h.log(ID).on_hold,
        "hold state follows the library, not the click"
    );
    let said = notices(&fx);
    assert_eq!(said.len(), 1);
    assert!(said[0].contains("no longer has that call"), "{said:?}");

    // A refused transfer is recorded as failed and not confirmed by a later `transfer` event.
    h.intent(Intent::BlindTransfer {
        call_id: ID.into(),
        number: "1003".into(),
    });
    h.phone(
        "command_failed",
        json!([{"cmd": "transfer", "call_id": ID, "code": "refused_by_library", "message": "no"}]),
    );
    h.phone("call", json!(["transfer", "", "", "", -1, ""]));
    let log = h.log(ID);
    assert_eq!(log.transferred_to, None);
    assert_eq!(
        log.transfer.unwrap().outcome,
        ringside_core::call::TransferOutcome::Failed
    );
    // Garbage from the bridge is an error, not a panic.
    assert!(h
        .try_input(Input::Phone(ringside_core::RawPhoneEvent::new(
            "command_failed",
            vec![]
        )))
        .is_err());
}

/// csp_register: started, REGISTER sent, "Registering..." forever, no `failed`. The agent must
/// be told after the bound, with the library's own words.
#[test]
fn registration_that_never_completes_is_reported() {
    let mut h = Harness::new();
    h.phone("app", json!(["started"]));
    h.phone("event", json!(["event", "STATUS,-1,Registering...", null]));
    h.phone(
        "event",
        json!(["display", ",ERROR,Server not allowed_8 (pbx.example)"]),
    );
    let start = h.now;
    h.at(start + DEFAULT_REGISTRATION_TIMEOUT_MS - 1);
    h.input(Input::Tick);
    let view = h.engine.view(h.clock());
    assert_eq!(view.registration_stalled_s, None, "not before the bound");
    h.at(start + DEFAULT_REGISTRATION_TIMEOUT_MS + 5_000);
    h.input(Input::Tick);
    let view = h.engine.view(h.clock());
    assert_eq!(view.registration_stalled_s, Some(25));
    assert_eq!(view.phone_status.as_deref(), Some("Registering..."));
    assert!(view
        .phone_display
        .as_deref()
        .unwrap()
        .contains("Server not allowed"));
    // It registers after all: the warning goes.
    h.phone("reg", json!(["registered", null]));
    assert_eq!(h.engine.view(h.clock()).registration_stalled_s, None);
}

#[test]
fn the_registration_bound_is_configurable() {
    let mut h = Harness::bare();
    h.engine.set_registration_timeout_ms(3_000);
    h.input(Input::SessionStarted {
        agent: common::agent(),
        sip: Some(common::sip()),
    });
    h.phone("app", json!(["loaded"]));
    let start = h.now;
    h.at(start + 3_000);
    assert_eq!(h.engine.view(h.clock()).registration_stalled_s, Some(3));
    // A failure is a settled answer: the failure is shown, not a stall.
    h.phone("reg", json!(["failed", "WebRTC failed to start"]));
    assert_eq!(h.engine.view(h.clock()).registration_stalled_s, None);
}

/// attended_transfer: `transfer("")` throws in the library. Completion is a REFER of the
/// original call to the consulted number, then the consultation is hung up.
#[test]
fn attended_completion_never_uses_an_empty_transfer() {
    let mut h = Harness::new();
    let consult = "c-consult";
    h.consulting(ID, "1001", consult);
    h.call("connected", 1, "1003", consult);
    let fx = h.intent(Intent::ConsultComplete {
        call_id: consult.into(),
    });
    for cmd in phone_cmds(&fx) {
        if let PhoneCommand::Transfer { number, call_id } = &cmd {
            assert_eq!(number, "1003");
            assert_eq!(call_id, ID);
        }
    }
    assert!(phone_cmds(&fx)
        .iter()
        .any(|c| matches!(c, PhoneCommand::Transfer { .. })));
    assert_eq!(h.log(ID).status, CallStatus::Talking);
}
