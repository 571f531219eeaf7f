//! Rate limits: the spec's table (5.3), enforced per key (client IP or user), answered 429 with
//! `Retry-After`.
//!
//! Two implementations behind [`RateLimiter`]: in-process (the embedded default) and Redis, shared by
//! every replica. When Redis is down the Redis limiter falls back to a bounded in-process one (never
//! unlimited), and single-use checks (TOTP steps, refresh tokens) stay in the database, so losing
//! Redis never reopens a replay.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

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
