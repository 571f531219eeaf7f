//! SQL of the deployment workflow (status changes, approvals, freezes, calendar tokens), shared by
//! both backends like `sql.rs`. Expanded in each backend module after `impl_sql_store!`, whose
//! `insert_audit`/`insert_job` it uses.

/// Implements [`WorkflowStore`](super::WorkflowStore) for `$store` on `$db`.
macro_rules! impl_workflow_store {
    ($store:ty, $db:ty) => {
        #[derive(sqlx::FromRow)]
        struct FreezeRow {
            id: i64,
            name: String,
            starts_at: chrono::DateTime<chrono::Utc>,
            ends_at: chrono::DateTime<chrono::Utc>,
            rrule: Option<String>,
            timezone: String,
            environments: sqlx::types::Json<Vec<$crate::model::Environment>>,
            created_by: Option<i64>,
        }

        impl From<FreezeRow> for $crate::model::FreezePeriod {
            fn from(r: FreezeRow) -> Self {
                $crate::model::FreezePeriod {
                    id: r.id,
                    name: r.name,
                    starts_at: r.starts_at,
                    ends_at: r.ends_at,
                    rrule: r.rrule,
                    timezone: r.timezone,
                    environments: r.environments.0,
                    created_by: r.created_by,
                }
            }
        }

        const FREEZE_COLUMNS: &str = "id, name, starts_at, ends_at, rrule, timezone, environments, created_by";

        #[async_trait::async_trait]
        impl $crate::store::WorkflowStore for $store {
            async fn change_status(
                &self,
                event_id: i64,
                c: &$crate::model::StatusChange,
                audit: &$crate::model::AuditRecord,
                jobs: &[$crate::model::NewJob],
            ) -> $crate::error::Result<$crate::model::Event> {
                let mut tx = self.begin_write().await?;
                let mut qb = sqlx::QueryBuilder::<$db>::new("UPDATE events SET status = ");
                qb.push_bind(c.to.as_str());
                qb.push(format!(", version = version + 1, updated_at = {}", Self::NOW));
                match c.approved_by {
                    Some(Some(by)) => {
                        qb.push(", approved_by = ").push_bind(by).push(format!(", approved_at = {}", Self::NOW));
                    }
                    Some(None) => {
                        qb.push(", approved_by = NULL, approved_at = NULL");
                    }
                    None => {}
                }
                if let Some(payload) = &c.payload {
                    qb.push(", extra = ").push_bind(sqlx::types::Json(payload.extra_json()));
                }
                qb.push(" WHERE id = ").push_bind(event_id).push(" AND status = ").push_bind(c.from.as_str());
                qb.push(format!(" RETURNING {EVENT_COLUMNS}"));
                let row: Option<EventRow> = qb.build_query_as().fetch_optional(&mut *tx).await?;
                let Some(row) = row else {
                    let current: Option<String> = sqlx::query_scalar("SELECT status FROM events WHERE id = $1")
                        .bind(event_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    return Err(match current {
                        None => $crate::error::Error::NotFound("event"),
                        Some(status) => $crate::error::Error::conflict(
                            "illegal-transition",
                            format!(
                                "the event is `{status}`, not `{}`: it cannot become `{}` now; reload it",
                                c.from.as_str(),
                                c.to.as_str()
                            ),
                        ),
                    });
                };
                // The approval step first: history lists it before the status change it caused.
                if let Some(action) = c.approval {
                    sqlx::query("INSERT INTO approvals (event_id, actor_id, action, comment) VALUES ($1, $2, $3, $4)")
                        .bind(event_id)
                        .bind(c.actor_id)
                        .bind(action.as_str())
                        .bind(&c.comment)
                        .execute(&mut *tx)
                        .await?;
                }
                if c.from != c.to {
                    sqlx::query(
                        "INSERT INTO status_transitions (event_id, from_status, to_status, actor_id, comment) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(event_id)
                    .bind(c.from.as_str())
                    .bind(c.to.as_str())
                    .bind(c.actor_id)
                    .bind(&c.comment)
                    .execute(&mut *tx)
                    .await?;
                }
                insert_audit(&mut tx, &audit.clone().on(event_id)).await?;
                for job in jobs {
                    insert_job(&mut tx, job).await?;
                }
                tx.commit().await?;
                row.try_into()
            }

            async fn add_approval_step(
                &self,
                event_id: i64,
                actor_id: Option<i64>,
                action: $crate::model::ApprovalAction,
                comment: &str,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO approvals (event_id, actor_id, action, comment) VALUES ($1, $2, $3, $4)")
                    .bind(event_id)
                    .bind(actor_id)
                    .bind(action.as_str())
                    .bind(comment)
                    .execute(&mut *tx)
                    .await?;
                insert_audit(&mut tx, &audit.clone().on(event_id)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn event_history(&self, event_id: i64) -> $crate::error::Result<Vec<$crate::model::HistoryEntry>> {
                type Row = (i64, String, Option<String>, Option<String>, Option<i64>, Option<String>, String, chrono::DateTime<chrono::Utc>);
                let approvals: Vec<Row> = sqlx::query_as(
                    "SELECT a.id, a.action, NULL, NULL, a.actor_id, u.username, a.comment, a.created_at \
                     FROM approvals a LEFT JOIN users u ON u.id = a.actor_id WHERE a.event_id = $1 ORDER BY a.id",
                )
                .bind(event_id)
                .fetch_all(&self.pool)
                .await?;
                let statuses: Vec<Row> = sqlx::query_as(
                    "SELECT t.id, t.from_status || '->' || t.to_status, t.from_status, t.to_status, t.actor_id, \
                     u.username, t.comment, t.created_at \
                     FROM status_transitions t LEFT JOIN users u ON u.id = t.actor_id WHERE t.event_id = $1 ORDER BY t.id",
                )
                .bind(event_id)
                .fetch_all(&self.pool)
                .await?;
                let entry = |kind: &str, r: Row| $crate::model::HistoryEntry {
                    id: r.0,
                    kind: kind.to_owned(),
                    action: r.1,
                    from_status: r.2,
                    to_status: r.3,
                    actor: r.4.zip(r.5).map(|(id, username)| $crate::model::Actor { id, username }),
                    comment: r.6,
                    created_at: r.7,
                };
                let mut all: Vec<_> = approvals
                    .into_iter()
                    .map(|r| entry("approval", r))
                    .chain(statuses.into_iter().map(|r| entry("status", r)))
                    .collect();
                // Same instant (one transaction): the approval step first, then the status it caused.
                all.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| (a.kind != "approval").cmp(&(b.kind != "approval"))));
                Ok(all)
            }

            async fn create_freeze(
                &self,
                f: &$crate::model::NewFreeze,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<$crate::model::FreezePeriod> {
                let mut tx = self.begin_write().await?;
                let row: FreezeRow = sqlx::query_as(&format!(
                    "INSERT INTO freeze_periods (name, starts_at, ends_at, rrule, timezone, environments, created_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {FREEZE_COLUMNS}"
                ))
                .bind(&f.name)
                .bind(f.starts_at)
                .bind(f.ends_at)
                .bind(&f.rrule)
                .bind(&f.timezone)
                .bind(sqlx::types::Json(&f.environments))
                .bind(f.created_by)
                .fetch_one(&mut *tx)
                .await?;
                insert_audit(&mut tx, &audit.clone().on(row.id)).await?;
                tx.commit().await?;
                Ok(row.into())
            }

            async fn list_freezes(&self) -> $crate::error::Result<Vec<$crate::model::FreezePeriod>> {
                let rows: Vec<FreezeRow> =
                    sqlx::query_as(&format!("SELECT {FREEZE_COLUMNS} FROM freeze_periods ORDER BY starts_at, id"))
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn delete_freeze(&self, id: i64, audit: &$crate::model::AuditRecord) -> $crate::error::Result<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("DELETE FROM freeze_periods WHERE id = $1").bind(id).execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    return Err($crate::error::Error::NotFound("freeze period"));
                }
                insert_audit(&mut tx, &audit.clone().on(id)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_calendar_token(
                &self,
                user_id: i64,
                token_hash: &str,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<i64> {
                let mut tx = self.begin_write().await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO calendar_tokens (user_id, token_hash) VALUES ($1, $2) RETURNING id",
                )
                .bind(user_id)
                .bind(token_hash)
                .fetch_one(&mut *tx)
                .await?;
                insert_audit(&mut tx, &audit.clone().on(id)).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn calendar_token_user(&self, token_hash: &str) -> $crate::error::Result<Option<i64>> {
                Ok(sqlx::query_scalar(
                    "SELECT user_id FROM calendar_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn revoke_calendar_tokens(
                &self,
                user_id: i64,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<u64> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(&format!(
                    "UPDATE calendar_tokens SET revoked_at = {} WHERE user_id = $1 AND revoked_at IS NULL",
                    Self::NOW
                ))
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                insert_audit(&mut tx, &audit.clone().on(user_id)).await?;
                tx.commit().await?;
                Ok(done.rows_affected())
            }

            async fn usernames(&self, ids: &[i64]) -> $crate::error::Result<Vec<(i64, String)>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT id, username FROM users WHERE id IN (");
                let mut sep = qb.separated(", ");
                for id in ids {
                    sep.push_bind(*id);
                }
                qb.push(")");
                Ok(qb.build_query_as().fetch_all(&self.pool).await?)
            }
        }
    };
}

pub(crate) use impl_workflow_store;
