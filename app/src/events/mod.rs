//! `/api/events`: the calendar's events (meetings, deployment windows, git actions), their
//! lifecycle and production approvals, freeze periods, and the iCalendar feed.

pub mod feed;
pub mod input;
pub mod recurrence;
pub mod workflow;

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{Auth, Caller, Permission, deny, require};
use crate::config::Settings;
use crate::error::{Error, Problem, Result};
use crate::http::AppState;
use crate::http::extract::{Json, Path, Query};
use crate::http::meta::ClientMeta;
use crate::model::event::Environment;
use crate::model::{
    Actor, ApprovalAction, Event, EventKind, EventPayload, EventQuery, EventStatus, FreezePeriod,
    HistoryEntry, Id, NewEvent, NewFreeze, NewJob, Role, StatusChange, UpdateEvent,
};
use crate::notifications::{FanoutExtra, NotificationKind, fanout_job};
use crate::ratelimit::{enforce, policies};
use input::EventInput;
use workflow::Conflict;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events, create_event))
        .routes(routes!(get_event, update_event, delete_event))
        .routes(routes!(change_status))
        .routes(routes!(tick_checklist))
        .routes(routes!(list_approvals, decide))
        .routes(routes!(submit))
        .routes(routes!(history))
        .routes(routes!(list_freezes, create_freeze))
        .routes(routes!(delete_freeze))
        .merge(feed::router())
}

/// An event as the API shows it: the stored event, who created it, whether the caller may edit
/// it, and for an occurrence of a series, which one.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    /// Identifier (of the series, for an occurrence).
    pub id: Id,
    /// Kind.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Start (of this occurrence).
    pub start: DateTime<Utc>,
    /// End (of this occurrence).
    pub end: DateTime<Utc>,
    /// RFC 5545 recurrence rule of the series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rrule: Option<String>,
    /// For an occurrence of a series: the start that identifies it (send it back to edit "this occurrence").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurrence_start: Option<DateTime<Utc>>,
    /// For an edited occurrence: its series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<Id>,
    /// The kind's payload.
    #[schema(value_type = Object)]
    pub extra: serde_json::Value,
    /// Status.
    pub status: EventStatus,
    /// Creator.
    pub created_by: Option<Actor>,
    /// Team.
    pub team_id: Option<Id>,
    /// Approving ADMIN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<Actor>,
    /// Approval time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<DateTime<Utc>>,
    /// Send it back when you replace the event.
    pub version: i32,
    /// Whether the caller may edit or delete it.
    pub can_edit: bool,
    /// Production conflicts accepted when `deployments.conflict_policy = flag`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A list of events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    /// Events (occurrences of series expanded), by start.
    pub items: Vec<EventView>,
}

async fn names(state: &AppState, events: &[&Event]) -> Result<HashMap<Id, String>> {
    let mut ids: Vec<Id> = events
        .iter()
        .flat_map(|e| [e.created_by, e.approved_by])
        .flatten()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(state.store.usernames(&ids).await?.into_iter().collect())
}

fn actor(names: &HashMap<Id, String>, id: Option<Id>) -> Option<Actor> {
    id.map(|id| Actor {
        id,
        username: names.get(&id).cloned().unwrap_or_default(),
    })
}

fn view(
    e: &Event,
    names: &HashMap<Id, String>,
    caller: &Caller,
    occurrence: Option<DateTime<Utc>>,
) -> EventView {
    let length = e.end - e.start;
    let (start, end) = match occurrence {
        Some(s) => (s, s + length),
        None => (e.start, e.end),
    };
    EventView {
        id: e.id,
        kind: e.kind(),
        title: e.title.clone(),
        description: e.description.clone(),
        start,
        end,
        rrule: e.rrule.clone(),
        occurrence_start: occurrence,
        parent_id: e.parent_id,
        extra: e.payload.extra_json(),
        status: e.status,
        created_by: actor(names, e.created_by),
        team_id: e.team_id,
        approved_by: actor(names, e.approved_by),
        approved_at: e.approved_at,
        version: e.version,
        can_edit: caller.can_modify_event(e),
        conflicts: Vec::new(),
        created_at: e.created_at,
        updated_at: e.updated_at,
    }
}

async fn view_one(state: &AppState, e: &Event, caller: &Caller) -> Result<EventView> {
    let names = names(state, &[e]).await?;
    Ok(view(e, &names, caller, None))
}

/// Filters of the event list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventFilter {
    /// Window start (RFC 3339). With `end`, series are expanded into their occurrences.
    pub start: Option<DateTime<Utc>>,
    /// Window end (RFC 3339).
    pub end: Option<DateTime<Utc>>,
    /// Only this kind.
    #[serde(rename = "type")]
    pub kind: Option<EventKind>,
    /// Only this status.
    pub status: Option<EventStatus>,
    /// Only this team.
    pub team_id: Option<Id>,
    /// Only by this creator.
    pub created_by: Option<Id>,
}

/// Events in a window (occurrences of recurring events expanded), sorted by start, in one round
/// trip through the range index.
#[utoipa::path(get, path = "/api/events", tag = "events", params(EventFilter),
    responses((status = 200, body = EventList), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn list_events(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Query(f): Query<EventFilter>,
) -> Result<Json<EventList>> {
    let window = match (f.start, f.end) {
        (Some(s), Some(e)) if e > s && e - s <= Duration::days(400) => Some((s, e)),
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "end",
                "invalid_window",
                "end must be after start, at most 400 days later",
            ));
        }
        (None, None) => None,
        _ => {
            return Err(Error::invalid(
                "start",
                "invalid_window",
                "give both start and end, or neither",
            ));
        }
    };
    let q = EventQuery {
        window,
        kind: f.kind,
        status: f.status,
        team_id: f.team_id,
        created_by: f.created_by,
        limit: 10_000,
    };
    let events = state.store.list_events(&q).await?;
    let names = names(&state, &events.iter().collect::<Vec<_>>()).await?;
    // Edited occurrences replace the generated ones of their series.
    let overridden: Vec<(Id, DateTime<Utc>)> = events
        .iter()
        .filter_map(|e| e.parent_id.zip(e.recurrence_id))
        .collect();
    let mut items = Vec::new();
    for e in &events {
        match (&e.rrule, window) {
            (Some(rule), Some((from, to))) => {
                for occ in recurrence::occurrences(rule, e.start, e.end - e.start, from, to)? {
                    if e.exdates.contains(&occ) || overridden.contains(&(e.id, occ)) {
                        continue;
                    }
                    items.push(view(e, &names, &caller, Some(occ)));
                }
            }
            _ => items.push(view(e, &names, &caller, None)),
        }
    }
    items.sort_by(|a, b| a.start.cmp(&b.start).then(a.id.cmp(&b.id)));
    Ok(Json(EventList { items }))
}

/// The notification job of a change, enqueued in the change's transaction.
fn fanout(kind: NotificationKind, event_id: Id, actor: Id, extra: &FanoutExtra) -> NewJob {
    fanout_job(kind, event_id, Some(actor), extra)
}

fn conflict_policy_refuses(settings: &Settings) -> bool {
    settings.deployments.conflict_policy == "refuse"
}

/// Refuses (409 with the reasons and the next free slot) or returns the conflicts to flag.
async fn check_blockers(
    state: &AppState,
    payload: &EventPayload,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    exclude: Option<Id>,
) -> Result<Vec<Conflict>> {
    let EventPayload::DeploymentWindow(d) = payload else {
        return Ok(Vec::new());
    };
    let found = workflow::blockers(&state.store, d.environment, &d.services, start, end, exclude).await?;
    let frozen: Vec<&Conflict> = found.iter().filter(|c| c.reason == "freeze").collect();
    if found.is_empty() || (frozen.is_empty() && !conflict_policy_refuses(&state.settings)) {
        return Ok(found);
    }
    let next = workflow::next_free_slot(
        &state.store,
        d.environment,
        &d.services,
        start,
        end - start,
        exclude,
    )
    .await?;
    let reasons: Vec<String> = found
        .iter()
        .map(|c| match c.reason.as_str() {
            "freeze" => format!(
                "inside the freeze `{}` ({} - {})",
                c.name,
                c.start.to_rfc3339(),
                c.end.to_rfc3339()
            ),
            _ => format!(
                "overlaps prod window #{} `{}` on {}",
                c.event_id.unwrap_or_default(),
                c.name,
                c.services.join(", ")
            ),
        })
        .collect();
    let hint = next
        .map(|t| format!("; the next free slot starts at {}", t.to_rfc3339()))
        .unwrap_or_default();
    Err(Error::DeploymentConflict {
        detail: format!("this window cannot be scheduled: {}{hint}", reasons.join("; ")),
        conflicts: serde_json::to_value(&found).unwrap_or_default(),
        next_free_slot: next,
    })
}

/// Create an event. PROJET: every kind; DEV: git actions; OPS: deployment windows; ADMIN: all.
/// A production window starts `pending_approval`.
#[utoipa::path(post, path = "/api/events", tag = "events", request_body = EventInput,
    responses((status = 201, body = EventView), (status = 403, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem), (status = 429, body = Problem)), security(("bearer" = [])))]
async fn create_event(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Json(input): Json<EventInput>,
) -> Result<Response> {
    require(&state, &caller, &meta, Permission::CreateEvent(input.kind)).await?;
    enforce(
        state.limiter.as_ref(),
        &state.metrics,
        &policies::EVENT_CREATE,
        &format!("user:{}", caller.id()),
    )
    .await?;
    let now = Utc::now();
    let v = input::validate(input, &state.store, caller.id(), now).await?;
    let conflicts = check_blockers(&state, &v.payload, v.start, v.end, None).await?;
    let prod = workflow::prod_window(&v.payload).is_some();
    let kind = v.payload.kind();
    let new = NewEvent {
        title: v.title,
        description: v.description,
        start: v.start,
        end: v.end,
        rrule: v.rrule,
        series_end: v.series_end,
        payload: v.payload,
        status: if prod {
            EventStatus::PendingApproval
        } else {
            EventStatus::Planned
        },
        created_by: Some(caller.id()),
        team_id: v.team_id.or(caller.user.team_id),
        parent_id: None,
        recurrence_id: None,
    };
    let mut record = meta.audit(Some(caller.id()), "jwt", "event.create", "event");
    record.details = serde_json::json!({ "type": kind.as_str(), "conflicts_flagged": conflicts.len() });
    let mut event = state.store.create_event(&new, &record, &[]).await?;
    if prod {
        let change = StatusChange {
            from: EventStatus::PendingApproval,
            to: EventStatus::PendingApproval,
            actor_id: Some(caller.id()),
            comment: String::new(),
            approval: Some(ApprovalAction::Submitted),
            approved_by: None,
            payload: None,
        };
        let submitted = meta.audit(Some(caller.id()), "jwt", "event.approval.submit", "event");
        event = state
            .store
            .change_status(
                event.id,
                &change,
                &submitted,
                &[fanout(
                    NotificationKind::ApprovalRequested,
                    event.id,
                    caller.id(),
                    &FanoutExtra::default(),
                )],
            )
            .await?;
    }
    state
        .metrics
        .events_created
        .with_label_values(&[kind.as_str()])
        .inc();
    let mut out = view_one(&state, &event, &caller).await?;
    out.conflicts = conflicts;
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

async fn load(state: &AppState, id: Id) -> Result<Event> {
    state.store.event(id).await?.ok_or(Error::NotFound("event"))
}

/// An event by id.
#[utoipa::path(get, path = "/api/events/{id}", tag = "events", params(("id" = Id, Path)),
    responses((status = 200, body = EventView), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn get_event(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Id>,
) -> Result<Json<EventView>> {
    let e = load(&state, id).await?;
    Ok(Json(view_one(&state, &e, &caller).await?))
}

/// Which part of a series a change applies to.
#[derive(Debug, Deserialize, IntoParams, Default)]
#[serde(deny_unknown_fields)]
pub struct ScopeParams {
    /// `series` (default) or `this` (one occurrence, named by `occurrence`).
    #[serde(default)]
    pub scope: Option<String>,
    /// Start of the occurrence (its `occurrence_start`), with `scope=this`.
    #[serde(default)]
    pub occurrence: Option<DateTime<Utc>>,
}

fn this_occurrence(p: &ScopeParams, e: &Event) -> Result<Option<DateTime<Utc>>> {
    match p.scope.as_deref() {
        None | Some("series") => Ok(None),
        Some("this") => {
            let occ = p.occurrence.ok_or_else(|| {
                Error::invalid(
                    "occurrence",
                    "required",
                    "name the occurrence (its occurrence_start) with scope=this",
                )
            })?;
            let rule = e.rrule.as_deref().ok_or_else(|| {
                Error::invalid(
                    "scope",
                    "not_recurring",
                    "this event does not repeat; edit it without scope",
                )
            })?;
            let hits =
                recurrence::occurrences(rule, e.start, e.end - e.start, occ, occ + Duration::seconds(1))?;
            if !hits.contains(&occ) {
                return Err(Error::invalid(
                    "occurrence",
                    "not_found",
                    "the series has no occurrence starting then",
                ));
            }
            Ok(Some(occ))
        }
        Some(_) => Err(Error::invalid("scope", "invalid", "use `series` or `this`")),
    }
}

/// Replace an event (creator or ADMIN), or one occurrence of a series (`scope=this`). Moving a
/// production window re-checks conflicts and freezes, and sends it back for approval.
#[utoipa::path(put, path = "/api/events/{id}", tag = "events", params(("id" = Id, Path), ScopeParams), request_body = EventInput,
    responses((status = 200, body = EventView), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn update_event(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
    Query(scope): Query<ScopeParams>,
    Json(input): Json<EventInput>,
) -> Result<Json<EventView>> {
    let current = load(&state, id).await?;
    if !caller.can_modify_event(&current) {
        return Err(deny(&state, &caller, &meta, "edit this event").await);
    }
    if input.kind != current.kind() {
        return Err(Error::invalid(
            "type",
            "immutable",
            "the type of an event cannot change; delete it and create another",
        ));
    }
    let version = input.version.ok_or_else(|| {
        Error::invalid(
            "version",
            "required",
            "send the version you read, to detect concurrent edits",
        )
    })?;
    let occurrence = this_occurrence(&scope, &current)?;
    let v = input::validate(input, &state.store, caller.id(), Utc::now()).await?;
    let mut record = meta.audit(Some(caller.id()), "jwt", "event.update", "event");
    if let Some(occ) = occurrence {
        // "This occurrence": an exception event replaces it; the series is unchanged.
        if version != current.version {
            return Err(Error::conflict(
                "stale-version",
                "the series changed since you read it; reload it",
            ));
        }
        check_blockers(&state, &v.payload, v.start, v.end, None).await?;
        let new = NewEvent {
            title: v.title,
            description: v.description,
            start: v.start,
            end: v.end,
            rrule: None,
            series_end: Some(v.end),
            payload: v.payload,
            status: current.status,
            created_by: current.created_by,
            team_id: v.team_id.or(current.team_id),
            parent_id: Some(current.id),
            recurrence_id: Some(occ),
        };
        record.details = serde_json::json!({ "scope": "this", "occurrence": occ });
        let created = state.store.create_event(&new, &record, &[]).await?;
        return Ok(Json(view_one(&state, &created, &caller).await?));
    }
    let conflicts = check_blockers(&state, &v.payload, v.start, v.end, Some(id)).await?;
    let mut up = UpdateEvent::from_event(&current);
    up.expected_version = version;
    let moved = v.start != current.start || v.end != current.end || v.payload != current.payload;
    up.title = v.title;
    up.description = v.description;
    up.start = v.start;
    up.end = v.end;
    up.rrule = v.rrule;
    up.series_end = v.series_end;
    up.payload = v.payload;
    up.team_id = v.team_id.or(current.team_id);
    let mut jobs = Vec::new();
    // A changed production window needs a new approval.
    if workflow::prod_window(&up.payload).is_some() && moved && current.status == EventStatus::Planned {
        up.status = EventStatus::PendingApproval;
        up.approved_by = None;
        up.approved_at = None;
        jobs.push(fanout(
            NotificationKind::ApprovalRequested,
            id,
            caller.id(),
            &FanoutExtra::default(),
        ));
        record.details = serde_json::json!({ "reapproval": true });
    }
    let updated = state.store.update_event(id, &up, &record, &jobs).await?;
    let mut out = view_one(&state, &updated, &caller).await?;
    out.conflicts = conflicts;
    Ok(Json(out))
}

/// Delete an event (creator or ADMIN), or one occurrence of a series (`scope=this`).
#[utoipa::path(delete, path = "/api/events/{id}", tag = "events", params(("id" = Id, Path), ScopeParams),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn delete_event(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
    Query(scope): Query<ScopeParams>,
) -> Result<StatusCode> {
    let current = load(&state, id).await?;
    if !caller.can_modify_event(&current) {
        return Err(deny(&state, &caller, &meta, "delete this event").await);
    }
    if let Some(occ) = this_occurrence(&scope, &current)? {
        let mut up = UpdateEvent::from_event(&current);
        up.series_end = current
            .rrule
            .as_ref()
            .and_then(|r| recurrence::validate(r, current.start, current.end).ok().flatten());
        if !up.exdates.contains(&occ) {
            up.exdates.push(occ);
        }
        let mut record = meta.audit(Some(caller.id()), "jwt", "event.update", "event");
        record.details = serde_json::json!({ "scope": "this", "deleted_occurrence": occ });
        state.store.update_event(id, &up, &record, &[]).await?;
        return Ok(StatusCode::NO_CONTENT);
    }
    state
        .store
        .delete_event(id, &meta.audit(Some(caller.id()), "jwt", "event.delete", "event"))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A status change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// The new status.
    pub to: EventStatus,
    /// Why (recorded in the history).
    #[serde(default)]
    pub comment: String,
}

/// Move an event through its lifecycle: for deployment windows planned -> in_progress (checklist
/// complete, approved in production, not inside a freeze) -> completed | failed | rolled_back.
#[utoipa::path(post, path = "/api/events/{id}/status", tag = "events", params(("id" = Id, Path)), request_body = StatusRequest,
    responses((status = 200, body = EventView), (status = 403, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn change_status(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
    Json(req): Json<StatusRequest>,
) -> Result<Json<EventView>> {
    let e = load(&state, id).await?;
    if !caller.can_modify_event(&e) {
        return Err(deny(&state, &caller, &meta, "change the status of this event").await);
    }
    if !workflow::can_transition(e.kind(), e.status, req.to) {
        let next = workflow::next_statuses(e.kind(), e.status);
        return Err(Error::conflict(
            "illegal-transition",
            format!(
                "a {} that is `{}` cannot become `{}`; possible: {}",
                e.kind().as_str(),
                e.status.as_str(),
                req.to.as_str(),
                if next.is_empty() {
                    "none".to_owned()
                } else {
                    next.join(", ")
                }
            ),
        ));
    }
    if req.comment.chars().count() > 2000 {
        return Err(Error::invalid("comment", "too_long", "at most 2000 characters"));
    }
    if req.to == EventStatus::InProgress {
        let open = workflow::unchecked_items(&e);
        if !open.is_empty() {
            return Err(Error::conflict(
                "checklist-incomplete",
                format!("tick the pre-deployment checklist first: {}", open.join(", ")),
            ));
        }
        if let EventPayload::DeploymentWindow(d) = &e.payload {
            if d.environment == Environment::Prod && e.approved_by.is_none() {
                return Err(Error::conflict(
                    "not-approved",
                    "a production window starts only once an ADMIN approved it",
                ));
            }
            // Freezes are checked again when the deployment starts, not only when it was requested.
            let now = Utc::now();
            let frozen = workflow::freezes(&state.store, d.environment, now, now + (e.end - e.start)).await?;
            if let Some(f) = frozen.first() {
                let mut record = meta
                    .audit(Some(caller.id()), "jwt", "event.status.blocked", "event")
                    .on(id);
                record.outcome = crate::model::Outcome::Failure;
                record.details = serde_json::json!({ "freeze_id": f.freeze_id, "freeze": f.name });
                state.store.append_audit(&record).await?;
                return Err(Error::conflict(
                    "frozen",
                    format!(
                        "deployments are frozen now by `{}` until {}",
                        f.name,
                        f.end.to_rfc3339()
                    ),
                ));
            }
        }
    }
    let change = StatusChange {
        from: e.status,
        to: req.to,
        actor_id: Some(caller.id()),
        comment: req.comment,
        approval: None,
        approved_by: None,
        payload: None,
    };
    let mut record = meta.audit(Some(caller.id()), "jwt", "event.status", "event");
    record.details = serde_json::json!({ "from": e.status.as_str(), "to": req.to.as_str() });
    let updated = state
        .store
        .change_status(
            id,
            &change,
            &record,
            &[fanout(
                NotificationKind::StatusChanged,
                id,
                caller.id(),
                &FanoutExtra {
                    previous_status: Some(e.status),
                    ..Default::default()
                },
            )],
        )
        .await?;
    if let EventPayload::DeploymentWindow(d) = &updated.payload
        && matches!(
            req.to,
            EventStatus::Completed | EventStatus::Failed | EventStatus::RolledBack
        )
    {
        state
            .metrics
            .deployments
            .with_label_values(&[d.environment.as_str(), req.to.as_str()])
            .inc();
    }
    Ok(Json(view_one(&state, &updated, &caller).await?))
}

/// A checklist tick.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistTick {
    /// Position of the item (0-based).
    pub index: usize,
    /// Ticked or not.
    pub done: bool,
}

/// Tick (or untick) a pre-deployment checklist item; who and when are recorded.
#[utoipa::path(post, path = "/api/events/{id}/checklist", tag = "events", params(("id" = Id, Path)), request_body = ChecklistTick,
    responses((status = 200, body = EventView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn tick_checklist(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
    Json(req): Json<ChecklistTick>,
) -> Result<Json<EventView>> {
    let e = load(&state, id).await?;
    if !caller.can_modify_event(&e) && !caller.can(Permission::CreateEvent(EventKind::DeploymentWindow)) {
        return Err(deny(&state, &caller, &meta, "tick this checklist").await);
    }
    let EventPayload::DeploymentWindow(mut d) = e.payload.clone() else {
        return Err(Error::invalid(
            "index",
            "no_checklist",
            "only deployment windows have a checklist",
        ));
    };
    if !matches!(e.status, EventStatus::PendingApproval | EventStatus::Planned) {
        return Err(Error::conflict(
            "checklist-closed",
            "the checklist is closed once the deployment started",
        ));
    }
    let item = d
        .checklist
        .get_mut(req.index)
        .ok_or_else(|| Error::invalid("index", "out_of_range", "no such item"))?;
    item.done = req.done;
    item.done_by = req.done.then_some(caller.id());
    item.done_at = req.done.then(Utc::now);
    let change = StatusChange {
        from: e.status,
        to: e.status,
        actor_id: Some(caller.id()),
        comment: String::new(),
        approval: None,
        approved_by: None,
        payload: Some(EventPayload::DeploymentWindow(d)),
    };
    let mut record = meta.audit(Some(caller.id()), "jwt", "event.checklist", "event");
    record.details = serde_json::json!({ "index": req.index, "done": req.done });
    let updated = state.store.change_status(id, &change, &record, &[]).await?;
    Ok(Json(view_one(&state, &updated, &caller).await?))
}

/// An ADMIN's decision on a production window.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// `review` (start reviewing), `approve` or `refuse`.
    pub decision: String,
    /// Required to refuse.
    #[serde(default)]
    pub comment: String,
}

/// History list.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    /// Entries, oldest first.
    pub items: Vec<HistoryEntry>,
}

/// The approval history of a production window: who submitted, reviewed, approved or refused, when, why.
#[utoipa::path(get, path = "/api/events/{id}/approvals", tag = "events", params(("id" = Id, Path)),
    responses((status = 200, body = History), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn list_approvals(
    State(state): State<AppState>,
    Auth(_caller): Auth,
    Path(id): Path<Id>,
) -> Result<Json<History>> {
    load(&state, id).await?;
    let items = state
        .store
        .event_history(id)
        .await?
        .into_iter()
        .filter(|h| h.kind == "approval")
        .collect();
    Ok(Json(History { items }))
}

/// The full history of an event: approval steps and status changes.
#[utoipa::path(get, path = "/api/events/{id}/history", tag = "events", params(("id" = Id, Path)),
    responses((status = 200, body = History), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn history(
    State(state): State<AppState>,
    Auth(_caller): Auth,
    Path(id): Path<Id>,
) -> Result<Json<History>> {
    load(&state, id).await?;
    Ok(Json(History {
        items: state.store.event_history(id).await?,
    }))
}

fn reminders(e: &Event) -> Vec<NewJob> {
    [
        ("24h", Duration::hours(24)),
        ("1h", Duration::hours(1)),
        ("15m", Duration::minutes(15)),
    ]
    .into_iter()
    .filter(|(_, before)| e.start - *before > Utc::now())
    .map(|(label, before)| NewJob {
        kind: "reminder.deployment".to_owned(),
        payload: serde_json::json!({ "event_id": e.id, "start": e.start, "before": label }),
        run_at: e.start - before,
        dedupe_key: Some(format!("reminder:{}:{}:{}", e.id, label, e.start.timestamp())),
        max_attempts: 5,
    })
    .collect()
}

/// Review, approve or refuse a production window (ADMIN only, never the requester). Refusing needs
/// a comment. Approval re-checks conflicts and freezes and schedules reminders at 24 h, 1 h and 15 min.
#[utoipa::path(post, path = "/api/events/{id}/approvals", tag = "events", params(("id" = Id, Path)), request_body = Decision,
    responses((status = 200, body = EventView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn decide(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
    Json(req): Json<Decision>,
) -> Result<Json<EventView>> {
    require(&state, &caller, &meta, Permission::ApproveProd).await?;
    let e = load(&state, id).await?;
    if workflow::prod_window(&e.payload).is_none() {
        return Err(Error::conflict(
            "no-approval-needed",
            "only production deployment windows are approved",
        ));
    }
    let comment = req.comment.trim().to_owned();
    if comment.chars().count() > 2000 {
        return Err(Error::invalid("comment", "too_long", "at most 2000 characters"));
    }
    let action = match req.decision.as_str() {
        "review" => ApprovalAction::ReviewStarted,
        "approve" => ApprovalAction::Approved,
        "refuse" => ApprovalAction::Refused,
        _ => {
            return Err(Error::invalid(
                "decision",
                "invalid",
                "use `review`, `approve` or `refuse`",
            ));
        }
    };
    if e.status != EventStatus::PendingApproval {
        return Err(Error::conflict(
            "not-pending",
            format!(
                "the window is `{}`; only a window pending approval can be decided",
                e.status.as_str()
            ),
        ));
    }
    let self_approval = e.created_by == Some(caller.id());
    if self_approval
        && action != ApprovalAction::ReviewStarted
        && !state.settings.deployments.allow_self_approval
    {
        return Err(deny(&state, &caller, &meta, "approve your own deployment window").await);
    }
    let mut record = meta.audit(Some(caller.id()), "jwt", "event.approval", "event");
    record.details = serde_json::json!({ "decision": action.as_str(), "self_approval": self_approval });
    let comment_for_notice = comment.clone();
    let updated = match action {
        ApprovalAction::ReviewStarted => {
            state
                .store
                .add_approval_step(id, Some(caller.id()), action, &comment, &record)
                .await?;
            load(&state, id).await?
        }
        ApprovalAction::Refused => {
            if comment.is_empty() {
                return Err(Error::invalid(
                    "comment",
                    "required",
                    "say why the window is refused",
                ));
            }
            let change = StatusChange {
                from: EventStatus::PendingApproval,
                to: EventStatus::Refused,
                actor_id: Some(caller.id()),
                comment,
                approval: Some(action),
                approved_by: Some(None),
                payload: None,
            };
            state
                .store
                .change_status(
                    id,
                    &change,
                    &record,
                    &[fanout(
                        NotificationKind::ApprovalDecided,
                        id,
                        caller.id(),
                        &FanoutExtra {
                            comment: Some(comment_for_notice.clone()),
                            ..Default::default()
                        },
                    )],
                )
                .await?
        }
        _ => {
            // Conflicts and freezes are checked again at approval time.
            check_blockers(&state, &e.payload, e.start, e.end, Some(id)).await?;
            let change = StatusChange {
                from: EventStatus::PendingApproval,
                to: EventStatus::Planned,
                actor_id: Some(caller.id()),
                comment,
                approval: Some(action),
                approved_by: Some(Some(caller.id())),
                payload: None,
            };
            let mut jobs = reminders(&e);
            jobs.push(fanout(
                NotificationKind::ApprovalDecided,
                id,
                caller.id(),
                &FanoutExtra {
                    comment: Some(comment_for_notice.clone()),
                    ..Default::default()
                },
            ));
            state.store.change_status(id, &change, &record, &jobs).await?
        }
    };
    Ok(Json(view_one(&state, &updated, &caller).await?))
}

/// A resubmission.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// What changed since the refusal.
    #[serde(default)]
    pub comment: String,
}

/// Submit a refused production window again for approval (its creator or an ADMIN).
#[utoipa::path(post, path = "/api/events/{id}/submit", tag = "events", params(("id" = Id, Path)), request_body = SubmitRequest,
    responses((status = 200, body = EventView), (status = 403, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn submit(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
    Json(req): Json<SubmitRequest>,
) -> Result<Json<EventView>> {
    let e = load(&state, id).await?;
    if !caller.can_modify_event(&e) {
        return Err(deny(&state, &caller, &meta, "submit this window").await);
    }
    if workflow::prod_window(&e.payload).is_none() || e.status != EventStatus::Refused {
        return Err(Error::conflict(
            "not-refused",
            "only a refused production window is submitted again",
        ));
    }
    check_blockers(&state, &e.payload, e.start, e.end, Some(id)).await?;
    let change = StatusChange {
        from: EventStatus::Refused,
        to: EventStatus::PendingApproval,
        actor_id: Some(caller.id()),
        comment: req.comment.chars().take(2000).collect(),
        approval: Some(ApprovalAction::Submitted),
        approved_by: Some(None),
        payload: None,
    };
    let record = meta.audit(Some(caller.id()), "jwt", "event.approval.submit", "event");
    let updated = state
        .store
        .change_status(
            id,
            &change,
            &record,
            &[fanout(
                NotificationKind::ApprovalRequested,
                id,
                caller.id(),
                &FanoutExtra::default(),
            )],
        )
        .await?;
    Ok(Json(view_one(&state, &updated, &caller).await?))
}

/// Freeze list.
#[derive(Debug, Serialize, ToSchema)]
pub struct FreezeList {
    /// Freeze periods.
    pub items: Vec<FreezePeriod>,
}

/// Freeze periods (everyone sees them when planning).
#[utoipa::path(get, path = "/api/freezes", tag = "events", responses((status = 200, body = FreezeList)), security(("bearer" = [])))]
async fn list_freezes(State(state): State<AppState>, Auth(_caller): Auth) -> Result<Json<FreezeList>> {
    Ok(Json(FreezeList {
        items: state.store.list_freezes().await?,
    }))
}

/// A freeze to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FreezeInput {
    /// Name shown in refusals.
    pub name: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// RFC 5545 RRULE for a recurring freeze (e.g. `FREQ=WEEKLY;BYDAY=FR`).
    #[serde(default)]
    pub rrule: Option<String>,
    /// IANA time zone of the recurrence (default UTC).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Environments it blocks (default prod).
    #[serde(default)]
    pub environments: Option<Vec<Environment>>,
}

/// Create a freeze period (ADMIN).
#[utoipa::path(post, path = "/api/freezes", tag = "events", request_body = FreezeInput,
    responses((status = 201, body = FreezePeriod), (status = 403, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn create_freeze(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Json(req): Json<FreezeInput>,
) -> Result<Response> {
    if caller.role() != Role::Admin {
        return Err(deny(&state, &caller, &meta, "define freeze periods").await);
    }
    let name = req.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid(
            "name",
            "invalid",
            "a freeze has a name of 1 to 100 characters",
        ));
    }
    if req.ends_at <= req.starts_at {
        return Err(Error::invalid(
            "ends_at",
            "before_start",
            "the end must be after the start",
        ));
    }
    let timezone = req.timezone.unwrap_or_else(|| "UTC".to_owned());
    if timezone.parse::<chrono_tz::Tz>().is_err() {
        return Err(Error::invalid(
            "timezone",
            "invalid",
            "use an IANA time zone such as Europe/Paris",
        ));
    }
    let rrule = req.rrule.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    if let Some(rule) = &rrule {
        recurrence::validate(rule, req.starts_at, req.ends_at)?;
    }
    let environments = req.environments.unwrap_or_else(|| vec![Environment::Prod]);
    if environments.is_empty() {
        return Err(Error::invalid(
            "environments",
            "required",
            "name at least one environment",
        ));
    }
    let freeze = NewFreeze {
        name,
        starts_at: req.starts_at,
        ends_at: req.ends_at,
        rrule,
        timezone,
        environments,
        created_by: Some(caller.id()),
    };
    let created = state
        .store
        .create_freeze(
            &freeze,
            &meta.audit(Some(caller.id()), "jwt", "freeze.create", "freeze"),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Delete a freeze period (ADMIN).
#[utoipa::path(delete, path = "/api/freezes/{id}", tag = "events", params(("id" = Id, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn delete_freeze(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
) -> Result<StatusCode> {
    if caller.role() != Role::Admin {
        return Err(deny(&state, &caller, &meta, "delete freeze periods").await);
    }
    state
        .store
        .delete_freeze(
            id,
            &meta.audit(Some(caller.id()), "jwt", "freeze.delete", "freeze"),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
