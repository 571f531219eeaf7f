//! Comment threads on events: markdown (stored as written, rendered and sanitized on the way out),
//! `@username` mentions that notify, and emoji reactions.

pub mod markdown;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{Auth, Caller, Permission, require};
use crate::error::{Error, Problem, Result};
use crate::http::AppState;
use crate::http::extract::{Json, Path};
use crate::http::meta::ClientMeta;
use crate::model::{Comment, Event, Id, NewComment, UserRef};
use crate::notifications::{FanoutExtra, NotificationKind, fanout_job};

/// The reactions a comment can get, in display order.
pub const EMOJIS: [&str; 4] = ["👍", "✅", "❌", "🔥"];

/// Longest comment, in characters.
pub const MAX_BODY: usize = 10_000;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_comments, create_comment))
        .routes(routes!(delete_comment))
        .routes(routes!(react))
        .routes(routes!(preview))
}

/// One emoji's reactions on a comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReactionSummary {
    /// The emoji.
    pub emoji: String,
    /// How many users reacted so.
    pub count: usize,
    /// Whether the caller did.
    pub reacted: bool,
    /// Who, in the order they reacted.
    pub users: Vec<String>,
}

/// A comment as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommentView {
    /// Identifier.
    pub id: Id,
    /// Event.
    pub event_id: Id,
    /// Author; null once their account is deleted.
    pub author: Option<UserRef>,
    /// Markdown source, as written.
    pub body: String,
    /// The source rendered to HTML and sanitized: safe to insert in a page.
    pub html: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Reactions present, in the order of [`EMOJIS`].
    pub reactions: Vec<ReactionSummary>,
}

impl CommentView {
    /// The view of `c` for `caller_id`.
    pub fn new(c: Comment, caller_id: Id) -> Self {
        let reactions = EMOJIS
            .iter()
            .filter_map(|emoji| {
                let users: Vec<&UserRef> = c
                    .reactions
                    .iter()
                    .filter(|r| r.emoji == *emoji)
                    .map(|r| &r.user)
                    .collect();
                (!users.is_empty()).then(|| ReactionSummary {
                    emoji: (*emoji).to_owned(),
                    count: users.len(),
                    reacted: users.iter().any(|u| u.id == caller_id),
                    users: users.iter().map(|u| u.username.clone()).collect(),
                })
            })
            .collect();
        Self {
            id: c.id,
            event_id: c.event_id,
            author: c.author,
            html: markdown::render(&c.body),
            body: c.body,
            created_at: c.created_at,
            reactions,
        }
    }
}

/// A list of comments.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentList {
    /// Oldest first.
    pub items: Vec<CommentView>,
}

/// The event, when the caller may see it (comments follow the event's visibility).
async fn visible_event(state: &AppState, caller: &Caller, meta: &ClientMeta, id: Id) -> Result<Event> {
    require(state, caller, meta, Permission::ViewEvents).await?;
    state.store.event(id).await?.ok_or(Error::NotFound("event"))
}

/// The comments of an event, oldest first.
#[utoipa::path(get, path = "/api/events/{id}/comments", tag = "comments", params(("id" = Id, Path)),
    responses((status = 200, body = CommentList), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn list_comments(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
) -> Result<Json<CommentList>> {
    let event = visible_event(&state, &caller, &meta, id).await?;
    let items = state
        .store
        .list_comments(event.id)
        .await?
        .into_iter()
        .map(|c| CommentView::new(c, caller.id()))
        .collect();
    Ok(Json(CommentList { items }))
}

/// A comment to post.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommentBody {
    /// Markdown, 1 to 10000 characters. `@username` notifies that user.
    pub body: String,
}

fn check_body(field: &str, body: &str, allow_empty: bool) -> Result<()> {
    let n = body.chars().count();
    if n > MAX_BODY {
        return Err(Error::invalid(
            field,
            "too_long",
            format!("at most {MAX_BODY} characters ({n} given)"),
        ));
    }
    if !allow_empty && body.trim().is_empty() {
        return Err(Error::invalid(field, "required", "write something"));
    }
    if body.contains('\0') {
        return Err(Error::invalid(field, "invalid", "NUL characters are not allowed"));
    }
    Ok(())
}

/// A short plain excerpt of a comment for notifications.
fn excerpt(body: &str) -> String {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= 200 {
        return flat;
    }
    let mut s: String = flat.chars().take(199).collect();
    s.push('…');
    s
}

/// Post a comment. Mentioned users (existing, enabled, not the author) are notified.
#[utoipa::path(post, path = "/api/events/{id}/comments", tag = "comments", params(("id" = Id, Path)), request_body = NewCommentBody,
    responses((status = 201, body = CommentView), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_comment(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
    Json(req): Json<NewCommentBody>,
) -> Result<Response> {
    let event = visible_event(&state, &caller, &meta, id).await?;
    check_body("body", &req.body, false)?;
    let names = markdown::mentions(&req.body);
    let mentioned: Vec<Id> = state
        .store
        .users_by_usernames(&names)
        .await?
        .into_iter()
        .filter(|u| !u.disabled && u.id != caller.id())
        .map(|u| u.id)
        .collect();
    let jobs = if mentioned.is_empty() {
        Vec::new()
    } else {
        vec![fanout_job(
            NotificationKind::Mention,
            event.id,
            Some(caller.id()),
            &FanoutExtra {
                recipients: Some(mentioned.clone()),
                comment: Some(excerpt(&req.body)),
                ..Default::default()
            },
        )]
    };
    let record = meta
        .audit(Some(caller.id()), "jwt", "comment.create", "comment")
        .with_details(serde_json::json!({ "event_id": event.id, "mentions": mentioned }));
    let comment = state
        .store
        .create_comment(
            &NewComment {
                event_id: event.id,
                author_id: caller.id(),
                body: req.body,
            },
            &record,
            &jobs,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(CommentView::new(comment, caller.id()))).into_response())
}

/// Delete a comment (its author, or an ADMIN; others get 403, audited).
#[utoipa::path(delete, path = "/api/comments/{id}", tag = "comments", params(("id" = Id, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn delete_comment(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
) -> Result<StatusCode> {
    require(&state, &caller, &meta, Permission::ViewEvents).await?;
    let comment = state.store.comment(id).await?.ok_or(Error::NotFound("comment"))?;
    let is_author = comment.author.as_ref().is_some_and(|a| a.id == caller.id());
    // Moderating other people's comments is part of managing any event (ADMIN); a refusal is audited.
    if !is_author {
        require(&state, &caller, &meta, Permission::ManageAnyEvent).await?;
    }
    let record = meta
        .audit(Some(caller.id()), "jwt", "comment.delete", "comment")
        .with_details(serde_json::json!({ "event_id": comment.event_id, "by_author": is_author }));
    state.store.delete_comment(id, &record).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A reaction to toggle.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReactionBody {
    /// One of 👍 ✅ ❌ 🔥.
    pub emoji: String,
}

/// Add the caller's reaction, or remove it when present. Answers the updated comment.
#[utoipa::path(post, path = "/api/comments/{id}/reactions", tag = "comments", params(("id" = Id, Path)), request_body = ReactionBody,
    responses((status = 200, body = CommentView), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn react(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
    Json(req): Json<ReactionBody>,
) -> Result<Json<CommentView>> {
    require(&state, &caller, &meta, Permission::ViewEvents).await?;
    // Accept the emoji with or without the variation selector U+FE0F some keyboards add.
    let wanted = req.emoji.trim().trim_end_matches('\u{fe0f}');
    let Some(emoji) = EMOJIS.iter().find(|e| e.trim_end_matches('\u{fe0f}') == wanted) else {
        return Err(Error::invalid(
            "emoji",
            "unsupported",
            format!("use one of {}", EMOJIS.join(" ")),
        ));
    };
    state
        .store
        .toggle_reaction(
            id,
            caller.id(),
            emoji,
            &meta.audit(Some(caller.id()), "jwt", "comment.react", "comment"),
        )
        .await?;
    let comment = state.store.comment(id).await?.ok_or(Error::NotFound("comment"))?;
    Ok(Json(CommentView::new(comment, caller.id())))
}

/// Markdown to preview.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    /// Markdown, at most 10000 characters.
    pub body: String,
}

/// The rendered preview.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewHtml {
    /// Sanitized HTML, exactly as a posted comment would show.
    pub html: String,
}

/// Render markdown as a comment would be rendered (nothing is stored).
#[utoipa::path(post, path = "/api/markdown/preview", tag = "comments", request_body = PreviewBody,
    responses((status = 200, body = PreviewHtml), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn preview(Auth(_caller): Auth, Json(req): Json<PreviewBody>) -> Result<Json<PreviewHtml>> {
    check_body("body", &req.body, true)?;
    Ok(Json(PreviewHtml {
        html: markdown::render(&req.body),
    }))
}
