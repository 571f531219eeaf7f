//! Rate limits: the spec's table (5.3), enforced per key (client IP or user), answered 429 with
//! `Retry-After`.
//!
//! Two implementations behind [`RateLimiter`]: in-process (the embedded default) and Redis, shared by
//! every replica. When Redis is down the Redis limiter falls back to a bounded in-process one (never
//! unlimited), and single-use checks (TOTP steps, refresh tokens) stay in the database, so losing
//! Redis never reopens a replay.
//!
//! Both run GCRA: a key may send `limit` requests at once, then one every `period / limit` (so
//! `limit` per `period` in the long run); a refused request does not count. Rate-limit keys of
//! client addresses come from [`ip_key`] (IPv6 by /64), the address itself from
//! [`crate::http::client_ip`].

pub mod clock;
pub mod memory;
pub mod redis;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::config::Settings;
use crate::error::Error;
use crate::metrics::Metrics;

pub use self::clock::{Clock, ManualClock, SystemClock};
pub use self::memory::MemoryLimiter;
pub use self::redis::RedisLimiter;

/// One limit: at most `limit` requests per `period` for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Stable name, used in keys and in the `rate_limited_total{policy}` metric.
    pub name: &'static str,
    /// Requests allowed per period.
    pub limit: u32,
    /// The period.
    pub period: Duration,
}

/// The spec's table.
pub mod policies {
    use super::Policy;
    use std::time::Duration;

    /// `/api/auth/login`: 5 per minute per IP.
    pub const LOGIN: Policy = Policy {
        name: "login",
        limit: 5,
        period: Duration::from_secs(60),
    };
    /// `/api/auth/2fa/*`: 5 per minute per IP.
    pub const TWO_FACTOR: Policy = Policy {
        name: "2fa",
        limit: 5,
        period: Duration::from_secs(60),
    };
    /// `POST /api/events`: 20 per minute per user.
    pub const EVENT_CREATE: Policy = Policy {
        name: "event_create",
        limit: 20,
        period: Duration::from_secs(60),
    };
    /// `/api/git/run/*`: 10 per hour per user.
    pub const GIT_RUN: Policy = Policy {
        name: "git_run",
        limit: 10,
        period: Duration::from_secs(3600),
    };
    /// `/webhooks/*`: 100 per minute per IP.
    pub const WEBHOOKS: Policy = Policy {
        name: "webhooks",
        limit: 100,
        period: Duration::from_secs(60),
    };
    /// Every policy.
    pub const ALL: [Policy; 5] = [LOGIN, TWO_FACTOR, EVENT_CREATE, GIT_RUN, WEBHOOKS];
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allowed {
        /// Requests left in the current period.
        remaining: u32,
    },
    /// Refuse with 429.
    Limited {
        /// When a retry may succeed.
        retry_after: Duration,
    },
}

/// Counts requests per (policy, key).
#[async_trait]
pub trait RateLimiter: Send + Sync + std::fmt::Debug + 'static {
    /// Counts one request of `key` under `policy` and says whether it may proceed. Never fails:
    /// a backend error falls back to a bounded in-process decision.
    async fn check(&self, policy: &Policy, key: &str) -> Decision;
}

/// A shareable limiter.
pub type DynLimiter = Arc<dyn RateLimiter>;

/// The limiter for this configuration: none when `ratelimit.enabled = false`, Redis (shared by every
/// replica, falling back to in-process limits while it is unreachable) when a connection is given,
/// in-process otherwise.
pub fn build(settings: &Settings, redis: Option<::redis::aio::ConnectionManager>) -> DynLimiter {
    if !settings.ratelimit.enabled {
        tracing::warn!("rate limits are disabled (ratelimit.enabled = false); never do this in production");
        return Arc::new(Disabled);
    }
    match redis {
        Some(conn) => Arc::new(RedisLimiter::new(conn)),
        None => Arc::new(MemoryLimiter::new(MemoryLimiter::DEFAULT_MAX_KEYS)),
    }
}

/// Counts one request and turns a refusal into `429 Too Many Requests` with `Retry-After`
/// (whole seconds, rounded up), counted in `rate_limited_total{policy}`.
pub async fn enforce(
    limiter: &dyn RateLimiter,
    metrics: &Metrics,
    policy: &Policy,
    key: &str,
) -> Result<(), Error> {
    match limiter.check(policy, key).await {
        Decision::Allowed { .. } => Ok(()),
        Decision::Limited { retry_after } => {
            metrics.rate_limited.with_label_values(&[policy.name]).inc();
            tracing::debug!(policy = policy.name, ?retry_after, "rate limited");
            Err(Error::TooManyRequests {
                retry_after_secs: retry_after_secs(retry_after),
            })
        }
    }
}

/// `Retry-After` in whole seconds: rounded up (retrying earlier would be refused), at least 1.
pub fn retry_after_secs(retry_after: Duration) -> u64 {
    let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    secs.max(1)
}

/// The rate-limit key of a client address: IPv4 as is, IPv6 by its /64, since one subscriber
/// usually holds a whole /64 and could otherwise pick a fresh address for every request.
/// (Audit rows keep the full address.)
pub fn ip_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let prefix = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{prefix}/64")
        }
    }
}

/// The limiter of `ratelimit.enabled = false`: allows everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Disabled;

#[async_trait]
impl RateLimiter for Disabled {
    async fn check(&self, policy: &Policy, _key: &str) -> Decision {
        Decision::Allowed {
            remaining: policy.limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(12)), 12);
        assert_eq!(retry_after_secs(Duration::from_millis(12_001)), 13);
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_key(a), "2001:db8:1:2::/64");
        assert_eq!(ip_key(a), ip_key(b));
        assert_ne!(ip_key(a), ip_key(c));
        assert_eq!(ip_key(IpAddr::from([192, 0, 2, 7])), "192.0.2.7");
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(ip_key(mapped), "192.0.2.7");
    }

    #[tokio::test]
    async fn enforce_answers_429_with_retry_after_and_counts_the_policy() {
        let metrics = Metrics::new().unwrap();
        let clock = ManualClock::new();
        let limiter = MemoryLimiter::with_clock(100, Arc::new(clock));
        for _ in 0..5 {
            assert!(
                enforce(&limiter, &metrics, &policies::LOGIN, "192.0.2.1")
                    .await
                    .is_ok()
            );
        }
        let err = enforce(&limiter, &metrics, &policies::LOGIN, "192.0.2.1").await;
        assert!(
            matches!(err, Err(Error::TooManyRequests { retry_after_secs: 12 })),
            "{err:?}"
        );
        assert_eq!(metrics.rate_limited.with_label_values(&["login"]).get(), 1);
        assert!(
            enforce(&limiter, &metrics, &policies::LOGIN, "192.0.2.2")
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn build_follows_the_configuration() {
        let mut settings = Settings::default();
        settings.ratelimit.enabled = false;
        let off = build(&settings, None);
        for _ in 0..1000 {
            assert!(matches!(
                off.check(&policies::LOGIN, "k").await,
                Decision::Allowed { .. }
            ));
        }
        settings.ratelimit.enabled = true;
        let on = build(&settings, None);
        for _ in 0..5 {
            on.check(&policies::LOGIN, "k").await;
        }
        assert!(matches!(
            on.check(&policies::LOGIN, "k").await,
            Decision::Limited { .. }
        ));
    }
}
