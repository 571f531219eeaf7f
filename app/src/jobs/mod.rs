//! Background jobs: reminders, digests, deliveries and (later) cron git actions, run once however
//! many replicas run.
//!
//! A job is a row of the `jobs` table ([`JobStore`](crate::store::JobStore)), enqueued in the
//! transaction of the change that causes it. Every replica runs a [`worker`] that claims due jobs
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL, SQLite's single writer), runs them through the
//! [`JobHandler`] registered for their kind, heart-beats them while they run and records the
//! outcome: done, retried later with exponential back-off, or failed. A replica that dies stops
//! heart-beating; any other replica then puts its jobs back in the queue.
//!
//! # Effects happen once
//!
//! Execution is **at least once**: a job runs again when its worker was killed, lost its lease
//! (heart-beats late) or timed out, possibly after its effect already happened. So a handler makes
//! its effect idempotent with a **unique key written with the effect**, in the same transaction
//! or request: a notification row with a unique `dedupe_key` (e.g. `mention:{comment}:{user}`), a
//! `Message-ID` derived from the job recorded before sending, a delivery row keyed by
//! `{job id}:{target}`. A handler first checks (or inserts, `ON CONFLICT DO NOTHING`) that key and
//! does nothing when the effect is already there.
//!
//! # Adding a handler
//!
//! Implement [`JobHandler`] and add one line to [`registry`]:
//!
//! ```text
//! Registry::builder()
//!     .register(kinds::EMAIL_SEND, EmailHandler::new(state))
//! ```
//!
//! Handler errors say whether trying again may help: [`JobError::retryable`] (SMTP down, a 5xx),
//! [`JobError::permanent`] (bad payload, the event was deleted), [`JobError::retry_after`] (the
//! receiver asked for a delay). `?` works on the crate's [`Error`](crate::Error) (a database that
//! is down is retryable, a missing row is permanent) and on `serde_json::Error` (permanent).

pub mod worker;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::http::AppState;
use crate::model::Job;

pub use worker::{WorkerConfig, WorkerHandle, backoff_delay, spawn, worker_id};

/// The kinds of job the app enqueues. A job whose kind has no handler fails at once.
pub mod kinds {
    /// Fan a change out to the notification channels of the users concerned.
    pub const NOTIFY_FANOUT: &str = "notify.fanout";
    /// Send one e-mail.
    pub const EMAIL_SEND: &str = "email.send";
    /// Post one Slack or Microsoft Teams message.
    pub const CHAT_SEND: &str = "chat.send";
    /// Remind the people concerned of a prod deployment window (24 h, 1 h, 15 min before).
    pub const REMINDER_DEPLOYMENT: &str = "reminder.deployment";
    /// The daily e-mail digest.
    pub const DIGEST_DAILY: &str = "digest.daily";
    /// Run a git action.
    pub const GIT_RUN: &str = "git.run";
}

/// Every handler of the app, in one place: one line per job kind. The server builds it at start;
/// tests add their own handlers on top before calling `build`.
pub fn registry(state: &AppState) -> RegistryBuilder {
    let _ = state;
    let notify = crate::notifications::DeliveryHandler;
    Registry::builder()
        .register(kinds::NOTIFY_FANOUT, notify)
        .register(kinds::EMAIL_SEND, notify)
        .register(kinds::CHAT_SEND, notify)
        .register(kinds::REMINDER_DEPLOYMENT, notify)
        .register(kinds::DIGEST_DAILY, notify)
}

/// Why a job did not complete.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Trying again later may succeed (a dependency is down, a timeout). The job is retried with
    /// back-off until its `max_attempts`.
    #[error("{message}")]
    Retryable {
        /// What went wrong (stored as the job's `last_error`; no secrets).
        message: String,
        /// When to retry, instead of the kind's back-off (e.g. a receiver's `Retry-After`).
        retry_after: Option<Duration>,
    },
    /// Trying again cannot help (invalid payload, the target no longer exists): the job fails at
    /// once.
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    /// A failure worth retrying, with the kind's back-off.
    pub fn retryable(message: impl fmt::Display) -> Self {
        Self::Retryable {
            message: message.to_string(),
            retry_after: None,
        }
    }

    /// A failure worth retrying after `delay`.
    pub fn retry_after(message: impl fmt::Display, delay: Duration) -> Self {
        Self::Retryable {
            message: message.to_string(),
            retry_after: Some(delay),
        }
    }

    /// A failure that fails the job at once.
    pub fn permanent(message: impl fmt::Display) -> Self {
        Self::Permanent(message.to_string())
    }

    /// Whether the job fails at once.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent(_))
    }
}

impl From<Error> for JobError {
    fn from(e: Error) -> Self {
        match e {
            // A dependency down, a concurrent change, a bug that may be transient: try again.
            Error::Unavailable(_) | Error::Conflict { .. } | Error::DeploymentConflict { .. } => {
                Self::retryable(e)
            }
            Error::TooManyRequests { retry_after_secs } => {
                Self::retry_after(&e, Duration::from_secs(retry_after_secs))
            }
            Error::Internal(cause) => Self::retryable(format!("{cause:#}")),
            // The job asks for something that cannot be done as it is (validation, not found,
            // forbidden, a bad configuration...).
            _ => Self::permanent(e),
        }
    }
}

impl From<serde_json::Error> for JobError {
    fn from(e: serde_json::Error) -> Self {
        Self::permanent(format!("invalid job payload: {e}"))
    }
}

/// Runs the jobs of one kind.
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// Does the job's work. Runs at least once per job, so the effect must be idempotent (see the
    /// module documentation). Cancelled when it outlives the kind's timeout.
    async fn run(&self, job: &Job, state: &AppState) -> Result<(), JobError>;
}

/// How the jobs of one kind are run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOptions {
    /// A run longer than this is cancelled and retried.
    pub timeout: Duration,
    /// Delay before the first retry; doubled at each attempt.
    pub backoff_base: Duration,
    /// Longest delay between two attempts.
    pub backoff_cap: Duration,
}

impl Default for JobOptions {
    /// 5 min per run; retries 7.5-10 s, 15-20 s, 30-40 s, ... after a failure, at most 1 h apart.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(300),
            backoff_base: Duration::from_secs(10),
            backoff_cap: Duration::from_secs(3600),
        }
    }
}

struct Entry {
    handler: Arc<dyn JobHandler>,
    options: JobOptions,
}

/// Handlers by job kind. Built once with [`Registry::builder`].
pub struct Registry {
    handlers: HashMap<String, Entry>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry").field("kinds", &self.kinds()).finish()
    }
}

impl Registry {
    /// An empty registry to add handlers to.
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder {
            handlers: HashMap::new(),
            duplicates: Vec::new(),
        }
    }

    /// The handler of a kind and its options.
    pub fn get(&self, kind: &str) -> Option<(&Arc<dyn JobHandler>, &JobOptions)> {
        self.handlers.get(kind).map(|e| (&e.handler, &e.options))
    }

    /// The registered kinds, sorted.
    pub fn kinds(&self) -> Vec<&str> {
        let mut kinds: Vec<&str> = self.handlers.keys().map(String::as_str).collect();
        kinds.sort_unstable();
        kinds
    }
}

/// Collects handlers; see [`Registry::builder`].
pub struct RegistryBuilder {
    handlers: HashMap<String, Entry>,
    duplicates: Vec<String>,
}

impl fmt::Debug for RegistryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryBuilder")
            .field("kinds", &self.handlers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl RegistryBuilder {
    /// Registers the handler of `kind`, with the default [`JobOptions`].
    pub fn register(self, kind: &str, handler: impl JobHandler) -> Self {
        self.register_with(kind, handler, JobOptions::default())
    }

    /// Registers the handler of `kind` with its own timeout and back-off.
    pub fn register_with(mut self, kind: &str, handler: impl JobHandler, options: JobOptions) -> Self {
        let entry = Entry {
            handler: Arc::new(handler),
            options,
        };
        if self.handlers.insert(kind.to_owned(), entry).is_some() {
            self.duplicates.push(kind.to_owned());
        }
        self
    }

    /// The registry; a kind registered twice is a programming error.
    pub fn build(self) -> Result<Registry> {
        if !self.duplicates.is_empty() {
            return Err(Error::Internal(anyhow::anyhow!(
                "job kinds registered twice: {}",
                self.duplicates.join(", ")
            )));
        }
        Ok(Registry {
            handlers: self.handlers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nothing;

    #[async_trait]
    impl JobHandler for Nothing {
        async fn run(&self, _job: &Job, _state: &AppState) -> Result<(), JobError> {
            Ok(())
        }
    }

    #[test]
    fn registry_lists_kinds_and_refuses_duplicates() {
        let registry = Registry::builder()
            .register(kinds::EMAIL_SEND, Nothing)
            .register(kinds::CHAT_SEND, Nothing)
            .build()
            .unwrap();
        assert_eq!(registry.kinds(), [kinds::CHAT_SEND, kinds::EMAIL_SEND]);
        assert!(registry.get(kinds::EMAIL_SEND).is_some());
        assert!(registry.get("nope").is_none());
        let twice = Registry::builder()
            .register(kinds::EMAIL_SEND, Nothing)
            .register(kinds::EMAIL_SEND, Nothing)
            .build();
        assert!(twice.unwrap_err().to_string().contains("email.send"));
    }

    #[test]
    fn crate_errors_map_to_retryable_or_permanent() {
        assert!(!JobError::from(Error::Unavailable("db down".into())).is_permanent());
        assert!(JobError::from(Error::NotFound("event")).is_permanent());
        assert!(!JobError::from(Error::Internal(anyhow::anyhow!("boom"))).is_permanent());
        let bad: serde_json::Error = serde_json::from_str::<u32>("x").unwrap_err();
        assert!(JobError::from(bad).is_permanent());
        match JobError::from(Error::TooManyRequests { retry_after_secs: 7 }) {
            JobError::Retryable { retry_after, .. } => assert_eq!(retry_after, Some(Duration::from_secs(7))),
            other => panic!("{other:?}"),
        }
    }
}
