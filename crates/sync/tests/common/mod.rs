//! Fixtures shared by the sync integration tests.

#![allow(dead_code, clippy::unwrap_used)]

use ringside_core::{CallLog, CallStatus, Direction};

pub fn log(id: &str, status: CallStatus, talk: u64) -> CallLog {
    CallLog {
        from: "+15550100".into(),
        to: "1002".into(),
        extension_id: Some("12".into()),
        started_at_ms: 1,
        talk_seconds: talk,
        ..CallLog::new(
            id,
            format!("call-{id}"),
            Direction::Inbound,
            "+15550100",
            status,
        )
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
