//! Rate limits: one contract for the in-process and the Redis limiter, the limit shared by two
//! limiters and by two app instances on one Redis, in-process limits while Redis is down, and the
//! client address taken from `X-Forwarded-For` only behind a trusted proxy.
//!
//! Redis tests need the real server at `UYOOP_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`);
//! they fail, never skip, when it is not there. Every test uses keys of its own (a UUID or a random
//! IPv6 /64), so tests and runs never share a counter.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Extension, Router};
use redis::aio::ConnectionManager;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use uyoop_cal::config::Secret;
use uyoop_cal::http::AppState;
use uyoop_cal::http::client_ip::ClientIp;
use uyoop_cal::ratelimit::{
    self, Decision, DynLimiter, ManualClock, MemoryLimiter, Policy, RateLimiter, RedisLimiter, policies,
};

use crate::helpers::{Db, TestApp, assert_problem};

fn redis_url() -> String {
    std::env::var("UYOOP_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

async fn connect(url: &str) -> ConnectionManager {
    let client = redis::Client::open(url).unwrap();
    tokio::time::timeout(Duration::from_secs(5), ConnectionManager::new(client))
        .await
        .unwrap_or_else(|_| {
            panic!("Redis is required for this test at {url} (UYOOP_TEST_REDIS_URL): no answer within 5 s")
        })
        .unwrap_or_else(|e| panic!("Redis is required for this test at {url} (UYOOP_TEST_REDIS_URL): {e}"))
}

fn unique_key() -> String {
    format!("it-{}", uuid::Uuid::new_v4().simple())
}

fn allowed(d: Decision) -> u32 {
    match d {
        Decision::Allowed { remaining } => remaining,
        Decision::Limited { .. } => panic!("expected Allowed, got {d:?}"),
    }
}

fn limited(d: Decision) -> Duration {
    match d {
        Decision::Limited { retry_after } => retry_after,
        Decision::Allowed { .. } => panic!("expected Limited, got {d:?}"),
    }
}

/// The story every limiter must tell, with time moved by `clock`.
async fn contract(limiter: &dyn RateLimiter, clock: &ManualClock) {
    let key = unique_key();
    let login = policies::LOGIN;
    for left in (0..5).rev() {
        assert_eq!(allowed(limiter.check(&login, &key).await), left);
    }
    // 5 per minute: the next slot opens 12 s later, and refusals do not push it further.
    assert_eq!(
        limited(limiter.check(&login, &key).await),
        Duration::from_secs(12)
    );
    assert_eq!(
        limited(limiter.check(&login, &key).await),
        Duration::from_secs(12)
    );

    // Another key, and the same key under another policy, are unaffected.
    assert_eq!(allowed(limiter.check(&login, &unique_key()).await), 4);
    assert_eq!(allowed(limiter.check(&policies::TWO_FACTOR, &key).await), 4);

    clock.advance(Duration::from_millis(11_999));
    assert_eq!(
        limited(limiter.check(&login, &key).await),
        Duration::from_millis(1)
    );
    clock.advance(Duration::from_millis(1));
    assert_eq!(allowed(limiter.check(&login, &key).await), 0);
    limited(limiter.check(&login, &key).await);

    // A full period later, a full burst again.
    clock.advance(Duration::from_secs(60));
    assert_eq!(allowed(limiter.check(&login, &key).await), 4);

    // A long period: 10 per hour, one slot every 6 minutes.
    let git = policies::GIT_RUN;
    for _ in 0..10 {
        allowed(limiter.check(&git, &key).await);
    }
    assert_eq!(limited(limiter.check(&git, &key).await), Duration::from_secs(360));

    // A closed policy refuses everything.
    let closed = Policy {
        name: "it_closed",
        limit: 0,
        period: Duration::from_secs(60),
    };
    limited(limiter.check(&closed, &key).await);
}

#[tokio::test]
async fn contract_in_process() {
    let clock = ManualClock::new();
    let limiter = MemoryLimiter::with_clock(1000, Arc::new(clock.clone()));
    contract(&limiter, &clock).await;
}

#[tokio::test]
async fn contract_redis() {
    let clock = ManualClock::new();
    let limiter = RedisLimiter::new(connect(&redis_url()).await).with_manual_clock(clock.clone());
    contract(&limiter, &clock).await;
    assert!(
        !limiter.is_degraded(),
        "every decision should have come from Redis"
    );
}

#[tokio::test]
async fn two_limiters_on_one_redis_share_the_limit() {
    // Two replicas: two connections, Redis' own clock.
    let url = redis_url();
    let a = RedisLimiter::new(connect(&url).await);
    let b = RedisLimiter::new(connect(&url).await);
    let key = unique_key();
    for i in 0..5 {
        let replica = if i % 2 == 0 { &a } else { &b };
        assert_eq!(allowed(replica.check(&policies::LOGIN, &key).await), 4 - i);
    }
    for replica in [&a, &b] {
        let wait = limited(replica.check(&policies::LOGIN, &key).await);
        assert!(
            wait > Duration::from_secs(10) && wait <= Duration::from_secs(12),
            "{wait:?}"
        );
    }
    assert_eq!(allowed(b.check(&policies::LOGIN, &unique_key()).await), 4);

    // The key is where the spec says, and expires by itself within one period.
    let mut conn = connect(&url).await;
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("uyoop:rl:login:{key}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 60_000, "PTTL {ttl}");
}

/// A TCP proxy in front of the real Redis that the test can freeze (connections stay open, nothing
/// is forwarded: a black hole), stop (the port is closed) and start again on the same port.
struct RedisProxy {
    addr: SocketAddr,
    upstream: String,
    frozen: tokio::sync::watch::Sender<bool>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl RedisProxy {
    async fn start(redis_url: &str) -> RedisProxy {
        let u = url::Url::parse(redis_url).unwrap();
        let upstream = format!("{}:{}", u.host_str().unwrap(), u.port().unwrap_or(6379));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = RedisProxy {
            addr: listener.local_addr().unwrap(),
            upstream,
            frozen: tokio::sync::watch::channel(false).0,
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    /// The Redis URL through this proxy (same credentials and database).
    fn url(&self, redis_url: &str) -> String {
        let mut u = url::Url::parse(redis_url).unwrap();
        u.set_host(Some("127.0.0.1")).unwrap();
        u.set_port(Some(self.addr.port())).unwrap();
        u.to_string()
    }

    fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        let frozen = self.frozen.clone();
        let tasks = self.tasks.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                let upstream = upstream.clone();
                let mut frozen = frozen.subscribe();
                let conn = tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let frozen_now = tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => false,
                        r = frozen.wait_for(|f| *f) => r.is_ok(),
                    };
                    if frozen_now {
                        // Frozen: keep both sockets open and forward nothing, forever.
                        std::future::pending::<()>().await
                    }
                });
                tasks.lock().unwrap().push(conn);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    /// Closes the port and every connection (Redis is down).
    async fn stop(&self) {
        let tasks: Vec<_> = std::mem::take(&mut *self.tasks.lock().unwrap());
        for t in tasks {
            t.abort();
            let _ = t.await;
        }
    }

    /// Listens again on the same port (Redis is back).
    async fn restart(&self) {
        self.frozen.send_replace(false);
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }
}

/// Log lines written on this thread while the guard lives.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    fn start() -> (CapturedLogs, tracing::subscriber::DefaultGuard) {
        let logs = CapturedLogs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    fn count(&self, needle: &str) -> usize {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .matches(needle)
            .count()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_limits_hold_in_process_then_redis_again() {
    // The limiter runs on the test's own thread (block_on), so a thread-local subscriber sees it.
    let (logs, _guard) = CapturedLogs::start();
    let url = redis_url();
    let clock = ManualClock::new();
    let direct = RedisLimiter::new(connect(&url).await).with_manual_clock(clock.clone());
    let proxy = RedisProxy::start(&url).await;
    let replica = RedisLimiter::new(connect(&proxy.url(&url)).await).with_manual_clock(clock.clone());
    let key = unique_key();
    let login = policies::LOGIN;

    assert_eq!(allowed(replica.check(&login, &key).await), 4);
    assert!(!replica.is_degraded());

    // Black hole: the request waits at most the timeout, then the in-process limiter decides.
    proxy.freeze();
    let started = std::time::Instant::now();
    let first = replica.check(&login, &key).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(replica.is_degraded());
    // Limits still hold (per replica): 5 in total in-process, then refused; never unlimited.
    let mut in_process = u32::from(matches!(first, Decision::Allowed { .. }));
    for _ in 0..30 {
        if matches!(replica.check(&login, &key).await, Decision::Allowed { .. }) {
            in_process += 1;
        }
    }
    assert_eq!(in_process, 5);
    // Until the next probe, decisions do not wait on Redis at all.
    let started = std::time::Instant::now();
    for _ in 0..100 {
        limited(replica.check(&login, &key).await);
    }
    assert!(
        started.elapsed() < Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );

    // The port closed (connection refused): still limited, still in-process.
    proxy.stop().await;
    for _ in 0..3 {
        clock.advance(RedisLimiter::DEFAULT_PROBE_INTERVAL);
        limited(replica.check(&login, &key).await);
        assert!(replica.is_degraded());
    }

    // Redis is back (and empty, as after a restart): one probe per interval finds it again.
    proxy.restart().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let probe_key = unique_key();
    while replica.is_degraded() {
        assert!(
            std::time::Instant::now() < deadline,
            "the limiter did not go back to Redis within 30 s"
        );
        clock.advance(RedisLimiter::DEFAULT_PROBE_INTERVAL);
        replica.check(&login, &probe_key).await;
        if replica.is_degraded() {
            // The connection manager reconnects with its own back-off; give it a moment.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let mut conn = connect(&url).await;
    let _: i64 = redis::cmd("DEL")
        .arg(format!("uyoop:rl:login:{key}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    for left in (0..5).rev() {
        assert_eq!(allowed(replica.check(&login, &key).await), left);
    }
    // Shared again: the other replica sees the same count.
    limited(direct.check(&login, &key).await);
    assert!(!replica.is_degraded());

    // One line when the outage started, one when it ended; not one per request.
    assert_eq!(logs.count("Redis does not answer"), 1);
    assert_eq!(logs.count("Redis answers again"), 1);
}

/// `POST /api/probe/login`: the login policy keyed by the client address, as the login route will.
async fn probe_login(
    State(state): State<AppState>,
    Extension(limiter): Extension<DynLimiter>,
    ClientIp(ip): ClientIp,
) -> Result<StatusCode, uyoop_cal::Error> {
    ratelimit::enforce(
        &*limiter,
        &state.metrics,
        &policies::LOGIN,
        &ratelimit::ip_key(ip),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Serves the app's router plus the probe route (with the limiter `build` makes for this app's
/// configuration and Redis connection), with peer addresses, as `server::serve` does. Returns the
/// probe's URL.
async fn serve_with_probe(app: &TestApp) -> String {
    let limiter = ratelimit::build(&app.state.settings, app.state.redis.clone());
    let probe = Router::new()
        .route("/api/probe/login", post(probe_login))
        .layer(Extension(limiter));
    let router = uyoop_cal::http::router_with(app.state.clone(), probe);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    format!("http://{addr}/api/probe/login")
}

async fn login_attempt(app: &TestApp, url: &str, forwarded_for: &str) -> reqwest::Response {
    app.client
        .post(url)
        .header("content-type", "application/json")
        .header("x-forwarded-for", forwarded_for)
        .body("{}")
        .send()
        .await
        .unwrap()
}

/// A random IPv6 client in its own /64 of the documentation prefix.
fn random_client() -> (String, String) {
    let b = uuid::Uuid::new_v4().into_bytes();
    let net = format!(
        "2001:db8:{:x}:{:x}",
        u16::from_be_bytes([b[0], b[1]]),
        u16::from_be_bytes([b[2], b[3]])
    );
    (format!("{net}::1"), format!("{net}::2"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_app_instances_on_one_redis_share_the_limit() {
    let url = redis_url();
    // Fail with a clear message before starting the apps when Redis is not there.
    connect(&url).await;
    let tweak = |s: &mut uyoop_cal::config::Settings| {
        s.redis.url = Some(Secret::new(url.clone()));
        // The test client is the "proxy": it says which client it forwards for.
        s.server.trusted_proxies = vec!["127.0.0.1/32".to_owned(), "::1/128".to_owned()];
    };
    let a = TestApp::spawn_with(Db::Sqlite, tweak).await;
    let b = TestApp::spawn_with(Db::Sqlite, tweak).await;
    let (url_a, url_b) = (serve_with_probe(&a).await, serve_with_probe(&b).await);
    let (client, same_net) = random_client();

    for i in 0..5 {
        let (app, u) = if i % 2 == 0 { (&a, &url_a) } else { (&b, &url_b) };
        assert_eq!(login_attempt(app, u, &client).await.status(), 204, "attempt {i}");
    }
    for (app, u) in [(&a, &url_a), (&b, &url_b)] {
        let resp = login_attempt(app, u, &client).await;
        let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=12).contains(&retry), "Retry-After {retry}");
        let body = assert_problem(resp, 429).await;
        assert_eq!(body["type"], "/problems/rate-limited");
    }
    // Another address of the same /64 is the same subscriber; another /64 is someone else.
    assert_eq!(login_attempt(&b, &url_b, &same_net).await.status(), 429);
    assert_eq!(login_attempt(&a, &url_a, &random_client().0).await.status(), 204);

    // Each replica counts the refusals it answered.
    for (app, refused) in [(&a, 1), (&b, 2)] {
        let metrics = app.metrics().await;
        let line = format!("rate_limited_total{{policy=\"login\"}} {refused}");
        assert!(metrics.contains(&line), "{line} not in\n{metrics}");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_from_an_untrusted_peer_cannot_pick_the_key() {
    // No trusted proxy, no Redis: the in-process limiter, keyed by the real peer (127.0.0.1).
    let app = TestApp::spawn_with(Db::Sqlite, |s| s.server.trusted_proxies.clear()).await;
    let url = serve_with_probe(&app).await;
    for i in 0..5 {
        let resp = login_attempt(&app, &url, &random_client().0).await;
        assert_eq!(resp.status(), 204, "attempt {i}");
    }
    let resp = login_attempt(&app, &url, &random_client().0).await;
    assert_problem(resp, 429).await;
    app.stop().await;
}
