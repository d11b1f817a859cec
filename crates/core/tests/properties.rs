//! Arbitrary interleavings, duplicates and drops of webphone events never panic and keep the
//! engine's invariants: one log per call id, at most one terminal status that never changes,
//! updates only after the create.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use proptest::prelude::*;
use ringside_core::{
    Agent, CallStatus, Clock, Effect, Engine, Input, Intent, RawPhoneEvent, WriteOp,
};
use serde_json::{json, Value};

const IDS: [&str; 3] = ["a-1", "b-2", "c-3"];

#[derive(Debug, Clone)]
enum Step {
    Call {
        name: &'static str,
        dir: Value,
        id: usize,
        bracket: bool,
        line: i64,
    },
    Anonymous(&'static str),
    Cdr {
        id: usize,
        duration: Value,
        dir: Value,
    },
    Garbage(Value),
    Intent(usize, u8),
    Wait(u64),
}

fn step() -> impl Strategy<Value = Step> {
    let names = prop::sample::select(vec![
        "setup",
        "ringing",
        "connected",
        "disconnected",
        "trying",
        "hold",
        "midcall",
        "callSetup",
        "callRinging",
        "callConnected",
        "callDisconnected",
        "reload",
        "bogus",
    ]);
    let dir = prop_oneof![
        Just(json!(1)),
        Just(json!(2)),
        Just(json!("2")),
        Just(json!("")),
        Just(json!(null)),
        Just(json!(7)),
    ];
    prop_oneof![
        6 => (names, dir.clone(), 0..IDS.len(), any::<bool>(), -1i64..3)
            .prop_map(|(name, dir, id, bracket, line)| Step::Call { name, dir, id, bracket, line }),
        1 => prop::sample::select(vec!["muted", "unmuted", "transfer"]).prop_map(Step::Anonymous),
        2 => (0..IDS.len(), prop_oneof![
                Just(json!("0")), Just(json!("3064")), Just(json!(1200)), Just(json!("")),
                Just(json!("garbage")), Just(json!(-5)), Just(json!(null))
            ], dir)
            .prop_map(|(id, duration, dir)| Step::Cdr { id, duration, dir }),
        1 => prop_oneof![
                Just(json!([])), Just(json!([null])), Just(json!([{"x": 1}, [1, 2]])),
                Just(json!(["connected", {"o": 1}, [], 3.5, "x", 9]))
            ].prop_map(Step::Garbage),
        1 => (0..IDS.len(), 0u8..7).prop_map(|(id, k)| Step::Intent(id, k)),
        2 => (0u64..5_000).prop_map(Step::Wait),
    ]
}

fn input(step: &Step) -> Option<Input> {
    Some(match step {
        Step::Call {
            name,
            dir,
            id,
            bracket,
            line,
        } => {
            let cid = if *bracket {
                format!("[{}]", IDS[*id])
            } else {
                IDS[*id].to_string()
            };
            Input::Phone(RawPhoneEvent::new(
                "call",
                vec![
                    json!(name),
                    dir.clone(),
                    json!("1001"),
                    json!("1001"),
                    json!(line),
                    json!(cid),
                ],
            ))
        }
        Step::Anonymous(name) => Input::Phone(RawPhoneEvent::new(
            "call",
            vec![
                json!(name),
                json!(""),
                json!(""),
                json!(""),
                json!(-1),
                json!(""),
            ],
        )),
        Step::Cdr { id, duration, dir } => Input::Phone(RawPhoneEvent::new(
            "cdr",
            vec![
                json!("1001"),
                json!("1002"),
                json!("900"),
                duration.clone(),
                dir.clone(),
                json!("1001"),
                json!("Call terminated"),
                json!(1),
                json!(IDS[*id]),
            ],
        )),
        Step::Garbage(args) => Input::Phone(RawPhoneEvent::new(
            "call",
            args.as_array().cloned().unwrap_or_default(),
        )),
        Step::Intent(id, k) => {
            let call_id = IDS[*id].to_string();
            Input::User(match k {
                0 => Intent::Accept { call_id },
                1 => Intent::Reject { call_id },
                2 => Intent::Hangup { call_id },
                3 => Intent::Hold { call_id, on: true },
                4 => Intent::Mute { call_id, on: true },
                5 => Intent::BlindTransfer {
                    call_id,
                    number: "1003".into(),
                },
                _ => Intent::Dtmf {
                    call_id,
                    digits: "1".into(),
                },
            })
        }
        Step::Wait(_) => return None,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_for_any_event_stream(steps in prop::collection::vec(step(), 0..80)) {
        let mut engine = Engine::new();
        let mut now = 0u64;
        let clock = |now: u64| Clock { mono_ms: now, wall_ms: now as i64 };
        let _ = engine.handle(
            Input::SessionStarted {
                agent: Agent { id: "a".into(), name: "A".into(), extension_id: "1".into(), extension: "1002".into() },
                sip: None,
            },
            clock(now),
        );
        let mut created: HashMap<String, usize> = HashMap::new();
        let mut terminal: HashMap<String, CallStatus> = HashMap::new();
        let mut call_ids: HashMap<String, String> = HashMap::new();
        for s in &steps {
            if let Step::Wait(ms) = s {
                now += ms;
                let _ = engine.handle(Input::Tick, clock(now));
                continue;
            }
            now += 1;
            let Some(inp) = input(s) else { continue };
            let Ok(effects) = engine.handle(inp, clock(now)) else { continue };
            for fx in effects {
                if let Effect::SaveCallLog { log, op } = fx {
                    prop_assert!(!log.call_id.starts_with('['));
                    if let Some(cid) = call_ids.insert(log.id.clone(), log.call_id.clone()) {
                        prop_assert_eq!(cid, log.call_id.clone(), "one log id, one call id");
                    }
                    match op {
                        WriteOp::Create => {
                            let n = created.entry(log.call_id.clone()).or_default();
                            *n += 1;
                            prop_assert_eq!(*n, 1, "a second create for {}", log.call_id);
                        }
                        WriteOp::Update => prop_assert!(
                            created.contains_key(&log.call_id),
                            "update before create for {}", log.call_id
                        ),
                    }
                    if let Some(t) = terminal.get(&log.call_id) {
                        prop_assert_eq!(*t, log.status, "terminal status changed for {}", log.call_id);
                    } else if log.status.is_terminal() {
                        terminal.insert(log.call_id.clone(), log.status);
                    }
                    prop_assert!(log.talk_seconds <= now / 1000 + 10, "talk time beyond the clock");
                    if log.status != CallStatus::Answered && log.status.is_terminal() {
                        prop_assert_eq!(log.talk_seconds, 0, "unanswered call with talk time");
                    }
                }
            }
        }
        // The engine's own view agrees: one log per call id.
        let mut seen = std::collections::HashSet::new();
        for log in engine.call_logs() {
            prop_assert!(seen.insert(log.call_id.clone()), "duplicate log for {}", log.call_id);
        }
        let _ = engine.view(clock(now));
    }
}
