//! The words of every notification, in French (the default) and English.

use chrono::{DateTime, Utc};

use crate::model::{EventStatus, NotificationKind};

/// The recipient's language: `en`, anything else is French (the product's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Français.
    Fr,
    /// English.
    En,
}

impl Lang {
    /// From a user's `locale` (`fr`, `en`, `en-GB`...).
    pub fn from_locale(locale: &str) -> Self {
        if locale.to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::Fr
        }
    }
}

/// What a notification is about, resolved by the fanout.
#[derive(Debug, Clone)]
pub struct Context {
    /// Who caused it, when someone did.
    pub actor: Option<String>,
    /// Title of the event.
    pub event_title: String,
    /// Start of the event.
    pub event_start: DateTime<Utc>,
    /// Status of the event now.
    pub status: EventStatus,
    /// Status before the change (status changes), when known.
    pub previous_status: Option<EventStatus>,
    /// Comment excerpt (mentions) or refusal reason (decisions).
    pub comment: Option<String>,
    /// For reminders: how long before the start, e.g. `1h`.
    pub before: Option<String>,
}

/// Title and plain-text body of a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line.
    pub title: String,
    /// A few lines, plain text.
    pub body: String,
}

fn status_word(s: EventStatus, lang: Lang) -> &'static str {
    match (s, lang) {
        (EventStatus::PendingApproval, Lang::Fr) => "en attente d'approbation",
        (EventStatus::PendingApproval, Lang::En) => "pending approval",
        (EventStatus::Refused, Lang::Fr) => "refusé",
        (EventStatus::Refused, Lang::En) => "refused",
        (EventStatus::Planned, Lang::Fr) => "planifié",
        (EventStatus::Planned, Lang::En) => "planned",
        (EventStatus::InProgress, Lang::Fr) => "en cours",
        (EventStatus::InProgress, Lang::En) => "in progress",
        (EventStatus::Completed, Lang::Fr) => "terminé",
        (EventStatus::Completed, Lang::En) => "completed",
        (EventStatus::Failed, Lang::Fr) => "en échec",
        (EventStatus::Failed, Lang::En) => "failed",
        (EventStatus::RolledBack, Lang::Fr) => "annulé (rollback)",
        (EventStatus::RolledBack, Lang::En) => "rolled back",
        (EventStatus::Cancelled, Lang::Fr) => "annulé",
        (EventStatus::Cancelled, Lang::En) => "cancelled",
    }
}

fn before_words(before: &str, lang: Lang) -> String {
    match (before, lang) {
        ("24h", Lang::Fr) => "dans 24 heures".to_owned(),
        ("24h", Lang::En) => "in 24 hours".to_owned(),
        ("1h", Lang::Fr) => "dans 1 heure".to_owned(),
        ("1h", Lang::En) => "in 1 hour".to_owned(),
        ("15m", Lang::Fr) => "dans 15 minutes".to_owned(),
        ("15m", Lang::En) => "in 15 minutes".to_owned(),
        (other, Lang::Fr) => format!("dans {other}"),
        (other, Lang::En) => format!("in {other}"),
    }
}

/// A date as people read it, in UTC (the web app shows the user's own zone).
pub fn when(t: DateTime<Utc>, lang: Lang) -> String {
    match lang {
        Lang::Fr => t.format("%d/%m/%Y %H:%M UTC").to_string(),
        Lang::En => t.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

/// The title and body of a notification of `kind` for a reader of `lang`.
pub fn render(kind: NotificationKind, lang: Lang, c: &Context) -> Rendered {
    let someone = match lang {
        Lang::Fr => "Quelqu'un",
        Lang::En => "Someone",
    };
    let actor = c.actor.as_deref().unwrap_or(someone);
    let event = &c.event_title;
    let start = when(c.event_start, lang);
    let status = status_word(c.status, lang);
    let (title, mut body) = match (kind, lang) {
        (NotificationKind::Mention, Lang::Fr) => {
            (format!("{actor} vous a mentionné sur « {event} »"), String::new())
        }
        (NotificationKind::Mention, Lang::En) => {
            (format!("{actor} mentioned you on \"{event}\""), String::new())
        }
        (NotificationKind::ApprovalRequested, Lang::Fr) => (
            format!("Approbation demandée : « {event} »"),
            format!("{actor} demande votre approbation pour le déploiement en production prévu le {start}."),
        ),
        (NotificationKind::ApprovalRequested, Lang::En) => (
            format!("Approval requested: \"{event}\""),
            format!("{actor} asks for your approval of the production deployment planned for {start}."),
        ),
        (NotificationKind::ApprovalDecided, Lang::Fr) => {
            let verdict = if c.status == EventStatus::Refused {
                "refusé"
            } else {
                "approuvé"
            };
            (
                format!("Déploiement {verdict} : « {event} »"),
                format!("{actor} a {verdict} le déploiement prévu le {start}."),
            )
        }
        (NotificationKind::ApprovalDecided, Lang::En) => {
            let verdict = if c.status == EventStatus::Refused {
                "refused"
            } else {
                "approved"
            };
            (
                format!("Deployment {verdict}: \"{event}\""),
                format!("{actor} {verdict} the deployment planned for {start}."),
            )
        }
        (NotificationKind::StatusChanged, Lang::Fr) => (
            format!("« {event} » est maintenant {status}"),
            match c.previous_status {
                Some(prev) => format!(
                    "{actor} a fait passer « {event} » de {} à {status}.",
                    status_word(prev, lang)
                ),
                None => format!("{actor} a fait passer « {event} » à {status}."),
            },
        ),
        (NotificationKind::StatusChanged, Lang::En) => (
            format!("\"{event}\" is now {status}"),
            match c.previous_status {
                Some(prev) => format!(
                    "{actor} moved \"{event}\" from {} to {status}.",
                    status_word(prev, lang)
                ),
                None => format!("{actor} moved \"{event}\" to {status}."),
            },
        ),
        (NotificationKind::Reminder, _) => {
            let soon = before_words(c.before.as_deref().unwrap_or_default(), lang);
            match lang {
                Lang::Fr => (
                    format!("Rappel : « {event} » commence {soon}"),
                    format!("Le déploiement en production « {event} » commence le {start}."),
                ),
                Lang::En => (
                    format!("Reminder: \"{event}\" starts {soon}"),
                    format!("The production deployment \"{event}\" starts at {start}."),
                ),
            }
        }
    };
    if let Some(comment) = c.comment.as_deref().filter(|s| !s.trim().is_empty()) {
        if !body.is_empty() {
            body.push('\n');
        }
        let label = match (kind, lang) {
            (NotificationKind::Mention, _) => "",
            (_, Lang::Fr) => "Commentaire : ",
            (_, Lang::En) => "Comment: ",
        };
        body.push_str(label);
        body.push_str(comment);
    }
    Rendered { title, body }
}

/// Words around the e-mails.
pub struct MailWords {
    /// Label of the link to the app.
    pub open: &'static str,
    /// Footer: why this e-mail was sent and how to stop it.
    pub footer: &'static str,
    /// Subject of the digest.
    pub digest_subject: &'static str,
    /// First line of the digest.
    pub digest_intro: &'static str,
}

impl std::fmt::Debug for MailWords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailWords").finish_non_exhaustive()
    }
}

/// The e-mail words of a language.
pub fn mail_words(lang: Lang) -> MailWords {
    match lang {
        Lang::Fr => MailWords {
            open: "Ouvrir dans uYoop-Cal",
            footer: "Vous recevez cet e-mail selon vos préférences de notification (uYoop-Cal > Notifications > Préférences).",
            digest_subject: "Votre résumé quotidien uYoop-Cal",
            digest_intro: "Vos notifications non lues des dernières 24 heures :",
        },
        Lang::En => MailWords {
            open: "Open in uYoop-Cal",
            footer: "You receive this e-mail because of your notification preferences (uYoop-Cal > Notifications > Preferences).",
            digest_subject: "Your uYoop-Cal daily digest",
            digest_intro: "Your unread notifications of the last 24 hours:",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context {
            actor: Some("alice".into()),
            event_title: "Release 2.4".into(),
            event_start: DateTime::from_timestamp(1_772_445_600, 0).unwrap_or_default(),
            status: EventStatus::Refused,
            previous_status: Some(EventStatus::PendingApproval),
            comment: Some("not during the freeze".into()),
            before: Some("1h".into()),
        }
    }

    #[test]
    fn every_kind_reads_in_both_languages() {
        for kind in NotificationKind::ALL {
            let fr = render(kind, Lang::Fr, &ctx());
            let en = render(kind, Lang::En, &ctx());
            assert!(fr.title.contains("Release 2.4"), "{fr:?}");
            assert!(en.title.contains("Release 2.4"), "{en:?}");
            assert_ne!(fr.title, en.title);
        }
        let decided = render(NotificationKind::ApprovalDecided, Lang::En, &ctx());
        assert!(decided.title.contains("refused"));
        assert!(decided.body.contains("Comment: not during the freeze"));
        let reminder = render(NotificationKind::Reminder, Lang::Fr, &ctx());
        assert!(reminder.title.contains("dans 1 heure"));
        assert_eq!(Lang::from_locale("en-GB"), Lang::En);
        assert_eq!(Lang::from_locale("de"), Lang::Fr);
    }
}
