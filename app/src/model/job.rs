//! Background jobs: rows claimed by workers so that each runs once however many replicas run.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Id;

/// Lifecycle of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for `run_at`.
    Queued,
    /// Claimed by a worker.
    Running,
    /// Finished.
    Done,
    /// Gave up after `max_attempts`.
    Failed,
}

impl JobStatus {
    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// What to do, e.g. `notify.email`.
    pub kind: String,
    /// Arguments.
    pub payload: serde_json::Value,
    /// When to run.
    pub run_at: DateTime<Utc>,
    /// A second job with the same key is not enqueued (idempotent scheduling).
    pub dedupe_key: Option<String>,
    /// Attempts before giving up.
    pub max_attempts: i32,
}

impl NewJob {
    /// A job to run now, 5 attempts.
    pub fn now(kind: &str, payload: serde_json::Value) -> Self {
        Self {
            kind: kind.to_owned(),
            payload,
            run_at: Utc::now(),
            dedupe_key: None,
            max_attempts: 5,
        }
    }
}

/// A stored job.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Job {
    /// Identifier.
    pub id: Id,
    /// Kind.
    pub kind: String,
    /// Arguments.
    pub payload: serde_json::Value,
    /// Status.
    pub status: JobStatus,
    /// Next run time.
    pub run_at: DateTime<Utc>,
    /// Attempts so far (including the current one when running).
    pub attempts: i32,
    /// Limit.
    pub max_attempts: i32,
    /// Worker holding it.
    pub locked_by: Option<String>,
    /// Last error message.
    pub last_error: Option<String>,
    /// Dedupe key.
    pub dedupe_key: Option<String>,
}
