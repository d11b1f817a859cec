//! Fuzzing of what comes from outside, bounded for CI: the webphone-event normaliser and the
//! engine behind it (the vendor's script decides those bytes), the agent socket's frame parser
//! (the backend's), and the settings loader (IT's and the user's files, the environment).
//! Each property: whatever the input, no panic, and a refusal is a plain error.
//!
//! 2,000 cases each by default (a few seconds); `RINGSIDE_FUZZ_CASES=200000 cargo test -p
//! ringside-service --test fuzz` for a long run. A failure prints the smallest input found.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use ringside_core::phone::PhoneEvent;
use ringside_core::{Agent, Clock, Engine, Input, RawPhoneEvent};
use ringside_sync::agent_socket::ServerFrame;
use serde_json::{json, Map, Value};

fn cases() -> u32 {
    std::env::var("RINGSIDE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

/// Strings that mean something to the parsers, and strings that mean nothing.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            "[1]",
            "setup",
            "ringing",
            "connected",
            "disconnected",
            "1",
            "-1",
            "0",
            "STATUS,1,Ringing,1001,1002,1,1001",
            "Registered.",
            "Failed",
            "agent_status",
            "call_queue_info",
            "paused",
            "available",
            "logged_out",
            "Lunch",
            "null",
            "{}",
            "\u{0}",
            "\u{202e}",
            "🙂",
            "%00",
            "a\"b",
            "9223372036854775808",
        ])
        .prop_map(str::to_string),
        ".{0,40}",
        // Long enough to cross every size limit.
        (0usize..3).prop_map(|n| "x".repeat(10_000 * (n + 1))),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
    ]
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn event_kind() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "app",
            "reg",
            "call",
            "cdr",
            "display",
            "status",
            "event",
            "log",
            "dtmf",
            "command_failed",
            "intent",
            "chat",
            "presence",
        ])
        .prop_map(str::to_string),
        text(),
    ]
}

fn signed_in_engine() -> Engine {
    let mut engine = Engine::new();
    let _ = engine.handle(
        Input::SessionStarted {
            agent: Agent {
                id: "a".into(),
                name: "A".into(),
                extension_id: "1".into(),
                extension: "1002".into(),
            },
            sip: None,
        },
        Clock {
            mono_ms: 0,
            wall_ms: 0,
        },
    );
    engine
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// The library's callbacks, any shape: parsed or refused, and the engine takes them all.
    #[test]
    fn webphone_events_never_panic_the_normaliser_or_the_engine(
        events in prop::collection::vec((event_kind(), prop::collection::vec(json_value(), 0..9)), 1..12)
    ) {
        let mut engine = signed_in_engine();
        for (i, (kind, args)) in events.into_iter().enumerate() {
            let raw = RawPhoneEvent::new(kind, args);
            if let Err(e) = PhoneEvent::parse(&raw) {
                prop_assert!(!e.to_string().is_empty());
            }
            let t = u64::try_from(i).unwrap_or(0) * 250;
            let _ = engine.handle(
                Input::Phone(raw),
                Clock { mono_ms: t, wall_ms: i64::try_from(t).unwrap_or(0) },
            );
        }
    }

    /// Agent socket frames: any text, and any JSON object with a known or unknown type.
    #[test]
    fn socket_frames_parse_or_fail_cleanly(raw in text(), value in json_value(), kind in text()) {
        let _ = ServerFrame::parse(&raw);
        let _ = ServerFrame::parse(&value.to_string());
        let mut framed = match value {
            Value::Object(m) => m,
            other => Map::from_iter([("data".to_string(), other)]),
        };
        framed.insert("type".into(), json!(kind));
        if let Err(e) = ServerFrame::parse(&Value::Object(framed).to_string()) {
            prop_assert!(!e.is_empty());
        }
    }

    /// IT's policy, the user's file and the environment, any content: settings or a plain
    /// error, never a panic.
    #[test]
    fn any_settings_files_and_environment_load_or_are_refused_plainly(
        policy in settings_text(),
        user in settings_text(),
        env in prop::collection::vec((env_name(), text()), 0..6),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (p, u) = (dir.path().join("policy.toml"), dir.path().join("user.toml"));
        std::fs::write(&p, &policy).unwrap();
        std::fs::write(&u, &user).unwrap();
        let lookup = move |k: &str| {
            if k == "RINGSIDE_PROFILE_DIR" {
                return Some("/tmp/ringside-fuzz".to_string());
            }
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        };
        match ringside_service::Config::resolve(&p, Some(&u), &lookup) {
            Ok(c) => {
                let report = c.report(&p, Some(&u));
                prop_assert!(report.contains("mode"));
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}

fn env_name() -> impl Strategy<Value = String> {
    prop::sample::select(
        ringside_service::config::KEYS
            .iter()
            .map(|k| format!("RINGSIDE_{}", k.to_ascii_uppercase()))
            .collect::<Vec<_>>(),
    )
}

/// TOML-ish text: real keys with values of any type, locks with any names, or noise.
fn settings_text() -> impl Strategy<Value = String> {
    let key = prop::sample::select(ringside_service::config::KEYS.to_vec());
    let value = prop_oneof![
        text().prop_map(|t| format!("{t:?}")),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("[1, 2]".to_string()),
        Just("{ a = 1 }".to_string()),
    ];
    let line = prop_oneof![
        (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
        prop::collection::vec(text(), 0..3).prop_map(|names| format!("locked = {names:?}")),
        text(),
    ];
    prop::collection::vec(line, 0..8).prop_map(|lines| lines.join("\n"))
}
