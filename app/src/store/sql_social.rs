//! The SQL of comments, reactions and notifications, shared by both backends (see `sql.rs` for the
//! pattern). Expanded inside each backend module, after `impl_sql_store!`, whose `insert_audit` and
//! `insert_job` it uses so that a change, its audit row and its jobs commit together.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use crate::error::{Error, Result};
use crate::model::{Comment, Notification, NotificationKind, ReactionEntry, UserRef};

/// A comment row joined with its author.
#[derive(sqlx::FromRow)]
pub(crate) struct CommentRow {
    pub id: i64,
    pub event_id: i64,
    pub author_id: Option<i64>,
    pub author_username: Option<String>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// Columns of [`CommentRow`] from `comments c LEFT JOIN users u ON u.id = c.author_id`.
pub(crate) const COMMENT_SELECT: &str = "SELECT c.id, c.event_id, c.author_id, u.username AS author_username, \
     c.body, c.created_at FROM comments c LEFT JOIN users u ON u.id = c.author_id";

/// A reaction row joined with its user.
#[derive(sqlx::FromRow)]
pub(crate) struct ReactionRow {
    pub comment_id: i64,
    pub emoji: String,
    pub user_id: i64,
    pub username: String,
}

/// Columns of [`ReactionRow`]; append a `WHERE` on `r.comment_id`.
pub(crate) const REACTION_SELECT: &str = "SELECT r.comment_id, r.emoji, r.user_id, u.username \
     FROM reactions r JOIN users u ON u.id = r.user_id";

/// Attaches each reaction (ordered by time) to its comment.
pub(crate) fn assemble_comments(rows: Vec<CommentRow>, reactions: Vec<ReactionRow>) -> Vec<Comment> {
    let mut comments: Vec<Comment> = rows
        .into_iter()
        .map(|r| Comment {
            id: r.id,
            event_id: r.event_id,
            author: match (r.author_id, r.author_username) {
                (Some(id), Some(username)) => Some(UserRef { id, username }),
                _ => None,
            },
            body: r.body,
            created_at: r.created_at,
            reactions: Vec::new(),
        })
        .collect();
    for r in reactions {
        if let Some(c) = comments.iter_mut().find(|c| c.id == r.comment_id) {
            c.reactions.push(ReactionEntry {
                emoji: r.emoji,
                user: UserRef {
                    id: r.user_id,
                    username: r.username,
                },
            });
        }
    }
    comments
}

/// A notification row.
#[derive(sqlx::FromRow)]
pub(crate) struct NotificationRow {
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub data: Json<serde_json::Value>,
    pub dedupe_key: Option<String>,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Columns of [`NotificationRow`].
pub(crate) const NOTIFICATION_COLUMNS: &str =
    "id, user_id, kind, title, body, link, data, dedupe_key, read_at, created_at";

impl TryFrom<NotificationRow> for Notification {
    type Error = Error;
    fn try_from(r: NotificationRow) -> Result<Self> {
        Ok(Notification {
            kind: NotificationKind::parse(&r.kind)
                .ok_or_else(|| Error::Internal(anyhow::anyhow!("notification {} has unknown kind", r.id)))?,
            id: r.id,
            user_id: r.user_id,
            title: r.title,
            body: r.body,
            link: r.link,
            read_at: r.read_at,
            created_at: r.created_at,
            data: r.data.0,
            dedupe_key: r.dedupe_key,
        })
    }
}

/// Implements [`SocialStore`](super::SocialStore) for `$store` on database `$db`. Expects
/// `insert_audit` and `insert_job` in scope (from `impl_sql_store!`).
macro_rules! impl_social_store {
    ($store:ty, $db:ty) => {
        async fn comments_where(
            conn: &mut <$db as sqlx::Database>::Connection,
            filter: &str,
            id: i64,
        ) -> $crate::error::Result<Vec<$crate::model::Comment>> {
            use $crate::store::sql_social::*;
            let rows: Vec<CommentRow> = sqlx::query_as(&format!("{COMMENT_SELECT} WHERE {filter} ORDER BY c.id"))
                .bind(id)
                .fetch_all(&mut *conn)
                .await?;
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            let reactions: Vec<ReactionRow> = sqlx::query_as(&format!(
                "{REACTION_SELECT} WHERE r.comment_id IN (SELECT c.id FROM comments c WHERE {filter}) \
                 ORDER BY r.created_at, r.user_id, r.emoji"
            ))
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
            Ok(assemble_comments(rows, reactions))
        }

        #[async_trait::async_trait]
        impl $crate::store::SocialStore for $store {
            async fn create_comment(
                &self,
                c: &$crate::model::NewComment,
                audit: &$crate::model::AuditRecord,
                jobs: &[$crate::model::NewJob],
            ) -> $crate::error::Result<$crate::model::Comment> {
                let mut tx = self.begin_write().await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO comments (event_id, author_id, body) VALUES ($1, $2, $3) RETURNING id",
                )
                .bind(c.event_id)
                .bind(c.author_id)
                .bind(&c.body)
                .fetch_one(&mut *tx)
                .await?;
                insert_audit(&mut tx, &audit.clone().on(id)).await?;
                for job in jobs {
                    insert_job(&mut tx, job).await?;
                }
                let comment = comments_where(&mut tx, "c.id = $1", id)
                    .await?
                    .pop()
                    .ok_or($crate::error::Error::NotFound("comment"))?;
                tx.commit().await?;
                Ok(comment)
            }

            async fn comment(&self, id: i64) -> $crate::error::Result<Option<$crate::model::Comment>> {
                let mut conn = self.pool.acquire().await?;
                Ok(comments_where(&mut conn, "c.id = $1", id).await?.pop())
            }

            async fn list_comments(&self, event_id: i64) -> $crate::error::Result<Vec<$crate::model::Comment>> {
                let mut conn = self.pool.acquire().await?;
                comments_where(&mut conn, "c.event_id = $1", event_id).await
            }

            async fn delete_comment(&self, id: i64, audit: &$crate::model::AuditRecord) -> $crate::error::Result<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("DELETE FROM comments WHERE id = $1").bind(id).execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    return Err($crate::error::Error::NotFound("comment"));
                }
                insert_audit(&mut tx, &audit.clone().on(id)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn toggle_reaction(
                &self,
                comment_id: i64,
                user_id: i64,
                emoji: &str,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<bool> {
                let mut tx = self.begin_write().await?;
                let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM comments WHERE id = $1")
                    .bind(comment_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if exists.is_none() {
                    return Err($crate::error::Error::NotFound("comment"));
                }
                let removed = sqlx::query("DELETE FROM reactions WHERE comment_id = $1 AND user_id = $2 AND emoji = $3")
                    .bind(comment_id)
                    .bind(user_id)
                    .bind(emoji)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let added = removed == 0;
                if added {
                    sqlx::query(
                        "INSERT INTO reactions (comment_id, user_id, emoji) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(comment_id)
                    .bind(user_id)
                    .bind(emoji)
                    .execute(&mut *tx)
                    .await?;
                }
                let mut record = audit.clone().on(comment_id);
                if let Some(details) = record.details.as_object_mut() {
                    details.insert("emoji".to_owned(), serde_json::Value::from(emoji));
                    details.insert("added".to_owned(), serde_json::Value::from(added));
                }
                insert_audit(&mut tx, &record).await?;
                tx.commit().await?;
                Ok(added)
            }

            async fn users_by_usernames(&self, names: &[String]) -> $crate::error::Result<Vec<$crate::model::User>> {
                if names.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = sqlx::QueryBuilder::<$db>::new(format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE lower(username) IN ("
                ));
                let mut list = qb.separated(", ");
                for name in names {
                    list.push_bind(name.to_lowercase());
                }
                qb.push(") ORDER BY id");
                let rows: Vec<UserRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn store_notifications(
                &self,
                rows: &[$crate::model::NewNotification],
                jobs: &[$crate::model::NewJob],
            ) -> $crate::error::Result<Vec<i64>> {
                let mut tx = self.begin_write().await?;
                let mut created = Vec::new();
                for n in rows {
                    let id: Option<i64> = sqlx::query_scalar(
                        "INSERT INTO notifications (user_id, kind, title, body, link, data, dedupe_key) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
                    )
                    .bind(n.user_id)
                    .bind(n.kind.as_str())
                    .bind(&n.title)
                    .bind(&n.body)
                    .bind(&n.link)
                    .bind(sqlx::types::Json(&n.data))
                    .bind(&n.dedupe_key)
                    .fetch_optional(&mut *tx)
                    .await?;
                    created.extend(id);
                }
                for job in jobs {
                    insert_job(&mut tx, job).await?;
                }
                tx.commit().await?;
                Ok(created)
            }

            async fn notification_by_key(
                &self,
                key: &str,
            ) -> $crate::error::Result<Option<$crate::model::Notification>> {
                use $crate::store::sql_social::*;
                let row: Option<NotificationRow> = sqlx::query_as(&format!(
                    "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE dedupe_key = $1"
                ))
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_notifications(
                &self,
                user_id: i64,
                offset: i64,
                limit: i64,
            ) -> $crate::error::Result<$crate::model::Page<$crate::model::Notification>> {
                use $crate::store::sql_social::*;
                let total: i64 = sqlx::query_scalar("SELECT count(*) FROM notifications WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_one(&self.pool)
                    .await?;
                let rows: Vec<NotificationRow> = sqlx::query_as(&format!(
                    "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = $1 \
                     ORDER BY id DESC LIMIT $2 OFFSET $3"
                ))
                .bind(user_id)
                .bind($crate::store::page_limit(limit))
                .bind(offset.max(0))
                .fetch_all(&self.pool)
                .await?;
                let items = rows.into_iter().map(TryInto::try_into).collect::<$crate::error::Result<_>>()?;
                Ok($crate::model::Page { items, total })
            }

            async fn unread_notifications(&self, user_id: i64) -> $crate::error::Result<i64> {
                Ok(sqlx::query_scalar("SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
                    .bind(user_id)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn mark_notification_read(
                &self,
                user_id: i64,
                id: i64,
                now: chrono::DateTime<chrono::Utc>,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND user_id = $2",
                )
                .bind(id)
                .bind(user_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::error::Error::NotFound("notification"));
                }
                insert_audit(&mut tx, &audit.clone().on(id)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn mark_all_notifications_read(
                &self,
                user_id: i64,
                now: chrono::DateTime<chrono::Utc>,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<u64> {
                let mut tx = self.begin_write().await?;
                let n = sqlx::query("UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL")
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let mut record = audit.clone().on(user_id);
                if let Some(details) = record.details.as_object_mut() {
                    details.insert("count".to_owned(), serde_json::Value::from(n));
                }
                insert_audit(&mut tx, &record).await?;
                tx.commit().await?;
                Ok(n)
            }

            async fn unread_notifications_between(
                &self,
                user_id: Option<i64>,
                from: chrono::DateTime<chrono::Utc>,
                until: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<Vec<$crate::model::Notification>> {
                use $crate::store::sql_social::*;
                let mut qb = sqlx::QueryBuilder::<$db>::new(format!(
                    "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE read_at IS NULL AND created_at >= "
                ));
                qb.push_bind(from).push(" AND created_at < ").push_bind(until);
                if let Some(user) = user_id {
                    qb.push(" AND user_id = ").push_bind(user);
                }
                qb.push(" ORDER BY user_id, id");
                let rows: Vec<NotificationRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn notification_preferences(
                &self,
                user_id: i64,
            ) -> $crate::error::Result<$crate::model::NotificationPreferences> {
                let row: Option<(bool, bool, bool, bool)> = sqlx::query_as(
                    "SELECT email_enabled, email_digest, chat_enabled, reminders \
                     FROM notification_preferences WHERE user_id = $1",
                )
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row
                    .map(|(email, daily_digest, chat, reminders)| $crate::model::NotificationPreferences {
                        email,
                        daily_digest,
                        chat,
                        reminders,
                    })
                    .unwrap_or_default())
            }

            async fn set_notification_preferences(
                &self,
                user_id: i64,
                p: &$crate::model::NotificationPreferences,
                audit: &$crate::model::AuditRecord,
            ) -> $crate::error::Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(&format!(
                    "INSERT INTO notification_preferences (user_id, email_enabled, email_digest, chat_enabled, reminders) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET \
                     email_enabled = excluded.email_enabled, email_digest = excluded.email_digest, \
                     chat_enabled = excluded.chat_enabled, reminders = excluded.reminders, updated_at = {now}",
                    now = Self::NOW
                ))
                .bind(user_id)
                .bind(p.email)
                .bind(p.daily_digest)
                .bind(p.chat)
                .bind(p.reminders)
                .execute(&mut *tx)
                .await?;
                insert_audit(&mut tx, &audit.clone().on(user_id)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn delivered(&self, key: &str) -> $crate::error::Result<bool> {
                let n: i64 = sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE key = $1")
                    .bind(key)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n > 0)
            }

            async fn record_delivery(&self, key: &str, channel: &str) -> $crate::error::Result<bool> {
                let done = sqlx::query("INSERT INTO deliveries (key, channel) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                    .bind(key)
                    .bind(channel)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(crate) use impl_social_store;
