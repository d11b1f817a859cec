//! Transfers of queue calls through the backend's PBX API (Yeastar `call/transfer` and
//! `attended_operate`), the route policy, and every failure leaving the call as it was.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{phone_cmds, saves, Harness, ID};
use ringside_core::call::{TransferKind, TransferOutcome, TransferVia};
use ringside_core::{
    Effect, Input, Intent, Operate, PbxAnswer, PbxTransferState, QueueInfo, TalkingTo,
    TransferRoute, TransferUpdate,
};

const YID: &str = "1725446451.243";
const CHANNEL: &str = "PJSIP/1002-000000a1";

fn queue_call(h: &mut Harness) {
    h.call("setup", 2, "+15550100", ID);
    h.input(Input::QueueInfo(QueueInfo {
        yeastar_call_id: YID.into(),
        queue_name: "Support".into(),
        queue_number: "6402".into(),
        server_call_log_token: "tok".into(),
        channel_id: CHANNEL.into(),
        caller: "+15550100".into(),
    }));
    h.call("connected", 2, "+15550100", ID);
}

fn pbx_requests(fx: &[Effect]) -> Vec<(String, ringside_core::PbxTransferRequest)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::PbxTransfer {
                yeastar_call_id,
                request,
                ..
            } => Some((yeastar_call_id.clone(), request.clone())),
            _ => None,
        })
        .collect()
}

fn update(kind: TransferKind, state: PbxTransferState) -> TransferUpdate {
    TransferUpdate {
        yeastar_call_id: YID.into(),
        transfer_id: "t1".into(),
        kind,
        number: "1003".into(),
        state,
        talking_to: None,
        reason: None,
        message: None,
    }
}

fn notice(fx: &[Effect]) -> Option<String> {
    fx.iter().find_map(|e| match e {
        Effect::Notice { message, .. } => Some(message.clone()),
        _ => None,
    })
}

#[test]
fn a_queue_call_is_transferred_blind_by_the_pbx() {
    let mut h = Harness::new();
    queue_call(&mut h);
    let fx = h.intent(Intent::BlindTransfer {
        call_id: ID.into(),
        number: "1003".into(),
    });
    assert!(phone_cmds(&fx).is_empty(), "the webphone is not involved");
    let reqs = pbx_requests(&fx);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].0, YID);
    assert_eq!(reqs[0].1.channel_id, CHANNEL);
    assert_eq!(reqs[0].1.kind, TransferKind::Blind);
    assert_eq!(reqs[0].1.operate, None);
    h.input(Input::PbxAnswer {
        call_id: ID.into(),
        answer: PbxAnswer::Accepted,
    });
    let fx = h.input(Input::TransferUpdate(update(
        TransferKind::Blind,
        PbxTransferState::Completed,
    )));
    let log = &saves(&fx)[0].0;
    assert_eq!(log.transferred_to.as_deref(), Some("1003"));
    let rec = log.transfer.clone().unwrap();
    assert_eq!(rec.outcome, TransferOutcome::Completed);
    assert_eq!(rec.via, TransferVia::Pbx);
    // The PBX hangs up the agent's leg; the call ends as an answered call, transferred.
    h.call("disconnected", 2, "+15550100", ID);
    assert_eq!(h.log(ID).transferred_to.as_deref(), Some("1003"));
}

#[test]
fn a_busy_target_leaves_the_call_with_the_agent_and_says_so() {
    let mut h = Harness::new();
    queue_call(&mut h);
    h.intent(Intent::BlindTransfer {
        call_id: ID.into(),
        number: "1003".into(),
    });
    let mut u = update(TransferKind::Blind, PbxTransferState::Failed);
    u.reason = Some("busy".into());
    u.message = Some("486 Busy Here".into());
    let fx = h.input(Input::TransferUpdate(u));
    let said = notice(&fx).unwrap();
    assert!(
        said.contains("busy") && said.contains("still with you"),
        "{said}"
    );
    let log = h.log(ID);
    assert_eq!(log.transferred_to, None);
    assert_eq!(log.status, ringside_core::CallStatus::Talking);
    let rec = log.transfer.unwrap();
    assert_eq!(rec.outcome, TransferOutcome::Failed);
    assert_eq!(rec.reason.as_deref(), Some("busy"));
    // The agent can try again.
    let fx = h.intent(Intent::BlindTransfer {
        call_id: ID.into(),
        number: "1004".into(),
    });
    assert_eq!(pbx_requests(&fx).len(), 1);
}

#[test]
fn a_refused_request_is_said_and_changes_nothing_else() {
    for code in ["call_gone", "pbx_unreachable", "offline"] {
        let mut h = Harness::new();
        queue_call(&mut h);
        h.intent(Intent::ConsultStart {
            call_id: ID.into(),
            number: "1003".into(),
        });
        let fx = h.input(Input::PbxAnswer {
            call_id: ID.into(),
            answer: PbxAnswer::Refused {
                code: code.into(),
                message: "x".into(),
            },
        });
        assert!(notice(&fx).is_some(), "{code}");
        let view = h.engine.view(h.clock());
        assert_eq!(view.calls[0].pbx_transfer, None, "{code}");
        assert!(!view.calls[0].log.on_hold, "{code}");
        assert_eq!(
            h.log(ID).transfer.unwrap().outcome,
            TransferOutcome::Failed,
            "{code}"
        );
    }
}

#[test]
fn attended_through_the_pbx_consults_swaps_conferences_and_completes() {
    let mut h = Harness::new();
    queue_call(&mut h);
    let fx = h.intent(Intent::ConsultStart {
        call_id: ID.into(),
        number: "1003".into(),
    });
    assert!(phone_cmds(&fx).is_empty(), "no second webphone call");
    assert_eq!(pbx_requests(&fx)[0].1.kind, TransferKind::Attended);
    // Not consulting yet: a step now is refused with a clear error.
    assert!(h
        .try_input(Input::User(Intent::ConsultComplete { call_id: ID.into() }))
        .is_err());
    let mut u = update(TransferKind::Attended, PbxTransferState::Consulting);
    u.talking_to = Some(TalkingTo::Target);
    h.input(Input::TransferUpdate(u));
    let view = h.engine.view(h.clock());
    let pbx = view.calls[0].pbx_transfer.clone().unwrap();
    assert_eq!(pbx.state, PbxTransferState::Consulting);
    assert!(view.calls[0].log.on_hold, "the caller waits");

    for (intent, op) in [
        (Intent::ConsultSwap { call_id: ID.into() }, Operate::Swap),
        (
            Intent::ConsultThreeway { call_id: ID.into() },
            Operate::Threeway,
        ),
        (
            Intent::ConsultComplete { call_id: ID.into() },
            Operate::Complete,
        ),
    ] {
        let fx = h.intent(intent);
        let reqs = pbx_requests(&fx);
        assert_eq!(reqs[0].1.operate, Some(op));
        assert_eq!(reqs[0].1.number, "1003");
        let next = match op {
            Operate::Swap => {
                let mut u = update(TransferKind::Attended, PbxTransferState::Consulting);
                u.talking_to = Some(TalkingTo::Caller);
                u
            }
            Operate::Threeway => update(TransferKind::Attended, PbxTransferState::Threeway),
            _ => update(TransferKind::Attended, PbxTransferState::Completed),
        };
        h.input(Input::TransferUpdate(next));
        if op == Operate::Swap {
            assert!(
                !h.log(ID).on_hold,
                "after the swap the agent talks to the caller"
            );
        }
        if op == Operate::Threeway {
            let view = h.engine.view(h.clock());
            assert_eq!(
                view.calls[0].pbx_transfer.as_ref().unwrap().state,
                PbxTransferState::Threeway
            );
        }
    }
    let rec = h.log(ID).transfer.unwrap();
    assert_eq!(rec.kind, TransferKind::Attended);
    assert_eq!(rec.outcome, TransferOutcome::Completed);
    assert!(rec.conference, "it went through a three-way conference");
    assert_eq!(h.log(ID).transferred_to.as_deref(), Some("1003"));
}

#[test]
fn attended_abort_through_the_pbx_returns_to_the_caller() {
    let mut h = Harness::new();
    queue_call(&mut h);
    h.intent(Intent::ConsultStart {
        call_id: ID.into(),
        number: "1003".into(),
    });
    h.input(Input::TransferUpdate(update(
        TransferKind::Attended,
        PbxTransferState::Consulting,
    )));
    let fx = h.intent(Intent::ConsultCancel { call_id: ID.into() });
    assert_eq!(pbx_requests(&fx)[0].1.operate, Some(Operate::Abort));
    h.input(Input::TransferUpdate(update(
        TransferKind::Attended,
        PbxTransferState::Aborted,
    )));
    let log = h.log(ID);
    assert!(!log.on_hold);
    assert_eq!(log.transferred_to, None);
    assert_eq!(log.transfer.unwrap().outcome, TransferOutcome::Cancelled);
}

#[test]
fn the_route_policy_decides_who_transfers() {
    // `webphone`: even a queue call goes through the webphone.
    let mut h = Harness::new();
    h.engine.set_transfer_route(TransferRoute::Webphone);
    queue_call(&mut h);
    let fx = h.intent(Intent::BlindTransfer {
        call_id: ID.into(),
        number: "1003".into(),
    });
    assert!(pbx_requests(&fx).is_empty());
    assert_eq!(phone_cmds(&fx).len(), 1);

    // `pbx`: a call without a channel id cannot be transferred, and says why.
    let mut h = Harness::new();
    h.engine.set_transfer_route(TransferRoute::Pbx);
    h.call("setup", 2, "+15550100", ID);
    h.call("connected", 2, "+15550100", ID);
    let err = h
        .try_input(Input::User(Intent::BlindTransfer {
            call_id: ID.into(),
            number: "1003".into(),
        }))
        .unwrap_err();
    assert_eq!(err.code(), "transfer_unavailable");
    // Three-way exists only through the PBX.
    assert!(h
        .try_input(Input::User(Intent::ConsultThreeway { call_id: ID.into() }))
        .is_err());
}
