//! The Redis limiter, shared by every replica: the same GCRA as the in-process limiter, run
//! atomically by a Lua script on Redis' own clock, so replicas' clocks do not matter.
//!
//! Keys are `uyoop:rl:<policy>:<key>`, holding the key's TAT in microseconds, and expire once the
//! key is back to a full burst (at most one period), so Redis holds nothing of record.
//!
//! When Redis errors or does not answer within [`RedisLimiter::DEFAULT_TIMEOUT`], the request is
//! decided by a bounded in-process limiter instead: limits still hold, per replica (at worst
//! `replicas x limit` per period while Redis is down), never unlimited. The outage is logged once
//! when it starts and once when it ends; while it lasts, one request per probe interval tries Redis
//! again, the others go straight to the in-process limiter without waiting.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::Script;
use redis::aio::ConnectionManager;

use super::clock::{Clock, ManualClock, SystemClock};
use super::memory::MemoryLimiter;
use super::{Decision, Policy, RateLimiter};

/// GCRA, as in `memory::gcra`, in microseconds.
///
/// KEYS[1]: the key. ARGV[1]: emission interval (period / limit), ARGV[2]: period,
/// ARGV[3] (tests only): the current time, instead of Redis' `TIME`.
/// Returns `{1, remaining}` or `{0, retry_after}`.
const GCRA_LUA: &str = r"
if redis.replicate_commands then redis.replicate_commands() end
local now
if ARGV[3] then
  now = tonumber(ARGV[3])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local ahead = new_tat - now
if ahead > period then
  return {0, ahead - period}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil(ahead / 1000))
return {1, math.floor((period - ahead) / interval)}
";

/// Whether Redis is being used, and if not since when.
#[derive(Debug)]
struct Outage {
    since: Option<Instant>,
    next_probe: Instant,
}

/// Rate limits shared by every replica through Redis, with an in-process fallback.
pub struct RedisLimiter {
    conn: ConnectionManager,
    script: Script,
    prefix: String,
    timeout: Duration,
    probe_interval: Duration,
    fallback: MemoryLimiter,
    clock: Arc<dyn Clock>,
    /// Tests only: the script reads this clock instead of Redis' `TIME`.
    script_clock: Option<ManualClock>,
    outage: Mutex<Outage>,
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("degraded", &self.is_degraded())
            .field("fallback", &self.fallback)
            .finish_non_exhaustive()
    }
}

impl RedisLimiter {
    /// How long a decision may wait on Redis before the in-process limiter decides instead.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(200);
    /// While Redis is down, how often one request tries it again.
    pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(1);
    /// The key prefix: keys are `<prefix>:<policy>:<key>`.
    pub const DEFAULT_PREFIX: &'static str = "uyoop:rl";

    /// A limiter on `conn`, with the defaults above and the system clock.
    pub fn new(conn: ConnectionManager) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        Self {
            conn,
            script: Script::new(GCRA_LUA),
            prefix: Self::DEFAULT_PREFIX.to_owned(),
            timeout: Self::DEFAULT_TIMEOUT,
            probe_interval: Self::DEFAULT_PROBE_INTERVAL,
            fallback: MemoryLimiter::with_clock(MemoryLimiter::DEFAULT_MAX_KEYS, clock.clone()),
            outage: Mutex::new(Outage {
                since: None,
                next_probe: clock.now(),
            }),
            clock,
            script_clock: None,
        }
    }

    /// Another key prefix (keys become `<prefix>:<policy>:<key>`).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Another Redis timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// For tests: every clock of this limiter (the script's included, instead of Redis' `TIME`) is
    /// `clock`, so refills are tested by moving it. In production keep Redis' clock: replicas'
    /// clocks differ.
    pub fn with_manual_clock(mut self, clock: ManualClock) -> Self {
        let shared: Arc<dyn Clock> = Arc::new(clock.clone());
        self.fallback = MemoryLimiter::with_clock(MemoryLimiter::DEFAULT_MAX_KEYS, shared.clone());
        self.outage = Mutex::new(Outage {
            since: None,
            next_probe: shared.now(),
        });
        self.clock = shared;
        self.script_clock = Some(clock);
        self
    }

    /// Whether decisions are currently made in-process because Redis did not answer.
    pub fn is_degraded(&self) -> bool {
        self.outage().since.is_some()
    }

    fn outage(&self) -> std::sync::MutexGuard<'_, Outage> {
        // The state is two instants, valid whatever a panicking holder was doing.
        self.outage.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this request should ask Redis: always when it is up; during an outage, one request
    /// per probe interval.
    fn should_try_redis(&self) -> bool {
        let now = self.clock.now();
        let mut outage = self.outage();
        if outage.since.is_none() {
            return true;
        }
        if now >= outage.next_probe {
            outage.next_probe = now + self.probe_interval;
            return true;
        }
        false
    }

    fn redis_failed(&self, error: &dyn std::fmt::Display) {
        let now = self.clock.now();
        let mut outage = self.outage();
        outage.next_probe = now + self.probe_interval;
        if outage.since.is_none() {
            outage.since = Some(now);
            tracing::warn!(
                error = %error,
                "Redis does not answer: rate limits now hold per replica (in-process) until it does"
            );
        }
    }

    fn redis_answered(&self) {
        let mut outage = self.outage();
        if let Some(since) = outage.since.take() {
            let outage_secs = self.clock.now().saturating_duration_since(since).as_secs();
            tracing::info!(
                outage_secs,
                "Redis answers again: rate limits are shared by replicas again"
            );
        }
    }

    async fn eval(&self, policy: &Policy, key: &str) -> redis::RedisResult<Decision> {
        let period_us = u64::try_from(policy.period.as_micros()).unwrap_or(u64::MAX / 2);
        // At least 1 µs, so that the script never divides by zero.
        let interval_us = (period_us / u64::from(policy.limit)).max(1);
        let mut invocation = self.script.key(format!("{}:{}:{key}", self.prefix, policy.name));
        invocation.arg(interval_us).arg(period_us);
        if let Some(clock) = &self.script_clock {
            invocation.arg(u64::try_from(clock.elapsed().as_micros()).unwrap_or(u64::MAX / 2));
        }
        let mut conn = self.conn.clone();
        let (allowed, value): (i64, i64) = invocation.invoke_async(&mut conn).await?;
        let value = u64::try_from(value).unwrap_or(0);
        Ok(if allowed == 1 {
            Decision::Allowed {
                remaining: u32::try_from(value).unwrap_or(policy.limit),
            }
        } else {
            Decision::Limited {
                retry_after: Duration::from_micros(value),
            }
        })
    }
}

#[async_trait]
impl RateLimiter for RedisLimiter {
    async fn check(&self, policy: &Policy, key: &str) -> Decision {
        if policy.limit == 0 {
            return Decision::Limited {
                retry_after: policy.period,
            };
        }
        if !self.should_try_redis() {
            return self.fallback.check_now(policy, key);
        }
        match tokio::time::timeout(self.timeout, self.eval(policy, key)).await {
            Ok(Ok(decision)) => {
                self.redis_answered();
                decision
            }
            Ok(Err(e)) => {
                self.redis_failed(&e);
                self.fallback.check_now(policy, key)
            }
            Err(_) => {
                self.redis_failed(&format_args!("no answer within {:?}", self.timeout));
                self.fallback.check_now(policy, key)
            }
        }
    }
}
