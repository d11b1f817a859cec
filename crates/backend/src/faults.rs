//! Fault switches: make the backend slow, flaky or unreachable on purpose, from tests or the
//! admin endpoint (`PUT /admin/faults`). Every switch is deterministic (every N-th request,
//! not a random draw) so that a test with fixed settings sees a fixed number of faults.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    latency_ms: AtomicU64,
    error_per_mille: AtomicU32,
    down: AtomicBool,
    /// Until when (ms since the epoch) new connections are refused; 0: not refusing.
    refuse_until_ms: AtomicU64,
    rate_limit_every: AtomicU64,
    garbage_every: AtomicU64,
    slow_body_ms: AtomicU64,
    ws_drop_every_ms: AtomicU64,
    ws_malformed_every: AtomicU64,
    notes_max_bytes: AtomicU64,
    requests: AtomicU64,
    successes: AtomicU64,
    frames: AtomicU64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSettings {
    /// Added to every API request.
    #[serde(default)]
    pub latency_ms: u64,
    /// Per mille of API requests answered with 503.
    #[serde(default)]
    pub error_per_mille: u32,
    /// Every API request answered with 503 (an outage that still accepts connections).
    #[serde(default)]
    pub down: bool,
    /// New TCP connections are closed at once (the server looks unreachable), for
    /// `refuse_for_ms`: the switch turns itself off, since no request (the admin reset
    /// included) can reach a server that refuses every connection.
    #[serde(default)]
    pub refuse: bool,
    /// How long `refuse` lasts: 60 s when unset, 10 minutes at most.
    #[serde(default)]
    pub refuse_for_ms: u64,
    /// Every N-th API request gets 429 with `Retry-After: 1`.
    #[serde(default)]
    pub rate_limit_every: u64,
    /// Every N-th successful API response has its body replaced by garbage.
    #[serde(default)]
    pub garbage_every: u64,
    /// Successful API bodies are delivered after this delay (headers come at once).
    #[serde(default)]
    pub slow_body_ms: u64,
    /// Agent WebSockets are closed by the server this long after they open.
    #[serde(default)]
    pub ws_drop_every_ms: u64,
    /// Every N-th WebSocket frame sent is malformed.
    #[serde(default)]
    pub ws_malformed_every: u64,
    /// A stricter backend: notes longer than this many bytes are refused (`422 invalid`), as
    /// a customer's CRM with a smaller field would. 0: the contract's 64 KiB.
    #[serde(default)]
    pub notes_max_bytes: u64,
}

const DEFAULT_REFUSE_MS: u64 = 60_000;
const MAX_REFUSE_MS: u64 = 600_000;

fn now_ms() -> u64 {
    u64::try_from(crate::api::now_ms()).unwrap_or(0)
}

fn every(counter: &AtomicU64, n: u64) -> bool {
    n > 0 && (counter.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(n)
}

impl Faults {
    pub fn set(&self, s: FaultSettings) {
        let i = &self.0;
        i.latency_ms.store(s.latency_ms, Ordering::Relaxed);
        i.error_per_mille
            .store(s.error_per_mille.min(1000), Ordering::Relaxed);
        i.down.store(s.down, Ordering::Relaxed);
        let until = if s.refuse {
            let span = match s.refuse_for_ms {
                0 => DEFAULT_REFUSE_MS,
                n => n.min(MAX_REFUSE_MS),
            };
            now_ms().saturating_add(span)
        } else {
            0
        };
        i.refuse_until_ms.store(until, Ordering::Relaxed);
        i.rate_limit_every
            .store(s.rate_limit_every, Ordering::Relaxed);
        i.garbage_every.store(s.garbage_every, Ordering::Relaxed);
        i.slow_body_ms.store(s.slow_body_ms, Ordering::Relaxed);
        i.ws_drop_every_ms
            .store(s.ws_drop_every_ms, Ordering::Relaxed);
        i.ws_malformed_every
            .store(s.ws_malformed_every, Ordering::Relaxed);
        i.notes_max_bytes
            .store(s.notes_max_bytes, Ordering::Relaxed);
    }

    pub fn get(&self) -> FaultSettings {
        let i = &self.0;
        FaultSettings {
            latency_ms: i.latency_ms.load(Ordering::Relaxed),
            error_per_mille: i.error_per_mille.load(Ordering::Relaxed),
            down: i.down.load(Ordering::Relaxed),
            refuse: self.refusing(),
            refuse_for_ms: i
                .refuse_until_ms
                .load(Ordering::Relaxed)
                .saturating_sub(now_ms()),
            rate_limit_every: i.rate_limit_every.load(Ordering::Relaxed),
            garbage_every: i.garbage_every.load(Ordering::Relaxed),
            slow_body_ms: i.slow_body_ms.load(Ordering::Relaxed),
            ws_drop_every_ms: i.ws_drop_every_ms.load(Ordering::Relaxed),
            ws_malformed_every: i.ws_malformed_every.load(Ordering::Relaxed),
            notes_max_bytes: i.notes_max_bytes.load(Ordering::Relaxed),
        }
    }

    /// The notes limit in force: the contract's, unless a stricter one was set.
    pub(crate) fn notes_limit(&self, contract: usize) -> usize {
        match self.0.notes_max_bytes.load(Ordering::Relaxed) {
            0 => contract,
            n => usize::try_from(n).unwrap_or(contract).min(contract),
        }
    }

    pub(crate) fn latency(&self) -> u64 {
        self.0.latency_ms.load(Ordering::Relaxed)
    }

    pub(crate) fn refusing(&self) -> bool {
        now_ms() < self.0.refuse_until_ms.load(Ordering::Relaxed)
    }

    pub(crate) fn slow_body(&self) -> u64 {
        self.0.slow_body_ms.load(Ordering::Relaxed)
    }

    pub(crate) fn ws_drop_after(&self) -> u64 {
        self.0.ws_drop_every_ms.load(Ordering::Relaxed)
    }

    /// Whether this request should get a 503.
    pub(crate) fn should_fail(&self) -> bool {
        if self.0.down.load(Ordering::Relaxed) {
            return true;
        }
        let rate = u64::from(self.0.error_per_mille.load(Ordering::Relaxed));
        if rate == 0 {
            return false;
        }
        let n = self.0.requests.fetch_add(1, Ordering::Relaxed);
        // Spread `rate` failures evenly over every 1000 requests.
        rate >= 1000 || (n * rate) / 1000 != ((n + 1) * rate) / 1000
    }

    pub(crate) fn should_rate_limit(&self) -> bool {
        every(
            &self.0.requests,
            self.0.rate_limit_every.load(Ordering::Relaxed),
        )
    }

    pub(crate) fn should_garble(&self) -> bool {
        every(
            &self.0.successes,
            self.0.garbage_every.load(Ordering::Relaxed),
        )
    }

    pub(crate) fn should_malform_frame(&self) -> bool {
        every(
            &self.0.frames,
            self.0.ws_malformed_every.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_exact() {
        let f = Faults::default();
        f.set(FaultSettings {
            error_per_mille: 250,
            ..FaultSettings::default()
        });
        let fails = (0..1000).filter(|_| f.should_fail()).count();
        assert_eq!(fails, 250);
        f.set(FaultSettings {
            rate_limit_every: 3,
            ..FaultSettings::default()
        });
        let limited = (0..9).filter(|_| f.should_rate_limit()).count();
        assert_eq!(limited, 3);
    }
}
