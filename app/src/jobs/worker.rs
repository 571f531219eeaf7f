//! The worker loop: claims due jobs, runs them concurrently under a timeout, heart-beats them and
//! records their outcome; puts back the jobs of workers that stopped heart-beating; on shutdown,
//! stops claiming, lets running jobs finish within the grace period and gives the rest back.
//!
//! Every timestamp the worker writes (claims, heart-beats, retry times, the staleness cut-off) is
//! on the database's clock: the worker measures its offset from it, so one replica whose clock is
//! off neither steals the jobs of live workers nor has its own jobs stolen.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;
use tokio::task::{JoinError, JoinSet};
use tokio::time::{Instant, MissedTickBehavior};
use tracing::Instrument;

use super::{JobError, JobOptions, Registry};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::model::Job;

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Written in `locked_by` of the jobs it claims: unique per process ([`worker_id`]).
    pub id: String,
    /// Jobs run at the same time.
    pub concurrency: usize,
    /// How often an idle worker looks for due jobs.
    pub poll_interval: Duration,
    /// How often running jobs are marked alive; also how often stale jobs are looked for.
    pub heartbeat: Duration,
    /// A running job not marked alive for this long is put back in the queue.
    pub stale_after: Duration,
    /// On shutdown, how long running jobs may take to finish before they are given back.
    pub shutdown_grace: Duration,
}

impl WorkerConfig {
    /// From `[jobs]` and `server.shutdown_grace_secs`, with a fresh [`worker_id`].
    pub fn from_settings(settings: &Settings) -> Self {
        let jobs = &settings.jobs;
        let heartbeat_secs = jobs.heartbeat_secs.max(1);
        Self {
            id: worker_id(),
            concurrency: usize::try_from(jobs.concurrency).unwrap_or(1).max(1),
            poll_interval: Duration::from_millis(jobs.poll_interval_ms.max(10)),
            heartbeat: Duration::from_secs(heartbeat_secs),
            stale_after: Duration::from_secs(jobs.stale_after_secs.max(heartbeat_secs + 1)),
            shutdown_grace: Duration::from_secs(settings.server.shutdown_grace_secs),
        }
    }
}

/// `host:pid:random`, unique per worker even when two replicas share a host name.
pub fn worker_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned());
    format!("{host}:{}:{:08x}", std::process::id(), rand::random::<u32>())
}

/// Delay before retrying a job whose attempt number `attempt` (from 1) failed:
/// `backoff_base * 2^(attempt - 1)`, at most `backoff_cap`, minus a random 0-25 % (jitter, so that
/// jobs failed together do not all retry at the same instant).
pub fn backoff_delay(attempt: i32, options: &JobOptions) -> Duration {
    backoff_with(attempt, options, rand::random::<f64>())
}

fn backoff_with(attempt: i32, options: &JobOptions, unit: f64) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(31);
    let delay = options
        .backoff_base
        .saturating_mul(1u32 << doublings)
        .min(options.backoff_cap);
    delay.saturating_sub(delay.mul_f64(unit.clamp(0.0, 1.0) * 0.25))
}

/// A running worker. Dropping it (or [`kill`](Self::kill)) stops it at once, like a killed
/// process: its jobs are neither completed nor heart-beaten, and other workers retry them after
/// `stale_after`.
#[derive(Debug)]
pub struct WorkerHandle {
    id: String,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl WorkerHandle {
    /// The worker's id, as written in `locked_by`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Waits until the worker has stopped (after its shutdown signal and the grace period).
    pub async fn join(mut self) {
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
            && e.is_panic()
        {
            tracing::error!(worker = %self.id, "the job worker panicked");
        }
    }

    /// Stops the worker at once, without completing or giving back its jobs.
    pub fn kill(self) {
        drop(self);
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Starts a worker running the registry's handlers until `shutdown` turns true (or its sender is
/// dropped).
pub fn spawn(
    state: AppState,
    registry: Arc<Registry>,
    config: WorkerConfig,
    shutdown: watch::Receiver<bool>,
) -> WorkerHandle {
    let id = config.id.clone();
    let worker = Arc::new(Worker {
        state,
        registry,
        config,
        clock: DbClock::default(),
        store_healthy: AtomicBool::new(true),
    });
    WorkerHandle {
        id,
        task: Some(tokio::spawn(worker.run(shutdown))),
    }
}

/// Local time corrected by the measured offset of the database's clock.
#[derive(Debug, Default)]
struct DbClock {
    offset_us: AtomicI64,
}

impl DbClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + TimeDelta::microseconds(self.offset_us.load(Ordering::Relaxed))
    }

    async fn calibrate(&self, state: &AppState) -> Result<()> {
        let before = Utc::now();
        let db = state.store.database_time().await?;
        let after = Utc::now();
        let local = before + (after - before) / 2;
        let offset = (db - local).num_microseconds().unwrap_or(0);
        let previous = self.offset_us.swap(offset, Ordering::Relaxed);
        if offset.abs() > 1_000_000 && (previous - offset).abs() > 500_000 {
            tracing::warn!(
                offset_ms = offset / 1000,
                "this host's clock differs from the database's; background jobs use the database's"
            );
        }
        Ok(())
    }
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// What became of one run.
enum Outcome {
    Done,
    Retry { error: String, after: Duration },
    Permanent(String),
}

/// Jobs being run, by the id of the task running them.
#[derive(Default)]
struct Running {
    set: JoinSet<()>,
    jobs: HashMap<tokio::task::Id, Job>,
}

struct Worker {
    state: AppState,
    registry: Arc<Registry>,
    config: WorkerConfig,
    clock: DbClock,
    /// Whether the last store call worked (to log an outage once, not at every poll).
    store_healthy: AtomicBool,
}

impl Worker {
    async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        if let Err(e) = self.clock.calibrate(&self.state).await {
            tracing::warn!(error = %e, "cannot read the database's clock; using this host's");
        }
        tracing::info!(
            worker = %self.config.id,
            concurrency = self.config.concurrency,
            kinds = ?self.registry.kinds(),
            "job worker started"
        );
        let mut running = Running::default();
        let mut poll = tokio::time::interval(self.config.poll_interval);
        poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut beat =
            tokio::time::interval_at(Instant::now() + self.config.heartbeat, self.config.heartbeat);
        beat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut upkeep = tokio::time::interval(self.config.heartbeat);
        upkeep.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // Whether the last claim filled every free slot: then a finished job makes room for more.
        let mut backlog = false;
        while !*shutdown.borrow() {
            tokio::select! {
                biased;
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                // Timers before finished jobs: a steady stream of completions must not delay
                // heart-beats (other replicas would take the running jobs).
                _ = beat.tick() => self.heartbeat(&running).await,
                _ = upkeep.tick() => self.upkeep().await,
                Some(joined) = running.set.join_next_with_id() => {
                    self.joined(&mut running, joined).await;
                    if backlog {
                        backlog = self.claim(&mut running).await;
                    }
                }
                _ = poll.tick() => backlog = self.claim(&mut running).await,
            }
        }
        self.drain(running).await;
    }

    /// Claims as many due jobs as there are free slots and starts them. Returns whether every
    /// free slot was filled (more jobs may be due).
    async fn claim(self: &Arc<Self>, running: &mut Running) -> bool {
        let free = self.config.concurrency.saturating_sub(running.jobs.len());
        if free == 0 {
            return true;
        }
        let limit = i64::try_from(free).unwrap_or(i64::MAX);
        let jobs = match self
            .state
            .store
            .claim_jobs(&self.config.id, limit, self.clock.now())
            .await
        {
            Ok(jobs) => {
                self.store_ok();
                jobs
            }
            Err(e) => {
                self.store_failed("claim jobs", &e);
                return false;
            }
        };
        let full = jobs.len() >= free;
        for job in jobs {
            let span = tracing::info_span!("job", job_id = job.id, kind = %job.kind, attempt = job.attempts);
            let worker = Arc::clone(self);
            let run_job = job.clone();
            let handle = running
                .set
                .spawn(async move { worker.execute(&run_job).await }.instrument(span));
            running.jobs.insert(handle.id(), job);
        }
        full
    }

    /// Runs one job through its handler and records the outcome.
    async fn execute(&self, job: &Job) {
        let outcome = match self.registry.get(&job.kind) {
            None => {
                let known = self.registry.kinds();
                Outcome::Permanent(format!(
                    "no handler for job kind '{}' in this version of uyoop-cal (it handles: {})",
                    job.kind,
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ))
            }
            Some((handler, options)) => {
                match tokio::time::timeout(options.timeout, handler.run(job, &self.state)).await {
                    Ok(Ok(())) => Outcome::Done,
                    Ok(Err(JobError::Permanent(error))) => Outcome::Permanent(error),
                    Ok(Err(JobError::Retryable { message, retry_after })) => Outcome::Retry {
                        error: message,
                        after: retry_after.unwrap_or_else(|| backoff_delay(job.attempts, options)),
                    },
                    Err(_) => Outcome::Retry {
                        error: format!("timed out after {} s", options.timeout.as_secs_f64()),
                        after: backoff_delay(job.attempts, options),
                    },
                }
            }
        };
        self.record(job, outcome).await;
    }

    /// Stores a job's outcome and counts it.
    async fn record(&self, job: &Job, outcome: Outcome) {
        let store = &self.state.store;
        let worker = self.config.id.as_str();
        let (label, result) = match outcome {
            Outcome::Done => {
                tracing::debug!("job done");
                ("done", self.persist(|| store.complete_job(job.id, worker)).await)
            }
            Outcome::Retry { error, after } => {
                let error = truncate(&error);
                let last = job.attempts >= job.max_attempts;
                if last {
                    tracing::error!(error = %error, max_attempts = job.max_attempts, "job failed for good");
                } else {
                    tracing::warn!(error = %error, retry_in_ms = after.as_millis(), "job failed; retrying later");
                }
                let retry_at = self.clock.now() + delta(after);
                let result = self
                    .persist(|| store.fail_job(job.id, worker, &error, retry_at))
                    .await;
                (if last { "failed" } else { "retried" }, result)
            }
            Outcome::Permanent(error) => {
                let error = truncate(&error);
                tracing::error!(error = %error, "job failed for good (permanent error)");
                let result = self
                    .persist(|| store.fail_job_permanently(job.id, worker, &error))
                    .await;
                ("failed", result)
            }
        };
        let label = match result {
            Ok(()) => label,
            Err(Error::Conflict { .. }) => {
                tracing::warn!(
                    "job was taken from this worker (its heart-beats were late) and will run again elsewhere"
                );
                "lost"
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot record the job's outcome; it will run again after the heartbeat timeout");
                "lost"
            }
        };
        self.count(&job.kind, label);
    }

    /// Retries a store write while the database is unreachable (a leader change), for at most
    /// half the heartbeat timeout: the job is still heart-beaten meanwhile.
    async fn persist<F, Fut>(&self, mut write: F) -> Result<()>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<()>>,
    {
        let give_up = Instant::now() + self.config.stale_after / 2;
        let mut delay = Duration::from_millis(100);
        loop {
            match write().await {
                Err(Error::Unavailable(e)) if Instant::now() + delay < give_up => {
                    tracing::debug!(error = %e, "database unavailable; retrying the job's outcome");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                other => return other,
            }
        }
    }

    /// Handles a finished task: normally nothing is left to do; a panicked handler counts as a
    /// retryable failure; a task cancelled at shutdown gives its job back.
    async fn joined(
        &self,
        running: &mut Running,
        joined: std::result::Result<(tokio::task::Id, ()), JoinError>,
    ) {
        match joined {
            Ok((task, ())) => {
                running.jobs.remove(&task);
            }
            Err(e) => {
                let Some(job) = running.jobs.remove(&e.id()) else {
                    return;
                };
                let span =
                    tracing::info_span!("job", job_id = job.id, kind = %job.kind, attempt = job.attempts);
                if e.is_panic() {
                    let message = panic_message(&*e.into_panic());
                    let after = self
                        .registry
                        .get(&job.kind)
                        .map_or(Duration::ZERO, |(_, options)| {
                            backoff_delay(job.attempts, options)
                        });
                    let outcome = Outcome::Retry {
                        error: format!("the handler panicked: {message}"),
                        after,
                    };
                    self.record(&job, outcome).instrument(span).await;
                } else {
                    self.release(&job).instrument(span).await;
                }
            }
        }
    }

    /// Gives a job back to the queue at shutdown, without counting the attempt.
    async fn release(&self, job: &Job) {
        let result = self
            .state
            .store
            .release_job(
                job.id,
                &self.config.id,
                "the worker shut down before the job finished; re-queued",
                self.clock.now(),
            )
            .await;
        match result {
            Ok(()) => {
                tracing::info!("job given back to the queue (shutdown)");
                self.count(&job.kind, "released");
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot give the job back; it will run again after the heartbeat timeout");
            }
        }
    }

    async fn heartbeat(&self, running: &Running) {
        if running.jobs.is_empty() {
            return;
        }
        let ids: Vec<i64> = running.jobs.values().map(|j| j.id).collect();
        match self
            .state
            .store
            .heartbeat_jobs(&self.config.id, &ids, self.clock.now())
            .await
        {
            Ok(()) => self.store_ok(),
            Err(e) => self.store_failed("heart-beat running jobs", &e),
        }
    }

    /// Periodic duties any replica may do (all idempotent): re-measure the clock offset, put back
    /// the jobs of dead workers, refresh the pending-jobs gauge.
    async fn upkeep(&self) {
        if let Err(e) = self.clock.calibrate(&self.state).await {
            tracing::debug!(error = %e, "cannot read the database's clock");
        }
        let now = self.clock.now();
        match self
            .state
            .store
            .requeue_stale_jobs(now - delta(self.config.stale_after))
            .await
        {
            Ok(0) => {}
            Ok(count) => tracing::warn!(
                count,
                stale_after_secs = self.config.stale_after.as_secs(),
                "re-queued jobs whose worker stopped heart-beating"
            ),
            Err(e) => self.store_failed("re-queue stale jobs", &e),
        }
        match self.state.store.count_pending_jobs(now).await {
            Ok(pending) => self.state.metrics.jobs_pending.set(pending),
            Err(e) => self.store_failed("count pending jobs", &e),
        }
    }

    /// Stops after the running jobs finish, or gives them back when the grace period ends.
    async fn drain(&self, mut running: Running) {
        if !running.jobs.is_empty() {
            tracing::info!(
                running = running.jobs.len(),
                grace_secs = self.config.shutdown_grace.as_secs(),
                "job worker stopping: waiting for running jobs"
            );
            let deadline = tokio::time::sleep(self.config.shutdown_grace);
            tokio::pin!(deadline);
            let mut beat =
                tokio::time::interval_at(Instant::now() + self.config.heartbeat, self.config.heartbeat);
            loop {
                tokio::select! {
                    joined = running.set.join_next_with_id() => match joined {
                        Some(joined) => self.joined(&mut running, joined).await,
                        None => break,
                    },
                    _ = beat.tick() => self.heartbeat(&running).await,
                    () = &mut deadline => break,
                }
            }
            running.set.abort_all();
            while let Some(joined) = running.set.join_next_with_id().await {
                self.joined(&mut running, joined).await;
            }
        }
        tracing::info!(worker = %self.config.id, "job worker stopped");
    }

    fn count(&self, kind: &str, outcome: &str) {
        // Kinds come from the database: label only known ones, so a bad row cannot grow the series.
        let kind = if self.registry.get(kind).is_some() {
            kind
        } else {
            "unknown"
        };
        self.state.metrics.jobs.with_label_values(&[kind, outcome]).inc();
    }

    fn store_ok(&self) {
        if !self.store_healthy.swap(true, Ordering::Relaxed) {
            tracing::info!("job worker reaches the database again");
        }
    }

    fn store_failed(&self, what: &str, e: &Error) {
        if self.store_healthy.swap(false, Ordering::Relaxed) {
            tracing::warn!(error = %e, "job worker cannot {what}; retrying at every poll");
        } else {
            tracing::debug!(error = %e, "job worker cannot {what}");
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}

/// Error texts are stored in `last_error`: keep them bounded.
fn truncate(s: &str) -> String {
    const MAX: usize = 2000;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_below_the_cap() {
        let options = JobOptions::default();
        assert_eq!(backoff_with(1, &options, 0.0), Duration::from_secs(10));
        assert_eq!(backoff_with(2, &options, 0.0), Duration::from_secs(20));
        assert_eq!(backoff_with(4, &options, 0.0), Duration::from_secs(80));
        assert_eq!(
            backoff_with(3, &options, 1.0),
            Duration::from_secs(30),
            "up to 25 % less"
        );
        assert_eq!(
            backoff_with(20, &options, 0.0),
            Duration::from_secs(3600),
            "capped"
        );
        assert_eq!(backoff_with(i32::MAX, &options, 0.5), Duration::from_secs(3150));
        assert_eq!(backoff_with(0, &options, 0.0), Duration::from_secs(10));
        for attempt in 1..12 {
            let d = backoff_delay(attempt, &options);
            let full = backoff_with(attempt, &options, 0.0);
            assert!(d <= full && d >= full.mul_f64(0.75), "{attempt}: {d:?}");
        }
    }

    #[test]
    fn worker_ids_are_unique_and_name_the_process() {
        let (a, b) = (worker_id(), worker_id());
        assert_ne!(a, b);
        assert!(a.contains(&format!(":{}:", std::process::id())), "{a}");
    }

    #[test]
    fn long_errors_are_cut_on_a_char_boundary() {
        let long = "é".repeat(1500);
        let cut = truncate(&long);
        assert!(cut.len() <= 2003 && cut.ends_with("..."));
        assert_eq!(truncate("short"), "short");
    }
}
