//! Background jobs through real app instances (replicas) on one database: each job runs exactly
//! once however many replicas run, a killed replica's job is retried by another, retries back off,
//! permanent failures fail at once, shutdown finishes or gives back running jobs.
//!
//! The handlers here are test handlers that record every run; tests wait on the database or on
//! `Notify`, never on time.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, oneshot};
use uyoop_cal::config::Settings;
use uyoop_cal::http::AppState;
use uyoop_cal::jobs::{JobError, JobHandler, JobOptions, Registry, RegistryBuilder};
use uyoop_cal::model::{Job, JobStatus, NewJob};

use crate::helpers::{Db, TestDb};
use crate::on_both_backends;

on_both_backends!(
    each_job_runs_exactly_once,
    a_killed_replica_job_is_retried_elsewhere,
    retries_back_off_then_succeed_or_give_up,
    permanent_failures_fail_at_once,
    shutdown_finishes_or_gives_back_running_jobs,
);

// --- harness ---------------------------------------------------------------------------------

/// One app instance (a replica) on a shared database, running the given job handlers.
struct Replica {
    state: AppState,
    addr: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Replica {
    async fn start(db: &TestDb, tweak: impl FnOnce(&mut Settings), handlers: RegistryBuilder) -> Replica {
        let mut settings = db.settings();
        settings.metrics.enabled = false;
        settings.jobs.poll_interval_ms = 20;
        tweak(&mut settings);
        let state = uyoop_cal::server::build_state(settings).await.unwrap();
        let registry = Arc::new(handlers.build().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = oneshot::channel();
        let serve_state = state.clone();
        let task = tokio::spawn(async move {
            uyoop_cal::server::serve_with_jobs(
                serve_state,
                registry,
                async move {
                    let _ = stopped.await;
                },
                move |r| {
                    let _ = ready_tx.send(r.addr);
                },
            )
            .await
            .unwrap();
        });
        let addr = ready_rx.await.unwrap();
        Replica {
            state,
            addr,
            stop: Some(stop),
            task,
        }
    }

    /// Asks for a graceful shutdown (SIGTERM) without waiting for it.
    fn signal_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Graceful shutdown; returns the state to read metrics from.
    async fn stop(mut self) -> AppState {
        self.signal_stop();
        self.task.await.unwrap();
        self.state
    }

    /// Kills the replica: its server and worker stop at once, mid-job, without a word to the
    /// database (no completion, no more heart-beats).
    async fn kill(self) {
        self.task.abort();
        assert!(self.task.await.unwrap_err().is_cancelled());
    }
}

/// One execution of a job, as a handler saw it.
#[derive(Debug, Clone)]
struct Run {
    job: i64,
    attempt: i32,
    worker: String,
    at: Instant,
}

/// Every run of every test handler of one test, shared by its replicas.
#[derive(Debug, Default)]
struct Runs(Mutex<Vec<Run>>);

impl Runs {
    fn record(&self, job: &Job) {
        self.0.lock().unwrap().push(Run {
            job: job.id,
            attempt: job.attempts,
            worker: job.locked_by.clone().unwrap_or_default(),
            at: Instant::now(),
        });
    }

    fn all(&self) -> Vec<Run> {
        self.0.lock().unwrap().clone()
    }

    fn of(&self, job: i64) -> Vec<Run> {
        self.all().into_iter().filter(|r| r.job == job).collect()
    }
}

/// Records the run and succeeds.
struct Counting(Arc<Runs>);

#[async_trait]
impl JobHandler for Counting {
    async fn run(&self, job: &Job, _state: &AppState) -> Result<(), JobError> {
        self.0.record(job);
        Ok(())
    }
}

/// Fails (retryably) the first `payload.failures` attempts, then succeeds.
struct Flaky(Arc<Runs>);

#[async_trait]
impl JobHandler for Flaky {
    async fn run(&self, job: &Job, _state: &AppState) -> Result<(), JobError> {
        self.0.record(job);
        let failures = job.payload["failures"].as_i64().unwrap_or(0);
        if i64::from(job.attempts) <= failures {
            return Err(JobError::retryable(format!("flaky attempt {}", job.attempts)));
        }
        Ok(())
    }
}

/// Fails for good.
struct Permanent(Arc<Runs>);

#[async_trait]
impl JobHandler for Permanent {
    async fn run(&self, job: &Job, _state: &AppState) -> Result<(), JobError> {
        self.0.record(job);
        Err(JobError::permanent("bad payload: no such user"))
    }
}

/// Panics.
struct Panicking;

#[async_trait]
impl JobHandler for Panicking {
    async fn run(&self, _job: &Job, _state: &AppState) -> Result<(), JobError> {
        panic!("boom");
    }
}

/// Blocks on the gate named by `payload.gate` during the first `payload.block_attempts`
/// attempts (all when absent), after telling `started`.
struct Gated {
    runs: Arc<Runs>,
    started: Arc<Notify>,
    gates: Arc<HashMap<&'static str, Arc<Notify>>>,
}

#[async_trait]
impl JobHandler for Gated {
    async fn run(&self, job: &Job, _state: &AppState) -> Result<(), JobError> {
        self.runs.record(job);
        let blocks = job.payload["block_attempts"]
            .as_i64()
            .is_none_or(|n| i64::from(job.attempts) <= n);
        self.started.notify_one();
        if blocks {
            let gate = job.payload["gate"].as_str().unwrap_or_default();
            self.gates[gate].notified().await;
        }
        Ok(())
    }
}

async fn enqueue(state: &AppState, kind: &str, payload: serde_json::Value, max_attempts: i32) -> i64 {
    let mut job = NewJob::now(kind, payload);
    job.max_attempts = max_attempts;
    state.store.enqueue_job(&job).await.unwrap().unwrap()
}

async fn job(state: &AppState, id: i64) -> Job {
    state.store.job(id).await.unwrap().unwrap()
}

/// Polls `check` until it holds; fails the test after `within`.
async fn wait_until<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Waits until the job reaches `status`.
async fn wait_status(state: &AppState, id: i64, status: JobStatus, within: Duration) -> Job {
    wait_until(&format!("job {id} {status:?}"), within, || async {
        job(state, id).await.status == status
    })
    .await;
    job(state, id).await
}

/// `SELECT count(*) FROM jobs WHERE <condition>`, outside the app.
async fn count_jobs(db: &TestDb, kind: Db, condition: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM jobs WHERE {condition}");
    match kind {
        Db::Sqlite => {
            let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&db.url)
                .await
                .unwrap();
            sqlx::query_scalar(&sql).fetch_one(&mut c).await.unwrap()
        }
        Db::Postgres => {
            let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
                .await
                .unwrap();
            sqlx::query_scalar(&sql).fetch_one(&mut c).await.unwrap()
        }
    }
}

/// When the job was claimed and last heart-beaten.
async fn lease(db: &TestDb, kind: Db, id: i64) -> (DateTime<Utc>, DateTime<Utc>) {
    let sql = "SELECT locked_at, heartbeat_at FROM jobs WHERE id = $1";
    match kind {
        Db::Sqlite => {
            let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&db.url)
                .await
                .unwrap();
            sqlx::query_as(sql).bind(id).fetch_one(&mut c).await.unwrap()
        }
        Db::Postgres => {
            let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
                .await
                .unwrap();
            sqlx::query_as(sql).bind(id).fetch_one(&mut c).await.unwrap()
        }
    }
}

/// `background_jobs_total{kind, outcome}` of one replica.
fn jobs_counted(state: &AppState, kind: &str, outcome: &str) -> u64 {
    let (kind, outcome) = (format!("kind=\"{kind}\""), format!("outcome=\"{outcome}\""));
    state
        .metrics
        .render()
        .lines()
        .filter(|l| l.starts_with("background_jobs_total{") && l.contains(&kind) && l.contains(&outcome))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

fn fast_retries() -> JobOptions {
    JobOptions {
        timeout: Duration::from_secs(30),
        backoff_base: Duration::from_millis(300),
        backoff_cap: Duration::from_secs(10),
    }
}

// --- tests -----------------------------------------------------------------------------------

/// Two replicas on one PostgreSQL (one on SQLite, its single-writer mode) share 200 jobs: every
/// job runs once, none twice, none lost, and on PostgreSQL both replicas take part.
async fn each_job_runs_exactly_once(kind: Db) {
    let db = TestDb::new(kind).await;
    let runs = Arc::new(Runs::default());
    let replicas = if kind == Db::Postgres { 2 } else { 1 };
    let mut instances = Vec::new();
    for _ in 0..replicas {
        let handlers = Registry::builder().register("test.count", Counting(runs.clone()));
        instances.push(Replica::start(&db, |s| s.jobs.concurrency = 4, handlers).await);
    }
    let state = instances[0].state.clone();
    let mut ids = BTreeSet::new();
    for i in 0..200 {
        ids.insert(enqueue(&state, "test.count", serde_json::json!({"i": i}), 5).await);
    }
    wait_until("200 jobs done", Duration::from_secs(60), || async {
        count_jobs(&db, kind, "status = 'done'").await == 200
    })
    .await;

    let all = runs.all();
    let mut per_job: HashMap<i64, usize> = HashMap::new();
    for run in &all {
        *per_job.entry(run.job).or_default() += 1;
    }
    assert_eq!(
        per_job.keys().copied().collect::<BTreeSet<_>>(),
        ids,
        "every job ran"
    );
    let twice: Vec<_> = per_job.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "jobs run more than once: {twice:?}");
    assert_eq!(all.len(), 200);
    assert_eq!(
        count_jobs(
            &db,
            kind,
            "status = 'done' AND attempts = 1 AND locked_by IS NULL"
        )
        .await,
        200,
        "each done at its first attempt"
    );
    let workers: BTreeSet<&str> = all.iter().map(|r| r.worker.as_str()).collect();
    assert_eq!(workers.len(), replicas, "every replica took part: {workers:?}");

    let mut done = 0;
    for replica in instances {
        let state = replica.stop().await;
        done += jobs_counted(&state, "test.count", "done");
        assert_eq!(jobs_counted(&state, "test.count", "retried"), 0);
    }
    assert_eq!(
        done, 200,
        "background_jobs_total{{outcome=done}} over the replicas"
    );
    db.cleanup().await;
}

/// A replica killed mid-job: while it lived its heart-beats kept the job from everyone else, even
/// long after `stale_after`; once dead, another replica re-queues the job and runs it to the end.
async fn a_killed_replica_job_is_retried_elsewhere(kind: Db) {
    let db = TestDb::new(kind).await;
    let runs = Arc::new(Runs::default());
    let started = Arc::new(Notify::new());
    // Never opened: the first attempt blocks until its replica dies.
    let gates = Arc::new(HashMap::from([("held", Arc::new(Notify::new()))]));
    let handlers = || {
        Registry::builder().register(
            "test.gated",
            Gated {
                runs: runs.clone(),
                started: started.clone(),
                gates: gates.clone(),
            },
        )
    };
    let fast_leases = |s: &mut Settings| {
        s.jobs.heartbeat_secs = 1;
        s.jobs.stale_after_secs = 2;
    };
    let a = Replica::start(&db, fast_leases, handlers()).await;
    let id = enqueue(
        &a.state,
        "test.gated",
        serde_json::json!({"gate": "held", "block_attempts": 1}),
        5,
    )
    .await;
    tokio::time::timeout(Duration::from_secs(30), started.notified())
        .await
        .expect("replica A starts the job");
    let b = Replica::start(&db, fast_leases, handlers()).await;
    let holder = runs.of(id)[0].worker.clone();

    // Alive, A heart-beats: past twice `stale_after`, no replica has taken the job from it.
    wait_until("A heart-beats for 4 s", Duration::from_secs(30), || async {
        let (locked_at, heartbeat_at) = lease(&db, kind, id).await;
        heartbeat_at - locked_at >= chrono::Duration::seconds(4)
    })
    .await;
    let held = job(&b.state, id).await;
    assert_eq!(
        (held.status, held.attempts, held.locked_by.as_deref()),
        (JobStatus::Running, 1, Some(holder.as_str()))
    );
    assert_eq!(runs.of(id).len(), 1);

    a.kill().await;
    let done = wait_status(&b.state, id, JobStatus::Done, Duration::from_secs(30)).await;
    assert_eq!(done.attempts, 2, "retried once, not lost");
    assert_eq!(
        done.last_error.as_deref(),
        Some("worker stopped heart-beating; job re-queued")
    );
    let seen = runs.of(id);
    assert_eq!(seen.len(), 2);
    assert_eq!((seen[0].attempt, seen[1].attempt), (1, 2));
    assert_ne!(seen[1].worker, holder, "finished by the other replica");
    let b_state = b.stop().await;
    assert_eq!(jobs_counted(&b_state, "test.gated", "done"), 1);
    db.cleanup().await;
}

/// A failing job is retried with exponential back-off until it succeeds, or until `max_attempts`.
async fn retries_back_off_then_succeed_or_give_up(kind: Db) {
    let db = TestDb::new(kind).await;
    let runs = Arc::new(Runs::default());
    let handlers = Registry::builder().register_with("test.flaky", Flaky(runs.clone()), fast_retries());
    let replica = Replica::start(&db, |_| {}, handlers).await;
    let state = replica.state.clone();

    let id = enqueue(&state, "test.flaky", serde_json::json!({"failures": 2}), 5).await;
    let done = wait_status(&state, id, JobStatus::Done, Duration::from_secs(30)).await;
    assert_eq!(
        (done.attempts, done.last_error.as_deref()),
        (3, Some("flaky attempt 2"))
    );
    let seen = runs.of(id);
    assert_eq!(seen.iter().map(|r| r.attempt).collect::<Vec<_>>(), [1, 2, 3]);
    // 300 ms then 600 ms, less at most 25 % of jitter.
    let (first, second) = (seen[1].at - seen[0].at, seen[2].at - seen[1].at);
    assert!(first >= Duration::from_millis(225), "first retry after {first:?}");
    assert!(
        second >= Duration::from_millis(450),
        "second retry after {second:?}"
    );

    // Still failing at its last attempt: failed for good.
    let id = enqueue(&state, "test.flaky", serde_json::json!({"failures": 10}), 2).await;
    let failed = wait_status(&state, id, JobStatus::Failed, Duration::from_secs(30)).await;
    assert_eq!(
        (failed.attempts, failed.last_error.as_deref()),
        (2, Some("flaky attempt 2"))
    );
    assert_eq!(runs.of(id).len(), 2);

    let state = replica.stop().await;
    assert_eq!(jobs_counted(&state, "test.flaky", "retried"), 3);
    assert_eq!(jobs_counted(&state, "test.flaky", "done"), 1);
    assert_eq!(jobs_counted(&state, "test.flaky", "failed"), 1);
    db.cleanup().await;
}

/// A permanent error, an unknown kind, a timeout on the last attempt and a panic on the last
/// attempt each fail the job, with a clear error; a permanent error does not use up the attempts.
async fn permanent_failures_fail_at_once(kind: Db) {
    let db = TestDb::new(kind).await;
    let runs = Arc::new(Runs::default());
    let gates = Arc::new(HashMap::from([("never", Arc::new(Notify::new()))]));
    let short_timeout = JobOptions {
        timeout: Duration::from_millis(200),
        ..fast_retries()
    };
    let handlers = Registry::builder()
        .register("test.permanent", Permanent(runs.clone()))
        .register("test.panic", Panicking)
        .register_with(
            "test.hang",
            Gated {
                runs: runs.clone(),
                started: Arc::new(Notify::new()),
                gates,
            },
            short_timeout,
        );
    let replica = Replica::start(&db, |_| {}, handlers).await;
    let state = replica.state.clone();

    let permanent = enqueue(&state, "test.permanent", serde_json::json!({}), 5).await;
    let unknown = enqueue(&state, "test.nobody", serde_json::json!({}), 5).await;
    let hang = enqueue(&state, "test.hang", serde_json::json!({"gate": "never"}), 1).await;
    let panic = enqueue(&state, "test.panic", serde_json::json!({}), 1).await;

    let within = Duration::from_secs(30);
    let job = wait_status(&state, permanent, JobStatus::Failed, within).await;
    assert_eq!(
        (job.attempts, job.last_error.as_deref()),
        (1, Some("bad payload: no such user"))
    );
    assert_eq!(runs.of(permanent).len(), 1);
    let job = wait_status(&state, unknown, JobStatus::Failed, within).await;
    assert_eq!(job.attempts, 1);
    let error = job.last_error.unwrap();
    assert!(error.contains("no handler for job kind 'test.nobody'"), "{error}");
    let job = wait_status(&state, hang, JobStatus::Failed, within).await;
    assert_eq!(
        (job.attempts, job.last_error.as_deref()),
        (1, Some("timed out after 0.2 s"))
    );
    let job = wait_status(&state, panic, JobStatus::Failed, within).await;
    assert_eq!(
        (job.attempts, job.last_error.as_deref()),
        (1, Some("the handler panicked: boom"))
    );

    let state = replica.stop().await;
    for kind in ["test.permanent", "unknown", "test.hang", "test.panic"] {
        assert_eq!(jobs_counted(&state, kind, "failed"), 1, "{kind}");
    }
    assert_eq!(
        jobs_counted(&state, "test.nobody", "failed"),
        0,
        "unknown kinds are not labels"
    );
    db.cleanup().await;
}

/// On shutdown the worker claims nothing more, lets a running job finish within the grace period
/// and gives back the one still running at its end (its attempt not counted), which another
/// replica then runs.
async fn shutdown_finishes_or_gives_back_running_jobs(kind: Db) {
    let db = TestDb::new(kind).await;
    let runs = Arc::new(Runs::default());
    let started = Arc::new(Notify::new());
    let gates = Arc::new(HashMap::from([
        ("finish", Arc::new(Notify::new())),
        ("never", Arc::new(Notify::new())),
    ]));
    let handlers = Registry::builder().register(
        "test.gated",
        Gated {
            runs: runs.clone(),
            started: started.clone(),
            gates: gates.clone(),
        },
    );
    let mut replica = Replica::start(&db, |s| s.server.shutdown_grace_secs = 1, handlers).await;
    let state = replica.state.clone();
    let finishing = enqueue(&state, "test.gated", serde_json::json!({"gate": "finish"}), 5).await;
    let stuck = enqueue(&state, "test.gated", serde_json::json!({"gate": "never"}), 5).await;
    wait_until("both jobs running", Duration::from_secs(30), || async {
        runs.all().len() == 2
    })
    .await;

    replica.signal_stop();
    // The listener closes once the shutdown signal went out to the worker too.
    let addr = replica.addr;
    wait_until(
        "the replica stops listening",
        Duration::from_secs(30),
        || async move { tokio::net::TcpStream::connect(addr).await.is_err() },
    )
    .await;
    gates["finish"].notify_one();
    let state = replica.stop().await;

    // The stopped replica closed its pool: look with a connection of our own.
    let store = db.store().await;
    let job_done = store.job(finishing).await.unwrap().unwrap();
    assert_eq!((job_done.status, job_done.attempts), (JobStatus::Done, 1));
    let given_back = store.job(stuck).await.unwrap().unwrap();
    assert_eq!(
        (
            given_back.status,
            given_back.attempts,
            given_back.locked_by.as_deref(),
            given_back.last_error.as_deref()
        ),
        (
            JobStatus::Queued,
            0,
            None,
            Some("the worker shut down before the job finished; re-queued")
        )
    );
    assert_eq!(jobs_counted(&state, "test.gated", "released"), 1);
    assert_eq!(jobs_counted(&state, "test.gated", "done"), 1);

    // The next replica runs it.
    let next = Replica::start(
        &db,
        |_| {},
        Registry::builder().register("test.gated", Counting(runs.clone())),
    )
    .await;
    let done = wait_status(&next.state, stuck, JobStatus::Done, Duration::from_secs(30)).await;
    assert_eq!(done.attempts, 1);
    next.stop().await;
    store.close().await;
    db.cleanup().await;
}
