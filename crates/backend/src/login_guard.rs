//! Failed sign-ins, counted per username and per client address over a sliding window: past
//! the limit, that username (or address) is answered `429 too_many_attempts` until the oldest
//! failure leaves the window, whatever the password. A success clears the username's count.
//!
//! Per username stops guessing one agent's password from many addresses; per address stops
//! one address trying many usernames. Memory is bounded: entries older than the window are
//! dropped on every call, and at most [`MAX_TRACKED`] keys of each kind are kept.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(300);
pub const PER_USERNAME: usize = 5;
pub const PER_ADDRESS: usize = 30;
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Default)]
pub struct LoginGuard {
    by_user: HashMap<String, VecDeque<Instant>>,
    by_addr: HashMap<IpAddr, VecDeque<Instant>>,
}

impl LoginGuard {
    /// How long `user` from `addr` must wait before trying again; `None`: may try now.
    pub fn wait(&mut self, user: &str, addr: IpAddr, now: Instant) -> Option<Duration> {
        let u = wait_for(&mut self.by_user, &user.to_lowercase(), PER_USERNAME, now);
        let a = wait_for(&mut self.by_addr, &addr, PER_ADDRESS, now);
        u.max(a)
    }

    pub fn failed(&mut self, user: &str, addr: IpAddr, now: Instant) {
        record(&mut self.by_user, user.to_lowercase(), now);
        record(&mut self.by_addr, addr, now);
    }

    pub fn succeeded(&mut self, user: &str) {
        self.by_user.remove(&user.to_lowercase());
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
}

fn wait_for<K: Hash + Eq>(
    map: &mut HashMap<K, VecDeque<Instant>>,
    key: &K,
    limit: usize,
    now: Instant,
) -> Option<Duration> {
    let times = map.get_mut(key)?;
    prune(times, now);
    if times.len() < limit {
        return None;
    }
    // Free again when enough of the failures have left the window.
    let freeing = times[times.len() - limit];
    Some(WINDOW.saturating_sub(now.duration_since(freeing)))
}

fn record<K: Hash + Eq + Clone>(map: &mut HashMap<K, VecDeque<Instant>>, key: K, now: Instant) {
    if map.len() >= MAX_TRACKED {
        map.retain(|_, times| {
            prune(times, now);
            !times.is_empty()
        });
        if map.len() >= MAX_TRACKED {
            // Still full of live entries: an attack from everywhere at once. Forgetting the
            // oldest keys loosens the limit for them, never locks anyone else out.
            let oldest = map
                .iter()
                .min_by_key(|(_, t)| t.back().copied())
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                map.remove(&k);
            }
        }
    }
    map.entry(key).or_default().push_back(now);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    #[test]
    fn a_username_is_held_after_five_failures_until_the_window_passes() {
        let mut g = LoginGuard::default();
        let t0 = Instant::now();
        for i in 0..PER_USERNAME {
            assert_eq!(g.wait("Ann", addr(u8::try_from(i).unwrap_or(0)), t0), None);
            g.failed("ann", addr(u8::try_from(i).unwrap_or(0)), t0);
        }
        // From another address, in another case: still the same username.
        assert_eq!(g.wait("ANN", addr(99), t0), Some(WINDOW));
        let later = t0 + WINDOW - Duration::from_secs(1);
        assert_eq!(g.wait("ann", addr(99), later), Some(Duration::from_secs(1)));
        assert_eq!(g.wait("ann", addr(99), t0 + WINDOW), None);
        assert_eq!(g.wait("bob", addr(99), t0), None, "other agents unaffected");
    }

    #[test]
    fn an_address_is_held_after_thirty_failures_across_usernames() {
        let mut g = LoginGuard::default();
        let t0 = Instant::now();
        for i in 0..PER_ADDRESS {
            g.failed(&format!("user{i}"), addr(1), t0);
        }
        assert!(g.wait("someone", addr(1), t0).is_some());
        assert_eq!(g.wait("someone", addr(2), t0), None);
    }

    #[test]
    fn a_success_clears_the_username() {
        let mut g = LoginGuard::default();
        let t0 = Instant::now();
        for _ in 0..PER_USERNAME - 1 {
            g.failed("ann", addr(1), t0);
        }
        g.succeeded("ann");
        g.failed("ann", addr(1), t0);
        assert_eq!(g.wait("ann", addr(3), t0), None);
    }

    #[test]
    fn memory_stays_bounded() {
        let mut g = LoginGuard::default();
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED + 50 {
            g.failed(
                &format!("u{i}"),
                addr(1),
                t0 + Duration::from_millis(u64::try_from(i).unwrap_or(0)),
            );
        }
        assert!(g.by_user.len() <= MAX_TRACKED);
    }
}
