//! `POST /api/calls/{yeastar_call_id}/transfer` against the modelled PBX, over real HTTP and a
//! real `/ws/agent` connection to the `ringside-backend` binary: one test per behaviour of the
//! contract (`docs/backend-api.md` section 4.7).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::Agent;
use serde_json::{json, Value};

/// Fast targets, so that the tests do not wait for the 300 ms / 3 s defaults.
fn fast(targets: Value) -> Option<Value> {
    Some(json!({"answer_delay_ms": 50, "no_answer_ms": 200, "targets": targets}))
}

fn assert_update(frame: &Value, call: &Agent, transfer_id: &Value, expect: Value) {
    assert_eq!(frame["type"], "transfer_update", "{frame}");
    assert_eq!(frame["yeastar_call_id"], call.call_id.as_str());
    assert_eq!(&frame["transfer_id"], transfer_id);
    for (k, v) in expect.as_object().unwrap() {
        assert_eq!(&frame[k], v, "field {k} of {frame}");
    }
}

/// The next frame on the agent's socket, checked with [`assert_update`].
async fn next_update(a: &mut Agent, transfer_id: &Value, expect: Value) -> Value {
    let frame = a.ws.next().await;
    assert_update(&frame, a, transfer_id, expect);
    frame
}

/// Step 1 of a `kind` transfer to `number` under `key`: `202`, and the new transfer's id.
async fn start(a: &Agent, key: &str, kind: &str, number: &str) -> Value {
    let (status, body) = a.transfer(key, a.body(kind, number, None)).await;
    assert_eq!(status, 202, "{body}");
    body["transfer_id"].clone()
}

/// An attended transfer to `number` whose target answered: the agent consults it.
async fn consult(a: &mut Agent, key: &str, number: &str) -> Value {
    let id = start(a, key, "attended", number).await;
    assert_eq!(a.ws.next().await["state"], "consulting");
    id
}

/// Step 2 of the attended transfer to 1003: `operate` under `key`.
async fn operate(a: &Agent, key: &str, op: &str) -> (reqwest::StatusCode, Value) {
    a.transfer(key, a.body("attended", "1003", Some(op))).await
}

#[tokio::test]
async fn blind_transfer_completes_and_clears_the_queue_call() {
    // Default settings: the target answers after 300 ms.
    let mut a = Agent::with_call(None).await;
    let started = Instant::now();
    let (status, body) = a.transfer("t-1", a.body("blind", "1003", None)).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["state"], "pending");
    assert_eq!(body["yeastar_call_id"], a.call_id.as_str());
    assert!(body["transfer_id"].as_str().is_some_and(|t| !t.is_empty()));
    let pending = a.call_state().await;
    assert_eq!(pending["transfer"]["state"], "pending");

    let update = a.ws.next().await;
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_update(
        &update,
        &a,
        &body["transfer_id"],
        json!({"kind": "blind", "number": "1003", "state": "completed",
               "talking_to": null, "reason": null, "message": null}),
    );
    let cleared = a.ws.next().await;
    assert_eq!(
        cleared,
        json!({"type": "call_queue_cleared", "yeastar_call_id": a.call_id})
    );
    assert_eq!(a.call_state().await, Value::Null);
    let log = a.admin_get("/admin/transfers").await;
    assert_eq!(log.as_array().unwrap().len(), 1);
    assert_eq!(log[0]["status"], 202);
    assert_eq!(log[0]["request"]["number"], "1003");
    assert_eq!(log[0]["outcome"]["state"], "completed");
}

#[tokio::test]
async fn blind_transfer_to_a_busy_target_fails_busy() {
    let mut a = Agent::with_call(fast(json!({"1003": "busy"}))).await;
    let id = start(&a, "t-1", "blind", "1003").await;
    next_update(
        &mut a,
        &id,
        json!({"kind": "blind", "state": "failed", "reason": "busy",
               "message": "486 Busy Here", "talking_to": null}),
    )
    .await;
    // The call stays with the agent, and can be transferred elsewhere.
    a.ws.silent_for(200).await;
    let call = a.call_state().await;
    assert_eq!(call["transfer"]["state"], "failed");
    start(&a, "t-2", "blind", "1004").await;
    assert_eq!(a.ws.next().await["state"], "completed");
}

#[tokio::test]
async fn blind_transfer_nobody_answers_fails_no_answer() {
    let mut a = Agent::with_call(Some(json!({
        "answer_delay_ms": 50, "no_answer_ms": 400, "targets": {"1003": "no_answer"}
    })))
    .await;
    let started = Instant::now();
    let id = start(&a, "t-1", "blind", "1003").await;
    let update = a.ws.next().await;
    assert!(
        started.elapsed() >= Duration::from_millis(350),
        "no answer is declared after no_answer_ms"
    );
    assert_update(
        &update,
        &a,
        &id,
        json!({"state": "failed", "reason": "no_answer",
               "message": "480 Temporarily Unavailable (no answer)"}),
    );
    a.ws.silent_for(200).await;
    assert_eq!(a.call_state().await["channel_id"], a.channel_id.as_str());
}

#[tokio::test]
async fn blind_transfer_on_a_cleared_call_is_call_gone() {
    let mut a = Agent::with_call(fast(json!({}))).await;
    assert_eq!(a.clear().await, 200);
    assert_eq!(a.ws.next().await["type"], "call_queue_cleared");
    let (status, body) = a.transfer("t-1", a.body("blind", "1003", None)).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "call_gone");
    // An id the PBX never issued is gone too.
    let (status, body, _) = a
        .transfer_raw(
            "1725446451.999",
            "t-2",
            a.body("blind", "1003", None).to_string().into(),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "call_gone");
    a.ws.silent_for(200).await;
}

#[tokio::test]
async fn wrong_channel_id_is_call_gone() {
    let mut a = Agent::with_call(fast(json!({}))).await;
    let mut body = a.body("blind", "1003", None);
    body["channel_id"] = json!("PJSIP/1002-deadbeef");
    let (status, err) = a.transfer("t-1", body).await;
    assert_eq!(status, 404);
    assert_eq!(err["code"], "call_gone");
    assert_eq!(a.call_state().await["transfer"], Value::Null);
    a.ws.silent_for(200).await;
    // The right channel still works, and the failed key was not used up.
    start(&a, "t-1", "blind", "1003").await;
}

#[tokio::test]
async fn pbx_unreachable_is_502_and_changes_nothing() {
    let mut a = Agent::with_call(fast(json!({}))).await;
    let (s, _) = a
        .set_pbx(json!({"unreachable": true, "answer_delay_ms": 50}))
        .await;
    assert_eq!(s, 200);
    let before = a.call_state().await;
    for (key, body) in [
        ("t-1", a.body("blind", "1003", None)),
        ("t-2", a.body("attended", "1003", None)),
        ("t-3", a.body("attended", "1003", Some("complete"))),
    ] {
        let (status, err) = a.transfer(key, body).await;
        assert_eq!(status, 502);
        assert_eq!(err["code"], "pbx_unreachable");
    }
    assert_eq!(a.call_state().await, before);
    a.ws.silent_for(200).await;
    // Back online: the same key runs the transfer.
    a.set_pbx(json!({"answer_delay_ms": 50})).await;
    start(&a, "t-1", "blind", "1003").await;
    assert_eq!(a.ws.next().await["state"], "completed");
}

#[tokio::test]
async fn pbx_lost_while_ringing_fails_pbx_unreachable() {
    // The target would answer after 1 s; the PBX is lost before that.
    let mut a = Agent::with_call(Some(json!({"answer_delay_ms": 1000}))).await;
    start(&a, "t-1", "blind", "1003").await;
    a.set_pbx(json!({"unreachable": true, "answer_delay_ms": 1000}))
        .await;
    let update = a.ws.next().await;
    assert_eq!(update["state"], "failed");
    assert_eq!(update["reason"], "pbx_unreachable");
    assert!(
        a.call_state().await.is_object(),
        "the call stays with the agent"
    );
}

#[tokio::test]
async fn attended_consult_swap_threeway_complete() {
    let mut a = Agent::with_call(fast(json!({}))).await;
    let (status, body) = a.transfer("t-1", a.body("attended", "1003", None)).await;
    assert_eq!(status, 202);
    assert_eq!(body["state"], "pending");
    let id = body["transfer_id"].clone();
    next_update(
        &mut a,
        &id,
        json!({"kind": "attended", "number": "1003", "state": "consulting",
               "talking_to": "target", "reason": null, "message": null}),
    )
    .await;

    let (status, body) = operate(&a, "t-2", "swap").await;
    assert_eq!(status, 202);
    assert_eq!(
        body["transfer_id"], id,
        "an operate acts on the same transfer"
    );
    next_update(
        &mut a,
        &id,
        json!({"state": "consulting", "talking_to": "caller"}),
    )
    .await;
    operate(&a, "t-3", "swap").await;
    next_update(
        &mut a,
        &id,
        json!({"state": "consulting", "talking_to": "target"}),
    )
    .await;

    let (status, _) = operate(&a, "t-4", "threeway").await;
    assert_eq!(status, 202);
    next_update(
        &mut a,
        &id,
        json!({"state": "threeway", "talking_to": null}),
    )
    .await;

    let (status, _) = operate(&a, "t-5", "complete").await;
    assert_eq!(status, 202);
    next_update(&mut a, &id, json!({"state": "completed", "reason": null})).await;
    assert_eq!(a.ws.next().await["type"], "call_queue_cleared");
    assert_eq!(a.call_state().await, Value::Null);
    // The agent's leg is gone: nothing more to operate on.
    let (status, err) = operate(&a, "t-6", "abort").await;
    assert_eq!(status, 404);
    assert_eq!(err["code"], "call_gone");

    let log = a.admin_get("/admin/transfers").await;
    let outcomes: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["status"].clone(), e["outcome"]["state"].clone()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (json!(202), json!("consulting")),
            (json!(202), json!("consulting")),
            (json!(202), json!("consulting")),
            (json!(202), json!("threeway")),
            (json!(202), json!("completed")),
            (json!(404), Value::Null),
        ]
    );
}

#[tokio::test]
async fn attended_abort_returns_the_caller_to_the_agent() {
    let mut a = Agent::with_call(fast(json!({}))).await;
    let id = consult(&mut a, "t-1", "1003").await;
    let (status, _) = operate(&a, "t-2", "abort").await;
    assert_eq!(status, 202);
    next_update(
        &mut a,
        &id,
        json!({"state": "aborted", "talking_to": null, "reason": null}),
    )
    .await;
    a.ws.silent_for(200).await;
    let call = a.call_state().await;
    assert_eq!(call["transfer"]["state"], "aborted");
    // Nothing under way any more: another operate has no consultation, a new transfer starts.
    let (status, err) = operate(&a, "t-3", "complete").await;
    assert_eq!(status, 409);
    assert_eq!(err["code"], "no_consultation");
    consult(&mut a, "t-4", "1004").await;
}

#[tokio::test]
async fn attended_target_busy_fails_and_keeps_the_call() {
    let mut a = Agent::with_call(fast(json!({"1003": "busy"}))).await;
    let id = start(&a, "t-1", "attended", "1003").await;
    next_update(
        &mut a,
        &id,
        json!({"kind": "attended", "state": "failed", "reason": "busy",
               "message": "486 Busy Here", "talking_to": null}),
    )
    .await;
    a.ws.silent_for(200).await;
    assert_eq!(a.call_state().await["channel_id"], a.channel_id.as_str());
    let (status, err) = operate(&a, "t-2", "complete").await;
    assert_eq!(status, 409);
    assert_eq!(err["code"], "no_consultation");
}

#[tokio::test]
async fn operate_without_consultation_is_409() {
    let mut a = Agent::with_call(Some(json!({
        "answer_delay_ms": 50, "no_answer_ms": 2000, "targets": {"1009": "no_answer"}
    })))
    .await;
    // No transfer at all.
    for (i, op) in ["complete", "abort", "threeway", "swap"].iter().enumerate() {
        let (status, err) = operate(&a, &format!("o-{i}"), op).await;
        assert_eq!(status, 409, "{op}");
        assert_eq!(err["code"], "no_consultation");
    }
    assert_eq!(a.call_state().await["transfer"], Value::Null);
    // The target is still ringing: no consultation yet either.
    start(&a, "t-1", "attended", "1009").await;
    let (status, err) = a
        .transfer("o-9", a.body("attended", "1009", Some("complete")))
        .await;
    assert_eq!(status, 409);
    assert_eq!(err["code"], "no_consultation");
    assert_eq!(a.call_state().await["transfer"]["state"], "pending");
    a.ws.silent_for(200).await;
}

#[tokio::test]
async fn transfer_while_one_is_in_progress_is_409() {
    let mut a = Agent::with_call(Some(json!({
        "answer_delay_ms": 50, "no_answer_ms": 1500, "targets": {"1009": "no_answer"}
    })))
    .await;
    let id = start(&a, "t-1", "blind", "1009").await;
    for (key, b) in [
        ("t-2", a.body("blind", "1003", None)),
        ("t-3", a.body("attended", "1003", None)),
    ] {
        let (status, err) = a.transfer(key, b).await;
        assert_eq!(status, 409);
        assert_eq!(err["code"], "transfer_in_progress");
    }
    let call = a.call_state().await;
    assert_eq!(call["transfer"]["transfer_id"], id);
    assert_eq!(call["transfer"]["number"], "1009");
    let update = a.ws.next().await;
    assert_eq!(update["transfer_id"], id);
    assert_eq!(update["reason"], "no_answer");

    // A consultation is under way too: a second step 1 is refused.
    consult(&mut a, "t-4", "1003").await;
    let (status, err) = a.transfer("t-5", a.body("blind", "1004", None)).await;
    assert_eq!(status, 409);
    assert_eq!(err["code"], "transfer_in_progress");
    assert_eq!(a.call_state().await["transfer"]["state"], "consulting");
}

#[tokio::test]
async fn call_cleared_during_consultation_pushes_call_gone() {
    let mut a = Agent::with_call(fast(json!({}))).await;
    let id = consult(&mut a, "t-1", "1003").await;
    assert_eq!(a.clear().await, 200);
    let failed = next_update(
        &mut a,
        &id,
        json!({"kind": "attended", "state": "failed", "reason": "call_gone", "talking_to": null}),
    )
    .await;
    assert!(failed["message"].is_string());
    assert_eq!(
        a.ws.next().await,
        json!({"type": "call_queue_cleared", "yeastar_call_id": a.call_id})
    );
    let (status, err) = operate(&a, "t-2", "complete").await;
    assert_eq!(status, 404);
    assert_eq!(err["code"], "call_gone");
    a.ws.silent_for(200).await;
}

#[tokio::test]
async fn call_cleared_while_the_target_rings_pushes_call_gone_once() {
    // The target would answer after 1 s; the caller hangs up before that.
    let mut a = Agent::with_call(Some(json!({"answer_delay_ms": 1000}))).await;
    let id = start(&a, "t-1", "blind", "1003").await;
    assert_eq!(a.clear().await, 200);
    let failed = a.ws.next().await;
    assert_eq!(failed["transfer_id"], id);
    assert_eq!(failed["reason"], "call_gone");
    assert_eq!(a.ws.next().await["type"], "call_queue_cleared");
    // The ring timer finds the call gone and pushes nothing.
    a.ws.silent_for(1300).await;
}

#[tokio::test]
async fn idempotent_replay_returns_the_same_202_and_acts_once() {
    let mut a = Agent::with_call(fast(json!({}))).await;
    let body = a.body("blind", "1003", None);
    let (s1, first, replay1) = a
        .transfer_raw(&a.call_id, "same-key", body.to_string().into())
        .await;
    let (s2, second, replay2) = a
        .transfer_raw(&a.call_id, "same-key", body.to_string().into())
        .await;
    assert_eq!((s1.as_u16(), s2.as_u16()), (202, 202));
    assert_eq!(first, second);
    assert!(!replay1 && replay2);
    assert_eq!(a.ws.next().await["state"], "completed");
    assert_eq!(a.ws.next().await["type"], "call_queue_cleared");
    // Even after the call is gone, the key still answers what it answered first.
    let (s3, third, replay3) = a
        .transfer_raw(&a.call_id, "same-key", body.to_string().into())
        .await;
    assert_eq!(s3, 202);
    assert_eq!(third, first);
    assert!(replay3);
    a.ws.silent_for(300).await;
    let log = a.admin_get("/admin/transfers").await;
    let replays: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["replay"].clone())
        .collect();
    assert_eq!(replays, [json!(false), json!(true), json!(true)]);
}

#[tokio::test]
async fn malformed_bodies_are_422_and_change_nothing() {
    let mut a = Agent::with_call(fast(json!({}))).await;
    let ch = a.channel_id.clone();
    let cases = [
        json!({"type": "warm", "channel_id": ch, "number": "1003"}),
        json!({"type": "attended", "channel_id": ch, "number": "1003", "operate": "merge"}),
        json!({"type": "blind", "channel_id": ch, "number": "1003", "operate": "complete"}),
        json!({"type": "blind", "channel_id": ch, "number": ""}),
        json!({"type": "blind", "channel_id": ch, "number": "   "}),
        json!({"type": "blind", "channel_id": "", "number": "1003"}),
        json!({"type": "blind", "number": "1003"}),
        json!({"type": "blind", "channel_id": ch, "number": 1003}),
        json!({"type": "blind", "channel_id": ch, "number": "1003", "operate": 7}),
        json!([1, 2, 3]),
    ];
    for body in &cases {
        let (status, err) = a.transfer("k-1", body.clone()).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(err["code"], "invalid", "{body}");
        assert!(err["message"].is_string());
    }
    let (status, err, _) = a.transfer_raw(&a.call_id, "k-1", "{not json".into()).await;
    assert_eq!(status, 400);
    assert_eq!(err["code"], "bad_json");
    // Nothing moved on the PBX, nothing was pushed, and the key is still unused.
    assert_eq!(a.call_state().await["transfer"], Value::Null);
    a.ws.silent_for(200).await;
    start(&a, "k-1", "blind", "1003").await;
    assert_eq!(a.ws.next().await["state"], "completed");
    let log = a.admin_get("/admin/transfers").await;
    let statuses: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_u64().unwrap())
        .collect();
    let mut expected = vec![422; cases.len()];
    expected.extend([400, 202]);
    assert_eq!(statuses, expected);
}

#[tokio::test]
async fn another_agents_call_is_call_gone() {
    let (_seed, file) = common::write_file(
        "agents.json",
        r#"[{"username": "bob", "password": "pw", "name": "Bob", "extension": "1005"}]"#,
    );
    let mut a = Agent::with_call_args(&["--agents", file.to_str().unwrap()], fast(json!({}))).await;
    let body = a.body("blind", "1003", None).to_string();
    // Bob knows the ids but the call is not his: for him it is not on the PBX.
    let (_, bob) = common::login(a.url(), "bob", "pw").await;
    let bob = bob["token"].as_str().unwrap();
    let (status, err, _) = a
        .transfer_raw_as(bob, &a.call_id, "x-1", body.clone().into())
        .await;
    assert_eq!(status, 404);
    assert_eq!(err["code"], "call_gone");
    assert_eq!(a.call_state().await["transfer"], Value::Null);
    // Another session of the call's own agent may transfer it.
    let (_, again) = common::login(a.url(), "demo", "demo").await;
    let again = again["token"].as_str().unwrap();
    let (status, _, _) = a
        .transfer_raw_as(again, &a.call_id, "x-1", body.into())
        .await;
    assert_eq!(status, 202);
    assert_eq!(a.ws.next().await["state"], "completed");
}

#[tokio::test]
async fn admin_pbx_settings_round_trip() {
    let a = Agent::with_call(None).await;
    let defaults = a.admin_get("/admin/pbx").await;
    assert_eq!(
        defaults,
        json!({"unreachable": false, "answer_delay_ms": 300, "no_answer_ms": 3000, "targets": {}})
    );
    let wanted = json!({"unreachable": false, "answer_delay_ms": 10, "no_answer_ms": 20,
                        "targets": {"1003": "busy", "1004": "no_answer", "1005": "answer"}});
    let (s, now) = a.set_pbx(wanted.clone()).await;
    assert_eq!(s, 200);
    assert_eq!(now, wanted);
    assert_eq!(a.admin_get("/admin/pbx").await, wanted);
    for bad in [
        json!({"targets": {"1003": "maybe"}}),
        json!({"unreachable": "yes"}),
        json!({"answer_delay_ms": 3_600_001}),
        json!({"surprise": true}),
    ] {
        let (s, err) = a.set_pbx(bad.clone()).await;
        assert_eq!(s, 422, "{bad}");
        assert_eq!(err["code"], "invalid");
    }
    assert_eq!(
        a.admin_get("/admin/pbx").await,
        wanted,
        "a refused PUT changes nothing"
    );
}
