//! Fault switches: make the backend slow, flaky or unreachable on purpose, from tests or the
//! admin endpoint (`PUT /admin/faults`).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    latency_ms: AtomicU64,
    /// Per mille of API requests answered with 503.
    error_per_mille: AtomicU32,
    /// Answer every API request with 503 (a backend outage that still accepts connections).
    down: AtomicBool,
    counter: AtomicU64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSettings {
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub error_per_mille: u32,
    #[serde(default)]
    pub down: bool,
}

impl Faults {
    pub fn set(&self, s: FaultSettings) {
        self.0.latency_ms.store(s.latency_ms, Ordering::Relaxed);
        self.0
            .error_per_mille
            .store(s.error_per_mille.min(1000), Ordering::Relaxed);
        self.0.down.store(s.down, Ordering::Relaxed);
    }

    pub fn get(&self) -> FaultSettings {
        FaultSettings {
            latency_ms: self.0.latency_ms.load(Ordering::Relaxed),
            error_per_mille: self.0.error_per_mille.load(Ordering::Relaxed),
            down: self.0.down.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn latency(&self) -> u64 {
        self.0.latency_ms.load(Ordering::Relaxed)
    }

    /// Whether this request should fail. Deterministic (every k-th request) so that tests
    /// with a fixed rate see a fixed number of failures.
    pub(crate) fn should_fail(&self) -> bool {
        if self.0.down.load(Ordering::Relaxed) {
            return true;
        }
        let rate = u64::from(self.0.error_per_mille.load(Ordering::Relaxed));
        if rate == 0 {
            return false;
        }
        let n = self.0.counter.fetch_add(1, Ordering::Relaxed);
        (n % 1000) * rate / 1000 != ((n + 1) % 1000) * rate / 1000 || rate >= 1000
    }
}
