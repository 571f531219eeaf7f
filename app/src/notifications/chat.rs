//! Slack and Microsoft Teams incoming webhooks: one channel message per change.
//!
//! The webhook URLs come from the operator's configuration (`notify.*_webhook_url`, secrets), not
//! from users, so they are not subject to the SSRF guard of user-supplied URLs; requests still have
//! a 15 s timeout and never follow redirects.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Error, Result};

/// Longest wait for a chat service.
const TIMEOUT: Duration = Duration::from_secs(15);

/// Which chat service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Slack incoming webhook.
    Slack,
    /// Microsoft Teams incoming webhook (Workflows): an Adaptive Card.
    Teams,
}

impl Channel {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Slack => "slack",
            Channel::Teams => "teams",
        }
    }
}

/// A message to post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// One line.
    pub title: String,
    /// Plain text.
    pub text: String,
    /// Absolute URL to open the event in the app.
    pub url: String,
    /// Label of the link.
    pub open: String,
}

/// Slack's three characters with a meaning in `mrkdwn` (links, mentions like `<!channel>`).
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// The Slack payload: `text` (notifications, fallback) and blocks.
pub fn slack_payload(m: &ChatMessage) -> Value {
    let title = slack_escape(&m.title);
    let text = slack_escape(&m.text);
    json!({
        "text": format!("{title}\n{text}\n<{}|{}>", m.url, slack_escape(&m.open)),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": truncate(&m.title, 150), "emoji": true}},
            {"type": "section", "text": {"type": "mrkdwn", "text": truncate(&text, 3000)}},
            {"type": "actions", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": truncate(&m.open, 75)}, "url": m.url}
            ]}
        ]
    })
}

/// The Teams payload: a message with one Adaptive Card.
pub fn teams_payload(m: &ChatMessage) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "text": m.title, "weight": "Bolder", "size": "Medium", "wrap": true},
                    {"type": "TextBlock", "text": m.text, "wrap": true}
                ],
                "actions": [{"type": "Action.OpenUrl", "title": m.open, "url": m.url}]
            }
        }]
    })
}

/// Posts `body` to `url`. Network failures, timeouts and 5xx are retryable; 429 asks for its
/// `Retry-After`; a redirect or another 4xx (a revoked webhook) is permanent.
pub async fn post(url: &str, body: &Value) -> Result<()> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Internal(anyhow::anyhow!("cannot build the chat HTTP client: {e}")))?;
    let resp = client.post(url).json(body).send().await.map_err(|e| {
        // reqwest's message may hold the URL, which is a secret: say only what kind of failure.
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "cannot connect"
        } else {
            "request failed"
        };
        Error::Unavailable(format!("chat webhook: {what}"))
    })?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    if status.as_u16() == 429 {
        let retry_after_secs = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(60);
        return Err(Error::TooManyRequests { retry_after_secs });
    }
    if status.is_server_error() {
        return Err(Error::Unavailable(format!("chat webhook answered {status}")));
    }
    Err(Error::BadRequest(format!(
        "chat webhook answered {status}; check the webhook URL"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> ChatMessage {
        ChatMessage {
            title: "Approval requested: <!channel> & co".into(),
            text: "alice asks <http://evil|x>".into(),
            url: "https://cal.example.com/events/3".into(),
            open: "Open".into(),
        }
    }

    #[test]
    fn slack_text_cannot_ping_or_link() {
        let p = slack_payload(&msg());
        let text = p["text"].as_str().unwrap_or_default();
        assert!(!text.contains("<!channel>"));
        assert!(!text.contains("<http://evil"));
        assert!(text.contains("&lt;!channel&gt; &amp; co"));
        assert!(text.ends_with("<https://cal.example.com/events/3|Open>"));
        assert_eq!(
            p["blocks"][2]["elements"][0]["url"],
            "https://cal.example.com/events/3"
        );
    }

    #[test]
    fn teams_is_an_adaptive_card() {
        let p = teams_payload(&msg());
        let card = &p["attachments"][0];
        assert_eq!(card["contentType"], "application/vnd.microsoft.card.adaptive");
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        assert_eq!(
            card["content"]["actions"][0]["url"],
            "https://cal.example.com/events/3"
        );
    }
}
