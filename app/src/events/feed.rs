//! The iCalendar feed (RFC 5545): `GET /api/calendar.ics?token=...`, a personal, revocable token,
//! so Outlook, Google Calendar or Thunderbird can subscribe. Series are sent with their RRULE and
//! EXDATEs, edited occurrences with a RECURRENCE-ID.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use icalendar::{Calendar, Component, EventLike};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{Auth, tokens};
use crate::error::{Error, Problem, Result};
use crate::http::AppState;
use crate::http::extract::{Json, Query};
use crate::http::meta::ClientMeta;
use crate::model::event::Environment;
use crate::model::{Event, EventKind, EventPayload, EventQuery, EventStatus, Id};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(feed))
        .routes(routes!(create_token, revoke_tokens))
}

/// Feed parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FeedParams {
    /// Personal feed token (from `POST /api/calendar/token`).
    pub token: String,
    /// Only this team's events (a team feed).
    pub team_id: Option<Id>,
    /// Only deployment windows of this environment (an environment feed).
    pub environment: Option<Environment>,
    /// Only this kind.
    #[serde(rename = "type")]
    pub kind: Option<EventKind>,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Renders events as an iCalendar document.
pub fn render(events: &[Event], public_url: &str) -> String {
    let mut cal = Calendar::new();
    cal.name("uYoop-Cal");
    for e in events {
        let mut ev = icalendar::Event::new();
        ev.uid(&format!("event-{}@uyoop-cal", e.parent_id.unwrap_or(e.id)))
            .summary(&e.title)
            .starts(e.start)
            .ends(e.end)
            .url(&format!("{}/events/{}", public_url.trim_end_matches('/'), e.id))
            .add_property("CATEGORIES", e.kind().as_str())
            .add_property("SEQUENCE", e.version.to_string())
            .add_property("LAST-MODIFIED", stamp(e.updated_at));
        let mut description = e.description.clone();
        if let EventPayload::DeploymentWindow(d) = &e.payload {
            description = format!(
                "[{}] {}\n{}: {}",
                d.environment.as_str(),
                description,
                "services",
                d.services.join(", ")
            );
        }
        ev.description(description.trim());
        ev.status(match e.status {
            EventStatus::Cancelled | EventStatus::Refused => icalendar::EventStatus::Cancelled,
            EventStatus::PendingApproval => icalendar::EventStatus::Tentative,
            _ => icalendar::EventStatus::Confirmed,
        });
        if let Some(rule) = &e.rrule {
            ev.add_property("RRULE", rule.as_str());
            for ex in &e.exdates {
                ev.add_multi_property("EXDATE", &stamp(*ex));
            }
        }
        if let Some(rid) = e.recurrence_id {
            ev.add_property("RECURRENCE-ID", stamp(rid));
        }
        cal.push(ev.done());
    }
    cal.done().to_string()
}

/// Your calendar as iCalendar, for subscriptions (events from 90 days ago to a year ahead).
#[utoipa::path(get, path = "/api/calendar.ics", tag = "events", params(FeedParams),
    responses((status = 200, description = "text/calendar", content_type = "text/calendar"), (status = 401, body = Problem)))]
async fn feed(State(state): State<AppState>, Query(p): Query<FeedParams>) -> Result<Response> {
    let user_id = state
        .store
        .calendar_token_user(&tokens::hash_token(&p.token))
        .await?
        .ok_or_else(|| {
            Error::Unauthorized("unknown or revoked calendar token; create a new one".to_owned())
        })?;
    let user = state.store.user(user_id).await?.filter(|u| !u.disabled);
    if user.is_none() {
        return Err(Error::Unauthorized("the account is disabled".to_owned()));
    }
    let now = Utc::now();
    let q = EventQuery {
        window: Some((now - Duration::days(90), now + Duration::days(365))),
        kind: if p.environment.is_some() {
            Some(EventKind::DeploymentWindow)
        } else {
            p.kind
        },
        team_id: p.team_id,
        limit: 10_000,
        ..Default::default()
    };
    let mut events = state.store.list_events(&q).await?;
    if let Some(env) = p.environment {
        events.retain(|e| matches!(&e.payload, EventPayload::DeploymentWindow(d) if d.environment == env));
    }
    let body = render(&events, &state.settings.server.public_url);
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response())
}

/// A new feed token.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedToken {
    /// The token, shown once.
    pub token: String,
    /// The subscription URL.
    pub url: String,
}

/// Create a personal calendar feed token (revoke them all with DELETE).
#[utoipa::path(post, path = "/api/calendar/token", tag = "events", responses((status = 201, body = FeedToken)), security(("bearer" = [])))]
async fn create_token(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
) -> Result<Response> {
    let token = tokens::new_opaque_token();
    let record = meta.audit(
        Some(caller.id()),
        "jwt",
        "calendar.token.create",
        "calendar_token",
    );
    state
        .store
        .create_calendar_token(caller.id(), &tokens::hash_token(&token), &record)
        .await?;
    let url = format!(
        "{}/api/calendar.ics?token={token}",
        state.settings.server.public_url.trim_end_matches('/')
    );
    Ok((StatusCode::CREATED, Json(FeedToken { token, url })).into_response())
}

/// Revoke every calendar feed token of yours.
#[utoipa::path(delete, path = "/api/calendar/token", tag = "events", responses((status = 204)), security(("bearer" = [])))]
async fn revoke_tokens(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
) -> Result<StatusCode> {
    let record = meta.audit(
        Some(caller.id()),
        "jwt",
        "calendar.token.revoke",
        "calendar_token",
    );
    state.store.revoke_calendar_tokens(caller.id(), &record).await?;
    Ok(StatusCode::NO_CONTENT)
}
