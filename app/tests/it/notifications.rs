//! Notifications through the HTTP API and the background jobs, delivered for real: e-mail to an
//! SMTP server on loopback (Python's aiosmtpd), Slack and Teams messages to an HTTP receiver.

use std::io::{BufRead, BufReader};
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use uyoop_cal::config::{Secret, Settings};
use uyoop_cal::model::*;
use uyoop_cal::notifications::{self, FanoutExtra};

use crate::helpers::{Db, Session, TestApp};
use crate::on_both_backends;

// --- support shared with comments.rs ----------------------------------------------------------------

/// Settings for notification tests: no background worker (the test runs the jobs itself, with a
/// clock it chooses), rate limits off.
pub fn quiet(s: &mut Settings) {
    s.jobs.enabled = false;
    s.ratelimit.enabled = false;
}

/// Runs every job due at `at` (claiming as the worker would), until none is left. A failed job is
/// retried one minute after `at`, as the worker's back-off would. Returns `(kind, error)` of the
/// failures.
pub async fn run_jobs(app: &TestApp, at: DateTime<Utc>) -> Vec<(String, String)> {
    let store = app.store();
    let mut failures = Vec::new();
    for _round in 0..20 {
        // Jobs enqueued by the jobs run so far are due "now", which may be after `at`.
        let jobs = store
            .claim_jobs("test-runner", 50, at.max(Utc::now()))
            .await
            .unwrap();
        if jobs.is_empty() {
            return failures;
        }
        for job in jobs {
            match notifications::run(&app.state, &job).await {
                Some(Ok(())) => store.complete_job(job.id, "test-runner").await.unwrap(),
                Some(Err(e)) => {
                    failures.push((job.kind.clone(), e.to_string()));
                    store
                        .fail_job(job.id, "test-runner", &e.to_string(), at + Duration::minutes(1))
                        .await
                        .unwrap();
                }
                None => panic!("no handler for job kind {}", job.kind),
            }
        }
    }
    panic!("jobs keep coming after 20 rounds");
}

/// An event stored directly (the events API is tested on its own).
pub async fn event(app: &TestApp, title: &str, creator: i64, kind: EventKind, extra: Value) -> Event {
    let start = Utc::now() + Duration::days(2);
    app.store()
        .create_event(
            &NewEvent {
                title: title.into(),
                description: String::new(),
                start,
                end: start + Duration::hours(1),
                rrule: None,
                series_end: Some(start + Duration::hours(1)),
                payload: EventPayload::from_parts(kind, extra).unwrap(),
                status: EventStatus::Planned,
                created_by: Some(creator),
                team_id: None,
                parent_id: None,
                recurrence_id: None,
            },
            &AuditRecord::system("event.create", "event"),
            &[],
        )
        .await
        .unwrap()
}

/// A production deployment window.
pub async fn prod_window(app: &TestApp, title: &str, creator: i64) -> Event {
    event(
        app,
        title,
        creator,
        EventKind::DeploymentWindow,
        json!({"environment": "prod", "duration_minutes": 60, "services": ["api"]}),
    )
    .await
}

/// A meeting with participants.
pub async fn meeting(app: &TestApp, title: &str, creator: i64, participants: &[i64]) -> Event {
    event(
        app,
        title,
        creator,
        EventKind::Meeting,
        json!({"meeting_kind": "planning", "participants": participants}),
    )
    .await
}

/// The signed-in user's notifications.
pub async fn inbox(app: &TestApp, who: &Session) -> Value {
    let resp = app.get_auth("/api/notifications", &who.token).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// A real SMTP server (aiosmtpd) on a loopback port, writing each message it accepts as JSON
/// (envelope, subject, decoded text and HTML parts) into a folder.
pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

const SMTP_SCRIPT: &str = r#"
import email, email.policy, itertools, json, os, sys
from aiosmtpd.controller import Controller

out, port = sys.argv[1], int(sys.argv[2])
counter = itertools.count()

class Sink:
    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        def part(kind):
            p = msg.get_body(preferencelist=(kind,))
            return p.get_content() if p is not None else None
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "message_id": str(msg["Message-ID"]),
            "text": part("plain"),
            "html": part("html"),
        }
        path = os.path.join(out, "%05d" % next(counter))
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path + ".json")
        return "250 OK"

controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"#;

/// The Python with aiosmtpd: `UYOOP_TEST_SMTP_PYTHON`, else `.cache/venv-smtp/bin/python`
/// (`scripts/test.sh` installs it).
fn smtp_python() -> PathBuf {
    if let Ok(p) = std::env::var("UYOOP_TEST_SMTP_PYTHON") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/venv-smtp/bin/python")
}

/// A free loopback port (for a server started later).
pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpSink {
    /// Starts the server on `port` and waits until it accepts connections.
    pub fn start(port: u16) -> SmtpSink {
        let python = smtp_python();
        assert!(
            python.exists(),
            "these tests need Python with aiosmtpd at {} (set UYOOP_TEST_SMTP_PYTHON, or run \
             `python3 -m venv .cache/venv-smtp && .cache/venv-smtp/bin/pip install aiosmtpd`; \
             scripts/test.sh does it)",
            python.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(&python)
            .arg("-c")
            .arg(SMTP_SCRIPT)
            .arg(dir.path())
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
        let stdout = child.stdout.take().unwrap();
        // The first line is "ready" once the server listens (Controller.start() checks it); the read
        // ends with EOF if the process dies (e.g. aiosmtpd is missing).
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP test server did not start (is aiosmtpd installed for {}?)",
            python.display()
        );
        SmtpSink {
            port,
            dir,
            child: Some(child),
        }
    }

    /// Messages received so far, in order.
    pub fn messages(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// Stops the server.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Points the app's SMTP settings at a loopback server on `port`.
pub fn smtp_to(s: &mut Settings, port: u16) {
    s.smtp.host = "127.0.0.1".into();
    s.smtp.port = port;
    s.smtp.security = "none".into();
    s.smtp.from = "uYoop-Cal <noreply@uyoop.test>".into();
    s.server.public_url = "https://cal.uyoop.test".into();
}

/// An HTTP receiver on loopback that records every request body by path.
pub struct ChatSink {
    pub base: String,
    received: Arc<Mutex<Vec<(String, Value)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ChatSink {
    pub async fn start() -> ChatSink {
        let received: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
        let store = received.clone();
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri, body: axum::body::Bytes| {
            let store = store.clone();
            async move {
                let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                store.lock().unwrap().push((uri.path().to_owned(), value));
                "ok"
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        ChatSink { base, received, task }
    }

    pub fn received(&self, path: &str) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

impl Drop for ChatSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// --- tests ---------------------------------------------------------------------------------------

on_both_backends!(
    list_unread_and_mark_read,
    preferences_roundtrip_and_validation,
    critical_email_reaches_smtp_in_each_language,
    chat_messages_reach_slack_and_teams,
    smtp_down_then_back_delivers_once,
    reminders_only_for_windows_still_on_time,
    status_changes_notify_creator_and_participants,
    daily_digest_mails_the_unread_of_the_day,
);

/// Stores notifications for `user` directly.
async fn seed(app: &TestApp, user: i64, n: usize) {
    let rows: Vec<NewNotification> = (0..n)
        .map(|i| NewNotification {
            user_id: user,
            kind: NotificationKind::StatusChanged,
            title: format!("note {i}"),
            body: format!("body {i}"),
            link: Some("/events/1".into()),
            data: json!({}),
            dedupe_key: format!("seed:{user}:{i}"),
        })
        .collect();
    app.store().store_notifications(&rows, &[]).await.unwrap();
}

async fn list_unread_and_mark_read(kind: Db) {
    let app = TestApp::spawn_with(kind, quiet).await;
    let admin = app.admin().await;
    let alice = app.user(&admin, "alice", "DEV").await;
    let bob = app.user(&admin, "bob", "OPS").await;
    seed(&app, alice.id, 5).await;
    seed(&app, bob.id, 1).await;

    let list = inbox(&app, &alice).await;
    assert_eq!(list["unread"], 5);
    assert_eq!(list["total"], 5);
    let titles: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["note 4", "note 3", "note 2", "note 1", "note 0"],
        "newest first"
    );
    let first = &list["items"][0];
    for field in ["id", "kind", "title", "body", "link", "read_at", "created_at"] {
        assert!(first.get(field).is_some(), "{field} missing in {first}");
    }
    assert_eq!(first["kind"], "status_changed");
    assert!(first["read_at"].is_null());
    assert!(first.get("user_id").is_none() && first.get("dedupe_key").is_none());

    // Paging.
    let page: Value = app
        .get_auth("/api/notifications?offset=1&limit=2", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    let titles: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["note 3", "note 2"]);
    assert_eq!(page["total"], 5);

    // Mark one read; the badge drops; marking again keeps the first read time.
    let id = first["id"].as_i64().unwrap();
    let resp = app
        .send(
            Method::POST,
            &format!("/api/notifications/{id}/read"),
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), 204);
    let count: Value = app
        .get_auth("/api/notifications/unread-count", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count, json!({"unread": 4}));
    let read_at = inbox(&app, &alice).await["items"][0]["read_at"].clone();
    assert!(read_at.is_string());
    app.send(
        Method::POST,
        &format!("/api/notifications/{id}/read"),
        Some(&alice.token),
        None,
    )
    .await;
    assert_eq!(inbox(&app, &alice).await["items"][0]["read_at"], read_at);

    // Someone else's notification: 404, and it stays unread.
    let bobs = inbox(&app, &bob).await["items"][0]["id"].as_i64().unwrap();
    let resp = app
        .send(
            Method::POST,
            &format!("/api/notifications/{bobs}/read"),
            Some(&alice.token),
            None,
        )
        .await;
    crate::helpers::assert_problem(resp, 404).await;
    assert_eq!(inbox(&app, &bob).await["unread"], 1);
    assert_eq!(
        inbox(&app, &alice).await["total"],
        5,
        "lists never show another user's rows"
    );

    // Read all.
    let resp = app
        .send(
            Method::POST,
            "/api/notifications/read-all",
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"marked": 4}));
    assert_eq!(inbox(&app, &alice).await["unread"], 0);
    assert_eq!(inbox(&app, &bob).await["unread"], 1);

    let audit = app
        .store()
        .list_audit(&AuditQuery {
            action_prefix: Some("notification.read".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.total, 3, "two reads and one read-all by alice are audited");
    assert!(audit.items.iter().all(|a| a.user_id == Some(alice.id)));
    app.stop().await;
}

async fn preferences_roundtrip_and_validation(kind: Db) {
    let app = TestApp::spawn_with(kind, quiet).await;
    let admin = app.admin().await;
    let alice = app.user(&admin, "alice", "DEV").await;
    let prefs: Value = app
        .get_auth("/api/notifications/preferences", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        prefs,
        json!({"email": true, "daily_digest": true, "chat": true, "reminders": true})
    );

    let new = json!({"email": true, "daily_digest": false, "chat": false, "reminders": true});
    let resp = app
        .send(
            Method::PUT,
            "/api/notifications/preferences",
            Some(&alice.token),
            Some(new.clone()),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), new);
    let prefs: Value = app
        .get_auth("/api/notifications/preferences", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(prefs, new);
    // Another user's stay the defaults.
    let other: Value = app
        .get_auth("/api/notifications/preferences", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other["chat"], true);

    // All four fields, nothing else.
    for bad in [
        json!({"email": false}),
        json!({"email": true, "daily_digest": true, "chat": true, "reminders": true, "user_id": 1}),
    ] {
        let resp = app
            .send(
                Method::PUT,
                "/api/notifications/preferences",
                Some(&alice.token),
                Some(bad),
            )
            .await;
        crate::helpers::assert_problem(resp, 422).await;
    }
    assert_eq!(
        app.get_auth("/api/notifications/preferences", &alice.token)
            .await
            .json::<Value>()
            .await
            .unwrap(),
        new
    );
    let audit = app
        .store()
        .list_audit(&AuditQuery {
            action_prefix: Some("notification.preferences.update".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.total, 1);
    assert_eq!(audit.items[0].details["daily_digest"], false);
    app.stop().await;
}

/// Sets a user's UI language.
async fn set_locale(app: &TestApp, admin: &Session, user: i64, locale: &str) {
    let resp = app
        .send(
            Method::PUT,
            &format!("/api/users/{user}"),
            Some(&admin.token),
            Some(json!({"locale": locale})),
        )
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

/// A second ADMIN (2FA set up) for approval tests.
async fn second_admin(app: &TestApp, admin: &Session, name: &str) -> i64 {
    let resp = app
        .post_json(
            "/api/users",
            Some(&admin.token),
            json!({"username": name, "email": format!("{name}@example.com"), "password": crate::helpers::PASSWORD, "role": "ADMIN"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn critical_email_reaches_smtp_in_each_language(kind: Db) {
    let smtp = SmtpSink::start(free_port());
    let port = smtp.port;
    let app = TestApp::spawn_with(kind, |s| {
        quiet(s);
        smtp_to(s, port);
    })
    .await;
    let admin = app.admin().await;
    let ops = app.user(&admin, "ops1", "OPS").await;
    let admin2 = second_admin(&app, &admin, "admin2").await;
    set_locale(&app, &admin, admin2, "en").await;
    let window = prod_window(&app, "Release <2.4> & co", ops.id).await;

    // The change enqueues the fanout in its own transaction (here: on its own).
    let job = notifications::fanout_job(
        NotificationKind::ApprovalRequested,
        window.id,
        Some(ops.id),
        &FanoutExtra::default(),
    );
    app.store().enqueue_job(&job).await.unwrap();
    assert!(run_jobs(&app, Utc::now()).await.is_empty());

    // Both ADMINs (not the requester) got the in-app notification and an immediate e-mail.
    assert_eq!(inbox(&app, &admin).await["unread"], 1);
    assert_eq!(inbox(&app, &ops).await["total"], 0);
    let mails = smtp.messages();
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let to = |addr: &str| {
        mails
            .iter()
            .find(|m| m["rcpt_tos"] == json!([addr]))
            .unwrap_or_else(|| panic!("no mail to {addr}: {mails:#?}"))
    };
    let fr = to("admin@example.com");
    assert_eq!(fr["mail_from"], "noreply@uyoop.test");
    assert_eq!(fr["subject"], "Approbation demandée : « Release <2.4> & co »");
    let text = fr["text"].as_str().unwrap();
    assert!(text.contains("ops1 demande votre approbation"), "{text}");
    assert!(
        text.contains(&format!("https://cal.uyoop.test/events/{}", window.id)),
        "{text}"
    );
    let html = fr["html"].as_str().unwrap();
    assert!(
        html.contains("Release &lt;2.4&gt; &amp; co"),
        "HTML escapes the title: {html}"
    );
    assert!(!html.contains("<2.4>"));
    assert!(
        html.contains(&format!("href=\"https://cal.uyoop.test/events/{}\"", window.id)),
        "{html}"
    );
    let en = to("admin2@example.com");
    assert_eq!(en["subject"], "Approval requested: \"Release <2.4> & co\"");
    assert!(
        en["text"]
            .as_str()
            .unwrap()
            .contains("ops1 asks for your approval")
    );
    assert!(en["html"].as_str().unwrap().contains("Open in uYoop-Cal"));

    // Running the jobs again (at-least-once) sends nothing more, and adds no row.
    let again = app.store().enqueue_job(&job).await.unwrap();
    assert!(again.is_some(), "a new change is a new job");
    assert!(run_jobs(&app, Utc::now() + Duration::hours(1)).await.is_empty());
    assert_eq!(smtp.messages().len(), 4, "a second change mails again");
    assert!(run_jobs(&app, Utc::now() + Duration::days(1)).await.is_empty());
    assert_eq!(smtp.messages().len(), 4);

    // E-mail turned off: in-app only.
    let resp = app
        .send(
            Method::PUT,
            "/api/notifications/preferences",
            Some(&admin.token),
            Some(json!({"email": false, "daily_digest": true, "chat": true, "reminders": true})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    app.store().enqueue_job(&job).await.unwrap();
    run_jobs(&app, Utc::now()).await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), 5);
    assert_eq!(mails[4]["rcpt_tos"], json!(["admin2@example.com"]));
    assert_eq!(inbox(&app, &admin).await["unread"], 3);
    app.stop().await;
}

async fn chat_messages_reach_slack_and_teams(kind: Db) {
    let chat = ChatSink::start().await;
    let (slack, teams) = (
        format!("{}/slack/hook", chat.base),
        format!("{}/teams/hook", chat.base),
    );
    let app = TestApp::spawn_with(kind, |s| {
        quiet(s);
        s.server.public_url = "https://cal.uyoop.test".into();
        s.notify.slack_webhook_url = Some(Secret::new(slack));
        s.notify.teams_webhook_url = Some(Secret::new(teams));
    })
    .await;
    let admin = app.admin().await;
    let ops = app.user(&admin, "ops1", "OPS").await;
    let window = prod_window(&app, "Release <!channel> 2.4", ops.id).await;
    let job = notifications::fanout_job(
        NotificationKind::ApprovalDecided,
        window.id,
        Some(admin.id),
        &FanoutExtra::default(),
    );
    app.store().enqueue_job(&job).await.unwrap();
    assert!(run_jobs(&app, Utc::now()).await.is_empty());

    let url = format!("https://cal.uyoop.test/events/{}", window.id);
    let slack = chat.received("/slack/hook");
    assert_eq!(slack.len(), 1, "{slack:#?}");
    let text = slack[0]["text"].as_str().unwrap();
    assert!(
        text.contains("Déploiement approuvé : « Release &lt;!channel&gt; 2.4 »"),
        "{text}"
    );
    assert!(!text.contains("<!channel>"), "user text cannot ping the channel");
    assert!(text.contains("admin a approuvé le déploiement"), "{text}");
    assert_eq!(slack[0]["blocks"][0]["type"], "header");
    assert_eq!(slack[0]["blocks"][2]["elements"][0]["url"], url.as_str());

    let teams = chat.received("/teams/hook");
    assert_eq!(teams.len(), 1, "{teams:#?}");
    let card = &teams[0]["attachments"][0];
    assert_eq!(card["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(
        card["content"]["body"][0]["text"],
        "Déploiement approuvé : « Release <!channel> 2.4 »"
    );
    assert_eq!(card["content"]["actions"][0]["url"], url.as_str());

    // Run again later: nothing posted twice.
    assert!(run_jobs(&app, Utc::now() + Duration::days(1)).await.is_empty());
    assert_eq!(chat.received("/slack/hook").len(), 1);

    // The only recipient turned chat off: the change is not posted.
    let resp = app
        .send(
            Method::PUT,
            "/api/notifications/preferences",
            Some(&ops.token),
            Some(json!({"email": true, "daily_digest": true, "chat": false, "reminders": true})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    app.store().enqueue_job(&job).await.unwrap();
    run_jobs(&app, Utc::now()).await;
    assert_eq!(chat.received("/slack/hook").len(), 1);
    assert_eq!(inbox(&app, &ops).await["total"], 2, "in-app still");
    app.stop().await;
}

async fn smtp_down_then_back_delivers_once(kind: Db) {
    let port = free_port();
    let app = TestApp::spawn_with(kind, |s| {
        quiet(s);
        smtp_to(s, port);
    })
    .await;
    let admin = app.admin().await;
    let ops = app.user(&admin, "ops1", "OPS").await;
    let window = prod_window(&app, "Hotfix", ops.id).await;
    let job = notifications::fanout_job(
        NotificationKind::ApprovalRequested,
        window.id,
        Some(ops.id),
        &FanoutExtra::default(),
    );
    app.store().enqueue_job(&job).await.unwrap();

    // SMTP is down: the in-app row is there, the e-mail job failed and waits for its retry.
    let now = Utc::now();
    let failures = run_jobs(&app, now).await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].0, "email.send");
    assert!(failures[0].1.contains("cannot deliver e-mail"), "{failures:?}");
    assert_eq!(inbox(&app, &admin).await["unread"], 1);

    // Back up: the retry delivers it, once.
    let smtp = SmtpSink::start(port);
    assert!(run_jobs(&app, now + Duration::minutes(2)).await.is_empty());
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert_eq!(mails[0]["rcpt_tos"], json!(["admin@example.com"]));
    assert!(mails[0]["subject"].as_str().unwrap().contains("Hotfix"));
    assert!(run_jobs(&app, now + Duration::days(1)).await.is_empty());
    assert_eq!(smtp.messages().len(), 1, "no duplicate");
    app.stop().await;
}

fn reminder(event: &Event, start: DateTime<Utc>, before: &str) -> NewJob {
    NewJob {
        dedupe_key: Some(format!("reminder:{}:{before}:{}", event.id, start.timestamp())),
        ..NewJob::now(
            "reminder.deployment",
            json!({"event_id": event.id, "start": start, "before": before}),
        )
    }
}

async fn reminders_only_for_windows_still_on_time(kind: Db) {
    let smtp = SmtpSink::start(free_port());
    let port = smtp.port;
    let app = TestApp::spawn_with(kind, |s| {
        quiet(s);
        smtp_to(s, port);
    })
    .await;
    let admin = app.admin().await;
    let ops = app.user(&admin, "ops1", "OPS").await;
    let lazy = app.user(&admin, "lazy", "OPS").await;
    let window = prod_window(&app, "Release 3.0", ops.id).await;
    // Approved by the ADMIN: both hear about it.
    let mut up = UpdateEvent::from_event(&window);
    up.approved_by = Some(admin.id);
    up.approved_at = Some(Utc::now());
    let window = app
        .store()
        .update_event(
            window.id,
            &up,
            &AuditRecord::system("event.approve", "event"),
            &[],
        )
        .await
        .unwrap();

    // Still on time: both the creator and the approver are reminded, by e-mail too (critical).
    app.store()
        .enqueue_job(&reminder(&window, window.start, "1h"))
        .await
        .unwrap();
    // Scheduled for a start the window no longer has: nothing.
    app.store()
        .enqueue_job(&reminder(&window, window.start - Duration::hours(3), "15m"))
        .await
        .unwrap();
    assert!(run_jobs(&app, Utc::now()).await.is_empty());
    let items = inbox(&app, &ops).await;
    assert_eq!(items["total"], 1, "{items}");
    assert_eq!(items["items"][0]["kind"], "reminder");
    assert_eq!(
        items["items"][0]["title"],
        "Rappel : « Release 3.0 » commence dans 1 heure"
    );
    assert_eq!(inbox(&app, &admin).await["total"], 1);
    let mails = smtp.messages();
    assert_eq!(mails.len(), 2, "{mails:#?}");
    assert!(
        mails
            .iter()
            .all(|m| m["subject"].as_str().unwrap().starts_with("Rappel"))
    );

    // Reminders off: not reminded.
    let other = prod_window(&app, "Release 3.1", lazy.id).await;
    let resp = app
        .send(
            Method::PUT,
            "/api/notifications/preferences",
            Some(&lazy.token),
            Some(json!({"email": true, "daily_digest": true, "chat": true, "reminders": false})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    app.store()
        .enqueue_job(&reminder(&other, other.start, "24h"))
        .await
        .unwrap();
    run_jobs(&app, Utc::now()).await;
    assert_eq!(inbox(&app, &lazy).await["total"], 0);

    // Cancelled: nothing.
    let mut up = UpdateEvent::from_event(&window);
    up.status = EventStatus::Cancelled;
    app.store()
        .update_event(window.id, &up, &AuditRecord::system("event.cancel", "event"), &[])
        .await
        .unwrap();
    app.store()
        .enqueue_job(&reminder(&window, window.start, "15m"))
        .await
        .unwrap();
    assert!(run_jobs(&app, Utc::now()).await.is_empty());
    assert_eq!(inbox(&app, &ops).await["total"], 1);
    assert_eq!(smtp.messages().len(), 2);
    app.stop().await;
}

async fn status_changes_notify_creator_and_participants(kind: Db) {
    let app = TestApp::spawn_with(kind, quiet).await;
    let admin = app.admin().await;
    let projet = app.user(&admin, "projet1", "PROJET").await;
    let dev = app.user(&admin, "dev1", "DEV").await;
    let ops = app.user(&admin, "ops1", "OPS").await;
    set_locale(&app, &admin, dev.id, "en").await;
    let m = meeting(&app, "Sprint planning", projet.id, &[dev.id, admin.id]).await;
    let job = notifications::fanout_job(
        NotificationKind::StatusChanged,
        m.id,
        Some(admin.id),
        &FanoutExtra {
            previous_status: Some(EventStatus::PendingApproval),
            ..Default::default()
        },
    );
    app.store().enqueue_job(&job).await.unwrap();
    assert!(run_jobs(&app, Utc::now()).await.is_empty());
    let fr = inbox(&app, &projet).await;
    assert_eq!(
        fr["items"][0]["title"],
        "« Sprint planning » est maintenant planifié"
    );
    assert_eq!(fr["items"][0]["link"], format!("/events/{}", m.id));
    let en = inbox(&app, &dev).await;
    assert_eq!(
        en["items"][0]["body"],
        "admin moved \"Sprint planning\" from pending approval to planned."
    );
    assert_eq!(inbox(&app, &admin).await["total"], 0, "the actor is not notified");
    assert_eq!(inbox(&app, &ops).await["total"], 0, "not concerned");
    app.stop().await;
}

async fn daily_digest_mails_the_unread_of_the_day(kind: Db) {
    let smtp = SmtpSink::start(free_port());
    let port = smtp.port;
    let app = TestApp::spawn_with(kind, |s| {
        quiet(s);
        smtp_to(s, port);
    })
    .await;
    let admin = app.admin().await;
    let dev = app.user(&admin, "dev1", "DEV").await;
    let ops = app.user(&admin, "ops1", "OPS").await;
    let quiet_user = app.user(&admin, "quiet1", "OPS").await;
    set_locale(&app, &admin, dev.id, "en").await;
    let m = meeting(&app, "Retro", admin.id, &[dev.id, ops.id, quiet_user.id]).await;
    for text in ["first", "second"] {
        let body = format!("@dev1 @ops1 @quiet1 {text} thought");
        let resp = app
            .post_json(
                &format!("/api/events/{}/comments", m.id),
                Some(&admin.token),
                json!({"body": body}),
            )
            .await;
        assert_eq!(resp.status(), 201);
    }
    let resp = app
        .send(
            Method::PUT,
            "/api/notifications/preferences",
            Some(&quiet_user.token),
            Some(json!({"email": true, "daily_digest": false, "chat": true, "reminders": true})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(run_jobs(&app, Utc::now()).await.is_empty());
    assert!(smtp.messages().is_empty(), "mentions wait for the digest");
    // ops1 read theirs: nothing to send them.
    app.send(
        Method::POST,
        "/api/notifications/read-all",
        Some(&ops.token),
        None,
    )
    .await;

    let digest = notifications::digest_job(&app.state.settings, Utc::now() - Duration::minutes(1));
    // The digest covers the 24 hours before its time; run it at a time that covers now.
    let mut digest = digest;
    let until = Utc::now() + Duration::minutes(1);
    digest.payload["until"] = json!(until);
    digest.payload["from"] = json!(until - Duration::hours(24));
    digest.run_at = Utc::now();
    digest.dedupe_key = Some("digest.daily:test".into());
    app.store().enqueue_job(&digest).await.unwrap();
    assert!(run_jobs(&app, Utc::now()).await.is_empty());
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert_eq!(mails[0]["rcpt_tos"], json!(["dev1@example.com"]));
    assert_eq!(mails[0]["subject"], "Your uYoop-Cal daily digest (2)");
    let text = mails[0]["text"].as_str().unwrap();
    assert!(text.contains("admin mentioned you on \"Retro\""), "{text}");
    assert!(
        text.contains("first thought") && text.contains("second thought"),
        "{text}"
    );
    // The next day's digest is scheduled once, at the configured hour.
    let next = notifications::digest_job(&app.state.settings, until);
    let again = app.store().enqueue_job(&next).await.unwrap();
    assert!(again.is_none(), "the digest scheduled the next one");
    app.stop().await;
}
