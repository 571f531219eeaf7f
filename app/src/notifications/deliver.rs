//! The notification jobs: fan a change out, remind before a deployment, send an e-mail, post to a
//! chat channel, build the daily digest. Each takes the job and returns the crate's error: a
//! database or SMTP that is down is `Unavailable` (retried), a bad payload is `BadRequest` (failed
//! at once), as the job worker maps them.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, Duration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::chat::{self, Channel, ChatMessage};
use super::text::{self, Context, Lang};
use super::{FanoutExtra, email, kinds};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::model::{
    Event, EventPayload, EventStatus, Id, Job, NewJob, NewNotification, NotificationKind, Role, User,
    UserQuery,
};

/// Runs a job of this module's kinds; `None` for another kind.
pub async fn run(state: &AppState, job: &Job) -> Option<Result<()>> {
    Some(match job.kind.as_str() {
        kinds::FANOUT => run_fanout(state, job).await,
        kinds::REMINDER => run_reminder(state, job).await,
        kinds::EMAIL => run_email(state, job).await,
        kinds::CHAT => run_chat(state, job).await,
        kinds::DIGEST => run_digest(state, job).await,
        _ => return None,
    })
}

fn payload<T: serde::de::DeserializeOwned>(job: &Job) -> Result<T> {
    serde_json::from_value(job.payload.clone())
        .map_err(|e| Error::BadRequest(format!("invalid {} job payload: {e}", job.kind)))
}

#[derive(Debug, Deserialize)]
struct FanoutPayload {
    kind: NotificationKind,
    event_id: Id,
    #[serde(default)]
    actor_id: Option<Id>,
    #[serde(flatten)]
    extra: FanoutExtra,
}

/// `notify.fanout`: in-app rows for everyone concerned, plus their e-mail and chat jobs.
pub async fn run_fanout(state: &AppState, job: &Job) -> Result<()> {
    let p: FanoutPayload = payload(job)?;
    let Some(event) = state.store.event(p.event_id).await? else {
        // Deleted since: nobody needs to hear about it.
        return Ok(());
    };
    let key = format!("fanout:{}", job.id);
    fan_out(state, p.kind, &event, p.actor_id, &p.extra, &key, None).await
}

#[derive(Debug, Deserialize)]
struct ReminderPayload {
    event_id: Id,
    /// The start the reminder was scheduled for.
    start: DateTime<Utc>,
    /// `24h`, `1h` or `15m`.
    before: String,
}

/// `reminder.deployment`: notifies only if the window still starts at the scheduled time and is
/// still going to happen (a moved window has its own, newer reminders).
pub async fn run_reminder(state: &AppState, job: &Job) -> Result<()> {
    let p: ReminderPayload = payload(job)?;
    let Some(event) = state.store.event(p.event_id).await? else {
        return Ok(());
    };
    let still_on = matches!(event.status, EventStatus::Planned | EventStatus::PendingApproval);
    if event.start != p.start || !still_on {
        tracing::info!(event = event.id, before = %p.before, "reminder skipped: the window moved or was called off");
        return Ok(());
    }
    let key = format!("reminder:{}:{}:{}", event.id, p.before, event.start.timestamp());
    fan_out(
        state,
        NotificationKind::Reminder,
        &event,
        None,
        &FanoutExtra::default(),
        &key,
        Some(p.before),
    )
    .await
}

fn participants(event: &Event) -> Vec<Id> {
    match &event.payload {
        EventPayload::Meeting(m) => m.participants.clone(),
        _ => Vec::new(),
    }
}

async fn default_recipients(state: &AppState, kind: NotificationKind, event: &Event) -> Result<Vec<Id>> {
    Ok(match kind {
        NotificationKind::Mention => Vec::new(),
        NotificationKind::ApprovalRequested => {
            let admins = state
                .store
                .list_users(&UserQuery {
                    role: Some(Role::Admin),
                    limit: 500,
                    ..Default::default()
                })
                .await?;
            admins.items.into_iter().map(|u| u.id).collect()
        }
        NotificationKind::ApprovalDecided => event.created_by.into_iter().collect(),
        NotificationKind::StatusChanged => event.created_by.into_iter().chain(participants(event)).collect(),
        NotificationKind::Reminder => event
            .created_by
            .into_iter()
            .chain(event.approved_by)
            .chain(participants(event))
            .collect(),
    })
}

fn display(user: &User) -> String {
    if user.display_name.trim().is_empty() {
        user.username.clone()
    } else {
        user.display_name.clone()
    }
}

/// Writes the in-app rows and enqueues the deliveries of one change, idempotently: every row and
/// job has a key derived from `key` (the job's identity).
async fn fan_out(
    state: &AppState,
    kind: NotificationKind,
    event: &Event,
    actor_id: Option<Id>,
    extra: &FanoutExtra,
    key: &str,
    before: Option<String>,
) -> Result<()> {
    let mut ids = match &extra.recipients {
        Some(ids) => ids.clone(),
        None => default_recipients(state, kind, event).await?,
    };
    ids.sort_unstable();
    ids.dedup();
    ids.retain(|id| Some(*id) != actor_id);

    let actor = match actor_id {
        Some(id) => state.store.user(id).await?,
        None => None,
    };
    let context = Context {
        actor: actor.as_ref().map(display),
        event_title: event.title.clone(),
        event_start: event.start,
        status: event.status,
        previous_status: extra.previous_status,
        comment: extra.comment.clone(),
        before,
    };
    let link = format!("/events/{}", event.id);
    let data = serde_json::json!({ "event_id": event.id, "actor_id": actor_id });
    let settings = &state.settings;
    let email_on = email::enabled(&settings.smtp);

    let mut rows = Vec::new();
    let mut jobs = Vec::new();
    let mut chat_wanted = false;
    for id in ids {
        let Some(user) = state.store.user(id).await? else {
            continue;
        };
        if user.disabled {
            continue;
        }
        let prefs = state.store.notification_preferences(id).await?;
        if kind == NotificationKind::Reminder && !prefs.reminders {
            continue;
        }
        let words = text::render(kind, Lang::from_locale(&user.locale), &context);
        let row_key = format!("{key}:{id}");
        if kind.is_critical() && prefs.email && email_on {
            jobs.push(NewJob {
                dedupe_key: Some(format!("email:{row_key}")),
                max_attempts: 10,
                ..NewJob::now(kinds::EMAIL, serde_json::json!({ "notification_key": row_key }))
            });
        }
        chat_wanted |= prefs.chat;
        rows.push(NewNotification {
            user_id: id,
            kind,
            title: words.title,
            body: words.body,
            link: Some(link.clone()),
            data: data.clone(),
            dedupe_key: row_key,
        });
    }
    if chat_wanted {
        // One message per change in the team's channel, in the product's default language.
        let words = text::render(kind, Lang::Fr, &context);
        let message = ChatMessage {
            title: words.title,
            text: words.body,
            url: email::absolute(settings, Some(&link)),
            open: "Ouvrir dans uYoop-Cal".to_owned(),
        };
        let configured = [
            (Channel::Slack, settings.notify.slack_webhook_url.is_some()),
            (Channel::Teams, settings.notify.teams_webhook_url.is_some()),
        ];
        for (channel, on) in configured {
            if on {
                jobs.push(NewJob {
                    dedupe_key: Some(format!("chat:{}:{key}", channel.as_str())),
                    max_attempts: 10,
                    ..NewJob::now(
                        kinds::CHAT,
                        serde_json::json!({ "channel": channel, "message": message }),
                    )
                });
            }
        }
    }
    if rows.is_empty() && jobs.is_empty() {
        return Ok(());
    }
    state.store.store_notifications(&rows, &jobs).await?;
    Ok(())
}

#[derive(Debug, Deserialize)]
struct ChatPayload {
    channel: Channel,
    message: ChatMessage,
}

/// `chat.send`: posts one message to the configured Slack or Teams webhook, once.
pub async fn run_chat(state: &AppState, job: &Job) -> Result<()> {
    let p: ChatPayload = payload(job)?;
    let delivery = format!("{}:{}", p.channel.as_str(), job.id);
    if state.store.delivered(&delivery).await? {
        return Ok(());
    }
    let notify = &state.settings.notify;
    let (url, body) = match p.channel {
        Channel::Slack => (&notify.slack_webhook_url, chat::slack_payload(&p.message)),
        Channel::Teams => (&notify.teams_webhook_url, chat::teams_payload(&p.message)),
    };
    let Some(url) = url else {
        // Unconfigured since the job was queued.
        return Ok(());
    };
    chat::post(url.expose(), &body).await?;
    state.store.record_delivery(&delivery, p.channel.as_str()).await?;
    Ok(())
}

/// Which digest an `email.send` job is.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DigestTarget {
    user_id: Id,
    date: NaiveDate,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
struct EmailPayload {
    #[serde(default)]
    notification_key: Option<String>,
    #[serde(default)]
    digest: Option<DigestTarget>,
}

/// `email.send`: one critical notification, or one user's digest. Checked against the user's
/// current preferences; sent once (a delivery row is written after the SMTP server accepted it,
/// and the Message-ID is derived from the same key).
pub async fn run_email(state: &AppState, job: &Job) -> Result<()> {
    let p: EmailPayload = payload(job)?;
    let settings = &state.settings;
    if !email::enabled(&settings.smtp) {
        return Ok(());
    }
    let (delivery, mail) = match (p.notification_key, p.digest) {
        (Some(key), _) => {
            let delivery = format!("email:{key}");
            if state.store.delivered(&delivery).await? {
                return Ok(());
            }
            let Some(n) = state.store.notification_by_key(&key).await? else {
                return Ok(());
            };
            let Some(user) = recipient(state, n.user_id).await? else {
                return Ok(());
            };
            if !state.store.notification_preferences(user.id).await?.email {
                return Ok(());
            }
            let mail = email::single(settings, &user, &n, &delivery)?;
            (delivery, mail)
        }
        (None, Some(d)) => {
            let delivery = format!("email:digest:{}:{}", d.date, d.user_id);
            if state.store.delivered(&delivery).await? {
                return Ok(());
            }
            let Some(user) = recipient(state, d.user_id).await? else {
                return Ok(());
            };
            let prefs = state.store.notification_preferences(user.id).await?;
            if !(prefs.email && prefs.daily_digest) {
                return Ok(());
            }
            let mut items = state
                .store
                .unread_notifications_between(Some(user.id), d.from, d.until)
                .await?;
            items.retain(|n| !n.kind.is_critical());
            if items.is_empty() {
                return Ok(());
            }
            let mail = email::digest(settings, &user, &items, &delivery)?;
            (delivery, mail)
        }
        (None, None) => {
            return Err(Error::BadRequest(
                "email.send needs `notification_key` or `digest`".to_owned(),
            ));
        }
    };
    email::send(&settings.smtp, mail).await?;
    state.store.record_delivery(&delivery, "email").await?;
    Ok(())
}

async fn recipient(state: &AppState, id: Id) -> Result<Option<User>> {
    Ok(state.store.user(id).await?.filter(|u| !u.disabled))
}

#[derive(Debug, Deserialize)]
struct DigestPayload {
    date: NaiveDate,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
}

/// The `digest.daily` job of the next digest time after `now` (at `smtp.digest_hour_utc`): one per
/// day thanks to its dedupe key, however many replicas schedule it.
pub fn digest_job(settings: &crate::config::Settings, now: DateTime<Utc>) -> NewJob {
    let hour = u32::from(settings.smtp.digest_hour_utc.min(23));
    let at = |date: NaiveDate| {
        date.and_hms_opt(hour, 0, 0)
            .map(|t| Utc.from_utc_datetime(&t))
            .unwrap_or(now)
    };
    let today = now.date_naive();
    let date = if at(today) > now {
        today
    } else {
        today.checked_add_days(Days::new(1)).unwrap_or(today)
    };
    let until = at(date);
    NewJob {
        kind: kinds::DIGEST.to_owned(),
        payload: serde_json::json!({ "date": date, "from": until - Duration::hours(24), "until": until }),
        run_at: until,
        dedupe_key: Some(format!("digest.daily:{date}")),
        max_attempts: 5,
    }
}

/// `digest.daily`: one `email.send` per user who has unread, non-critical notifications of the
/// last 24 hours and wants the digest; then schedules the next day's digest.
pub async fn run_digest(state: &AppState, job: &Job) -> Result<()> {
    let p: DigestPayload = payload(job)?;
    if email::enabled(&state.settings.smtp) {
        let unread = state
            .store
            .unread_notifications_between(None, p.from, p.until)
            .await?;
        let mut per_user: BTreeMap<Id, usize> = BTreeMap::new();
        for n in unread.iter().filter(|n| !n.kind.is_critical()) {
            *per_user.entry(n.user_id).or_default() += 1;
        }
        for user_id in per_user.keys() {
            let prefs = state.store.notification_preferences(*user_id).await?;
            if !(prefs.email && prefs.daily_digest) {
                continue;
            }
            let target = DigestTarget {
                user_id: *user_id,
                date: p.date,
                from: p.from,
                until: p.until,
            };
            state
                .store
                .enqueue_job(&NewJob {
                    dedupe_key: Some(format!("email:digest:{}:{user_id}", p.date)),
                    max_attempts: 10,
                    ..NewJob::now(kinds::EMAIL, serde_json::json!({ "digest": target }))
                })
                .await?;
        }
    }
    // The next one: the day after this digest's time, so a late run never skips a day.
    let next = digest_job(&state.settings, p.until);
    state.store.enqueue_job(&next).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_scheduled_at_the_configured_hour_once_a_day() {
        let mut settings = crate::config::Settings::default();
        settings.smtp.digest_hour_utc = 7;
        let before = Utc
            .with_ymd_and_hms(2026, 3, 2, 6, 30, 0)
            .single()
            .unwrap_or_default();
        let job = digest_job(&settings, before);
        assert_eq!(
            job.run_at,
            Utc.with_ymd_and_hms(2026, 3, 2, 7, 0, 0)
                .single()
                .unwrap_or_default()
        );
        assert_eq!(job.dedupe_key.as_deref(), Some("digest.daily:2026-03-02"));
        assert_eq!(job.payload["from"], "2026-03-01T07:00:00Z");
        let after = Utc
            .with_ymd_and_hms(2026, 3, 2, 7, 0, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(
            digest_job(&settings, after).dedupe_key.as_deref(),
            Some("digest.daily:2026-03-03")
        );
    }
}
