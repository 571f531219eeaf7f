//! PostgreSQL backend: production. JSONB with a GIN index, `timestamptz`, a GiST index on the event
//! span for calendar range queries, `FOR UPDATE SKIP LOCKED` job claims shared by every replica.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::{Backend, sql::impl_sql_store};
use crate::config::{DatabaseSettings, redact_url};
use crate::error::{Error, Result};

/// Migrations of this backend, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    const NOW: &'static str = "now()";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";

    /// Connects (lazily checked: the first query reports an unreachable server).
    pub async fn connect(settings: &DatabaseSettings) -> Result<Self> {
        let url = settings.url.expose();
        let options: PgConnectOptions = url.parse().map_err(|e| {
            Error::Config(crate::config::ConfigError::new(format!(
                "database.url: cannot parse {}: {e}",
                redact_url(url)
            )))
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
            .connect_with(options.application_name("uyoop-cal"))
            .await
            .map_err(|e| {
                Error::Unavailable(format!(
                    "cannot connect to PostgreSQL at {}: {e}; check database.url and that the server is up",
                    redact_url(url)
                ))
            })?;
        Ok(Self { pool })
    }

    /// A transaction for a change (PostgreSQL locks rows as it goes).
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    /// Wraps an existing pool (tests).
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Events whose span `[start_at, series_end)` overlaps `[start, end)`, through the GiST index
    /// (the expression matches the index's exactly).
    fn push_overlap(qb: &mut QueryBuilder<'_, Postgres>, start: DateTime<Utc>, end: DateTime<Utc>) {
        qb.push("tstzrange(start_at, series_end, '[)') && tstzrange(")
            .push_bind(start)
            .push(", ")
            .push_bind(end)
            .push(", '[)')");
    }
}

impl_sql_store!(PgStore, Postgres);
super::sql_social::impl_social_store!(PgStore, Postgres);
super::sql_events::impl_workflow_store!(PgStore, Postgres);

#[async_trait::async_trait]
impl super::Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
