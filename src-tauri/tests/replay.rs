//! `ringside replay` as support engineers run it: the real binary, no display, no network.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

include!("../../tests/fixtures/fixture_traces.rs");

fn traces() -> PathBuf {
    std::env::var_os("RINGSIDE_TRACES")
        .map(PathBuf::from)
        .unwrap_or_else(|| fixture_traces().join("mizu-3.6"))
}

fn replay(args: &[&str]) -> (Vec<Value>, String, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_ringside"))
        .arg("replay")
        .args(args)
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    let calls = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        calls,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

/// (direction, peer, status, talk_seconds) of one call.
type Outcome = (&'static str, &'static str, &'static str, u64);

#[test]
fn every_recorded_trace_prints_its_readme_outcome() {
    let expected: &[(&str, &[Outcome])] = &[
        (
            "answer_caller_hangs.1001",
            &[("outbound", "1002", "answered", 3)],
        ),
        (
            "answer_caller_hangs.1002",
            &[("inbound", "1001", "answered", 3)],
        ),
        (
            "answer_callee_hangs.1001",
            &[("outbound", "1002", "answered", 3)],
        ),
        (
            "answer_callee_hangs.1002",
            &[("inbound", "1001", "answered", 3)],
        ),
        ("reject.1001", &[("outbound", "1002", "no_answered", 0)]),
        ("reject.1002", &[("inbound", "1001", "missed", 0)]),
        ("cancel.1001", &[("outbound", "1002", "no_answered", 0)]),
        ("cancel.1002", &[("inbound", "1001", "missed", 0)]),
        ("no_answer.1001", &[("outbound", "1002", "no_answered", 0)]),
        ("no_answer.1002", &[("inbound", "1001", "missed", 0)]),
        ("not_found.1001", &[("outbound", "1999", "no_answered", 0)]),
        (
            "hold_mute_dtmf.1001",
            &[("outbound", "1002", "answered", 9)],
        ),
        ("hold_mute_dtmf.1002", &[("inbound", "1001", "answered", 9)]),
        (
            "blind_transfer.1001",
            &[("outbound", "1002", "answered", 3)],
        ),
        ("blind_transfer.1002", &[("inbound", "1001", "answered", 3)]),
        ("blind_transfer.1003", &[("inbound", "1001", "answered", 3)]),
        (
            "two_inbound.1002",
            &[
                ("inbound", "1001", "answered", 3),
                ("inbound", "1003", "missed", 0),
            ],
        ),
        ("two_inbound.1001", &[("outbound", "1002", "answered", 3)]),
        (
            "two_inbound.1003",
            &[("outbound", "1002", "no_answered", 0)],
        ),
    ];
    for (file, calls) in expected {
        let path = traces().join(format!("{file}.jsonl"));
        let (out, stderr, ok) = replay(&[path.to_str().unwrap()]);
        assert!(ok, "{file}: {stderr}");
        assert!(stderr.is_empty(), "{file}: {stderr}");
        assert_eq!(out.len(), calls.len(), "{file}: {out:?}");
        for (got, (dir, peer, status, talk)) in out.iter().zip(calls.iter()) {
            assert_eq!(got["direction"], *dir, "{file}");
            assert_eq!(got["peer"], *peer, "{file}");
            assert_eq!(got["status"], *status, "{file}");
            assert_eq!(got["talk_seconds"], *talk, "{file}");
            assert!(!got["call_id"].as_str().unwrap().contains('['), "{file}");
            assert!(
                got.get("transferred_to").is_some(),
                "{file}: the field is always there"
            );
        }
    }
}

#[test]
fn malformed_lines_are_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(traces().join("answer_caller_hangs.1002.jsonl")).unwrap();
    let mut text = String::from("{not json\n");
    for (i, line) in good.lines().enumerate() {
        text.push_str(line);
        text.push('\n');
        if i == 3 {
            text.push_str("{\"t_ms\": 1, \"kind\": \"call\", \"args\": []}\n");
        }
    }
    text.push_str("\u{0}\u{1}garbage at the end, as after a crash");
    let path = dir.path().join("journal.jsonl");
    std::fs::write(&path, text).unwrap();
    let (out, stderr, ok) = replay(&[path.to_str().unwrap()]);
    assert!(ok);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["status"], "answered");
    assert!(stderr.contains(":1: skipped"), "{stderr}");
    assert_eq!(stderr.lines().count(), 3, "{stderr}");
}

#[test]
fn extension_selects_one_agent_from_a_merged_journal() {
    let a = std::fs::read_to_string(traces().join("reject.1001.jsonl")).unwrap();
    let b = std::fs::read_to_string(traces().join("reject.1002.jsonl")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("merged.jsonl");
    std::fs::write(&path, format!("{a}{b}")).unwrap();
    let (out, _, ok) = replay(&[path.to_str().unwrap(), "--extension", "1002"]);
    assert!(ok);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["direction"], "inbound");
    assert_eq!(out[0]["status"], "missed");
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let (out, stderr, ok) = replay(&["/nonexistent/journal.jsonl"]);
    assert!(!ok);
    assert!(out.is_empty());
    assert!(
        stderr.contains("cannot read /nonexistent/journal.jsonl"),
        "{stderr}"
    );
}
