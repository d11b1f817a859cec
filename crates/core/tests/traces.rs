//! Every recorded trace in `tests/fixtures/traces/mizu-3.6` replayed with the outcomes its README states.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use ringside_core::journal::{replay, CallSummary};
use ringside_core::Direction;

include!("../../../tests/fixtures/fixture_traces.rs");

fn traces_dir() -> PathBuf {
    // The repository's own copy; RINGSIDE_TRACES overrides (a folder of `*.jsonl`).
    std::env::var_os("RINGSIDE_TRACES")
        .map(PathBuf::from)
        .unwrap_or_else(|| fixture_traces().join("mizu-3.6"))
}

fn run(name: &str) -> Vec<CallSummary> {
    let path = traces_dir().join(format!("{name}.jsonl"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let out = replay(&text, None);
    assert!(out.problems.is_empty(), "{name}: {:?}", out.problems);
    out.calls
}

fn one(name: &str) -> CallSummary {
    let calls = run(name);
    assert_eq!(calls.len(), 1, "{name}: {calls:#?}");
    calls.into_iter().next().unwrap()
}

fn assert_call(c: &CallSummary, dir: Direction, peer: &str, status: &str, talk: u64) {
    assert_eq!(c.direction, dir, "{c:?}");
    assert_eq!(c.peer, peer, "{c:?}");
    assert_eq!(c.status, status, "{c:?}");
    assert_eq!(c.talk_seconds, talk, "{c:?}");
    assert!(!c.call_id.starts_with('['), "{c:?}");
}

#[test]
fn answered_calls_both_sides() {
    for scenario in ["answer_caller_hangs", "answer_callee_hangs"] {
        let a = one(&format!("{scenario}.1001"));
        assert_call(&a, Direction::Outbound, "1002", "answered", 3);
        let b = one(&format!("{scenario}.1002"));
        assert_call(&b, Direction::Inbound, "1001", "answered", 3);
        assert_eq!(a.call_id, b.call_id);
    }
}

#[test]
fn reject() {
    let caller = one("reject.1001");
    assert_call(&caller, Direction::Outbound, "1002", "no_answered", 0);
    assert_eq!(caller.end_reason.as_deref(), Some("Decline"));
    let callee = one("reject.1002");
    assert_call(&callee, Direction::Inbound, "1001", "missed", 0);
    assert_eq!(callee.end_reason.as_deref(), Some("Call Rejected"));
}

#[test]
fn cancel() {
    assert_call(
        &one("cancel.1001"),
        Direction::Outbound,
        "1002",
        "no_answered",
        0,
    );
    let callee = one("cancel.1002");
    assert_call(&callee, Direction::Inbound, "1001", "missed", 0);
    assert_eq!(callee.end_reason.as_deref(), Some("Request Cancelled"));
}

#[test]
fn no_answer_is_no_answered_despite_user_hangup_reason() {
    let caller = one("no_answer.1001");
    assert_call(&caller, Direction::Outbound, "1002", "no_answered", 0);
    assert_eq!(caller.end_reason.as_deref(), Some("User hangup"));
    assert_call(
        &one("no_answer.1002"),
        Direction::Inbound,
        "1001",
        "missed",
        0,
    );
}

#[test]
fn not_found() {
    let c = one("not_found.1001");
    assert_call(&c, Direction::Outbound, "1999", "no_answered", 0);
    assert_eq!(c.end_reason.as_deref(), Some("Not Found"));
}

#[test]
fn hold_mute_dtmf_stays_one_answered_call() {
    assert_call(
        &one("hold_mute_dtmf.1001"),
        Direction::Outbound,
        "1002",
        "answered",
        9,
    );
    assert_call(
        &one("hold_mute_dtmf.1002"),
        Direction::Inbound,
        "1001",
        "answered",
        9,
    );
}

#[test]
fn blind_transfer() {
    assert_call(
        &one("blind_transfer.1001"),
        Direction::Outbound,
        "1002",
        "answered",
        3,
    );
    assert_call(
        &one("blind_transfer.1002"),
        Direction::Inbound,
        "1001",
        "answered",
        3,
    );
    assert_call(
        &one("blind_transfer.1003"),
        Direction::Inbound,
        "1001",
        "answered",
        3,
    );
}

#[test]
fn two_inbound_on_one_line() {
    let calls = run("two_inbound.1002");
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert_call(&calls[0], Direction::Inbound, "1001", "answered", 3);
    assert_call(&calls[1], Direction::Inbound, "1003", "missed", 0);
    assert_call(
        &one("two_inbound.1001"),
        Direction::Outbound,
        "1002",
        "answered",
        3,
    );
    assert_call(
        &one("two_inbound.1003"),
        Direction::Outbound,
        "1002",
        "no_answered",
        0,
    );
}

#[test]
fn every_trace_file_replays_without_problems() {
    let mut n = 0;
    for entry in std::fs::read_dir(traces_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            let text = std::fs::read_to_string(&path).unwrap();
            let out = replay(&text, None);
            assert!(
                out.problems.is_empty(),
                "{}: {:?}",
                path.display(),
                out.problems
            );
            assert!(!out.calls.is_empty(), "{}", path.display());
            for c in &out.calls {
                assert!(
                    ["answered", "missed", "no_answered"].contains(&c.status.as_str()),
                    "{}: {c:?}",
                    path.display()
                );
            }
            n += 1;
        }
    }
    assert!(n >= 19, "only {n} traces found");
}
