//! Presentation logic with no DOM: what the components print.

use ringside_core::engine::AgentState;
use ringside_core::phone::RegState;
use ringside_core::{CallStatus, Direction};

/// `m:ss` under an hour, `h:mm:ss` after.
pub fn timer(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds / 60) % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

pub fn status_label(status: CallStatus, direction: Direction) -> &'static str {
    match (status, direction) {
        (CallStatus::Ringing, Direction::Inbound) => "Incoming call",
        (CallStatus::Ringing, Direction::Outbound) => "Calling…",
        (CallStatus::Talking, _) => "Talking",
        (CallStatus::Answered, _) => "Answered",
        (CallStatus::Missed, _) => "Missed",
        (CallStatus::NoAnswered, _) => "Not answered",
    }
}

pub fn registration_label(reg: Option<RegState>) -> (&'static str, &'static str) {
    match reg {
        Some(RegState::Registered) => ("Phone ready", "ok"),
        Some(RegState::Unregistered) => ("Phone not registered", "warn"),
        Some(RegState::Failed) => ("Phone registration failed", "bad"),
        Some(RegState::Unknown) | None => ("Phone starting…", "warn"),
    }
}

pub fn agent_state_label(state: Option<AgentState>) -> &'static str {
    match state {
        Some(AgentState::Available) => "Available",
        Some(AgentState::Paused) => "Paused",
        Some(AgentState::LoggedOut) => "Logged out",
        None => "—",
    }
}

pub fn sync_label(online: bool, pending: u64) -> String {
    match (online, pending) {
        (true, 0) => "Backend connected".into(),
        (true, n) => format!("Syncing {n}…"),
        (false, 0) => "Backend offline".into(),
        (false, n) => format!("Offline: {n} saved here, will sync"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers() {
        assert_eq!(timer(0), "0:00");
        assert_eq!(timer(65), "1:05");
        assert_eq!(timer(3600 + 62), "1:01:02");
    }

    #[test]
    fn labels() {
        assert_eq!(
            status_label(CallStatus::Ringing, Direction::Inbound),
            "Incoming call"
        );
        assert_eq!(sync_label(false, 3), "Offline: 3 saved here, will sync");
        assert_eq!(registration_label(Some(RegState::Registered)).1, "ok");
    }
}
