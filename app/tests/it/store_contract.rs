//! The storage contract: the same tests, against SQLite and PostgreSQL, each on a fresh database.

use chrono::{DateTime, Duration, TimeZone, Utc};
use uyoop_cal::Error;
use uyoop_cal::model::event::{
    ChecklistItem, DeploymentExtra, Environment, GitActionExtra, GitOperation, GitTrigger, MeetingExtra,
    MeetingKind, MeetingTags,
};
use uyoop_cal::model::*;
use uyoop_cal::store::DynStore;

use crate::helpers::{Db, TestDb};
use crate::on_both_backends;

on_both_backends!(
    migrations_are_idempotent,
    users_crud_and_uniqueness,
    teams_crud,
    events_roundtrip_each_kind,
    events_range_query_overlap,
    events_optimistic_concurrency,
    events_reject_dangling_references,
    audit_is_written_with_changes_and_append_only,
    jobs_dedupe_claim_retry,
    jobs_concurrent_claims_are_disjoint,
    jobs_stale_workers_are_requeued,
);

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, h, m, 0).unwrap()
}

fn audit(action: &str) -> AuditRecord {
    AuditRecord {
        user_id: None,
        credential: "test".into(),
        action: action.into(),
        resource_type: action.split('.').next().unwrap().into(),
        resource_id: None,
        outcome: Outcome::Success,
        details: serde_json::json!({"via": "contract"}),
        ip: Some("192.0.2.1".into()),
        user_agent: Some("contract-test".into()),
        request_id: Some("req-1".into()),
    }
}

async fn user(store: &DynStore, name: &str, role: Role) -> User {
    store
        .create_user(
            &NewUser {
                username: name.into(),
                email: format!("{name}@example.com"),
                display_name: name.to_uppercase(),
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                role,
                team_id: None,
            },
            &audit("user.create"),
        )
        .await
        .unwrap()
}

fn meeting() -> EventPayload {
    EventPayload::Meeting(MeetingExtra {
        meeting_kind: MeetingKind::Planning,
        participants: vec![],
        video_url: Some("https://meet.example.com/abc".into()),
        agenda_md: "# Agenda\n- scope".into(),
        tags: MeetingTags {
            sprint: Some(42),
            epic: Some("billing".into()),
        },
        recurrence: None,
    })
}

fn deployment(env: Environment) -> EventPayload {
    EventPayload::DeploymentWindow(DeploymentExtra {
        environment: env,
        duration_minutes: 60,
        services: vec!["api".into(), "worker".into()],
        change_description: "v2.3".into(),
        checklist: vec![ChecklistItem {
            label: "backup done".into(),
            done: false,
            done_by: None,
            done_at: None,
        }],
        rollback_plan: "helm rollback".into(),
    })
}

fn new_event(title: &str, start: DateTime<Utc>, end: DateTime<Utc>, payload: EventPayload) -> NewEvent {
    NewEvent {
        title: title.into(),
        description: String::new(),
        start,
        end,
        rrule: None,
        series_end: Some(end),
        payload,
        status: EventStatus::Planned,
        created_by: None,
        team_id: None,
        parent_id: None,
        recurrence_id: None,
    }
}

async fn migrations_are_idempotent(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
    assert_eq!(store.count_users().await.unwrap(), 0);
    store.close().await;
    db.cleanup().await;
}

async fn users_crud_and_uniqueness(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let alice = user(&store, "alice", Role::Projet).await;
    let bob = user(&store, "bob", Role::Dev).await;
    assert_eq!(store.count_users().await.unwrap(), 2);
    assert_eq!(store.user(alice.id).await.unwrap().unwrap().username, "alice");
    assert_eq!(store.user_by_login("ALICE").await.unwrap().unwrap().id, alice.id);
    assert_eq!(
        store.user_by_login("Bob@Example.com").await.unwrap().unwrap().id,
        bob.id
    );
    assert!(store.user_by_login("carol").await.unwrap().is_none());

    // Case-insensitive uniqueness of username and e-mail, reported on the right field.
    let dup = store
        .create_user(
            &NewUser {
                username: "Alice".into(),
                email: "other@example.com".into(),
                display_name: String::new(),
                password_hash: "x".into(),
                role: Role::Dev,
                team_id: None,
            },
            &audit("user.create"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            &dup,
            Error::Duplicate {
                field: "username",
                ..
            }
        ),
        "{dup:?}"
    );
    let dup = store
        .create_user(
            &NewUser {
                username: "alice2".into(),
                email: "ALICE@example.com".into(),
                display_name: String::new(),
                password_hash: "x".into(),
                role: Role::Dev,
                team_id: None,
            },
            &audit("user.create"),
        )
        .await
        .unwrap_err();
    assert!(matches!(&dup, Error::Duplicate { field: "email", .. }), "{dup:?}");

    let page = store
        .list_users(&UserQuery {
            role: Some(Role::Dev),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((page.total, page.items.len()), (1, 1));
    let page = store
        .list_users(&UserQuery {
            limit: 1,
            offset: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.items[0].username, "bob");

    let updated = store
        .update_user(
            bob.id,
            &UserUpdate {
                role: Some(Role::Ops),
                display_name: Some("Bobby".into()),
                ..Default::default()
            },
            &audit("user.update"),
        )
        .await
        .unwrap();
    assert_eq!(
        (updated.role, updated.display_name.as_str()),
        (Role::Ops, "Bobby")
    );
    assert!(updated.updated_at >= bob.updated_at);
    assert!(matches!(
        store
            .update_user(9999, &UserUpdate::default(), &audit("user.update"))
            .await,
        Err(Error::NotFound(_))
    ));

    store.delete_user(bob.id, &audit("user.delete")).await.unwrap();
    assert!(store.user(bob.id).await.unwrap().is_none());
    assert!(matches!(
        store.delete_user(bob.id, &audit("user.delete")).await,
        Err(Error::NotFound(_))
    ));
    // The password hash is never serialized.
    let json = serde_json::to_string(&alice).unwrap();
    assert!(!json.contains("argon2"), "{json}");
    store.close().await;
    db.cleanup().await;
}

async fn teams_crud(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let lead = user(&store, "lead", Role::Projet).await;
    let team = store
        .create_team(
            &NewTeam {
                name: "Platform".into(),
                description: "infra".into(),
                lead_id: Some(lead.id),
            },
            &audit("team.create"),
        )
        .await
        .unwrap();
    assert_eq!(store.team(team.id).await.unwrap().unwrap().lead_id, Some(lead.id));
    let dup = store
        .create_team(
            &NewTeam {
                name: "platform".into(),
                description: String::new(),
                lead_id: None,
            },
            &audit("team.create"),
        )
        .await
        .unwrap_err();
    assert!(matches!(dup, Error::Duplicate { field: "name", .. }));
    store
        .update_user(
            lead.id,
            &UserUpdate {
                team_id: Some(Some(team.id)),
                ..Default::default()
            },
            &audit("user.update"),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .list_users(&UserQuery {
                team_id: Some(team.id),
                ..Default::default()
            })
            .await
            .unwrap()
            .total,
        1
    );
    store.delete_team(team.id, &audit("team.delete")).await.unwrap();
    assert!(store.list_teams().await.unwrap().is_empty());
    // Members keep their accounts, without a team.
    assert_eq!(store.user(lead.id).await.unwrap().unwrap().team_id, None);
    store.close().await;
    db.cleanup().await;
}

async fn events_roundtrip_each_kind(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let dev = user(&store, "dev", Role::Dev).await;
    let git = EventPayload::GitAction(GitActionExtra {
        repository_url: "https://git.example.com/team/app.git".into(),
        branch: "main".into(),
        action: GitOperation::Tag,
        trigger: GitTrigger::Cron,
        cron: Some("0 2 * * 1".into()),
        post_actions: vec![uyoop_cal::model::event::PostAction::RunTests],
    });
    for payload in [meeting(), deployment(Environment::Prod), git] {
        let mut e = new_event("Événement ✓", t(9, 0), t(10, 0), payload.clone());
        e.created_by = Some(dev.id);
        e.description = "d".repeat(2000);
        let created = store.create_event(&e, &audit("event.create"), &[]).await.unwrap();
        let read = store.event(created.id).await.unwrap().unwrap();
        assert_eq!(read, created);
        assert_eq!(read.payload, payload);
        assert_eq!((read.start, read.end, read.version), (t(9, 0), t(10, 0), 1));
        assert_eq!(read.created_by, Some(dev.id));
        assert_eq!(read.title, "Événement ✓");
    }
    let only_git = store
        .list_events(&EventQuery {
            kind: Some(EventKind::GitAction),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(only_git.len(), 1);
    let mine = store
        .list_events(&EventQuery {
            created_by: Some(dev.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(mine.len(), 3);

    // Limits of the spec hold in the database too (title 255, description 2000).
    let mut long = new_event(&"x".repeat(256), t(9, 0), t(10, 0), meeting());
    assert!(matches!(
        store.create_event(&long, &audit("event.create"), &[]).await,
        Err(Error::Validation(_))
    ));
    long.title = "ok".into();
    long.description = "d".repeat(2001);
    assert!(matches!(
        store.create_event(&long, &audit("event.create"), &[]).await,
        Err(Error::Validation(_))
    ));
    // end must be after start
    let backwards = new_event("b", t(10, 0), t(9, 0), meeting());
    assert!(matches!(
        store.create_event(&backwards, &audit("event.create"), &[]).await,
        Err(Error::Validation(_))
    ));

    let id = only_git[0].id;
    store.delete_event(id, &audit("event.delete")).await.unwrap();
    assert!(store.event(id).await.unwrap().is_none());
    assert!(matches!(
        store.delete_event(id, &audit("event.delete")).await,
        Err(Error::NotFound(_))
    ));
    store.close().await;
    db.cleanup().await;
}

async fn events_range_query_overlap(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let a = audit("event.create");
    let before = store
        .create_event(&new_event("before", t(7, 0), t(8, 0), meeting()), &a, &[])
        .await
        .unwrap();
    let touching = store
        .create_event(&new_event("touching", t(8, 0), t(9, 0), meeting()), &a, &[])
        .await
        .unwrap();
    let inside = store
        .create_event(&new_event("inside", t(9, 30), t(10, 0), meeting()), &a, &[])
        .await
        .unwrap();
    let spanning = store
        .create_event(&new_event("spanning", t(6, 0), t(23, 0), meeting()), &a, &[])
        .await
        .unwrap();
    let at_end = store
        .create_event(&new_event("at_end", t(11, 0), t(12, 0), meeting()), &a, &[])
        .await
        .unwrap();
    // An unbounded series that started last week overlaps every later window.
    let mut series = new_event(
        "daily",
        t(8, 0) - Duration::days(7),
        t(8, 15) - Duration::days(7),
        meeting(),
    );
    series.rrule = Some("FREQ=DAILY".into());
    series.series_end = None;
    let series = store.create_event(&series, &a, &[]).await.unwrap();
    // A bounded series that ended yesterday does not.
    let mut old = new_event(
        "old",
        t(8, 0) - Duration::days(7),
        t(8, 15) - Duration::days(7),
        meeting(),
    );
    old.rrule = Some("FREQ=DAILY;COUNT=3".into());
    old.series_end = Some(t(8, 15) - Duration::days(5));
    store.create_event(&old, &a, &[]).await.unwrap();

    // Window [09:00, 11:00): half-open on both sides.
    let got = store
        .list_events(&EventQuery {
            window: Some((t(9, 0), t(11, 0))),
            ..Default::default()
        })
        .await
        .unwrap();
    let ids: Vec<i64> = got.iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        vec![series.id, spanning.id, inside.id],
        "sorted by start, then id"
    );
    assert!(!ids.contains(&before.id) && !ids.contains(&touching.id) && !ids.contains(&at_end.id));

    let limited = store
        .list_events(&EventQuery {
            window: Some((t(0, 0), t(23, 59))),
            limit: 2,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(limited.len(), 2);
    store.close().await;
    db.cleanup().await;
}

async fn events_optimistic_concurrency(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let e = store
        .create_event(
            &new_event("deploy", t(9, 0), t(10, 0), deployment(Environment::Staging)),
            &audit("event.create"),
            &[],
        )
        .await
        .unwrap();
    let mut first = UpdateEvent::from_event(&e);
    first.title = "deploy v2".into();
    let updated = store
        .update_event(e.id, &first, &audit("event.update"), &[])
        .await
        .unwrap();
    assert_eq!((updated.version, updated.title.as_str()), (2, "deploy v2"));

    // A second writer who read version 1 gets a 409, and nothing of theirs is stored.
    let mut stale = UpdateEvent::from_event(&e);
    stale.title = "lost update".into();
    let err = store
        .update_event(e.id, &stale, &audit("event.update"), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                slug: "stale-version",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(store.event(e.id).await.unwrap().unwrap().title, "deploy v2");

    // The type of an event cannot change through an update.
    let mut retype = UpdateEvent::from_event(&updated);
    retype.payload = meeting();
    assert!(matches!(
        store
            .update_event(e.id, &retype, &audit("event.update"), &[])
            .await,
        Err(Error::Validation(_))
    ));
    assert!(matches!(
        store
            .update_event(
                4242,
                &UpdateEvent::from_event(&updated),
                &audit("event.update"),
                &[]
            )
            .await,
        Err(Error::NotFound(_))
    ));
    store.close().await;
    db.cleanup().await;
}

async fn events_reject_dangling_references(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let mut e = new_event("x", t(9, 0), t(10, 0), meeting());
    e.created_by = Some(777);
    let err = store
        .create_event(&e, &audit("event.create"), &[])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    // Nothing half-written: no event and no audit row for the failed change.
    assert!(
        store
            .list_events(&EventQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.list_audit(&AuditQuery::default()).await.unwrap().total, 0);
    store.close().await;
    db.cleanup().await;
}

async fn audit_is_written_with_changes_and_append_only(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let u = user(&store, "auditor", Role::Admin).await;
    let e = store
        .create_event(
            &new_event("m", t(9, 0), t(10, 0), meeting()),
            &audit("event.create"),
            &[],
        )
        .await
        .unwrap();
    store.delete_event(e.id, &audit("event.delete")).await.unwrap();
    let mut failed = audit("auth.login");
    failed.outcome = Outcome::Failure;
    failed.user_id = Some(u.id);
    store.append_audit(&failed).await.unwrap();

    let all = store.list_audit(&AuditQuery::default()).await.unwrap();
    assert_eq!(all.total, 4);
    let actions: Vec<&str> = all.items.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        ["auth.login", "event.delete", "event.create", "user.create"],
        "newest first"
    );
    let created = &all.items[2];
    assert_eq!(created.resource_id.as_deref(), Some(e.id.to_string().as_str()));
    assert_eq!(created.details, serde_json::json!({"via": "contract"}));
    assert_eq!(
        (created.ip.as_deref(), created.request_id.as_deref()),
        (Some("192.0.2.1"), Some("req-1"))
    );

    let events_only = store
        .list_audit(&AuditQuery {
            action_prefix: Some("event.".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events_only.total, 2);
    let by_user = store
        .list_audit(&AuditQuery {
            user_id: Some(u.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((by_user.total, by_user.items[0].outcome.as_str()), (1, "failure"));
    let page = store
        .list_audit(&AuditQuery {
            limit: 1,
            offset: 3,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items[0].action, "user.create");

    // Append-only, whatever the client: the database itself refuses UPDATE and DELETE.
    assert!(
        db.raw_execute("UPDATE audit_log SET action = 'forged'")
            .await
            .is_err()
    );
    assert!(db.raw_execute("DELETE FROM audit_log").await.is_err());
    assert_eq!(store.list_audit(&AuditQuery::default()).await.unwrap().total, 4);
    store.close().await;
    db.cleanup().await;
}

async fn jobs_dedupe_claim_retry(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let now = Utc::now();
    let mut reminder = NewJob::now("reminder", serde_json::json!({"event": 1}));
    reminder.dedupe_key = Some("reminder:1:15m".into());
    reminder.max_attempts = 2;
    let id = store
        .enqueue_job(&reminder)
        .await
        .unwrap()
        .expect("first enqueue");
    assert_eq!(
        store.enqueue_job(&reminder).await.unwrap(),
        None,
        "same dedupe key: not enqueued twice"
    );
    let mut later = NewJob::now("digest", serde_json::json!({}));
    later.run_at = now + Duration::hours(1);
    store.enqueue_job(&later).await.unwrap().unwrap();

    // Jobs enqueued with a change are committed with it.
    let mut with_event = NewJob::now("notify", serde_json::json!({"x": 1}));
    with_event.dedupe_key = Some("with-event".into());
    store
        .create_event(
            &new_event("m", t(9, 0), t(10, 0), meeting()),
            &audit("event.create"),
            &[with_event],
        )
        .await
        .unwrap();

    let claimed = store
        .claim_jobs("w1", 10, now + Duration::seconds(1))
        .await
        .unwrap();
    let kinds: Vec<&str> = claimed.iter().map(|j| j.kind.as_str()).collect();
    assert_eq!(kinds, ["reminder", "notify"], "only due jobs, in run_at order");
    assert!(
        claimed
            .iter()
            .all(|j| j.status == JobStatus::Running && j.attempts == 1)
    );
    assert!(
        store
            .claim_jobs("w2", 10, now + Duration::seconds(1))
            .await
            .unwrap()
            .is_empty()
    );

    // Only the holder may finish a job.
    assert!(matches!(
        store.complete_job(id, "w2").await,
        Err(Error::Conflict { .. })
    ));
    // First failure: re-queued for later; second failure: failed for good (max_attempts = 2).
    store
        .fail_job(id, "w1", "smtp down", now + Duration::seconds(30))
        .await
        .unwrap();
    let job = store.job(id).await.unwrap().unwrap();
    assert_eq!(
        (job.status, job.last_error.as_deref()),
        (JobStatus::Queued, Some("smtp down"))
    );
    assert!(
        store
            .claim_jobs("w1", 10, now + Duration::seconds(5))
            .await
            .unwrap()
            .is_empty(),
        "backoff respected"
    );
    let again = store
        .claim_jobs("w1", 10, now + Duration::seconds(31))
        .await
        .unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 2));
    store
        .fail_job(id, "w1", "smtp still down", now + Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!(store.job(id).await.unwrap().unwrap().status, JobStatus::Failed);

    let notify = claimed[1].id;
    store.complete_job(notify, "w1").await.unwrap();
    assert_eq!(store.job(notify).await.unwrap().unwrap().status, JobStatus::Done);
    assert!(
        matches!(
            store.complete_job(notify, "w1").await,
            Err(Error::Conflict { .. })
        ),
        "done only once"
    );
    store.close().await;
    db.cleanup().await;
}

async fn jobs_concurrent_claims_are_disjoint(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    for i in 0..40 {
        store
            .enqueue_job(&NewJob::now("work", serde_json::json!({"i": i})))
            .await
            .unwrap();
    }
    let now = Utc::now() + Duration::seconds(1);
    let mut tasks = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store.claim_jobs(&format!("w{w}"), 3, now).await.unwrap();
                if batch.is_empty() {
                    break mine;
                }
                mine.extend(batch.into_iter().map(|j| j.id));
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let total = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!((total, all.len()), (40, 40), "every job claimed exactly once");
    store.close().await;
    db.cleanup().await;
}

async fn jobs_stale_workers_are_requeued(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let now = Utc::now();
    let id = store
        .enqueue_job(&NewJob::now("work", serde_json::json!({})))
        .await
        .unwrap()
        .unwrap();
    let other = store
        .enqueue_job(&NewJob::now("work", serde_json::json!({})))
        .await
        .unwrap()
        .unwrap();
    let claimed = store
        .claim_jobs("dead-worker", 1, now + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(claimed[0].id, id);
    let alive = store
        .claim_jobs("live-worker", 1, now + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(alive[0].id, other);
    // The live worker heart-beats; the dead one stopped.
    store
        .heartbeat_jobs("live-worker", &[other], now + Duration::seconds(120))
        .await
        .unwrap();
    let requeued = store
        .requeue_stale_jobs(now + Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!(requeued, 1);
    let job = store.job(id).await.unwrap().unwrap();
    assert_eq!((job.status, job.locked_by), (JobStatus::Queued, None));
    assert_eq!(
        store.job(other).await.unwrap().unwrap().status,
        JobStatus::Running
    );
    // The dead worker, if it wakes up, can no longer complete the job.
    assert!(matches!(
        store.complete_job(id, "dead-worker").await,
        Err(Error::Conflict { .. })
    ));
    let retry = store
        .claim_jobs("live-worker", 1, now + Duration::seconds(61))
        .await
        .unwrap();
    assert_eq!((retry[0].id, retry[0].attempts), (id, 2));
    store.close().await;
    db.cleanup().await;
}

// Comments, reactions, notifications, preferences and delivery records.
on_both_backends!(
    social_comments_and_reactions,
    social_notifications_preferences_and_deliveries
);

async fn social_comments_and_reactions(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let alice = user(&store, "alice", Role::Dev).await;
    let bob = user(&store, "Bob.Ops", Role::Ops).await;
    let e = store
        .create_event(
            &new_event("Release", t(10, 0), t(11, 0), deployment(Environment::Prod)),
            &audit("event.create"),
            &[],
        )
        .await
        .unwrap();
    let job = NewJob::now("notify.fanout", serde_json::json!({"kind": "mention"}));
    let c = store
        .create_comment(
            &NewComment {
                event_id: e.id,
                author_id: alice.id,
                body: "  *raw* body\n".into(),
            },
            &audit("comment.create"),
            &[job],
        )
        .await
        .unwrap();
    assert_eq!(c.body, "  *raw* body\n", "stored exactly as written");
    assert_eq!(
        c.author,
        Some(UserRef {
            id: alice.id,
            username: "alice".into()
        })
    );
    assert_eq!(c.event_id, e.id);
    assert!(c.reactions.is_empty());
    // The job was enqueued in the same transaction.
    let claimed = store.claim_jobs("w", 10, Utc::now()).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].kind, "notify.fanout");
    // A comment on a missing event is refused, and nothing is written.
    let err = store
        .create_comment(
            &NewComment {
                event_id: 999_999,
                author_id: alice.id,
                body: "x".into(),
            },
            &audit("comment.create"),
            &[],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    // Length is checked by the database too.
    let err = store
        .create_comment(
            &NewComment {
                event_id: e.id,
                author_id: alice.id,
                body: "x".repeat(10_001),
            },
            &audit("comment.create"),
            &[],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");

    assert!(
        store
            .toggle_reaction(c.id, alice.id, "👍", &audit("comment.react"))
            .await
            .unwrap()
    );
    assert!(
        store
            .toggle_reaction(c.id, bob.id, "👍", &audit("comment.react"))
            .await
            .unwrap()
    );
    assert!(
        store
            .toggle_reaction(c.id, bob.id, "🔥", &audit("comment.react"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .toggle_reaction(c.id, alice.id, "👍", &audit("comment.react"))
            .await
            .unwrap()
    );
    assert!(matches!(
        store
            .toggle_reaction(999_999, alice.id, "👍", &audit("comment.react"))
            .await,
        Err(Error::NotFound(_))
    ));
    let got = store.comment(c.id).await.unwrap().unwrap();
    let who: Vec<(&str, &str)> = got
        .reactions
        .iter()
        .map(|r| (r.emoji.as_str(), r.user.username.as_str()))
        .collect();
    assert_eq!(who, [("👍", "Bob.Ops"), ("🔥", "Bob.Ops")]);
    let c2 = store
        .create_comment(
            &NewComment {
                event_id: e.id,
                author_id: bob.id,
                body: "second".into(),
            },
            &audit("comment.create"),
            &[],
        )
        .await
        .unwrap();
    let listed = store.list_comments(e.id).await.unwrap();
    assert_eq!(listed.iter().map(|c| c.id).collect::<Vec<_>>(), [c.id, c2.id]);
    assert_eq!(listed[0].reactions.len(), 2);
    assert!(store.list_comments(999_999).await.unwrap().is_empty());

    // Mentions resolve case-insensitively.
    let found = store
        .users_by_usernames(&["bob.ops".into(), "ALICE".into(), "nobody".into()])
        .await
        .unwrap();
    assert_eq!(found.iter().map(|u| u.id).collect::<Vec<_>>(), [alice.id, bob.id]);
    assert!(store.users_by_usernames(&[]).await.unwrap().is_empty());

    // Deleting the author keeps the comment without an author; deleting a comment drops its reactions.
    store.delete_user(bob.id, &audit("user.delete")).await.unwrap();
    let orphan = store.comment(c2.id).await.unwrap().unwrap();
    assert_eq!(orphan.author, None);
    assert!(
        store.comment(c.id).await.unwrap().unwrap().reactions.is_empty(),
        "bob's reactions went with him"
    );
    store
        .delete_comment(c.id, &audit("comment.delete"))
        .await
        .unwrap();
    assert!(store.comment(c.id).await.unwrap().is_none());
    assert!(matches!(
        store.delete_comment(c.id, &audit("comment.delete")).await,
        Err(Error::NotFound(_))
    ));

    let rows = store
        .list_audit(&AuditQuery {
            action_prefix: Some("comment.".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rows.total, 2 + 4 + 1, "two creates, four toggles, one delete");
    let toggle = rows.items.iter().find(|r| r.action == "comment.react").unwrap();
    assert_eq!(
        toggle.details["added"], false,
        "the newest toggle removed alice's 👍"
    );
    assert_eq!(toggle.details["via"], "contract", "the caller's details are kept");
    store.close().await;
    db.cleanup().await;
}

async fn social_notifications_preferences_and_deliveries(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let alice = user(&store, "alice", Role::Dev).await;
    let bob = user(&store, "bob", Role::Ops).await;
    let n = |user_id: i64, key: &str, kind: NotificationKind| NewNotification {
        user_id,
        kind,
        title: format!("title {key}"),
        body: "body".into(),
        link: Some("/events/1".into()),
        data: serde_json::json!({"event_id": 1}),
        dedupe_key: key.into(),
    };
    let start = Utc::now() - Duration::seconds(5);
    let email = NewJob {
        dedupe_key: Some("email:k1".into()),
        ..NewJob::now("email.send", serde_json::json!({}))
    };
    let created = store
        .store_notifications(
            &[
                n(alice.id, "k1", NotificationKind::Mention),
                n(alice.id, "k2", NotificationKind::Reminder),
                n(bob.id, "k3", NotificationKind::Mention),
            ],
            std::slice::from_ref(&email),
        )
        .await
        .unwrap();
    assert_eq!(created.len(), 3);
    // Idempotent: same keys, nothing new (rows or jobs).
    let again = store
        .store_notifications(&[n(alice.id, "k1", NotificationKind::Mention)], &[email])
        .await
        .unwrap();
    assert!(again.is_empty());
    assert_eq!(store.claim_jobs("w", 10, Utc::now()).await.unwrap().len(), 1);

    let page = store.list_notifications(alice.id, 0, 10).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.items[0].dedupe_key.as_deref(), Some("k2"), "newest first");
    assert_eq!(page.items[0].kind, NotificationKind::Reminder);
    assert_eq!(page.items[1].data["event_id"], 1);
    assert_eq!(
        store
            .list_notifications(alice.id, 1, 10)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let by_key = store.notification_by_key("k3").await.unwrap().unwrap();
    assert_eq!(by_key.user_id, bob.id);
    assert!(store.notification_by_key("nope").await.unwrap().is_none());

    assert_eq!(store.unread_notifications(alice.id).await.unwrap(), 2);
    let first = page.items[1].id;
    store
        .mark_notification_read(alice.id, first, Utc::now(), &audit("notification.read"))
        .await
        .unwrap();
    let read_at = store.list_notifications(alice.id, 0, 10).await.unwrap().items[1]
        .read_at
        .unwrap();
    store
        .mark_notification_read(
            alice.id,
            first,
            Utc::now() + Duration::hours(1),
            &audit("notification.read"),
        )
        .await
        .unwrap();
    assert_eq!(
        store.list_notifications(alice.id, 0, 10).await.unwrap().items[1].read_at,
        Some(read_at),
        "first read time kept"
    );
    assert!(matches!(
        store
            .mark_notification_read(bob.id, first, Utc::now(), &audit("notification.read"))
            .await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(store.unread_notifications(alice.id).await.unwrap(), 1);

    // The digest window: unread rows of everyone, or of one user.
    let until = Utc::now() + Duration::seconds(5);
    let all = store
        .unread_notifications_between(None, start, until)
        .await
        .unwrap();
    assert_eq!(
        all.iter()
            .map(|n| n.dedupe_key.clone().unwrap())
            .collect::<Vec<_>>(),
        ["k2", "k3"]
    );
    let bobs = store
        .unread_notifications_between(Some(bob.id), start, until)
        .await
        .unwrap();
    assert_eq!(bobs.len(), 1);
    assert!(
        store
            .unread_notifications_between(None, until, until + Duration::hours(1))
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(
        store
            .mark_all_notifications_read(alice.id, Utc::now(), &audit("notification.read_all"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.unread_notifications(alice.id).await.unwrap(), 0);
    assert_eq!(store.unread_notifications(bob.id).await.unwrap(), 1);

    // Preferences: defaults, then replaced.
    assert_eq!(
        store.notification_preferences(alice.id).await.unwrap(),
        NotificationPreferences::default()
    );
    let p = NotificationPreferences {
        email: false,
        daily_digest: true,
        chat: false,
        reminders: true,
    };
    store
        .set_notification_preferences(alice.id, &p, &audit("notification.preferences.update"))
        .await
        .unwrap();
    assert_eq!(store.notification_preferences(alice.id).await.unwrap(), p);
    let p2 = NotificationPreferences { email: true, ..p };
    store
        .set_notification_preferences(alice.id, &p2, &audit("notification.preferences.update"))
        .await
        .unwrap();
    assert_eq!(store.notification_preferences(alice.id).await.unwrap(), p2);
    assert_eq!(
        store.notification_preferences(bob.id).await.unwrap(),
        NotificationPreferences::default()
    );

    // Deliveries are recorded once.
    assert!(!store.delivered("email:k1").await.unwrap());
    assert!(store.record_delivery("email:k1", "email").await.unwrap());
    assert!(!store.record_delivery("email:k1", "email").await.unwrap());
    assert!(store.delivered("email:k1").await.unwrap());

    let rows = store
        .list_audit(&AuditQuery {
            action_prefix: Some("notification.".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rows.total, 5, "two reads, one read-all, two preference changes");
    store.close().await;
    db.cleanup().await;
}

// Worker support: permanent failure, release at shutdown, the pending count, the database's clock.
on_both_backends!(jobs_permanent_release_pending_and_clock);

async fn jobs_permanent_release_pending_and_clock(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let now = Utc::now();
    let db_now = store.database_time().await.unwrap();
    assert!(
        (db_now - now).num_seconds().abs() < 5,
        "database clock {db_now} vs {now}"
    );

    let mut later = NewJob::now("work", serde_json::json!({}));
    later.run_at = now + Duration::hours(1);
    store.enqueue_job(&later).await.unwrap().unwrap();
    let a = store
        .enqueue_job(&NewJob::now("work", serde_json::json!({"a": 1})))
        .await
        .unwrap()
        .unwrap();
    let b = store
        .enqueue_job(&NewJob::now("work", serde_json::json!({"b": 1})))
        .await
        .unwrap()
        .unwrap();
    let due = now + Duration::seconds(1);
    assert_eq!(
        store.count_pending_jobs(due).await.unwrap(),
        2,
        "due and unclaimed only"
    );
    let claimed = store.claim_jobs("w1", 5, due).await.unwrap();
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), [a, b]);
    assert_eq!(
        store.count_pending_jobs(due).await.unwrap(),
        0,
        "claimed jobs are not pending"
    );
    assert_eq!(
        store.count_pending_jobs(now + Duration::hours(2)).await.unwrap(),
        1
    );

    // A permanent error fails the job at once, attempts left or not; only its holder may say so.
    assert!(matches!(
        store.fail_job_permanently(a, "w2", "bad payload").await,
        Err(Error::Conflict { .. })
    ));
    store.fail_job_permanently(a, "w1", "bad payload").await.unwrap();
    let job = store.job(a).await.unwrap().unwrap();
    assert_eq!(
        (job.status, job.attempts, job.locked_by, job.last_error.as_deref()),
        (JobStatus::Failed, 1, None, Some("bad payload"))
    );
    assert!(matches!(
        store.fail_job_permanently(a, "w1", "again").await,
        Err(Error::Conflict { .. })
    ));

    // A job given back at shutdown is due at once and its attempt is not counted.
    assert!(matches!(
        store.release_job(b, "w2", "shutting down", due).await,
        Err(Error::Conflict { .. })
    ));
    store.release_job(b, "w1", "shutting down", due).await.unwrap();
    let job = store.job(b).await.unwrap().unwrap();
    assert_eq!(
        (job.status, job.attempts, job.locked_by, job.last_error.as_deref()),
        (JobStatus::Queued, 0, None, Some("shutting down"))
    );
    assert!(
        (job.run_at - due).num_milliseconds().abs() < 1,
        "{} vs {due}",
        job.run_at
    );
    assert_eq!(store.count_pending_jobs(due).await.unwrap(), 1);
    let again = store.claim_jobs("w2", 5, due).await.unwrap();
    assert_eq!((again.len(), again[0].id, again[0].attempts), (1, b, 1));
    store.close().await;
    db.cleanup().await;
}
