//! The in-process limiter: GCRA over a sharded map with a bounded number of keys.
//!
//! GCRA (the generic cell rate algorithm) keeps one instant per key, the "theoretical arrival time"
//! (TAT): a key may send `limit` requests at once, then one every `period / limit`. A refused request
//! changes nothing, so hammering a limited key does not push its retry further away.
//!
//! Memory is bounded: at most `max_keys` keys are tracked, each as a 64-bit keyed hash of
//! (policy, key) and one instant, whatever the length of the key. When a shard is full, expired
//! entries go first, then the least-used eighth (earliest TAT): a client cycling through fresh keys
//! evicts other fresh keys, not the exhausted key it wants reset.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::clock::{Clock, SystemClock};
use super::{Decision, Policy, RateLimiter};

/// Independent locks, so that concurrent requests rarely wait on each other.
const SHARDS: usize = 16;

/// One GCRA step: given the stored TAT of a key (if any), either the new TAT to store and the
/// requests left, or how long to wait.
pub(crate) fn gcra(
    policy: &Policy,
    stored: Option<Instant>,
    now: Instant,
) -> Result<(Instant, u32), Duration> {
    if policy.limit == 0 {
        return Err(policy.period);
    }
    let interval = policy.period / policy.limit;
    let tat = stored.map_or(now, |t| t.max(now));
    let new_tat = tat + interval;
    let ahead = new_tat - now;
    if ahead > policy.period {
        return Err(ahead - policy.period);
    }
    let remaining = if interval.is_zero() {
        policy.limit
    } else {
        let left = (policy.period - ahead).as_nanos() / interval.as_nanos();
        u32::try_from(left).unwrap_or(policy.limit)
    };
    Ok((new_tat, remaining))
}

/// In-process GCRA limiter with a bounded number of keys.
pub struct MemoryLimiter {
    shards: Box<[Mutex<HashMap<u64, Instant>>]>,
    shard_capacity: usize,
    hasher: RandomState,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MemoryLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryLimiter")
            .field("max_keys", &(self.shard_capacity * SHARDS))
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl MemoryLimiter {
    /// Keys tracked by default: a few megabytes at most.
    pub const DEFAULT_MAX_KEYS: usize = 100_000;

    /// A limiter on the system clock tracking at most about `max_keys` keys (rounded up to a
    /// multiple of the shard count).
    pub fn new(max_keys: usize) -> Self {
        Self::with_clock(max_keys, Arc::new(SystemClock))
    }

    /// A limiter reading time from `clock`.
    pub fn with_clock(max_keys: usize, clock: Arc<dyn Clock>) -> Self {
        let shard_capacity = max_keys.div_ceil(SHARDS).max(1);
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            shard_capacity,
            hasher: RandomState::new(),
            clock,
        }
    }

    /// Counts one request of `key` under `policy`, synchronously.
    pub fn check_now(&self, policy: &Policy, key: &str) -> Decision {
        // A keyed (per-process random) hash: fixed memory per key, and nobody can craft collisions.
        let hash = self.hasher.hash_one((policy.name, key));
        let shard = &self.shards[(hash % SHARDS as u64) as usize];
        let now = self.clock.now();
        // A poisoned shard only means a panic elsewhere while holding it; its map is still valid.
        let mut map = shard.lock().unwrap_or_else(PoisonError::into_inner);
        match gcra(policy, map.get(&hash).copied(), now) {
            Ok((new_tat, remaining)) => {
                if !map.contains_key(&hash) && map.len() >= self.shard_capacity {
                    evict(&mut map, now, self.shard_capacity);
                }
                map.insert(hash, new_tat);
                Decision::Allowed { remaining }
            }
            Err(retry_after) => Decision::Limited { retry_after },
        }
    }

    /// Keys currently tracked (expired ones included until they are evicted).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Makes room in a full shard: drops expired entries (a TAT in the past is the same as no entry),
/// then, if still full, the eighth with the earliest TAT, so the cost is amortised over many inserts.
fn evict(map: &mut HashMap<u64, Instant>, now: Instant, capacity: usize) {
    map.retain(|_, tat| *tat > now);
    if map.len() < capacity {
        return;
    }
    let count = (capacity / 8).max(1);
    let mut tats: Vec<Instant> = map.values().copied().collect();
    let (_, threshold, _) = tats.select_nth_unstable(count - 1);
    let threshold = *threshold;
    // Entries tied with the threshold go too: they are exactly as used as the evicted ones.
    map.retain(|_, tat| *tat > threshold);
}

#[async_trait]
impl RateLimiter for MemoryLimiter {
    async fn check(&self, policy: &Policy, key: &str) -> Decision {
        self.check_now(policy, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratelimit::clock::ManualClock;
    use crate::ratelimit::policies;

    fn limiter(max_keys: usize) -> (MemoryLimiter, ManualClock) {
        let clock = ManualClock::new();
        (
            MemoryLimiter::with_clock(max_keys, Arc::new(clock.clone())),
            clock,
        )
    }

    fn limited(d: Decision) -> Duration {
        match d {
            Decision::Limited { retry_after } => retry_after,
            Decision::Allowed { .. } => panic!("expected Limited, got {d:?}"),
        }
    }

    #[test]
    fn burst_of_limit_then_limited_with_a_sane_retry_after() {
        let (l, _) = limiter(1000);
        for left in (0..5).rev() {
            assert_eq!(
                l.check_now(&policies::LOGIN, "192.0.2.1"),
                Decision::Allowed { remaining: left }
            );
        }
        // 5 per minute: the next slot opens one emission interval (12 s) later.
        assert_eq!(
            limited(l.check_now(&policies::LOGIN, "192.0.2.1")),
            Duration::from_secs(12)
        );
    }

    #[test]
    fn refused_requests_do_not_push_the_retry_further() {
        let (l, clock) = limiter(1000);
        for _ in 0..5 {
            l.check_now(&policies::LOGIN, "k");
        }
        for _ in 0..50 {
            limited(l.check_now(&policies::LOGIN, "k"));
        }
        clock.advance(Duration::from_secs(5));
        assert_eq!(
            limited(l.check_now(&policies::LOGIN, "k")),
            Duration::from_secs(7)
        );
        clock.advance(Duration::from_secs(7));
        assert!(matches!(
            l.check_now(&policies::LOGIN, "k"),
            Decision::Allowed { .. }
        ));
    }

    #[test]
    fn other_keys_and_other_policies_are_unaffected() {
        let (l, _) = limiter(1000);
        for _ in 0..5 {
            l.check_now(&policies::LOGIN, "192.0.2.1");
        }
        limited(l.check_now(&policies::LOGIN, "192.0.2.1"));
        assert_eq!(
            l.check_now(&policies::LOGIN, "192.0.2.2"),
            Decision::Allowed { remaining: 4 }
        );
        assert_eq!(
            l.check_now(&policies::TWO_FACTOR, "192.0.2.1"),
            Decision::Allowed { remaining: 4 }
        );
    }

    #[test]
    fn refills_one_slot_per_interval_and_fully_after_a_period() {
        let (l, clock) = limiter(1000);
        let git = policies::GIT_RUN; // 10 per hour: one every 6 minutes
        for _ in 0..10 {
            l.check_now(&git, "user-1");
        }
        let wait = limited(l.check_now(&git, "user-1"));
        assert_eq!(wait, Duration::from_secs(360));
        clock.advance(wait - Duration::from_millis(1));
        limited(l.check_now(&git, "user-1"));
        clock.advance(Duration::from_millis(1));
        assert_eq!(l.check_now(&git, "user-1"), Decision::Allowed { remaining: 0 });
        limited(l.check_now(&git, "user-1"));
        clock.advance(Duration::from_secs(3600));
        assert_eq!(l.check_now(&git, "user-1"), Decision::Allowed { remaining: 9 });
    }

    #[test]
    fn the_long_run_rate_is_the_policy_rate() {
        // A client retrying as soon as allowed gets exactly limit per period after its burst.
        let (l, clock) = limiter(1000);
        let mut allowed = 0;
        for _ in 0..(10 * 60) {
            if matches!(l.check_now(&policies::LOGIN, "k"), Decision::Allowed { .. }) {
                allowed += 1;
            }
            clock.advance(Duration::from_secs(1));
        }
        // 10 minutes: the burst of 5, then one every 12 s.
        assert_eq!(allowed, 5 + 10 * 60 / 12 - 1);
    }

    #[test]
    fn a_zero_limit_refuses_everything() {
        let (l, _) = limiter(10);
        let closed = Policy {
            name: "closed",
            limit: 0,
            period: Duration::from_secs(60),
        };
        assert_eq!(limited(l.check_now(&closed, "k")), Duration::from_secs(60));
    }

    #[test]
    fn memory_stays_bounded_under_key_cycling() {
        let (l, clock) = limiter(1600);
        for i in 0..50_000 {
            l.check_now(&policies::WEBHOOKS, &format!("203.0.113.{i}"));
            if i % 1000 == 0 {
                clock.advance(Duration::from_millis(10));
            }
            assert!(l.len() <= 1600, "{} keys after {i} inserts", l.len());
        }
    }

    #[test]
    fn cycling_fresh_keys_does_not_reset_an_exhausted_key() {
        let (l, clock) = limiter(160);
        for _ in 0..5 {
            l.check_now(&policies::LOGIN, "attacker");
        }
        limited(l.check_now(&policies::LOGIN, "attacker"));
        for i in 0..10_000 {
            l.check_now(&policies::LOGIN, &format!("spoof-{i}"));
        }
        clock.advance(Duration::from_secs(1));
        limited(l.check_now(&policies::LOGIN, "attacker"));
    }

    #[test]
    fn expired_entries_are_dropped_first() {
        let (l, clock) = limiter(16);
        // Fill every shard well past capacity, let all entries expire, then insert again.
        for i in 0..1000 {
            l.check_now(&policies::LOGIN, &format!("old-{i}"));
        }
        clock.advance(Duration::from_secs(61));
        for i in 0..1000 {
            l.check_now(&policies::LOGIN, &format!("new-{i}"));
        }
        assert!(l.len() <= 16);
    }

    #[test]
    fn gcra_handles_periods_not_divisible_by_the_limit() {
        let p = Policy {
            name: "odd",
            limit: 7,
            period: Duration::from_secs(60),
        };
        let (l, _) = limiter(10);
        for _ in 0..7 {
            assert!(matches!(l.check_now(&p, "k"), Decision::Allowed { .. }));
        }
        let wait = limited(l.check_now(&p, "k"));
        assert!(
            wait > Duration::from_secs(8) && wait <= Duration::from_secs(9),
            "{wait:?}"
        );
    }
}
