//! The SQL both backends share, written once.
//!
//! `impl_sql_store!` implements the per-aggregate traits for a backend type that has a `pool` field
//! and provides, as associated items, what differs between SQL dialects:
//! `NOW` (the current time as an SQL expression), `SKIP_LOCKED` (the row-locking clause of a job claim)
//! and `push_overlap` (the calendar range predicate, which is where the index strategies differ).

/// Implements [`UserStore`](super::UserStore), [`TeamStore`](super::TeamStore),
/// [`EventStore`](super::EventStore), [`AuditStore`](super::AuditStore) and
/// [`JobStore`](super::JobStore) for `$store`, whose database is `$db`.
macro_rules! impl_sql_store {
    ($store:ty, $db:ty) => {
        use $crate::store::rows::*;

        async fn insert_audit(
            conn: &mut <$db as sqlx::Database>::Connection,
            a: &$crate::model::AuditRecord,
        ) -> $crate::error::Result<i64> {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO audit_log (user_id, credential, action, resource_type, resource_id, outcome, \
                 details, ip_address, user_agent, request_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(a.user_id)
            .bind(&a.credential)
            .bind(&a.action)
            .bind(&a.resource_type)
            .bind(&a.resource_id)
            .bind(a.outcome.as_str())
            .bind(sqlx::types::Json(&a.details))
            .bind(&a.ip)
            .bind(&a.user_agent)
            .bind(&a.request_id)
            .fetch_one(&mut *conn)
            .await?;
            Ok(id)
        }

        async fn insert_job(
            conn: &mut <$db as sqlx::Database>::Connection,
            job: &$crate::model::NewJob,
        ) -> $crate::error::Result<Option<i64>> {
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO jobs (kind, payload, run_at, dedupe_key, max_attempts) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            )
            .bind(&job.kind)
            .bind(sqlx::types::Json(&job.payload))
            .bind(job.run_at)
            .bind(&job.dedupe_key)
            .bind(job.max_attempts.max(1))
            .fetch_optional(&mut *conn)
            .await?;
            Ok(id)
        }

        #[async_trait::async_trait]
        impl $crate::store::UserStore for $store {
            async fn create_user(
                &self,
                u: &$crate::model::NewUser,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<$crate::model::User> {
                let mut tx = self.begin_write().await?;
                let row: UserRow = sqlx::query_as(&format!(
                    "INSERT INTO users (username, email, display_name, password_hash, role, team_id) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLUMNS}"
                ))
                .bind(&u.username)
                .bind(&u.email)
                .bind(&u.display_name)
                .bind(&u.password_hash)
                .bind(u.role.as_str())
                .bind(u.team_id)
                .fetch_one(&mut *tx)
                .await?;
                insert_audit(&mut tx, &audit.clone().on(row.id)).await?;
                tx.commit().await?;
                row.try_into()
            }

            async fn user(&self, id: i64) -> $crate::error::Result<Option<$crate::model::User>> {
                let row: Option<UserRow> =
                    sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn user_by_login(&self, login: &str) -> $crate::error::Result<Option<$crate::model::User>> {
                let row: Option<UserRow> = sqlx::query_as(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE lower(username) = lower($1) OR lower(email) = lower($1)"
                ))
                .bind(login)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_users(
                &self,
                q: &$crate::model::UserQuery,
            ) -> $crate::error::Result<$crate::model::Page<$crate::model::User>> {
                let filter = |qb: &mut sqlx::QueryBuilder<'_, $db>| {
                    qb.push(" WHERE 1 = 1");
                    if let Some(role) = q.role {
                        qb.push(" AND role = ").push_bind(role.as_str());
                    }
                    if let Some(team) = q.team_id {
                        qb.push(" AND team_id = ").push_bind(team);
                    }
                };
                let mut count = sqlx::QueryBuilder::<$db>::new("SELECT count(*) FROM users");
                filter(&mut count);
                let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;
                let mut qb = sqlx::QueryBuilder::<$db>::new(format!("SELECT {USER_COLUMNS} FROM users"));
                filter(&mut qb);
                qb.push(" ORDER BY lower(username) LIMIT ")
                    .push_bind($crate::store::page_limit(q.limit))
                    .push(" OFFSET ")
                    .push_bind(q.offset.max(0));
                let rows: Vec<UserRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                let items = rows.into_iter().map(TryInto::try_into).collect::<$crate::error::Result<_>>()?;
                Ok($crate::model::Page { items, total })
            }

            async fn update_user(
                &self,
                id: i64,
                up: &$crate::model::UserUpdate,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<$crate::model::User> {
                let mut tx = self.begin_write().await?;
                let mut qb = sqlx::QueryBuilder::<$db>::new(format!("UPDATE users SET updated_at = {}", Self::NOW));
                if let Some(v) = &up.email {
                    qb.push(", email = ").push_bind(v.clone());
                }
                if let Some(v) = &up.display_name {
                    qb.push(", display_name = ").push_bind(v.clone());
                }
                if let Some(v) = up.role {
                    // A role change ends every session: the next request re-reads the role.
                    qb.push(", role = ").push_bind(v.as_str()).push(", session_epoch = session_epoch + 1");
                }
                if let Some(v) = up.team_id {
                    qb.push(", team_id = ").push_bind(v);
                }
                if let Some(v) = up.disabled {
                    qb.push(", disabled = ").push_bind(v);
                    if v {
                        qb.push(", session_epoch = session_epoch + 1");
                    }
                }
                if let Some(v) = &up.locale {
                    qb.push(", locale = ").push_bind(v.clone());
                }
                if let Some(v) = &up.timezone {
                    qb.push(", timezone = ").push_bind(v.clone());
                }
                qb.push(" WHERE id = ").push_bind(id).push(format!(" RETURNING {USER_COLUMNS}"));
                let row: Option<UserRow> = qb.build_query_as().fetch_optional(&mut *tx).await?;
                let row = row.ok_or($crate::error::Error::NotFound("user"))?;
                insert_audit(&mut tx, &audit.clone().on(id)).await?;
                tx.commit().await?;
                row.try_into()
            }

            async fn delete_user(&self, id: i64, audit: &$crate::model::AuditRecord) -> $crate::error::Result<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    return Err($crate::error::Error::NotFound("user"));
                }
                insert_audit(&mut tx, &audit.clone().on(id)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn count_users(&self) -> $crate::error::Result<i64> {
                Ok(sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&self.pool).await?)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::TeamStore for $store {
            async fn create_team(
                &self,
                t: &$crate::model::NewTeam,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<$crate::model::Team> {
                let mut tx = self.begin_write().await?;
                let row: TeamRow = sqlx::query_as(
                    "INSERT INTO teams (name, description, lead_id) VALUES ($1, $2, $3) \
                     RETURNING id, name, description, lead_id, created_at",
                )
                .bind(&t.name)
                .bind(&t.description)
                .bind(t.lead_id)
                .fetch_one(&mut *tx)
                .await?;
                insert_audit(&mut tx, &audit.clone().on(row.id)).await?;
                tx.commit().await?;
                Ok(row.into())
            }

            async fn team(&self, id: i64) -> $crate::error::Result<Option<$crate::model::Team>> {
                let row: Option<TeamRow> =
                    sqlx::query_as("SELECT id, name, description, lead_id, created_at FROM teams WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(Into::into))
            }

            async fn list_teams(&self) -> $crate::error::Result<Vec<$crate::model::Team>> {
                let rows: Vec<TeamRow> = sqlx::query_as(
                    "SELECT id, name, description, lead_id, created_at FROM teams ORDER BY lower(name)",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn update_team(
                &self,
                id: i64,
                up: &$crate::model::TeamUpdate,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<$crate::model::Team> {
                let mut tx = self.begin_write().await?;
                let mut qb = sqlx::QueryBuilder::<$db>::new("UPDATE teams SET name = name");
                if let Some(v) = &up.name {
                    qb.push(", name = ").push_bind(v.clone());
                }
                if let Some(v) = &up.description {
                    qb.push(", description = ").push_bind(v.clone());
                }
                if let Some(v) = up.lead_id {
                    qb.push(", lead_id = ").push_bind(v);
                }
                qb.push(" WHERE id = ").push_bind(id).push(" RETURNING id, name, description, lead_id, created_at");
                let row: Option<TeamRow> = qb.build_query_as().fetch_optional(&mut *tx).await?;
                let row = row.ok_or($crate::error::Error::NotFound("team"))?;
                insert_audit(&mut tx, &audit.clone().on(id)).await?;
                tx.commit().await?;
                Ok(row.into())
            }

            async fn delete_team(&self, id: i64, audit: &$crate::model::AuditRecord) -> $crate::error::Result<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("DELETE FROM teams WHERE id = $1").bind(id).execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    return Err($crate::error::Error::NotFound("team"));
                }
                insert_audit(&mut tx, &audit.clone().on(id)).await?;
                tx.commit().await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::EventStore for $store {
            async fn create_event(
                &self,
                e: &$crate::model::NewEvent,
                audit: &$crate::model::AuditRecord,
                jobs: &[$crate::model::NewJob],
            ) -> $crate::error::Result<$crate::model::Event> {
                let mut tx = self.begin_write().await?;
                let row: EventRow = sqlx::query_as(&format!(
                    "INSERT INTO events (type, title, description, start_at, end_at, rrule, series_end, \
                     parent_id, recurrence_id, extra, status, created_by, team_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING {EVENT_COLUMNS}"
                ))
                .bind(e.payload.kind().as_str())
                .bind(&e.title)
                .bind(&e.description)
                .bind(e.start)
                .bind(e.end)
                .bind(&e.rrule)
                .bind(e.series_end)
                .bind(e.parent_id)
                .bind(e.recurrence_id)
                .bind(sqlx::types::Json(e.payload.extra_json()))
                .bind(e.status.as_str())
                .bind(e.created_by)
                .bind(e.team_id)
                .fetch_one(&mut *tx)
                .await?;
                insert_audit(&mut tx, &audit.clone().on(row.id)).await?;
                for job in jobs {
                    insert_job(&mut tx, job).await?;
                }
                tx.commit().await?;
                row.try_into()
            }

            async fn event(&self, id: i64) -> $crate::error::Result<Option<$crate::model::Event>> {
                let row: Option<EventRow> =
                    sqlx::query_as(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_events(
                &self,
                q: &$crate::model::EventQuery,
            ) -> $crate::error::Result<Vec<$crate::model::Event>> {
                let mut qb = sqlx::QueryBuilder::<$db>::new(format!("SELECT {EVENT_COLUMNS} FROM events WHERE 1 = 1"));
                if let Some((start, end)) = q.window {
                    qb.push(" AND ");
                    Self::push_overlap(&mut qb, start, end);
                }
                if let Some(kind) = q.kind {
                    qb.push(" AND type = ").push_bind(kind.as_str());
                }
                if let Some(status) = q.status {
                    qb.push(" AND status = ").push_bind(status.as_str());
                }
                if let Some(team) = q.team_id {
                    qb.push(" AND team_id = ").push_bind(team);
                }
                if let Some(creator) = q.created_by {
                    qb.push(" AND created_by = ").push_bind(creator);
                }
                let limit = if q.limit <= 0 { 10_000 } else { q.limit.min(10_000) };
                qb.push(" ORDER BY start_at, id LIMIT ").push_bind(limit);
                let rows: Vec<EventRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn update_event(
                &self,
                id: i64,
                u: &$crate::model::UpdateEvent,
                audit: &$crate::model::AuditRecord,
                jobs: &[$crate::model::NewJob],
            ) -> $crate::error::Result<$crate::model::Event> {
                let mut tx = self.begin_write().await?;
                let row: Option<EventRow> = sqlx::query_as(&format!(
                    "UPDATE events SET title = $1, description = $2, start_at = $3, end_at = $4, rrule = $5, \
                     series_end = $6, exdates = $7, extra = $8, status = $9, team_id = $10, approved_by = $11, \
                     approved_at = $12, version = version + 1, updated_at = {} \
                     WHERE id = $13 AND version = $14 AND type = $15 RETURNING {EVENT_COLUMNS}",
                    Self::NOW
                ))
                .bind(&u.title)
                .bind(&u.description)
                .bind(u.start)
                .bind(u.end)
                .bind(&u.rrule)
                .bind(u.series_end)
                .bind(sqlx::types::Json(&u.exdates))
                .bind(sqlx::types::Json(u.payload.extra_json()))
                .bind(u.status.as_str())
                .bind(u.team_id)
                .bind(u.approved_by)
                .bind(u.approved_at)
                .bind(id)
                .bind(u.expected_version)
                .bind(u.payload.kind().as_str())
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    let current: Option<(i32, String)> =
                        sqlx::query_as("SELECT version, type FROM events WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?;
                    return Err(match current {
                        None => $crate::error::Error::NotFound("event"),
                        Some((_, kind)) if kind != u.payload.kind().as_str() => $crate::error::Error::invalid(
                            "type",
                            "immutable",
                            "the type of an event cannot change; delete it and create another",
                        ),
                        Some((version, _)) => $crate::error::Error::conflict(
                            "stale-version",
                            format!(
                                "the event changed since you read it (you sent version {}, it is now {version}); \
                                 reload it and apply your change again",
                                u.expected_version
                            ),
                        ),
                    });
                };
                insert_audit(&mut tx, &audit.clone().on(id)).await?;
                for job in jobs {
                    insert_job(&mut tx, job).await?;
                }
                tx.commit().await?;
                row.try_into()
            }

            async fn delete_event(&self, id: i64, audit: &$crate::model::AuditRecord) -> $crate::error::Result<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("DELETE FROM events WHERE id = $1").bind(id).execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    return Err($crate::error::Error::NotFound("event"));
                }
                insert_audit(&mut tx, &audit.clone().on(id)).await?;
                tx.commit().await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::AuditStore for $store {
            async fn append_audit(&self, a: &$crate::model::AuditRecord) -> $crate::error::Result<i64> {
                let mut conn = self.pool.acquire().await?;
                insert_audit(&mut conn, a).await
            }

            async fn list_audit(
                &self,
                q: &$crate::model::AuditQuery,
            ) -> $crate::error::Result<$crate::model::Page<$crate::model::AuditEntry>> {
                let filter = |qb: &mut sqlx::QueryBuilder<'_, $db>| {
                    qb.push(" WHERE 1 = 1");
                    if let Some(u) = q.user_id {
                        qb.push(" AND user_id = ").push_bind(u);
                    }
                    if let Some(prefix) = &q.action_prefix {
                        // Prefix match without LIKE so `_` and `%` in the filter stay literal.
                        qb.push(" AND substr(action, 1, ")
                            .push_bind(i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX))
                            .push(") = ")
                            .push_bind(prefix.clone());
                    }
                    if let Some(t) = &q.resource_type {
                        qb.push(" AND resource_type = ").push_bind(t.clone());
                    }
                    if let Some(since) = q.since {
                        qb.push(" AND occurred_at >= ").push_bind(since);
                    }
                    if let Some(until) = q.until {
                        qb.push(" AND occurred_at < ").push_bind(until);
                    }
                };
                let mut count = sqlx::QueryBuilder::<$db>::new("SELECT count(*) FROM audit_log");
                filter(&mut count);
                let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;
                let mut qb = sqlx::QueryBuilder::<$db>::new(format!("SELECT {AUDIT_COLUMNS} FROM audit_log"));
                filter(&mut qb);
                qb.push(" ORDER BY id DESC LIMIT ")
                    .push_bind($crate::store::page_limit(q.limit))
                    .push(" OFFSET ")
                    .push_bind(q.offset.max(0));
                let rows: Vec<AuditRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                Ok($crate::model::Page { items: rows.into_iter().map(Into::into).collect(), total })
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::JobStore for $store {
            async fn enqueue_job(&self, job: &$crate::model::NewJob) -> $crate::error::Result<Option<i64>> {
                let mut conn = self.pool.acquire().await?;
                insert_job(&mut conn, job).await
            }

            async fn claim_jobs(
                &self,
                worker: &str,
                limit: i64,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<Vec<$crate::model::Job>> {
                let rows: Vec<JobRow> = sqlx::query_as(&format!(
                    "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1, locked_at = $2, \
                     heartbeat_at = $2 WHERE id IN (SELECT id FROM jobs WHERE status = 'queued' AND run_at <= $2 \
                     ORDER BY run_at, id LIMIT $3{}) RETURNING {JOB_COLUMNS}",
                    Self::SKIP_LOCKED
                ))
                .bind(worker)
                .bind(now)
                .bind(limit.max(1))
                .fetch_all(&self.pool)
                .await?;
                let mut jobs = rows.into_iter().map(TryInto::try_into).collect::<$crate::error::Result<Vec<_>>>()?;
                jobs.sort_by_key(|j: &$crate::model::Job| (j.run_at, j.id));
                Ok(jobs)
            }

            async fn heartbeat_jobs(
                &self,
                worker: &str,
                ids: &[i64],
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<()> {
                if ids.is_empty() {
                    return Ok(());
                }
                let mut qb = sqlx::QueryBuilder::<$db>::new("UPDATE jobs SET heartbeat_at = ");
                qb.push_bind(now).push(" WHERE status = 'running' AND locked_by = ").push_bind(worker);
                qb.push(" AND id IN (");
                let mut sep = qb.separated(", ");
                for id in ids {
                    sep.push_bind(*id);
                }
                qb.push(")");
                qb.build().execute(&self.pool).await?;
                Ok(())
            }

            async fn complete_job(&self, id: i64, worker: &str) -> $crate::error::Result<()> {
                let done = sqlx::query(&format!(
                    "UPDATE jobs SET status = 'done', finished_at = {}, locked_by = NULL \
                     WHERE id = $1 AND locked_by = $2 AND status = 'running'",
                    Self::NOW
                ))
                .bind(id)
                .bind(worker)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::error::Error::conflict(
                        "job-lost",
                        format!("job {id} is no longer held by worker {worker}"),
                    ));
                }
                Ok(())
            }

            async fn fail_job(
                &self,
                id: i64,
                worker: &str,
                error: &str,
                retry_at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<()> {
                let done = sqlx::query(&format!(
                    "UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, \
                     finished_at = CASE WHEN attempts >= max_attempts THEN {now} ELSE NULL END, \
                     run_at = $3, last_error = $4, locked_by = NULL \
                     WHERE id = $1 AND locked_by = $2 AND status = 'running'",
                    now = Self::NOW
                ))
                .bind(id)
                .bind(worker)
                .bind(retry_at)
                .bind(error)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::error::Error::conflict(
                        "job-lost",
                        format!("job {id} is no longer held by worker {worker}"),
                    ));
                }
                Ok(())
            }

            async fn requeue_stale_jobs(
                &self,
                stale_before: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<u64> {
                let done = sqlx::query(&format!(
                    "UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, \
                     finished_at = CASE WHEN attempts >= max_attempts THEN {now} ELSE NULL END, \
                     locked_by = NULL, last_error = 'worker stopped heart-beating; job re-queued' \
                     WHERE status = 'running' AND heartbeat_at < $1",
                    now = Self::NOW
                ))
                .bind(stale_before)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }

            async fn job(&self, id: i64) -> $crate::error::Result<Option<$crate::model::Job>> {
                let row: Option<JobRow> = sqlx::query_as(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn fail_job_permanently(&self, id: i64, worker: &str, error: &str) -> $crate::error::Result<()> {
                let done = sqlx::query(&format!(
                    "UPDATE jobs SET status = 'failed', finished_at = {}, last_error = $3, locked_by = NULL \
                     WHERE id = $1 AND locked_by = $2 AND status = 'running'",
                    Self::NOW
                ))
                .bind(id)
                .bind(worker)
                .bind(error)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::error::Error::conflict(
                        "job-lost",
                        format!("job {id} is no longer held by worker {worker}"),
                    ));
                }
                Ok(())
            }

            async fn release_job(
                &self,
                id: i64,
                worker: &str,
                reason: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<()> {
                let done = sqlx::query(
                    "UPDATE jobs SET status = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, \
                     run_at = $3, last_error = $4, locked_by = NULL \
                     WHERE id = $1 AND locked_by = $2 AND status = 'running'",
                )
                .bind(id)
                .bind(worker)
                .bind(now)
                .bind(reason)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::error::Error::conflict(
                        "job-lost",
                        format!("job {id} is no longer held by worker {worker}"),
                    ));
                }
                Ok(())
            }

            async fn count_pending_jobs(&self, now: chrono::DateTime<chrono::Utc>) -> $crate::error::Result<i64> {
                let count: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE status = 'queued' AND run_at <= $1")
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(count)
            }

            async fn database_time(&self) -> $crate::error::Result<chrono::DateTime<chrono::Utc>> {
                let now: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(&format!("SELECT {}", Self::NOW))
                    .fetch_one(&self.pool)
                    .await?;
                Ok(now)
            }
        }
        #[async_trait::async_trait]
        impl $crate::store::AuthStore for $store {
            async fn record_login_failure(
                &self,
                user_id: i64,
                threshold: i32,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<bool> {
                let mut tx = self.begin_write().await?;
                let locked: Option<bool> = sqlx::query_scalar(&format!(
                    "UPDATE users SET failed_logins = failed_logins + 1, \
                     locked_at = CASE WHEN failed_logins + 1 >= $2 AND locked_at IS NULL THEN {now} ELSE locked_at END \
                     WHERE id = $1 RETURNING locked_at IS NOT NULL",
                    now = Self::NOW
                ))
                .bind(user_id)
                .bind(threshold)
                .fetch_optional(&mut *tx)
                .await?;
                insert_audit(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(locked.unwrap_or(false))
            }

            async fn record_login_success(&self, user_id: i64) -> $crate::error::Result<()> {
                sqlx::query("UPDATE users SET failed_logins = 0 WHERE id = $1 AND failed_logins <> 0")
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn unlock_user(&self, user_id: i64, audit: &$crate::model::AuditRecord) -> $crate::error::Result<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("UPDATE users SET failed_logins = 0, locked_at = NULL WHERE id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::error::Error::NotFound("user"));
                }
                insert_audit(&mut tx, &audit.clone().on(user_id)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_password_hash(
                &self,
                user_id: i64,
                hash: &str,
                end_sessions: bool,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(&format!(
                    "UPDATE users SET password_hash = $2, updated_at = {now}, \
                     session_epoch = session_epoch + CASE WHEN $3 THEN 1 ELSE 0 END WHERE id = $1",
                    now = Self::NOW
                ))
                .bind(user_id)
                .bind(hash)
                .bind(end_sessions)
                .execute(&mut *tx)
                .await?;
                if end_sessions {
                    sqlx::query(&format!(
                        "UPDATE refresh_tokens SET revoked_at = {now}, revoked_reason = 'password changed' \
                         WHERE user_id = $1 AND revoked_at IS NULL",
                        now = Self::NOW
                    ))
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                }
                insert_audit(&mut tx, &audit.clone().on(user_id)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_session(&self, s: &$crate::model::NewSession) -> $crate::error::Result<()> {
                sqlx::query(
                    "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, ip, user_agent) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(s.user_id)
                .bind(s.family_id)
                .bind(&s.token_hash)
                .bind(s.expires_at)
                .bind(&s.ip)
                .bind(&s.user_agent)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn rotate_session(
                &self,
                old_hash: &str,
                new_hash: &str,
                now: chrono::DateTime<chrono::Utc>,
                idle_cutoff: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<$crate::model::Rotation> {
                let mut tx = self.begin_write().await?;
                // Only one of concurrent rotations of the same token can match `rotated_at IS NULL`.
                let won: Option<(i64, uuid::Uuid, chrono::DateTime<chrono::Utc>, Option<String>, Option<String>)> =
                    sqlx::query_as(
                        "UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 AND rotated_at IS NULL \
                         AND revoked_at IS NULL AND expires_at > $2 AND last_used_at > $3 \
                         RETURNING user_id, family_id, expires_at, ip, user_agent",
                    )
                    .bind(old_hash)
                    .bind(now)
                    .bind(idle_cutoff)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some((user_id, family_id, expires_at, ip, user_agent)) = won {
                    sqlx::query(
                        "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, last_used_at, ip, user_agent) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(user_id)
                    .bind(family_id)
                    .bind(new_hash)
                    .bind(expires_at)
                    .bind(now)
                    .bind(ip)
                    .bind(user_agent)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    return Ok($crate::model::Rotation::Rotated { user_id, family_id, expires_at });
                }
                let seen: Option<(i64, uuid::Uuid, Option<chrono::DateTime<chrono::Utc>>)> =
                    sqlx::query_as("SELECT user_id, family_id, rotated_at FROM refresh_tokens WHERE token_hash = $1")
                        .bind(old_hash)
                        .fetch_optional(&mut *tx)
                        .await?;
                let outcome = match seen {
                    Some((user_id, family_id, Some(_))) => {
                        sqlx::query(
                            "UPDATE refresh_tokens SET revoked_at = $2, revoked_reason = 'refresh token reuse' \
                             WHERE family_id = $1 AND revoked_at IS NULL",
                        )
                        .bind(family_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        $crate::model::Rotation::Reused { user_id, family_id }
                    }
                    _ => $crate::model::Rotation::Invalid,
                };
                tx.commit().await?;
                Ok(outcome)
            }

            async fn revoke_session_family(&self, family: uuid::Uuid, reason: &str) -> $crate::error::Result<()> {
                sqlx::query(&format!(
                    "UPDATE refresh_tokens SET revoked_at = {now}, revoked_reason = $2 \
                     WHERE family_id = $1 AND revoked_at IS NULL",
                    now = Self::NOW
                ))
                .bind(family)
                .bind(reason)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn session_family_active(
                &self,
                family: uuid::Uuid,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<bool> {
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NULL AND expires_at > $2",
                )
                .bind(family)
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                Ok(n > 0)
            }

            async fn end_all_sessions(&self, user_id: i64, audit: &$crate::model::AuditRecord) -> $crate::error::Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("UPDATE users SET session_epoch = session_epoch + 1 WHERE id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&format!(
                    "UPDATE refresh_tokens SET revoked_at = {now}, revoked_reason = 'all sessions ended' \
                     WHERE user_id = $1 AND revoked_at IS NULL",
                    now = Self::NOW
                ))
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                insert_audit(&mut tx, &audit.clone().on(user_id)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_sessions(
                &self,
                user_id: i64,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<Vec<$crate::model::SessionInfo>> {
                // One row per family: its first token (login) and latest use.
                let rows: Vec<(uuid::Uuid, chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>, Option<String>, Option<String>)> =
                    sqlx::query_as(
                        "SELECT family_id, min(created_at), max(last_used_at), max(expires_at), max(ip), max(user_agent) \
                         FROM refresh_tokens WHERE user_id = $1 AND expires_at > $2 \
                         GROUP BY family_id HAVING count(*) FILTER (WHERE revoked_at IS NULL AND rotated_at IS NULL) > 0 \
                         ORDER BY max(last_used_at) DESC",
                    )
                    .bind(user_id)
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, created_at, last_used_at, expires_at, ip, user_agent)| $crate::model::SessionInfo {
                        id,
                        created_at,
                        last_used_at,
                        expires_at,
                        ip,
                        user_agent,
                    })
                    .collect())
            }

            async fn totp_state(&self, user_id: i64) -> $crate::error::Result<Option<$crate::model::TotpState>> {
                let row: Option<(Option<String>, bool, i64)> =
                    sqlx::query_as("SELECT totp_secret, totp_enabled, totp_last_step FROM users WHERE id = $1")
                        .bind(user_id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(secret_enc, enabled, last_step)| $crate::model::TotpState { secret_enc, enabled, last_step }))
            }

            async fn set_pending_totp(&self, user_id: i64, secret_enc: &str) -> $crate::error::Result<()> {
                let done = sqlx::query("UPDATE users SET totp_secret = $2 WHERE id = $1 AND NOT totp_enabled")
                    .bind(user_id)
                    .bind(secret_enc)
                    .execute(&self.pool)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::error::Error::conflict(
                        "2fa-already-enabled",
                        "two-factor authentication is already on; disable it first to set up a new device",
                    ));
                }
                Ok(())
            }

            async fn enable_totp(
                &self,
                user_id: i64,
                step: i64,
                recovery_hashes: &[String],
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE users SET totp_enabled = TRUE, totp_last_step = $2 \
                     WHERE id = $1 AND NOT totp_enabled AND totp_secret IS NOT NULL AND totp_last_step < $2",
                )
                .bind(user_id)
                .bind(step)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::error::Error::conflict(
                        "2fa-not-pending",
                        "no two-factor setup is pending (or it is already on); start with POST /api/auth/2fa/setup",
                    ));
                }
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                for hash in recovery_hashes {
                    sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                        .bind(user_id)
                        .bind(hash)
                        .execute(&mut *tx)
                        .await?;
                }
                insert_audit(&mut tx, &audit.clone().on(user_id)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn use_totp_step(&self, user_id: i64, step: i64) -> $crate::error::Result<bool> {
                let done = sqlx::query("UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2")
                    .bind(user_id)
                    .bind(step)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn use_recovery_code(&self, user_id: i64, code_hash: &str) -> $crate::error::Result<bool> {
                let done = sqlx::query(&format!(
                    "UPDATE recovery_codes SET used_at = {now} WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
                    now = Self::NOW
                ))
                .bind(user_id)
                .bind(code_hash)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn disable_totp(&self, user_id: i64, audit: &$crate::model::AuditRecord) -> $crate::error::Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("UPDATE users SET totp_enabled = FALSE, totp_secret = NULL WHERE id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                insert_audit(&mut tx, &audit.clone().on(user_id)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_invitation(
                &self,
                inv: &$crate::model::NewInvitation,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<i64> {
                let mut tx = self.begin_write().await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO invitations (token_hash, email, role, team_id, created_by, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(&inv.token_hash)
                .bind(&inv.email)
                .bind(inv.role.as_str())
                .bind(inv.team_id)
                .bind(inv.created_by)
                .bind(inv.expires_at)
                .fetch_one(&mut *tx)
                .await?;
                insert_audit(&mut tx, &audit.clone().on(id)).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn register_invited(
                &self,
                u: &$crate::model::NewUser,
                token_hash: &str,
                now: chrono::DateTime<chrono::Utc>,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<Option<$crate::model::User>> {
                let mut tx = self.begin_write().await?;
                let inv: Option<(String, Option<i64>)> = sqlx::query_as(
                    "UPDATE invitations SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
                     RETURNING role, team_id",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((role, team_id)) = inv else { return Ok(None) };
                let row: UserRow = sqlx::query_as(&format!(
                    "INSERT INTO users (username, email, display_name, password_hash, role, team_id) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLUMNS}"
                ))
                .bind(&u.username)
                .bind(&u.email)
                .bind(&u.display_name)
                .bind(&u.password_hash)
                .bind(role)
                .bind(team_id)
                .fetch_one(&mut *tx)
                .await?;
                insert_audit(&mut tx, &audit.clone().on(row.id)).await?;
                tx.commit().await?;
                Ok(Some(row.try_into()?))
            }

            async fn create_delegation(
                &self,
                d: &$crate::model::NewDelegation,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<$crate::model::Delegation> {
                let mut tx = self.begin_write().await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO delegations (grantor_id, grantee_id, capability, starts_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(d.grantor_id)
                .bind(d.grantee_id)
                .bind(d.capability.as_str())
                .bind(d.starts_at)
                .bind(d.expires_at)
                .fetch_one(&mut *tx)
                .await?;
                insert_audit(&mut tx, &audit.clone().on(id)).await?;
                tx.commit().await?;
                Ok($crate::model::Delegation {
                    id,
                    grantor_id: d.grantor_id,
                    grantee_id: d.grantee_id,
                    capability: d.capability,
                    starts_at: d.starts_at,
                    expires_at: d.expires_at,
                    revoked_at: None,
                })
            }

            async fn active_delegations(
                &self,
                grantee: i64,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<Vec<$crate::model::Delegation>> {
                let rows: Vec<DelegationRow> = sqlx::query_as(&format!(
                    "SELECT {DELEGATION_COLUMNS} FROM delegations WHERE grantee_id = $1 AND revoked_at IS NULL \
                     AND starts_at <= $2 AND expires_at > $2 ORDER BY id"
                ))
                .bind(grantee)
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn list_delegations(
                &self,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<Vec<$crate::model::Delegation>> {
                let rows: Vec<DelegationRow> = sqlx::query_as(&format!(
                    "SELECT {DELEGATION_COLUMNS} FROM delegations WHERE revoked_at IS NULL AND expires_at > $1 ORDER BY id"
                ))
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn revoke_delegation(
                &self,
                id: i64,
                now: chrono::DateTime<chrono::Utc>,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("UPDATE delegations SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::error::Error::NotFound("delegation"));
                }
                insert_audit(&mut tx, &audit.clone().on(id)).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_sql_store;
