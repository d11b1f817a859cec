//! The real library driven through Ringside's own bridge (tests/fixtures/traces/mizu-3.6-bridge)
//! replayed through the engine: agent 1002's recordings, with the outcomes the README states.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use ringside_core::journal::{replay, CallSummary};
use ringside_core::Direction;

include!("../../../tests/fixtures/fixture_traces.rs");

fn calls(name: &str) -> Vec<CallSummary> {
    let path = fixture_traces()
        .join("mizu-3.6-bridge")
        .join(format!("{name}.1002.jsonl"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let out = replay(&text, None);
    assert!(out.problems.is_empty(), "{name}: {:?}", out.problems);
    out.calls
}

/// Direction, peer, status.
type Expected<'a> = (Direction, &'a str, &'a str);

fn summary(c: &CallSummary) -> Expected<'_> {
    (c.direction, c.peer.as_str(), c.status.as_str())
}

#[test]
fn every_bridge_recording_becomes_the_right_call_logs() {
    use Direction::{Inbound, Outbound};
    let cases: &[(&str, &[Expected])] = &[
        // Stuck at "Registering...": no call at all.
        ("csp_register", &[]),
        ("csp_inbound", &[(Inbound, "1001", "answered")]),
        ("inbound_hold_mute_dtmf", &[(Inbound, "1001", "answered")]),
        ("reject", &[(Inbound, "1001", "missed")]),
        ("cancel_by_caller", &[(Inbound, "1001", "missed")]),
        ("blind_transfer", &[(Inbound, "1001", "answered")]),
        ("outbound_remote_hangs", &[(Outbound, "1001", "answered")]),
        (
            "two_inbound",
            &[(Inbound, "1001", "answered"), (Inbound, "1003", "missed")],
        ),
        (
            "two_inbound_second",
            &[(Inbound, "1001", "answered"), (Inbound, "1003", "missed")],
        ),
        (
            "attended_transfer",
            &[
                (Inbound, "1001", "answered"),
                (Outbound, "1003", "answered"),
            ],
        ),
    ];
    for (name, expected) in cases {
        let got = calls(name);
        let mut got: Vec<_> = got.iter().map(summary).collect();
        got.sort_by_key(|(d, p, _)| (*p, *d == Outbound));
        let mut want = expected.to_vec();
        want.sort_by_key(|(d, p, _)| (*p, *d == Outbound));
        assert_eq!(got, want, "{name}");
    }
}

/// attended_transfer: the old bridge completed with `transfer("")`, which threw inside the
/// library; nothing was transferred, and the log must not say otherwise.
#[test]
fn a_transfer_the_library_never_made_is_not_recorded() {
    for c in calls("attended_transfer") {
        assert_eq!(c.transferred_to, None, "{c:?}");
    }
}
