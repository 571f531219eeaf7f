//! Events through the HTTP API: the three kinds with validation, RBAC and IDOR, recurrence in range
//! queries, the production approval workflow (spec scenario 3), conflicts, freezes, the ICS feed.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Db, Session, TestApp, assert_problem};
use crate::on_both_backends;

on_both_backends!(
    kinds_validation_and_rbac,
    recurring_meetings_in_range_queries,
    prod_deployment_scenario_3,
    refusal_needs_a_comment_and_can_be_resubmitted,
    conflicts_and_freezes_block_prod_windows,
    calendar_feed_is_valid_icalendar,
);

fn meeting(title: &str, start: &str, end: &str) -> Value {
    json!({"type": "meeting", "title": title, "start": start, "end": end,
           "extra": {"meeting_kind": "planning", "video_url": "https://meet.example.com/x", "agenda_md": "- scope"}})
}

fn deployment(title: &str, env: &str, start: &str, services: &[&str]) -> Value {
    json!({"type": "deployment_window", "title": title, "start": start,
           "extra": {"environment": env, "duration_minutes": 60, "services": services,
                     "change_description": "v2.3", "rollback_plan": "helm rollback",
                     "checklist": [{"label": "backup taken"}, {"label": "smoke tests ready"}]}})
}

fn git_action(url: &str) -> Value {
    json!({"type": "git_action", "title": "tag release", "start": "2030-01-08T09:00:00Z",
           "extra": {"repository_url": url, "branch": "main", "action": "tag", "trigger": "cron", "cron": "0 2 * * 1",
                     "post_actions": ["run_tests"]}})
}

async fn create(app: &TestApp, who: &Session, body: Value) -> Value {
    let resp = app.post_json("/api/events", Some(&who.token), body).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    resp.json().await.unwrap()
}

async fn kinds_validation_and_rbac(kind: Db) {
    let app = TestApp::spawn(kind).await;
    let admin = app.admin().await;
    let projet = app.user(&admin, "projet", "PROJET").await;
    let dev = app.user(&admin, "dev", "DEV").await;
    let ops = app.user(&admin, "ops", "OPS").await;

    // Spec 3.2: who creates what.
    let m = create(
        &app,
        &projet,
        meeting("Sprint planning", "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z"),
    )
    .await;
    assert_eq!(
        (m["type"].as_str(), m["status"].as_str()),
        (Some("meeting"), Some("planned"))
    );
    assert_eq!(m["created_by"]["username"], "projet");
    assert_eq!(m["can_edit"], true);
    let g = create(
        &app,
        &dev,
        git_action("https://gitlab.example.com/devops/app.git"),
    )
    .await;
    let d = create(
        &app,
        &ops,
        deployment("staging deploy", "staging", "2030-01-07T14:00:00Z", &["api"]),
    )
    .await;
    assert_eq!(d["end"], "2030-01-07T15:00:00Z", "end = start + duration");
    for (who, body) in [
        (&dev, meeting("x", "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z")),
        (&ops, git_action("https://gitlab.example.com/devops/app.git")),
        (&dev, deployment("x", "dev", "2030-01-07T14:00:00Z", &["api"])),
    ] {
        assert_problem(app.post_json("/api/events", Some(&who.token), body).await, 403).await;
    }

    // Field errors name the field.
    let errors = |v: Value| {
        v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    for (body, field) in [
        (git_action("http://github.com/o/r"), "extra.repository_url"),
        (git_action("git@host:../../etc/passwd"), "extra.repository_url"),
        (
            meeting(&"t".repeat(256), "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z"),
            "title",
        ),
        (
            meeting("x", "2030-01-07T11:00:00Z", "2030-01-07T10:00:00Z"),
            "end",
        ),
    ] {
        let body = assert_problem(app.post_json("/api/events", Some(&admin.token), body).await, 422).await;
        assert!(
            errors(body.clone()).contains(&field.to_owned()),
            "{field}: {body}"
        );
    }
    let mut long = meeting("x", "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z");
    long["description"] = json!("d".repeat(2001));
    assert_eq!(
        errors(assert_problem(app.post_json("/api/events", Some(&admin.token), long).await, 422).await),
        ["description"]
    );
    let mut bad_cron = git_action("https://github.com/o/r");
    bad_cron["extra"]["cron"] = json!("every monday");
    assert_eq!(
        errors(
            assert_problem(
                app.post_json("/api/events", Some(&dev.token), bad_cron).await,
                422
            )
            .await
        ),
        ["extra.cron"]
    );
    let mut unknown = meeting("x", "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z");
    unknown["extra"]["is_admin"] = json!(true);
    let body = assert_problem(
        app.post_json("/api/events", Some(&admin.token), unknown).await,
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "unknown_field");
    let mut no_rollback = deployment("p", "prod", "2030-01-07T14:00:00Z", &["api"]);
    no_rollback["extra"]["rollback_plan"] = json!("");
    assert_eq!(
        errors(
            assert_problem(
                app.post_json("/api/events", Some(&ops.token), no_rollback).await,
                422
            )
            .await
        ),
        ["extra.rollback_plan"]
    );

    // IDOR: another user's event by id can be read, not changed.
    let path = format!("/api/events/{}", d["id"]);
    let mut edit = deployment("hijacked", "staging", "2030-01-07T14:00:00Z", &["api"]);
    edit["version"] = json!(1);
    assert_problem(
        app.send(Method::PUT, &path, Some(&projet.token), Some(edit.clone()))
            .await,
        403,
    )
    .await;
    assert_problem(app.send(Method::DELETE, &path, Some(&dev.token), None).await, 403).await;
    let read: Value = app.get_auth(&path, &dev.token).await.json().await.unwrap();
    assert_eq!(
        (read["title"].as_str(), read["can_edit"].as_bool()),
        (Some("staging deploy"), Some(false))
    );
    // The creator edits; a stale version is a 409, never a lost update.
    let resp = app
        .send(Method::PUT, &path, Some(&ops.token), Some(edit.clone()))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["version"], 2);
    assert_problem(
        app.send(Method::PUT, &path, Some(&ops.token), Some(edit)).await,
        409,
    )
    .await;
    // ADMIN may delete anyone's.
    assert_eq!(
        app.send(
            Method::DELETE,
            &format!("/api/events/{}", g["id"]),
            Some(&admin.token),
            None
        )
        .await
        .status(),
        204
    );
    assert_problem(
        app.get_auth(&format!("/api/events/{}", g["id"]), &admin.token)
            .await,
        404,
    )
    .await;

    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"events_created_total{type="meeting"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"events_created_total{type="deployment_window"} 1"#));
    let _ = m;
    app.stop().await;
}

async fn recurring_meetings_in_range_queries(kind: Db) {
    let app = TestApp::spawn(kind).await;
    let admin = app.admin().await;
    // Daily standup Mon-Fri 09:00-09:15, from Monday 7 January 2030, open-ended.
    let mut standup = meeting("Daily standup", "2030-01-07T09:00:00Z", "2030-01-07T09:15:00Z");
    standup["extra"]["meeting_kind"] = json!("daily");
    standup["extra"]["recurrence"] = json!({"freq": "daily", "by_day": ["MO", "TU", "WE", "TH", "FR"]});
    let s = create(&app, &admin, standup).await;
    assert_eq!(s["rrule"], "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR");
    let one_off = create(
        &app,
        &admin,
        meeting("Retro", "2030-01-18T16:00:00Z", "2030-01-18T17:00:00Z"),
    )
    .await;
    let week = "/api/events?start=2030-01-14T00:00:00Z&end=2030-01-21T00:00:00Z";
    let list: Value = app.get_auth(week, &admin.token).await.json().await.unwrap();
    let items = list["items"].as_array().unwrap();
    let starts: Vec<&str> = items.iter().map(|e| e["start"].as_str().unwrap()).collect();
    assert_eq!(
        starts,
        [
            "2030-01-14T09:00:00Z",
            "2030-01-15T09:00:00Z",
            "2030-01-16T09:00:00Z",
            "2030-01-17T09:00:00Z",
            "2030-01-18T09:00:00Z",
            "2030-01-18T16:00:00Z"
        ],
        "weekdays only, sorted with the one-off"
    );
    assert_eq!(items[5]["id"], one_off["id"]);
    assert_eq!(items[0]["occurrence_start"], "2030-01-14T09:00:00Z");

    // Edit "this occurrence": Wednesday moves to 10:00; the series is unchanged.
    let path = format!(
        "/api/events/{}?scope=this&occurrence=2030-01-16T09:00:00Z",
        s["id"]
    );
    let mut moved = meeting(
        "Daily standup (late)",
        "2030-01-16T10:00:00Z",
        "2030-01-16T10:15:00Z",
    );
    moved["version"] = json!(1);
    let resp = app
        .send(Method::PUT, &path, Some(&admin.token), Some(moved))
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    // Delete "this occurrence": Thursday.
    let path = format!(
        "/api/events/{}?scope=this&occurrence=2030-01-17T09:00:00Z",
        s["id"]
    );
    assert_eq!(
        app.send(Method::DELETE, &path, Some(&admin.token), None)
            .await
            .status(),
        204
    );
    let list: Value = app.get_auth(week, &admin.token).await.json().await.unwrap();
    let got: Vec<(&str, &str)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["start"].as_str().unwrap(), e["title"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("2030-01-14T09:00:00Z", "Daily standup"),
            ("2030-01-15T09:00:00Z", "Daily standup"),
            ("2030-01-16T10:00:00Z", "Daily standup (late)"),
            ("2030-01-18T09:00:00Z", "Daily standup"),
            ("2030-01-18T16:00:00Z", "Retro")
        ]
    );
    // A scope=this on a non-existent occurrence is refused.
    let path = format!(
        "/api/events/{}?scope=this&occurrence=2030-01-19T09:00:00Z",
        s["id"]
    );
    assert_problem(
        app.send(Method::DELETE, &path, Some(&admin.token), None).await,
        422,
    )
    .await;
    // Invalid windows.
    assert_problem(
        app.get_auth("/api/events?start=2030-01-14T00:00:00Z", &admin.token)
            .await,
        422,
    )
    .await;
    app.stop().await;
}

async fn decide(
    app: &TestApp,
    who: &Session,
    id: &Value,
    decision: &str,
    comment: &str,
) -> reqwest::Response {
    app.post_json(
        &format!("/api/events/{id}/approvals"),
        Some(&who.token),
        json!({"decision": decision, "comment": comment}),
    )
    .await
}

async fn status(app: &TestApp, who: &Session, id: &Value, to: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/events/{id}/status"),
        Some(&who.token),
        json!({"to": to}),
    )
    .await
}

async fn prod_deployment_scenario_3(kind: Db) {
    let app = TestApp::spawn(kind).await;
    let admin = app.admin().await;
    let ops = app.user(&admin, "ops", "OPS").await;
    let start = (chrono::Utc::now() + chrono::Duration::days(3))
        .format("%Y-%m-%dT10:00:00Z")
        .to_string();
    let w = create(
        &app,
        &ops,
        deployment("prod release 2.3", "prod", &start, &["api", "worker"]),
    )
    .await;
    let id = &w["id"];
    assert_eq!(w["status"], "pending_approval");
    // Only an ADMIN decides, and not the requester.
    assert_problem(decide(&app, &ops, id, "approve", "").await, 403).await;
    assert_problem(status(&app, &ops, id, "in_progress").await, 409).await;
    assert_eq!(decide(&app, &admin, id, "review", "looking").await.status(), 200);
    let approved: Value = decide(&app, &admin, id, "approve", "go")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            approved["status"].as_str(),
            approved["approved_by"]["username"].as_str()
        ),
        (Some("planned"), Some("admin"))
    );
    // Reminders at 24 h, 1 h and 15 min were scheduled with the approval.
    // (Counted with a no-op UPDATE, outside the app: claiming them would steal them from the worker.)
    let reminders = app
        .db
        .raw_execute("UPDATE jobs SET max_attempts = max_attempts WHERE kind = 'reminder.deployment' AND status = 'queued'")
        .await
        .unwrap();
    assert_eq!(reminders, 3);
    // The checklist must be complete before the deployment starts.
    let body = assert_problem(status(&app, &ops, id, "in_progress").await, 409).await;
    assert_eq!(body["type"], "/problems/checklist-incomplete");
    for index in 0..2 {
        let resp = app
            .post_json(
                &format!("/api/events/{id}/checklist"),
                Some(&ops.token),
                json!({"index": index, "done": true}),
            )
            .await;
        assert_eq!(resp.status(), 200);
    }
    assert_eq!(status(&app, &ops, id, "in_progress").await.status(), 200);
    assert_problem(status(&app, &ops, id, "planned").await, 409).await;
    let done: Value = status(&app, &ops, id, "completed").await.json().await.unwrap();
    assert_eq!(done["status"], "completed");
    assert_eq!(done["extra"]["checklist"][0]["done_by"], ops.id);
    // The history shows every step, who and when.
    let history: Value = app
        .get_auth(&format!("/api/events/{id}/history"), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    let steps: Vec<(String, String)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["action"].as_str().unwrap().to_owned(),
                h["actor"]["username"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("submitted", "ops"),
        ("review_started", "admin"),
        ("approved", "admin"),
        ("pending_approval->planned", "admin"),
        ("planned->in_progress", "ops"),
        ("in_progress->completed", "ops"),
    ];
    assert_eq!(steps, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
    let approvals: Value = app
        .get_auth(&format!("/api/events/{id}/approvals"), &ops.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(approvals["items"].as_array().unwrap().len(), 3);
    assert!(
        app.metrics()
            .await
            .contains(r#"deployments_total{environment="prod",status="completed"} 1"#)
    );
    // Every step is audited.
    let audit: Value = app
        .get_auth("/api/audit?action=event.", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(audit["total"].as_i64().unwrap() >= 7, "{audit}");
    // The requester was told, through the real job worker (fan-out job -> in-app notification).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let kinds = loop {
        let list: Value = app
            .get_auth("/api/notifications", &ops.token)
            .await
            .json()
            .await
            .unwrap();
        let kinds: Vec<String> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["kind"].as_str().unwrap().to_owned())
            .collect();
        if kinds.iter().any(|k| k == "approval_decided") || std::time::Instant::now() > deadline {
            break kinds;
        }
        // Poll the condition; the worker's poll interval is 1 s.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(kinds.iter().any(|k| k == "approval_decided"), "{kinds:?}");
    // An ADMIN's own prod window cannot be approved by themself.
    let own = create(&app, &admin, deployment("own", "prod", &start, &["billing"])).await;
    assert_problem(decide(&app, &admin, &own["id"], "approve", "").await, 403).await;
    app.stop().await;
}

async fn refusal_needs_a_comment_and_can_be_resubmitted(kind: Db) {
    let app = TestApp::spawn(kind).await;
    let admin = app.admin().await;
    let ops = app.user(&admin, "ops", "OPS").await;
    let w = create(
        &app,
        &ops,
        deployment("prod hotfix", "prod", "2030-03-05T10:00:00Z", &["api"]),
    )
    .await;
    let id = &w["id"];
    let body = assert_problem(decide(&app, &admin, id, "refuse", "  ").await, 422).await;
    assert_eq!(body["errors"][0]["field"], "comment");
    let refused: Value = decide(&app, &admin, id, "refuse", "no rollback test")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(refused["status"], "refused");
    assert_problem(decide(&app, &admin, id, "approve", "").await, 409).await;
    let again: Value = app
        .post_json(
            &format!("/api/events/{id}/submit"),
            Some(&ops.token),
            json!({"comment": "rollback tested"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["status"], "pending_approval");
    let history: Value = app
        .get_auth(&format!("/api/events/{id}/approvals"), &ops.token)
        .await
        .json()
        .await
        .unwrap();
    let comments: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["comment"].as_str().unwrap())
        .collect();
    assert_eq!(comments, ["", "no rollback test", "rollback tested"]);
    app.stop().await;
}

async fn conflicts_and_freezes_block_prod_windows(kind: Db) {
    let app = TestApp::spawn(kind).await;
    let admin = app.admin().await;
    let ops = app.user(&admin, "ops", "OPS").await;
    let first = create(
        &app,
        &ops,
        deployment("first", "prod", "2030-04-02T10:00:00Z", &["api", "db"]),
    )
    .await;
    // Same service, overlapping: refused with the reason and the next free slot.
    let body = assert_problem(
        app.post_json(
            "/api/events",
            Some(&ops.token),
            deployment("second", "prod", "2030-04-02T10:30:00Z", &["API"]),
        )
        .await,
        409,
    )
    .await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("#{}", first["id"])) && detail.contains("api"),
        "{detail}"
    );
    assert!(
        detail.contains("next free slot starts at 2030-04-02T11:00:00+00:00"),
        "{detail}"
    );
    // The same, structured for clients.
    assert_eq!(body["next_free_slot"], "2030-04-02T11:00:00Z");
    assert_eq!(body["conflicts"][0]["event_id"], first["id"]);
    assert_eq!(body["conflicts"][0]["services"], json!(["api"]));
    // Another service, or staging: fine.
    create(
        &app,
        &ops,
        deployment("other", "prod", "2030-04-02T10:30:00Z", &["frontend"]),
    )
    .await;
    create(
        &app,
        &ops,
        deployment("staging", "staging", "2030-04-02T10:30:00Z", &["api"]),
    )
    .await;
    // A freeze blocks prod, names itself, and is audited on creation.
    let freeze = app
        .post_json(
            "/api/freezes",
            Some(&admin.token),
            json!({"name": "Year-end freeze", "starts_at": "2030-12-20T00:00:00Z", "ends_at": "2031-01-03T00:00:00Z"}),
        )
        .await;
    assert_eq!(freeze.status(), 201);
    assert_problem(
        app.post_json(
            "/api/freezes",
            Some(&ops.token),
            json!({"name": "x", "starts_at": "2030-12-20T00:00:00Z", "ends_at": "2031-01-03T00:00:00Z"}),
        )
        .await,
        403,
    )
    .await;
    let body = assert_problem(
        app.post_json(
            "/api/events",
            Some(&ops.token),
            deployment("xmas", "prod", "2030-12-24T10:00:00Z", &["api"]),
        )
        .await,
        409,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("Year-end freeze"),
        "{body}"
    );
    assert!(
        body["detail"].as_str().unwrap().contains("2031-01-03"),
        "next slot after the freeze: {body}"
    );
    create(
        &app,
        &ops,
        deployment("xmas staging", "staging", "2030-12-24T10:00:00Z", &["api"]),
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn flag_policy_creates_and_reports_conflicts() {
    let app = TestApp::spawn_with(Db::Sqlite, |s| s.deployments.conflict_policy = "flag".into()).await;
    let admin = app.admin().await;
    let ops = app.user(&admin, "ops", "OPS").await;
    create(
        &app,
        &ops,
        deployment("first", "prod", "2030-04-02T10:00:00Z", &["api"]),
    )
    .await;
    let second = create(
        &app,
        &ops,
        deployment("second", "prod", "2030-04-02T10:30:00Z", &["api"]),
    )
    .await;
    assert_eq!(second["conflicts"][0]["reason"], "overlap");
    app.stop().await;
}

#[tokio::test]
async fn event_creation_is_rate_limited_per_user() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let admin = app.admin().await;
    let projet = app.user(&admin, "projet", "PROJET").await;
    for i in 0..20 {
        create(
            &app,
            &projet,
            meeting(&format!("m{i}"), "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z"),
        )
        .await;
    }
    let limited = app
        .post_json(
            "/api/events",
            Some(&projet.token),
            meeting("m21", "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z"),
        )
        .await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429).await;
    // Another user is unaffected.
    create(
        &app,
        &admin,
        meeting("admin's", "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z"),
    )
    .await;
    app.stop().await;
}

async fn calendar_feed_is_valid_icalendar(kind: Db) {
    let app = TestApp::spawn(kind).await;
    let admin = app.admin().await;
    let now = chrono::Utc::now();
    let at = |days: i64, h: u32| {
        (now + chrono::Duration::days(days))
            .format(&format!("%Y-%m-%dT{h:02}:00:00Z"))
            .to_string()
    };
    let mut weekly = meeting("Weekly review", &at(1, 9), &at(1, 10));
    weekly["extra"]["recurrence"] = json!({"freq": "weekly", "count": 4});
    create(&app, &admin, weekly).await;
    create(
        &app,
        &admin,
        deployment("prod, \"quoted\"; release", "prod", &at(2, 10), &["api"]),
    )
    .await;
    let token: Value = app
        .post_json("/api/calendar/token", Some(&admin.token), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let url = token["url"].as_str().unwrap();
    let feed_path = &url[url.find("/api/").unwrap()..];
    let resp = app.get(feed_path).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let body = resp.text().await.unwrap();
    assert!(body.starts_with("BEGIN:VCALENDAR\r\n") && body.trim_end().ends_with("END:VCALENDAR"));
    assert!(body.contains("VERSION:2.0") && body.contains("PRODID:"));
    assert!(body.contains("RRULE:FREQ=WEEKLY;COUNT=4"));
    assert!(body.contains("STATUS:TENTATIVE"), "pending approval");
    assert!(
        body.contains(r#"SUMMARY:prod\, "quoted"\; release"#),
        "text values are escaped: {body}"
    );
    assert!(
        body.lines().all(|l| l.len() <= 75 + 1),
        "lines are folded at 75 octets"
    );
    assert_eq!(body.matches("BEGIN:VEVENT").count(), 2);
    // Revoked: 401.
    assert_eq!(
        app.send(Method::DELETE, "/api/calendar/token", Some(&admin.token), None)
            .await
            .status(),
        204
    );
    assert_problem(app.get(feed_path).await, 401).await;
    app.stop().await;
}
