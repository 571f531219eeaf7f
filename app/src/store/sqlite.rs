//! SQLite backend: the embedded default. One file, WAL journal, one writer at a time (SQLite's own
//! lock makes job claims atomic), timestamps as RFC 3339 UTC text.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::{Backend, sql::impl_sql_store};
use crate::config::DatabaseSettings;
use crate::error::{Error, Result};

/// Migrations of this backend, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    const NOW: &'static str = "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')";
    const SKIP_LOCKED: &'static str = "";

    /// Opens (creating when missing) the database file and its folder.
    pub async fn connect(settings: &DatabaseSettings) -> Result<Self> {
        let url = settings.url.expose();
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| {
                Error::Config(crate::config::ConfigError::new(format!(
                    "database.url: cannot parse {url}: {e}"
                )))
            })?
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let path = options.get_filename();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::Unavailable(format!(
                    "cannot create the data folder {}: {e}; check database.url and permissions",
                    dir.display()
                ))
            })?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
            .connect_with(options)
            .await
            .map_err(|e| Error::Unavailable(format!("cannot open SQLite database {url}: {e}")))?;
        Ok(Self { pool })
    }

    /// A transaction for a change. `BEGIN IMMEDIATE` takes the write lock up front: a deferred
    /// transaction that reads and then writes fails with "database is locked" when another writer
    /// went first, instead of waiting `busy_timeout`.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Events whose span overlaps `[start, end)`; served by the `(start_at, series_end)` index.
    fn push_overlap(qb: &mut QueryBuilder<'_, Sqlite>, start: DateTime<Utc>, end: DateTime<Utc>) {
        qb.push("start_at < ")
            .push_bind(end)
            .push(" AND (series_end IS NULL OR series_end > ")
            .push_bind(start)
            .push(")");
    }
}

impl_sql_store!(SqliteStore, Sqlite);
super::sql_social::impl_social_store!(SqliteStore, Sqlite);
super::sql_events::impl_workflow_store!(SqliteStore, Sqlite);

#[async_trait::async_trait]
impl super::Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
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
