//! Starting and stopping the server: connect, migrate, listen on the public and metrics ports,
//! drain in-flight requests on SIGTERM.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::auth::tokens::TokenService;
use crate::config::{Settings, redact_url};
use crate::error::{Error, Result};
use crate::http::{self, AppState};
use crate::jobs;
use crate::metrics::Metrics;
use crate::store;

/// Builds the shared state: store (migrated), metrics, Redis.
pub async fn build_state(settings: Settings) -> Result<AppState> {
    let store = store::connect(&settings.database).await?;
    store.migrate().await?;
    let redis = match &settings.redis.url {
        Some(url) => Some(connect_redis(url.expose()).await?),
        None => None,
    };
    let metrics = Metrics::new().map_err(|e| Error::Internal(anyhow::Error::new(e)))?;
    let secrets = crate::secrets::connect(&settings).await?;
    let keys = secrets.jwt_keys().await?;
    let tokens = TokenService::new(&keys, &settings.auth.issuer, settings.auth.access_token_ttl_secs)?;
    let limiter = crate::ratelimit::build(&settings, redis.clone());
    let trusted_proxies = crate::http::client_ip::parse_trusted_proxies(&settings.server.trusted_proxies)?;
    Ok(AppState {
        store,
        settings: Arc::new(settings),
        metrics: Arc::new(metrics),
        redis,
        secrets,
        tokens: Arc::new(tokens),
        limiter,
        trusted_proxies: Arc::new(trusted_proxies),
    })
}

/// Re-reads the signing keys every minute, so a rotation done on one replica reaches the others.
fn spawn_key_refresh(state: &AppState) -> tokio::task::JoinHandle<()> {
    let (secrets, tokens) = (state.secrets.clone(), state.tokens.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.tick().await;
        loop {
            tick.tick().await;
            match secrets.jwt_keys().await {
                Ok(keys) => {
                    if let Err(e) = tokens.update_keys(&keys) {
                        tracing::error!(error = %e, "cannot use the refreshed signing keys");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot refresh signing keys; keeping the current ones"),
            }
        }
    })
}

async fn connect_redis(url: &str) -> Result<redis::aio::ConnectionManager> {
    let client = redis::Client::open(url)
        .map_err(|e| Error::Config(crate::config::ConfigError::new(format!("redis.url: {e}"))))?;
    let connect = redis::aio::ConnectionManager::new(client);
    match tokio::time::timeout(Duration::from_secs(5), connect).await {
        Ok(Ok(manager)) => Ok(manager),
        Ok(Err(e)) => Err(Error::Unavailable(format!(
            "cannot connect to Redis at {}: {e}; check redis.url",
            redact_url(url)
        ))),
        Err(_) => Err(Error::Unavailable(format!(
            "Redis at {} did not answer within 5 s",
            redact_url(url)
        ))),
    }
}

/// A running server: its bound addresses, and a handle to stop it.
#[derive(Debug)]
pub struct Running {
    /// Public address.
    pub addr: SocketAddr,
    /// Metrics address, when enabled.
    pub metrics_addr: Option<SocketAddr>,
}

/// Binds both listeners and serves until `shutdown` resolves, then drains in-flight requests for at
/// most `server.shutdown_grace_secs`. `on_ready` is told the bound addresses once listening. Runs
/// the background job worker with every handler of [`jobs::registry`] when `jobs.enabled`.
pub async fn serve(
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(&Running) + Send,
) -> Result<()> {
    let registry = Arc::new(jobs::registry(&state).build()?);
    if state.settings.jobs.enabled {
        // Deduplicated per day: every replica may ask, one digest job exists.
        state
            .store
            .enqueue_job(&crate::notifications::digest_job(
                &state.settings,
                chrono::Utc::now(),
            ))
            .await?;
    }
    serve_with_jobs(state, registry, shutdown, on_ready).await
}

/// [`serve`] with the given job handlers (tests register their own). The worker stops claiming
/// when `shutdown` resolves and gives back, at the end of the grace period, the jobs still running.
pub async fn serve_with_jobs(
    state: AppState,
    registry: Arc<jobs::Registry>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(&Running) + Send,
) -> Result<()> {
    let settings = state.settings.clone();
    let listener = TcpListener::bind(settings.server.bind).await.map_err(|e| {
        Error::Unavailable(format!(
            "cannot listen on {} (server.bind): {e}",
            settings.server.bind
        ))
    })?;
    let addr = listener.local_addr().map_err(|e| Error::Internal(e.into()))?;

    let (metrics_listener, metrics_addr) = if settings.metrics.enabled {
        let l = TcpListener::bind(settings.metrics.bind).await.map_err(|e| {
            Error::Unavailable(format!(
                "cannot listen on {} (metrics.bind): {e}",
                settings.metrics.bind
            ))
        })?;
        let a = l.local_addr().map_err(|e| Error::Internal(e.into()))?;
        (Some(l), Some(a))
    } else {
        (None, None)
    };

    let running = Running { addr, metrics_addr };
    tracing::info!(%addr, metrics = ?metrics_addr, backend = state.store.backend().as_str(), "listening");
    on_ready(&running);

    if let Some(l) = metrics_listener {
        let metrics = state.metrics.clone();
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        metrics.render(),
                    )
                }
            }),
        );
        tokio::spawn(async move {
            if let Err(e) = axum::serve(l, app).await {
                tracing::error!(error = %e, "metrics listener stopped");
            }
        });
    }

    let key_refresh = spawn_key_refresh(&state);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = settings.jobs.enabled.then(|| {
        jobs::spawn(
            state.clone(),
            registry,
            jobs::WorkerConfig::from_settings(&settings),
            stop_rx.clone(),
        )
    });
    let app = http::router(state.clone());
    let grace = Duration::from_secs(settings.server.shutdown_grace_secs);
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: draining in-flight requests");
            let _ = stop_tx.send(true);
        });
    let mut stop_seen = stop_rx.clone();
    let drained = async move {
        // The grace period starts when shutdown is asked for, not when the server started.
        let _ = stop_seen.wait_for(|s| *s).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        res = server => res.map_err(|e| Error::Internal(e.into()))?,
        () = drained => tracing::warn!("grace period over; closing remaining connections"),
    }
    if let Some(worker) = worker {
        // Already stopping: it saw the shutdown signal and has its own grace period.
        worker.join().await;
    }
    key_refresh.abort();
    state.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
