//! Notifications: in-app (`/api/notifications`), e-mail (immediate for critical kinds, a daily
//! digest for the others), Slack and Microsoft Teams channel messages, and reminders before
//! production deployments.
//!
//! A change never delivers anything itself: it puts [`fanout_job`] in its own transaction. The
//! background jobs of [`deliver`] then write the in-app rows (unique `dedupe_key`), and enqueue
//! one `email.send` / `chat.send` job per delivery, each with its own retries. Every effect carries
//! a unique key written with it, so that a job run twice (at least once execution) delivers once.

pub mod chat;
pub mod deliver;
pub mod email;
pub mod text;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::Auth;
use crate::error::{Problem, Result};
use crate::http::AppState;
use crate::http::extract::{Json, Path, Query};
use crate::http::meta::ClientMeta;
use crate::model::{EventStatus, Id, NewJob, Notification, NotificationPreferences};

pub use crate::model::NotificationKind;
pub use deliver::{digest_job, run};

/// Job kinds of this module (the same strings as `jobs::kinds`).
pub mod kinds {
    /// Fan a change out to the people concerned.
    pub const FANOUT: &str = "notify.fanout";
    /// Send one e-mail.
    pub const EMAIL: &str = "email.send";
    /// Post one Slack or Teams message.
    pub const CHAT: &str = "chat.send";
    /// Remind of a production deployment.
    pub const REMINDER: &str = "reminder.deployment";
    /// The daily digest.
    pub const DIGEST: &str = "digest.daily";
}

/// What a change adds to its notification, beyond its kind, event and actor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FanoutExtra {
    /// Exactly these users (mentions). `None`: the kind decides: every ADMIN for
    /// `approval_requested`; the creator for `approval_decided`; the creator and the meeting's
    /// participants for `status_changed`; the creator, the approver and the participants for
    /// `reminder`. The actor is never notified of their own change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<Id>>,
    /// The status before a status change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<EventStatus>,
    /// A comment excerpt (mentions) or the reason of a refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// The job that notifies everyone concerned by a change of `event_id` made by `actor`. Put it in
/// the change's transaction (the `jobs` parameter of the store method, or `enqueue_job`):
///
/// ```text
/// let job = notifications::fanout_job(NotificationKind::ApprovalDecided, id, Some(caller.id()),
///     &FanoutExtra { comment: Some(reason), ..Default::default() });
/// state.store.change_status(id, &change, &record, &[job]).await?;
/// ```
pub fn fanout_job(kind: NotificationKind, event_id: Id, actor: Option<Id>, extra: &FanoutExtra) -> NewJob {
    let mut payload = serde_json::json!({
        "kind": kind.as_str(),
        "event_id": event_id,
        "actor_id": actor,
    });
    if let (Some(map), Ok(serde_json::Value::Object(more))) =
        (payload.as_object_mut(), serde_json::to_value(extra))
    {
        map.extend(more);
    }
    NewJob {
        max_attempts: 10,
        ..NewJob::now(kinds::FANOUT, payload)
    }
}

/// The job handler of every notification kind (fan-out, e-mail, chat, reminders, digest).
#[derive(Debug, Clone, Copy)]
pub struct DeliveryHandler;

#[async_trait::async_trait]
impl crate::jobs::JobHandler for DeliveryHandler {
    async fn run(&self, job: &crate::model::Job, state: &AppState) -> Result<(), crate::jobs::JobError> {
        match deliver::run(state, job).await {
            Some(result) => result.map_err(Into::into),
            None => Err(crate::jobs::JobError::permanent(format!(
                "not a notification job: {}",
                job.kind
            ))),
        }
    }
}

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(unread_count))
        .routes(routes!(mark_read))
        .routes(routes!(mark_all_read))
        .routes(routes!(get_preferences, put_preferences))
}

/// Paging of the notification list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NotificationPage {
    /// Rows to skip.
    #[serde(default)]
    pub offset: i64,
    /// Rows to return (50 by default, 500 at most).
    #[serde(default)]
    pub limit: i64,
}

/// The caller's notifications, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    /// This page.
    pub items: Vec<Notification>,
    /// Unread notifications in all.
    pub unread: i64,
    /// Notifications in all.
    pub total: i64,
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/notifications", tag = "notifications", params(NotificationPage),
    responses((status = 200, body = NotificationList)), security(("bearer" = [])))]
async fn list_notifications(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Query(page): Query<NotificationPage>,
) -> Result<Json<NotificationList>> {
    let limit = if page.limit <= 0 { 50 } else { page.limit };
    let list = state
        .store
        .list_notifications(caller.id(), page.offset, limit)
        .await?;
    let unread = state.store.unread_notifications(caller.id()).await?;
    Ok(Json(NotificationList {
        items: list.items,
        unread,
        total: list.total,
    }))
}

/// The unread badge.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCount {
    /// Unread notifications.
    pub unread: i64,
}

/// How many of the caller's notifications are unread.
#[utoipa::path(get, path = "/api/notifications/unread-count", tag = "notifications",
    responses((status = 200, body = UnreadCount)), security(("bearer" = [])))]
async fn unread_count(State(state): State<AppState>, Auth(caller): Auth) -> Result<Json<UnreadCount>> {
    Ok(Json(UnreadCount {
        unread: state.store.unread_notifications(caller.id()).await?,
    }))
}

/// Mark one of the caller's notifications read (another user's answers 404).
#[utoipa::path(post, path = "/api/notifications/{id}/read", tag = "notifications", params(("id" = Id, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn mark_read(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
) -> Result<StatusCode> {
    state
        .store
        .mark_notification_read(
            caller.id(),
            id,
            Utc::now(),
            &meta.audit(Some(caller.id()), "jwt", "notification.read", "notification"),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many notifications were marked read.
#[derive(Debug, Serialize, ToSchema)]
pub struct Marked {
    /// Notifications that were unread.
    pub marked: u64,
}

/// Mark every notification of the caller read.
#[utoipa::path(post, path = "/api/notifications/read-all", tag = "notifications",
    responses((status = 200, body = Marked)), security(("bearer" = [])))]
async fn mark_all_read(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
) -> Result<Json<Marked>> {
    let marked = state
        .store
        .mark_all_notifications_read(
            caller.id(),
            Utc::now(),
            &meta.audit(Some(caller.id()), "jwt", "notification.read_all", "user"),
        )
        .await?;
    Ok(Json(Marked { marked }))
}

/// The caller's delivery choices.
#[utoipa::path(get, path = "/api/notifications/preferences", tag = "notifications",
    responses((status = 200, body = NotificationPreferences)), security(("bearer" = [])))]
async fn get_preferences(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<NotificationPreferences>> {
    Ok(Json(state.store.notification_preferences(caller.id()).await?))
}

/// Replace the caller's delivery choices (all four fields).
#[utoipa::path(put, path = "/api/notifications/preferences", tag = "notifications", request_body = NotificationPreferences,
    responses((status = 200, body = NotificationPreferences), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn put_preferences(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Json(prefs): Json<NotificationPreferences>,
) -> Result<Json<NotificationPreferences>> {
    let record = meta
        .audit(
            Some(caller.id()),
            "jwt",
            "notification.preferences.update",
            "user",
        )
        .with_details(serde_json::to_value(prefs).unwrap_or_default());
    state
        .store
        .set_notification_preferences(caller.id(), &prefs, &record)
        .await?;
    Ok(Json(prefs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fanout_job_payload_carries_kind_event_actor_and_extra() {
        let job = fanout_job(
            NotificationKind::Mention,
            7,
            Some(3),
            &FanoutExtra {
                recipients: Some(vec![4, 5]),
                comment: Some("hi".into()),
                ..Default::default()
            },
        );
        assert_eq!(job.kind, "notify.fanout");
        assert_eq!(
            job.payload,
            serde_json::json!({"kind": "mention", "event_id": 7, "actor_id": 3, "recipients": [4, 5], "comment": "hi"})
        );
    }
}
