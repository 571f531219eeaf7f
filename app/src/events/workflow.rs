//! Deployment rules: the status state machine, conflicts between production windows, freeze
//! periods, and the next free slot.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::recurrence;
use crate::error::Result;
use crate::model::event::{DeploymentExtra, Environment};
use crate::model::{Event, EventKind, EventPayload, EventQuery, EventStatus, FreezePeriod, Id};
use crate::store::DynStore;

/// Legal status changes (approval steps move `pending_approval` themselves, see `approvals`).
pub fn can_transition(kind: EventKind, from: EventStatus, to: EventStatus) -> bool {
    use EventStatus::*;
    match kind {
        EventKind::DeploymentWindow => matches!(
            (from, to),
            (PendingApproval | Refused | Planned, Cancelled)
                | (Planned, InProgress)
                | (InProgress, Completed | Failed | RolledBack)
                | (Failed | Completed, RolledBack)
        ),
        EventKind::Meeting | EventKind::GitAction => {
            matches!(
                (from, to),
                (Planned, Cancelled | Completed) | (Cancelled, Planned)
            )
        }
    }
}

/// The statuses a window can move to from `from`, for error messages.
pub fn next_statuses(kind: EventKind, from: EventStatus) -> Vec<&'static str> {
    EventStatus::ALL
        .into_iter()
        .filter(|to| can_transition(kind, from, *to))
        .map(EventStatus::as_str)
        .collect()
}

/// The deployment payload of a production window.
pub fn prod_window(payload: &EventPayload) -> Option<&DeploymentExtra> {
    match payload {
        EventPayload::DeploymentWindow(d) if d.environment == Environment::Prod => Some(d),
        _ => None,
    }
}

/// Why a production window cannot take place when asked.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Conflict {
    /// `overlap` (another prod window on a shared service) or `freeze`.
    pub reason: String,
    /// The other window, for overlaps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<Id>,
    /// The freeze period, for freezes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freeze_id: Option<Id>,
    /// Its title or name.
    pub name: String,
    /// Services both windows touch.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// Start of the blocking window or freeze.
    pub start: DateTime<Utc>,
    /// End of the blocking window or freeze.
    pub end: DateTime<Utc>,
}

const ACTIVE: [EventStatus; 3] = [
    EventStatus::PendingApproval,
    EventStatus::Planned,
    EventStatus::InProgress,
];

/// Production windows overlapping `[start, end)` that share a service with `services`.
pub async fn overlaps(
    store: &DynStore,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    services: &[String],
    exclude: Option<Id>,
) -> Result<Vec<Conflict>> {
    let candidates = store
        .list_events(&EventQuery {
            window: Some((start, end)),
            kind: Some(EventKind::DeploymentWindow),
            ..Default::default()
        })
        .await?;
    Ok(candidates
        .into_iter()
        .filter(|e| Some(e.id) != exclude && ACTIVE.contains(&e.status))
        .filter_map(|e| {
            let d = prod_window(&e.payload)?;
            let shared: Vec<String> = d
                .services
                .iter()
                .filter(|s| services.iter().any(|x| x.eq_ignore_ascii_case(s)))
                .cloned()
                .collect();
            (!shared.is_empty()).then(|| Conflict {
                reason: "overlap".to_owned(),
                event_id: Some(e.id),
                freeze_id: None,
                name: e.title.clone(),
                services: shared,
                start: e.start,
                end: e.end,
            })
        })
        .collect())
}

/// Occurrences of a freeze overlapping `[start, end)`.
pub fn freeze_hits(
    f: &FreezePeriod,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let length = f.ends_at - f.starts_at;
    let Some(rule) = &f.rrule else {
        return if f.starts_at < end && f.ends_at > start {
            vec![(f.starts_at, f.ends_at)]
        } else {
            Vec::new()
        };
    };
    // A recurring freeze repeats in its own time zone (a 00:00 freeze stays 00:00 across DST).
    let Ok(tz) = f.timezone.parse::<chrono_tz::Tz>() else {
        return Vec::new();
    };
    let local = tz.from_utc_datetime(&f.starts_at.naive_utc());
    let text = format!(
        "DTSTART;TZID={}:{}\nRRULE:{}",
        tz.name(),
        local.format("%Y%m%dT%H%M%S"),
        rule
    );
    let Ok(set) = text.parse::<rrule::RRuleSet>() else {
        return Vec::new();
    };
    let rtz = rrule::Tz::Tz(tz);
    let after = rtz.from_utc_datetime(&(start - length - Duration::seconds(1)).naive_utc());
    let before = rtz.from_utc_datetime(&end.naive_utc());
    set.after(after)
        .before(before)
        .all(1000)
        .dates
        .into_iter()
        .map(|d| {
            let s = d.with_timezone(&Utc);
            (s, s + length)
        })
        .filter(|(s, e)| *s < end && *e > start)
        .collect()
}

/// Freezes that block `env` during `[start, end)`.
pub async fn freezes(
    store: &DynStore,
    env: Environment,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<Conflict>> {
    Ok(store
        .list_freezes()
        .await?
        .into_iter()
        .filter(|f| f.environments.contains(&env))
        .flat_map(|f| {
            freeze_hits(&f, start, end)
                .into_iter()
                .map(|(s, e)| Conflict {
                    reason: "freeze".to_owned(),
                    event_id: None,
                    freeze_id: Some(f.id),
                    name: f.name.clone(),
                    services: Vec::new(),
                    start: s,
                    end: e,
                })
                .collect::<Vec<_>>()
        })
        .collect())
}

/// Everything that blocks a deployment window in `env` on `services` during `[start, end)`.
pub async fn blockers(
    store: &DynStore,
    env: Environment,
    services: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    exclude: Option<Id>,
) -> Result<Vec<Conflict>> {
    let mut all = freezes(store, env, start, end).await?;
    if env == Environment::Prod {
        all.extend(overlaps(store, start, end, services, exclude).await?);
    }
    Ok(all)
}

/// The earliest start at or after `start` where a window of this length is not blocked, looking
/// up to 60 days ahead.
pub async fn next_free_slot(
    store: &DynStore,
    env: Environment,
    services: &[String],
    start: DateTime<Utc>,
    length: Duration,
    exclude: Option<Id>,
) -> Result<Option<DateTime<Utc>>> {
    let horizon = start + Duration::days(60);
    let mut t = start;
    for _ in 0..200 {
        let found = blockers(store, env, services, t, t + length, exclude).await?;
        let Some(latest_end) = found.iter().map(|c| c.end).max() else {
            return Ok(Some(t));
        };
        t = latest_end.max(t + Duration::minutes(1));
        if t > horizon {
            break;
        }
    }
    Ok(None)
}

/// Checklist items not yet ticked.
pub fn unchecked_items(event: &Event) -> Vec<String> {
    match &event.payload {
        EventPayload::DeploymentWindow(d) => d
            .checklist
            .iter()
            .filter(|i| !i.done)
            .map(|i| i.label.clone())
            .collect(),
        _ => Vec::new(),
    }
}

/// Recurrence helper re-exported for the feed.
pub use recurrence::occurrences;

#[cfg(test)]
mod tests {
    use super::*;
    use EventStatus::*;

    #[test]
    fn state_machine() {
        let k = EventKind::DeploymentWindow;
        assert!(can_transition(k, Planned, InProgress));
        assert!(can_transition(k, InProgress, Completed));
        assert!(can_transition(k, InProgress, RolledBack));
        assert!(can_transition(k, Failed, RolledBack));
        assert!(
            !can_transition(k, Planned, Completed),
            "must go through in_progress"
        );
        assert!(!can_transition(k, PendingApproval, InProgress), "approval first");
        assert!(!can_transition(k, Completed, InProgress));
        assert!(
            !can_transition(k, Refused, Planned),
            "a refused window is resubmitted, not forced"
        );
        assert_eq!(
            next_statuses(k, InProgress),
            vec!["completed", "failed", "rolled_back"]
        );
    }

    #[test]
    fn recurring_freeze_in_its_time_zone() {
        // Every Friday 18:00 -> Monday 06:00 Paris time, from Friday 6 March 2026.
        let start = Utc.with_ymd_and_hms(2026, 3, 6, 17, 0, 0).unwrap(); // 18:00 CET
        let f = FreezePeriod {
            id: 1,
            name: "weekend".into(),
            starts_at: start,
            ends_at: start + Duration::hours(60),
            rrule: Some("FREQ=WEEKLY".into()),
            timezone: "Europe/Paris".into(),
            environments: vec![Environment::Prod],
            created_by: None,
        };
        // Saturday 4 April (after the switch to summer time): blocked; the Friday start is 16:00 UTC.
        let sat = Utc.with_ymd_and_hms(2026, 4, 4, 12, 0, 0).unwrap();
        let hits = freeze_hits(&f, sat, sat + Duration::hours(1));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].0, Utc.with_ymd_and_hms(2026, 4, 3, 16, 0, 0).unwrap());
        // Wednesday: free.
        let wed = Utc.with_ymd_and_hms(2026, 4, 8, 12, 0, 0).unwrap();
        assert!(freeze_hits(&f, wed, wed + Duration::hours(1)).is_empty());
    }
}
