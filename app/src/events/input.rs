//! What clients send to create or replace an event, and its validation into store types. Every
//! problem is reported as a field error with the path of the field (`extra.repository_url`).

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::recurrence;
use crate::error::{Error, FieldError, Result};
use crate::model::event::{DeploymentExtra, Environment, GitActionExtra, GitTrigger, MeetingExtra};
use crate::model::{EventKind, EventPayload, Id};
use crate::store::DynStore;

/// Title limit of the spec.
pub const TITLE_MAX: usize = 255;
/// Description limit of the spec.
pub const DESCRIPTION_MAX: usize = 2000;
/// Longest single occurrence.
const MAX_SPAN_DAYS: i64 = 31;
/// A git action without an end gets the sandbox's time limit.
const GIT_DEFAULT_MINUTES: i64 = 30;

/// An event as clients send it. `extra` depends on `type`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// `meeting`, `deployment_window` or `git_action`.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// 1 to 255 characters.
    pub title: String,
    /// At most 2000 characters.
    #[serde(default)]
    pub description: String,
    /// Start (RFC 3339).
    pub start: DateTime<Utc>,
    /// End; computed for deployment windows (start + duration) and defaulted for git actions.
    #[serde(default)]
    pub end: Option<DateTime<Utc>>,
    /// Team.
    #[serde(default)]
    pub team_id: Option<Id>,
    /// An RFC 5545 RRULE, for clients that speak it (meetings also accept `extra.recurrence`).
    #[serde(default)]
    pub rrule: Option<String>,
    /// The kind's payload.
    #[schema(value_type = Object)]
    pub extra: serde_json::Value,
    /// The version read (required to replace an event; ignored on create).
    #[serde(default)]
    pub version: Option<i32>,
}

/// A validated event, ready for the store.
#[derive(Debug, Clone)]
pub struct Valid {
    /// Title, trimmed.
    pub title: String,
    /// Description.
    pub description: String,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// Recurrence rule.
    pub rrule: Option<String>,
    /// End of the series (see `NewEvent::series_end`).
    pub series_end: Option<DateTime<Utc>>,
    /// Payload.
    pub payload: EventPayload,
    /// Team.
    pub team_id: Option<Id>,
}

fn field(errors: &mut Vec<FieldError>, f: &str, code: &str, msg: impl Into<String>) {
    errors.push(FieldError::new(f, code, msg));
}

fn parse_extra(kind: EventKind, extra: &serde_json::Value) -> Result<EventPayload> {
    fn typed<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<T> {
        serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            let f = if path == "." {
                "extra".to_owned()
            } else {
                format!("extra.{path}")
            };
            let code = if message.starts_with("unknown field") {
                "unknown_field"
            } else if message.starts_with("missing field") {
                "required"
            } else {
                "invalid"
            };
            Error::Validation(vec![FieldError::new(f, code, message)])
        })
    }
    Ok(match kind {
        EventKind::Meeting => EventPayload::Meeting(typed(extra)?),
        EventKind::DeploymentWindow => EventPayload::DeploymentWindow(typed(extra)?),
        EventKind::GitAction => EventPayload::GitAction(typed(extra)?),
    })
}

/// `https://host/path` without credentials, query or fragment, or `git@host:path`.
pub fn valid_git_url(url: &str) -> bool {
    if url.len() > 500 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    if let Some(rest) = url.strip_prefix("git@") {
        let Some((host, path)) = rest.split_once(':') else {
            return false;
        };
        return !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            && !path.is_empty()
            && !path.starts_with('-')
            && !path.contains("..")
            && path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._~/-".contains(c));
    }
    if !url.starts_with("https://") {
        return false;
    }
    match url::Url::parse(url) {
        Ok(u) => {
            u.scheme() == "https"
                && u.host_str().is_some_and(|h| !h.is_empty())
                && u.username().is_empty()
                && u.password().is_none()
                && u.query().is_none()
                && u.fragment().is_none()
                && u.path().len() > 1
                && !u.path().contains("..")
        }
        Err(_) => false,
    }
}

/// A branch name git would accept (check-ref-format, simplified and stricter).
pub fn valid_branch(b: &str) -> bool {
    !b.is_empty()
        && b.len() <= 255
        && !b.starts_with('-')
        && !b.starts_with('/')
        && !b.ends_with('/')
        && !b.ends_with('.')
        && !b.ends_with(".lock")
        && !b.contains("..")
        && !b.contains("@{")
        && !b.contains("//")
        && b.chars()
            .all(|c| !c.is_control() && !c.is_whitespace() && !"~^:?*[\\".contains(c))
}

/// A 5-field cron expression (minute hour day-of-month month day-of-week).
pub fn valid_cron(expr: &str) -> bool {
    expr.split_whitespace().count() == 5 && expr.parse::<croner::Cron>().is_ok()
}

fn valid_http_url(u: &str) -> bool {
    u.len() <= 1000
        && url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

fn check_meeting(m: &mut MeetingExtra, errors: &mut Vec<FieldError>) {
    if let Some(v) = &m.video_url
        && !valid_http_url(v)
    {
        field(
            errors,
            "extra.video_url",
            "invalid",
            "a video link is an http:// or https:// URL",
        );
    }
    if m.agenda_md.chars().count() > 10_000 {
        field(
            errors,
            "extra.agenda_md",
            "too_long",
            "the agenda has at most 10000 characters",
        );
    }
    if let Some(epic) = &m.tags.epic
        && epic.chars().count() > 100
    {
        field(
            errors,
            "extra.tags.epic",
            "too_long",
            "an epic name has at most 100 characters",
        );
    }
    if let Some(sprint) = m.tags.sprint
        && !(0..=100_000).contains(&sprint)
    {
        field(
            errors,
            "extra.tags.sprint",
            "out_of_range",
            "a sprint number is between 0 and 100000",
        );
    }
    m.participants.sort_unstable();
    m.participants.dedup();
    if m.participants.len() > 200 {
        field(
            errors,
            "extra.participants",
            "too_many",
            "at most 200 participants",
        );
    }
}

fn check_deployment(d: &mut DeploymentExtra, errors: &mut Vec<FieldError>, caller: Id, now: DateTime<Utc>) {
    if !(1..=10_080).contains(&d.duration_minutes) {
        field(
            errors,
            "extra.duration_minutes",
            "out_of_range",
            "a deployment window lasts 1 minute to 7 days",
        );
    }
    let mut services: Vec<String> = d
        .services
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    services.sort_by_key(|s| s.to_lowercase());
    services.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    if services.is_empty() {
        field(
            errors,
            "extra.services",
            "required",
            "name at least one impacted service",
        );
    }
    if services.len() > 50 || services.iter().any(|s| s.chars().count() > 100) {
        field(
            errors,
            "extra.services",
            "too_long",
            "at most 50 services of 100 characters each",
        );
    }
    d.services = services;
    if d.change_description.chars().count() > DESCRIPTION_MAX {
        field(
            errors,
            "extra.change_description",
            "too_long",
            "at most 2000 characters",
        );
    }
    if d.rollback_plan.chars().count() > 4000 {
        field(
            errors,
            "extra.rollback_plan",
            "too_long",
            "at most 4000 characters",
        );
    }
    if d.environment == Environment::Prod && d.rollback_plan.trim().is_empty() {
        field(
            errors,
            "extra.rollback_plan",
            "required",
            "a production window needs a rollback plan",
        );
    }
    if d.checklist.len() > 50 {
        field(
            errors,
            "extra.checklist",
            "too_many",
            "at most 50 checklist items",
        );
    }
    for (i, item) in d.checklist.iter_mut().enumerate() {
        item.label = item.label.trim().to_owned();
        if item.label.is_empty() || item.label.chars().count() > 200 {
            field(
                errors,
                &format!("extra.checklist[{i}].label"),
                "invalid",
                "a checklist item has 1 to 200 characters",
            );
        }
        // Who ticked an item and when is recorded by the server, never taken from the client.
        if item.done && item.done_by.is_none() {
            item.done_by = Some(caller);
            item.done_at = Some(now);
        } else if !item.done {
            item.done_by = None;
            item.done_at = None;
        }
    }
}

fn check_git(g: &mut GitActionExtra, errors: &mut Vec<FieldError>) {
    g.repository_url = g.repository_url.trim().to_owned();
    if !valid_git_url(&g.repository_url) {
        field(
            errors,
            "extra.repository_url",
            "invalid",
            "use https://host/owner/repo(.git) (no credentials) or git@host:owner/repo.git",
        );
    }
    g.branch = g.branch.trim().to_owned();
    if !valid_branch(&g.branch) {
        field(errors, "extra.branch", "invalid", "not a valid branch name");
    }
    match (
        g.trigger,
        g.cron.as_deref().map(str::trim).filter(|c| !c.is_empty()),
    ) {
        (GitTrigger::Cron, None) => field(
            errors,
            "extra.cron",
            "required",
            "a scheduled action needs a cron expression",
        ),
        (GitTrigger::Cron, Some(c)) if !valid_cron(c) => field(
            errors,
            "extra.cron",
            "invalid",
            "use 5 fields: minute hour day-of-month month day-of-week, e.g. `0 2 * * 1`",
        ),
        (GitTrigger::Cron, Some(c)) => g.cron = Some(c.to_owned()),
        (_, Some(_)) => field(
            errors,
            "extra.cron",
            "not_allowed",
            "a cron expression only goes with trigger `cron`",
        ),
        (_, None) => g.cron = None,
    }
    g.post_actions.sort_by_key(|p| *p as u8);
    g.post_actions.dedup();
}

/// Validates `input` for an event created (or replaced) by `caller` at `now`.
pub async fn validate(input: EventInput, store: &DynStore, caller: Id, now: DateTime<Utc>) -> Result<Valid> {
    let mut errors = Vec::new();
    let title = input.title.trim().to_owned();
    if title.is_empty() {
        field(&mut errors, "title", "required", "give the event a title");
    } else if title.chars().count() > TITLE_MAX {
        field(
            &mut errors,
            "title",
            "too_long",
            format!("at most {TITLE_MAX} characters"),
        );
    }
    if input.description.chars().count() > DESCRIPTION_MAX {
        field(
            &mut errors,
            "description",
            "too_long",
            format!("at most {DESCRIPTION_MAX} characters"),
        );
    }
    let mut payload = parse_extra(input.kind, &input.extra)?;
    let start = input.start;
    let mut rrule = input
        .rrule
        .clone()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let end = match &mut payload {
        EventPayload::Meeting(m) => {
            check_meeting(m, &mut errors);
            if let Some(rec) = &m.recurrence {
                match recurrence::rule_from(rec) {
                    Ok(rule) if rrule.is_none() => rrule = rule,
                    Ok(_) => field(
                        &mut errors,
                        "rrule",
                        "conflict",
                        "give `rrule` or `extra.recurrence`, not both",
                    ),
                    Err(Error::Validation(mut v)) => errors.append(&mut v),
                    Err(e) => return Err(e),
                }
            }
            match input.end {
                Some(end) => end,
                None => {
                    field(&mut errors, "end", "required", "a meeting needs an end");
                    start + Duration::hours(1)
                }
            }
        }
        EventPayload::DeploymentWindow(d) => {
            check_deployment(d, &mut errors, caller, now);
            let end = start + Duration::minutes(i64::from(d.duration_minutes));
            if input.end.is_some_and(|e| e != end) {
                field(
                    &mut errors,
                    "end",
                    "mismatch",
                    "the end of a deployment window is start + duration_minutes",
                );
            }
            end
        }
        EventPayload::GitAction(g) => {
            check_git(g, &mut errors);
            input
                .end
                .unwrap_or(start + Duration::minutes(GIT_DEFAULT_MINUTES))
        }
    };
    if rrule.is_some() && input.kind != EventKind::Meeting {
        field(
            &mut errors,
            "rrule",
            "not_allowed",
            "only meetings repeat; git actions use a cron trigger",
        );
    }
    if end <= start {
        field(
            &mut errors,
            "end",
            "before_start",
            "the end must be after the start",
        );
    } else if end - start > Duration::days(MAX_SPAN_DAYS) {
        field(
            &mut errors,
            "end",
            "too_long",
            format!("an occurrence lasts at most {MAX_SPAN_DAYS} days"),
        );
    }
    let mut series_end = Some(end);
    if let Some(rule) = &rrule
        && end > start
    {
        match recurrence::validate(rule, start, end) {
            Ok(last) => series_end = last,
            Err(Error::Validation(mut v)) => errors.append(&mut v),
            Err(e) => return Err(e),
        }
    }
    if let EventPayload::Meeting(m) = &payload
        && !m.participants.is_empty()
    {
        let known = store.usernames(&m.participants).await?;
        if known.len() != m.participants.len() {
            let missing: Vec<String> = m
                .participants
                .iter()
                .filter(|id| !known.iter().any(|(k, _)| k == *id))
                .map(ToString::to_string)
                .collect();
            field(
                &mut errors,
                "extra.participants",
                "unknown_user",
                format!("no user with id {}", missing.join(", ")),
            );
        }
    }
    if let Some(team) = input.team_id
        && store.team(team).await?.is_none()
    {
        field(&mut errors, "team_id", "not_found", "no team with this id");
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    Ok(Valid {
        title,
        description: input.description,
        start,
        end,
        rrule,
        series_end,
        payload,
        team_id: input.team_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_urls() {
        for ok in [
            "https://gitlab.example.com/devops/uyoop-cal.git",
            "https://github.com/owner/repo",
            "git@gitlab.example.com:devops/uyoop-cal.git",
        ] {
            assert!(valid_git_url(ok), "{ok}");
        }
        for bad in [
            "http://github.com/o/r",
            "ssh://git@host/o/r",
            "file:///etc/passwd",
            "https://user:pw@github.com/o/r",
            "https://github.com/o/r?x=1",
            "https://github.com",
            "git@host:-oProxyCommand=evil",
            "git@host:../../etc",
            "ext::sh -c touch% /tmp/pwned",
            "https://github.com/o/r\n",
            "-uhttps://x/y",
        ] {
            assert!(!valid_git_url(bad), "{bad}");
        }
    }

    #[test]
    fn branches_and_cron() {
        for ok in ["main", "release/2.3", "feature/ABC-12_x"] {
            assert!(valid_branch(ok), "{ok}");
        }
        for bad in [
            "", "-x", "a..b", "a b", "x.lock", "a~1", "a^", "a:b", "@{-1}", "a/", "/a", "a\\b",
        ] {
            assert!(!valid_branch(bad), "{bad}");
        }
        assert!(valid_cron("0 2 * * 1"));
        assert!(valid_cron("*/15 9-17 * * MON-FRI"));
        assert!(!valid_cron("0 2 * *"));
        assert!(!valid_cron("0 0 2 * * 1"), "6 fields (seconds) are refused");
        assert!(!valid_cron("61 2 * * 1"));
    }
}
