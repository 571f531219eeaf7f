//! E-mail over SMTP (lettre, async on tokio, rustls): one message per critical notification, one
//! digest per user and day. Text and HTML bodies in the recipient's language.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::text::{Lang, mail_words};
use crate::config::{Settings, SmtpSettings};
use crate::error::{Error, Result};
use crate::model::{Notification, User};

/// How long one SMTP conversation may take before the job is retried.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether e-mail is configured at all.
pub fn enabled(smtp: &SmtpSettings) -> bool {
    !smtp.host.trim().is_empty()
}

fn transport(smtp: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>> {
    let host = smtp.host.trim();
    let config = |e: lettre::transport::smtp::Error| {
        Error::Config(crate::config::ConfigError::new(format!(
            "smtp.host: cannot use {host}: {e}"
        )))
    };
    let builder = match smtp.security.as_str() {
        "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(config)?,
        "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(config)?,
        // `none`: plain SMTP, for a relay on loopback or in tests (config validation names it).
        _ => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
    };
    let mut builder = builder.port(smtp.port).timeout(Some(SMTP_TIMEOUT));
    if let Some(user) = smtp.username.as_deref().filter(|u| !u.is_empty()) {
        let password = smtp
            .password
            .as_ref()
            .map(|p| p.expose().to_owned())
            .unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.to_owned(), password));
    }
    Ok(builder.build())
}

/// One e-mail, ready to send.
#[derive(Debug, Clone)]
pub struct Mail {
    /// Recipient.
    pub to: Mailbox,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body (every interpolated value escaped).
    pub html: String,
    /// Stable per delivery key, so that a receiver can drop a duplicate of a retried send.
    pub message_id: String,
}

/// Sends `mail`. Connection failures and 4xx answers are retryable (`Unavailable`); a 5xx refusal is
/// permanent (`BadRequest`).
pub async fn send(smtp: &SmtpSettings, mail: Mail) -> Result<()> {
    let from: Mailbox = smtp.from.parse().map_err(|e| {
        Error::Config(crate::config::ConfigError::new(format!(
            "smtp.from: not an address ({e}); use e.g. `uYoop-Cal <noreply@example.com>`"
        )))
    })?;
    let message = Message::builder()
        .from(from)
        .to(mail.to)
        .subject(mail.subject)
        .message_id(Some(mail.message_id))
        .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
        .map_err(|e| Error::BadRequest(format!("cannot build the e-mail: {e}")))?;
    let transport = transport(smtp)?;
    match transport.send(message).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(Error::BadRequest(format!(
            "the SMTP server refused the message: {e}"
        ))),
        Err(e) => Err(Error::Unavailable(format!(
            "cannot deliver e-mail through {}:{}: {e}",
            smtp.host, smtp.port
        ))),
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The recipient's mailbox.
pub fn mailbox(user: &User) -> Result<Mailbox> {
    let name = if user.display_name.trim().is_empty() {
        user.username.clone()
    } else {
        user.display_name.clone()
    };
    let address = user
        .email
        .parse()
        .map_err(|e| Error::BadRequest(format!("user {} has an unusable e-mail address: {e}", user.id)))?;
    Ok(Mailbox::new(Some(name), address))
}

/// The absolute URL of an app path.
pub fn absolute(settings: &Settings, link: Option<&str>) -> String {
    let base = settings.server.public_url.trim_end_matches('/');
    match link {
        Some(path) if path.starts_with('/') => format!("{base}{path}"),
        _ => format!("{base}/"),
    }
}

/// A Message-ID from a delivery key (only characters allowed in an addr-spec's local part).
pub fn message_id(settings: &Settings, key: &str) -> String {
    let local: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '.'
            }
        })
        .collect();
    let host = url::Url::parse(&settings.server.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "uyoop-cal.localhost".to_owned());
    format!("<{local}@{host}>")
}

fn html_page(lang: Lang, inner: &str) -> String {
    let words = mail_words(lang);
    let html_lang = match lang {
        Lang::Fr => "fr",
        Lang::En => "en",
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"{html_lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>uYoop-Cal</title></head>\
         <body style=\"margin:0;padding:24px;background:#0d0d0d;color:#e6e6e6;font-family:Arial,Helvetica,sans-serif\">\
         <div style=\"max-width:600px;margin:0 auto\">\
         <p style=\"color:#39ff14;font-weight:bold;font-size:18px\">uYoop-Cal</p>{inner}\
         <p style=\"color:#8a8a8a;font-size:12px;margin-top:32px\">{}</p></div></body></html>\n",
        escape_html(words.footer)
    )
}

fn html_item(settings: &Settings, lang: Lang, n: &Notification) -> String {
    let words = mail_words(lang);
    let body = n.body.lines().map(escape_html).collect::<Vec<_>>().join("<br>");
    format!(
        "<h2 style=\"font-size:16px;color:#ffffff\">{}</h2><p>{body}</p>\
         <p><a href=\"{}\" style=\"color:#39ff14\">{}</a></p>",
        escape_html(&n.title),
        escape_html(&absolute(settings, n.link.as_deref())),
        escape_html(words.open),
    )
}

fn text_item(settings: &Settings, lang: Lang, n: &Notification) -> String {
    let words = mail_words(lang);
    let mut s = n.title.clone();
    if !n.body.is_empty() {
        s.push_str("\n\n");
        s.push_str(&n.body);
    }
    s.push_str(&format!(
        "\n\n{}: {}",
        words.open,
        absolute(settings, n.link.as_deref())
    ));
    s
}

/// The e-mail of one notification.
pub fn single(settings: &Settings, user: &User, n: &Notification, key: &str) -> Result<Mail> {
    let lang = Lang::from_locale(&user.locale);
    let words = mail_words(lang);
    Ok(Mail {
        to: mailbox(user)?,
        subject: n.title.clone(),
        text: format!("{}\n\n-- \n{}\n", text_item(settings, lang, n), words.footer),
        html: html_page(lang, &html_item(settings, lang, n)),
        message_id: message_id(settings, key),
    })
}

/// The digest e-mail of several notifications.
pub fn digest(settings: &Settings, user: &User, items: &[Notification], key: &str) -> Result<Mail> {
    let lang = Lang::from_locale(&user.locale);
    let words = mail_words(lang);
    let text_items: Vec<String> = items.iter().map(|n| text_item(settings, lang, n)).collect();
    let html_items: String = items.iter().map(|n| html_item(settings, lang, n)).collect();
    Ok(Mail {
        to: mailbox(user)?,
        subject: format!("{} ({})", words.digest_subject, items.len()),
        text: format!(
            "{}\n\n{}\n\n-- \n{}\n",
            words.digest_intro,
            text_items.join("\n\n* * *\n\n"),
            words.footer
        ),
        html: html_page(
            lang,
            &format!("<p>{}</p>{html_items}", escape_html(words.digest_intro)),
        ),
        message_id: message_id(settings, key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_message_ids_are_valid() {
        assert_eq!(
            escape_html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let settings = Settings::default();
        let id = message_id(&settings, "email:fanout:12:3");
        assert!(id.starts_with("<email.fanout.12.3@"), "{id}");
        assert!(id.ends_with('>'));
    }
}
