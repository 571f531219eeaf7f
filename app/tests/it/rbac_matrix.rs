//! The role x route matrix (spec 3.2), checked in as a table and walked against the real server.
//!
//! Every operation of the OpenAPI document must have a row here (a new route without one fails
//! `every_route_has_a_policy`), and every mutating route must say how its audit row is checked.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Db, PASSWORD, Session, TestApp};
use crate::on_both_backends;

/// Who may call a route.
#[derive(Debug, Clone, Copy)]
enum Access {
    /// No authentication.
    Public,
    /// These roles pass the authorization gate; the others get 403 (or 404 for objects they may not see).
    Roles(&'static [&'static str]),
}

const ALL: &[&str] = &["PROJET", "DEV", "OPS", "ADMIN"];
const ADMIN: &[&str] = &["ADMIN"];

/// Objects the routes act on.
struct Fx {
    admin: Session,
    projet: Session,
    dev: Session,
    ops: Session,
    victim: i64,
    own_team: i64,
    spare_team: i64,
    delegation: i64,
    /// Events, one per route that changes one (so that one call does not spoil the next).
    ev: std::collections::HashMap<&'static str, i64>,
    freeze: i64,
    /// A comment by the ADMIN (on the `edit` event).
    comment: i64,
    /// A notification of PROJET's.
    notification: i64,
}

impl Fx {
    fn session(&self, role: &str) -> &Session {
        match role {
            "PROJET" => &self.projet,
            "DEV" => &self.dev,
            "OPS" => &self.ops,
            _ => &self.admin,
        }
    }
}

struct Route {
    method: Method,
    /// As in the OpenAPI document.
    template: &'static str,
    access: Access,
    /// The concrete path for the fixtures.
    path: fn(&Fx) -> String,
    /// A request body that passes validation.
    body: fn(&Fx) -> Option<Value>,
    /// Calling it ends the caller's session: use a fresh one.
    fresh_session: bool,
    /// For mutating routes: the audit action a successful call as the first allowed role writes, or
    /// where else its audit row is tested.
    audit: Audit,
}

#[derive(Debug, Clone, Copy)]
enum Audit {
    /// Not a mutation.
    Read,
    /// The matrix checks it: calling as the first allowed role writes this action.
    Action(&'static str),
    /// Tested elsewhere (named test), because a valid call needs a flow (codes, cookies).
    CoveredBy(&'static str),
}

fn none(_: &Fx) -> Option<Value> {
    None
}

fn routes() -> Vec<Route> {
    use Audit::*;
    let r = |method: Method,
             template: &'static str,
             access: Access,
             path: fn(&Fx) -> String,
             body: fn(&Fx) -> Option<Value>,
             audit: Audit| Route {
        method,
        template,
        access,
        path,
        body,
        fresh_session: false,
        audit,
    };
    let mut v = vec![
        r(
            Method::GET,
            "/health",
            Access::Public,
            |_| "/health".into(),
            none,
            Read,
        ),
        r(
            Method::GET,
            "/ready",
            Access::Public,
            |_| "/ready".into(),
            none,
            Read,
        ),
        r(
            Method::GET,
            "/api/version",
            Access::Public,
            |_| "/api/version".into(),
            none,
            Read,
        ),
        r(
            Method::POST,
            "/api/auth/register",
            Access::Public,
            |_| "/api/auth/register".into(),
            |_| Some(json!({"username": "someone", "email": "someone@example.com", "password": PASSWORD})),
            CoveredBy("auth::first_user_is_admin_and_must_set_up_2fa"),
        ),
        r(
            Method::POST,
            "/api/auth/login",
            Access::Public,
            |_| "/api/auth/login".into(),
            |_| Some(json!({"username": "nobody", "password": "wrong password!!"})),
            CoveredBy("auth::lockout_after_consecutive_failures"),
        ),
        r(
            Method::POST,
            "/api/auth/2fa/verify",
            Access::Public,
            |_| "/api/auth/2fa/verify".into(),
            |_| Some(json!({"mfa_ticket": "x", "code": "000000"})),
            CoveredBy("auth::login_with_2fa_codes_are_single_use"),
        ),
        r(
            Method::POST,
            "/api/auth/refresh",
            Access::Public,
            |_| "/api/auth/refresh".into(),
            none,
            CoveredBy("auth::refresh_rotates_and_reuse_revokes_the_family"),
        ),
        r(
            Method::POST,
            "/api/auth/2fa/setup",
            Access::Roles(ALL),
            |_| "/api/auth/2fa/setup".into(),
            none,
            Action("auth.2fa.setup"),
        ),
        r(
            Method::POST,
            "/api/auth/2fa/enable",
            Access::Roles(ALL),
            |_| "/api/auth/2fa/enable".into(),
            |_| Some(json!({"code": "000000"})),
            CoveredBy("auth::first_user_is_admin_and_must_set_up_2fa"),
        ),
        // ADMINs may not turn 2FA off: it is mandatory for them.
        r(
            Method::POST,
            "/api/auth/2fa/disable",
            Access::Roles(&["PROJET", "DEV", "OPS"]),
            |_| "/api/auth/2fa/disable".into(),
            |_| Some(json!({"password": PASSWORD, "code": "000000"})),
            CoveredBy("auth::second_factor_can_be_turned_off_with_step_up"),
        ),
        r(
            Method::GET,
            "/api/auth/sessions",
            Access::Roles(ALL),
            |_| "/api/auth/sessions".into(),
            none,
            Read,
        ),
        r(
            Method::DELETE,
            "/api/auth/sessions/{id}",
            Access::Roles(ALL),
            |_| format!("/api/auth/sessions/{}", uuid::Uuid::nil()),
            none,
            CoveredBy("auth::revocation_takes_effect_on_the_next_request"),
        ),
        r(
            Method::GET,
            "/api/users",
            Access::Roles(ALL),
            |_| "/api/users".into(),
            none,
            Read,
        ),
        r(
            Method::POST,
            "/api/users",
            Access::Roles(ADMIN),
            |_| "/api/users".into(),
            |_| {
                Some(
                    json!({"username": format!("u{}", uuid::Uuid::new_v4().simple()), "email": format!("{}@example.com", uuid::Uuid::new_v4().simple()), "password": PASSWORD, "role": "DEV"}),
                )
            },
            Action("user.create"),
        ),
        r(
            Method::GET,
            "/api/users/me",
            Access::Roles(ALL),
            |_| "/api/users/me".into(),
            none,
            Read,
        ),
        r(
            Method::PUT,
            "/api/users/me/password",
            Access::Roles(ALL),
            |_| "/api/users/me/password".into(),
            |_| {
                Some(
                    json!({"current_password": "not the password", "new_password": "another long passphrase"}),
                )
            },
            CoveredBy("auth::password_change_ends_other_sessions"),
        ),
        r(
            Method::GET,
            "/api/users/{id}",
            Access::Roles(ALL),
            |f| format!("/api/users/{}", f.victim),
            none,
            Read,
        ),
        r(
            Method::PUT,
            "/api/users/{id}",
            Access::Roles(ADMIN),
            |f| format!("/api/users/{}", f.victim),
            |_| Some(json!({"display_name": "Renamed"})),
            Action("user.update"),
        ),
        r(
            Method::POST,
            "/api/users/{id}/unlock",
            Access::Roles(ADMIN),
            |f| format!("/api/users/{}/unlock", f.victim),
            none,
            Action("user.unlock"),
        ),
        r(
            Method::POST,
            "/api/invitations",
            Access::Roles(ADMIN),
            |_| "/api/invitations".into(),
            |_| Some(json!({"email": "guest@example.com", "role": "OPS"})),
            Action("invitation.create"),
        ),
        r(
            Method::GET,
            "/api/delegations",
            Access::Roles(ALL),
            |_| "/api/delegations".into(),
            none,
            Read,
        ),
        r(
            Method::POST,
            "/api/delegations",
            Access::Roles(&["PROJET", "ADMIN"]),
            |_| "/api/delegations".into(),
            |f| Some(json!({"grantee_id": f.dev.id, "capability": "dev_lead", "hours": 24})),
            Action("delegation.create"),
        ),
        r(
            Method::DELETE,
            "/api/delegations/{id}",
            Access::Roles(ADMIN),
            |f| format!("/api/delegations/{}", f.delegation),
            none,
            Action("delegation.revoke"),
        ),
        r(
            Method::GET,
            "/api/teams",
            Access::Roles(ALL),
            |_| "/api/teams".into(),
            none,
            Read,
        ),
        r(
            Method::POST,
            "/api/teams",
            Access::Roles(ADMIN),
            |_| "/api/teams".into(),
            |_| Some(json!({"name": format!("team-{}", uuid::Uuid::new_v4().simple())})),
            Action("team.create"),
        ),
        r(
            Method::PUT,
            "/api/teams/{id}",
            Access::Roles(&["PROJET", "ADMIN"]),
            |f| format!("/api/teams/{}", f.own_team),
            |_| Some(json!({"description": "updated"})),
            Action("team.update"),
        ),
        r(
            Method::PUT,
            "/api/teams/{id}/members/{user_id}",
            Access::Roles(&["PROJET", "ADMIN"]),
            |f| format!("/api/teams/{}/members/{}", f.own_team, f.victim),
            none,
            Action("team.member_add"),
        ),
        r(
            Method::DELETE,
            "/api/teams/{id}/members/{user_id}",
            Access::Roles(&["PROJET", "ADMIN"]),
            |f| format!("/api/teams/{}/members/{}", f.own_team, f.victim),
            none,
            Action("team.member_remove"),
        ),
        r(
            Method::GET,
            "/api/audit",
            Access::Roles(ADMIN),
            |_| "/api/audit".into(),
            none,
            Read,
        ),
        // Events: everyone reads; creation per kind (spec 3.2); changes by creator or ADMIN.
        r(
            Method::GET,
            "/api/events",
            Access::Roles(ALL),
            |_| "/api/events?start=2030-01-01T00:00:00Z&end=2030-03-01T00:00:00Z".into(),
            none,
            Read,
        ),
        r(
            Method::POST,
            "/api/events",
            Access::Roles(&["PROJET", "OPS", "ADMIN"]),
            |_| "/api/events".into(),
            |_| {
                Some(
                    json!({"type": "deployment_window", "title": "matrix", "start": "2030-01-09T10:00:00Z",
                          "extra": {"environment": "staging", "duration_minutes": 15, "services": ["web"]}}),
                )
            },
            Action("event.create"),
        ),
        r(
            Method::GET,
            "/api/events/{id}",
            Access::Roles(ALL),
            |f| format!("/api/events/{}", f.ev["edit"]),
            none,
            Read,
        ),
        r(
            Method::PUT,
            "/api/events/{id}",
            Access::Roles(ADMIN),
            |f| format!("/api/events/{}", f.ev["edit"]),
            |_| {
                Some(
                    json!({"type": "deployment_window", "title": "edited", "start": "2030-01-07T11:00:00Z", "version": 1,
                          "extra": {"environment": "staging", "duration_minutes": 30, "services": ["api"]}}),
                )
            },
            Action("event.update"),
        ),
        r(
            Method::POST,
            "/api/events/{id}/status",
            Access::Roles(ADMIN),
            |f| format!("/api/events/{}/status", f.ev["status"]),
            |_| Some(json!({"to": "cancelled", "comment": "matrix"})),
            Action("event.status"),
        ),
        r(
            Method::POST,
            "/api/events/{id}/checklist",
            Access::Roles(&["PROJET", "OPS", "ADMIN"]),
            |f| format!("/api/events/{}/checklist", f.ev["checklist"]),
            |_| Some(json!({"index": 0, "done": true})),
            Action("event.checklist"),
        ),
        r(
            Method::GET,
            "/api/events/{id}/approvals",
            Access::Roles(ALL),
            |f| format!("/api/events/{}/approvals", f.ev["approve"]),
            none,
            Read,
        ),
        r(
            Method::POST,
            "/api/events/{id}/approvals",
            Access::Roles(ADMIN),
            |f| format!("/api/events/{}/approvals", f.ev["approve"]),
            |_| Some(json!({"decision": "review"})),
            Action("event.approval"),
        ),
        r(
            Method::POST,
            "/api/events/{id}/submit",
            Access::Roles(&["OPS", "ADMIN"]),
            |f| format!("/api/events/{}/submit", f.ev["submit"]),
            |_| Some(json!({"comment": "fixed"})),
            Action("event.approval.submit"),
        ),
        r(
            Method::GET,
            "/api/events/{id}/history",
            Access::Roles(ALL),
            |f| format!("/api/events/{}/history", f.ev["approve"]),
            none,
            Read,
        ),
        r(
            Method::GET,
            "/api/freezes",
            Access::Roles(ALL),
            |_| "/api/freezes".into(),
            none,
            Read,
        ),
        r(
            Method::POST,
            "/api/freezes",
            Access::Roles(ADMIN),
            |_| "/api/freezes".into(),
            |_| {
                Some(
                    json!({"name": "year end", "starts_at": "2030-12-20T00:00:00Z", "ends_at": "2031-01-02T00:00:00Z"}),
                )
            },
            Action("freeze.create"),
        ),
        r(
            Method::GET,
            "/api/calendar.ics",
            Access::Public,
            |_| "/api/calendar.ics?token=not-a-token".into(),
            none,
            Read,
        ),
        r(
            Method::POST,
            "/api/calendar/token",
            Access::Roles(ALL),
            |_| "/api/calendar/token".into(),
            none,
            Action("calendar.token.create"),
        ),
        r(
            Method::DELETE,
            "/api/calendar/token",
            Access::Roles(ALL),
            |_| "/api/calendar/token".into(),
            none,
            Action("calendar.token.revoke"),
        ),
        r(
            Method::GET,
            "/api/events/{id}/comments",
            Access::Roles(ALL),
            |f| format!("/api/events/{}/comments", f.ev["edit"]),
            none,
            Read,
        ),
        r(
            Method::POST,
            "/api/events/{id}/comments",
            Access::Roles(ALL),
            |f| format!("/api/events/{}/comments", f.ev["edit"]),
            |_| Some(json!({"body": "looks good @admin"})),
            Action("comment.create"),
        ),
        r(
            Method::POST,
            "/api/comments/{id}/reactions",
            Access::Roles(ALL),
            |f| format!("/api/comments/{}/reactions", f.comment),
            |_| Some(json!({"emoji": "👍"})),
            Action("comment.react"),
        ),
        r(
            Method::POST,
            "/api/markdown/preview",
            Access::Roles(ALL),
            |_| "/api/markdown/preview".into(),
            |_| Some(json!({"body": "*preview*"})),
            CoveredBy("comments::markdown_preview_changes_nothing"),
        ),
        // Author or ADMIN: the fixture comment is the ADMIN's.
        r(
            Method::DELETE,
            "/api/comments/{id}",
            Access::Roles(ADMIN),
            |f| format!("/api/comments/{}", f.comment),
            none,
            Action("comment.delete"),
        ),
        r(
            Method::GET,
            "/api/notifications",
            Access::Roles(ALL),
            |_| "/api/notifications".into(),
            none,
            Read,
        ),
        r(
            Method::GET,
            "/api/notifications/unread-count",
            Access::Roles(ALL),
            |_| "/api/notifications/unread-count".into(),
            none,
            Read,
        ),
        // Anyone may mark their own; another user's notification answers 404.
        r(
            Method::POST,
            "/api/notifications/{id}/read",
            Access::Roles(ALL),
            |f| format!("/api/notifications/{}/read", f.notification),
            none,
            Action("notification.read"),
        ),
        r(
            Method::POST,
            "/api/notifications/read-all",
            Access::Roles(ALL),
            |_| "/api/notifications/read-all".into(),
            none,
            Action("notification.read_all"),
        ),
        r(
            Method::GET,
            "/api/notifications/preferences",
            Access::Roles(ALL),
            |_| "/api/notifications/preferences".into(),
            none,
            Read,
        ),
        r(
            Method::PUT,
            "/api/notifications/preferences",
            Access::Roles(ALL),
            |_| "/api/notifications/preferences".into(),
            |_| Some(json!({"email": true, "daily_digest": false, "chat": true, "reminders": true})),
            Action("notification.preferences.update"),
        ),
        // Destructive ones last.
        r(
            Method::DELETE,
            "/api/freezes/{id}",
            Access::Roles(ADMIN),
            |f| format!("/api/freezes/{}", f.freeze),
            none,
            Action("freeze.delete"),
        ),
        r(
            Method::DELETE,
            "/api/events/{id}",
            Access::Roles(ADMIN),
            |f| format!("/api/events/{}", f.ev["delete"]),
            none,
            Action("event.delete"),
        ),
        r(
            Method::DELETE,
            "/api/teams/{id}",
            Access::Roles(ADMIN),
            |f| format!("/api/teams/{}", f.spare_team),
            none,
            Action("team.delete"),
        ),
        r(
            Method::DELETE,
            "/api/users/{id}",
            Access::Roles(ADMIN),
            |f| format!("/api/users/{}", f.victim),
            none,
            Action("user.delete"),
        ),
    ];
    let ends_session = |template: &'static str, path: fn(&Fx) -> String, audit: Audit| Route {
        method: Method::POST,
        template,
        access: Access::Roles(ALL),
        path,
        body: none,
        fresh_session: true,
        audit,
    };
    v.push(ends_session(
        "/api/auth/logout",
        |_| "/api/auth/logout".into(),
        Action("auth.logout"),
    ));
    v.push(ends_session(
        "/api/auth/sessions/revoke-all",
        |_| "/api/auth/sessions/revoke-all".into(),
        Action("auth.session.revoke_all"),
    ));
    v
}

async fn fixtures(app: &TestApp) -> Fx {
    let admin = app.admin().await;
    let projet = app.user(&admin, "projet", "PROJET").await;
    let dev = app.user(&admin, "dev", "DEV").await;
    let ops = app.user(&admin, "ops", "OPS").await;
    let victim = app.user(&admin, "victim", "DEV").await.id;
    let team = |name: &'static str| {
        let app = &app;
        let token = admin.token.clone();
        async move {
            let t: Value = app
                .post_json("/api/teams", Some(&token), json!({"name": name}))
                .await
                .json()
                .await
                .unwrap();
            t["id"].as_i64().unwrap()
        }
    };
    let own_team = team("own").await;
    let spare_team = team("spare").await;
    for member in [projet.id, dev.id] {
        let resp = app
            .send(
                Method::PUT,
                &format!("/api/teams/{own_team}/members/{member}"),
                Some(&admin.token),
                None,
            )
            .await;
        assert_eq!(resp.status(), 204);
    }
    let d: Value = app
        .post_json(
            "/api/delegations",
            Some(&admin.token),
            json!({"grantee_id": dev.id, "capability": "dev_lead", "hours": 1}),
        )
        .await
        .json()
        .await
        .unwrap();
    let staging = |title: &str| {
        json!({"type": "deployment_window", "title": title, "start": "2030-01-07T10:00:00Z",
               "extra": {"environment": "staging", "duration_minutes": 30, "services": ["api"],
                         "checklist": [{"label": "backup"}], "rollback_plan": "redeploy"}})
    };
    let mut ev = std::collections::HashMap::new();
    for name in ["edit", "delete", "status", "checklist"] {
        let e: Value = app
            .post_json("/api/events", Some(&admin.token), staging(name))
            .await
            .json()
            .await
            .unwrap();
        ev.insert(name, e["id"].as_i64().unwrap());
    }
    let prod = |title: &str, day: u32| {
        json!({"type": "deployment_window", "title": title, "start": format!("2030-02-{day:02}T10:00:00Z"),
               "extra": {"environment": "prod", "duration_minutes": 30, "services": [format!("svc-{title}")],
                         "rollback_plan": "helm rollback"}})
    };
    for (name, day) in [("approve", 3), ("submit", 4)] {
        let e: Value = app
            .post_json("/api/events", Some(&ops.token), prod(name, day))
            .await
            .json()
            .await
            .unwrap();
        ev.insert(name, e["id"].as_i64().unwrap());
    }
    let refused = app
        .post_json(
            &format!("/api/events/{}/approvals", ev["submit"]),
            Some(&admin.token),
            json!({"decision": "refuse", "comment": "not now"}),
        )
        .await;
    assert_eq!(refused.status(), 200);
    let f: Value = app
        .post_json(
            "/api/freezes",
            Some(&admin.token),
            json!({"name": "spare", "starts_at": "2031-12-20T00:00:00Z", "ends_at": "2032-01-02T00:00:00Z"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let freeze = f["id"].as_i64().unwrap();
    let c: Value = app
        .post_json(
            &format!("/api/events/{}/comments", ev["edit"]),
            Some(&admin.token),
            json!({"body": "fixture comment"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let comment = c["id"].as_i64().unwrap();
    app.store()
        .store_notifications(
            &[uyoop_cal::model::NewNotification {
                user_id: projet.id,
                kind: uyoop_cal::model::NotificationKind::StatusChanged,
                title: "fixture".into(),
                body: String::new(),
                link: None,
                data: json!({}),
                dedupe_key: "rbac-fixture".into(),
            }],
            &[],
        )
        .await
        .unwrap();
    let notification = app
        .store()
        .list_notifications(projet.id, 0, 1)
        .await
        .unwrap()
        .items[0]
        .id;
    Fx {
        admin,
        projet,
        dev,
        ops,
        victim,
        own_team,
        spare_team,
        delegation: d["id"].as_i64().unwrap(),
        ev,
        freeze,
        comment,
        notification,
    }
}

#[tokio::test]
async fn every_route_has_a_policy() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let table: BTreeSet<(String, String)> = routes()
        .iter()
        .map(|r| (r.method.to_string(), r.template.to_owned()))
        .collect();
    let missing: Vec<_> = documented.difference(&table).collect();
    let stale: Vec<_> = table.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the RBAC matrix: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "matrix rows for routes that do not exist: {stale:?}"
    );
    // Every protected operation declares the bearer scheme in the document.
    for r in routes() {
        if let Access::Roles(_) = r.access {
            let op = &doc["paths"][r.template][r.method.as_str().to_lowercase()];
            assert!(
                op["security"].is_array(),
                "{} {} should declare bearer security",
                r.method,
                r.template
            );
        }
    }
    app.stop().await;
}

on_both_backends!(role_route_matrix, every_mutating_route_writes_an_audit_row);

async fn role_route_matrix(kind: Db) {
    let app = TestApp::spawn_with(kind, |s| s.ratelimit.enabled = false).await;
    let fx = fixtures(&app).await;
    let mut failures = Vec::new();
    for route in routes() {
        let Access::Roles(allowed) = route.access else {
            // Public routes answer without a token (their own rules may still refuse: wrong password...).
            let resp = app
                .send(route.method.clone(), &(route.path)(&fx), None, (route.body)(&fx))
                .await;
            if resp.status().is_server_error() {
                failures.push(format!(
                    "{} {} is public but answered {}",
                    route.method,
                    route.template,
                    resp.status()
                ));
            }
            continue;
        };
        // Without a token: 401.
        if !route.fresh_session {
            let resp = app
                .send(route.method.clone(), &(route.path)(&fx), None, (route.body)(&fx))
                .await;
            if resp.status() != 401 {
                failures.push(format!(
                    "{} {} without a token answered {}",
                    route.method,
                    route.template,
                    resp.status()
                ));
            }
        }
        // Denied roles first, so that allowed calls (which may delete) come after.
        let mut roles: Vec<&str> = ALL.to_vec();
        roles.sort_by_key(|r| allowed.contains(r));
        for role in roles {
            let token = if route.fresh_session {
                let resp = app.login(&app_username(role), PASSWORD).await;
                if role == "ADMIN" {
                    // ADMIN has 2FA: reuse the fixture session for this last, destructive call.
                    fx.admin.token.clone()
                } else {
                    resp.json::<Value>().await.unwrap()["access_token"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                }
            } else {
                fx.session(role).token.clone()
            };
            let resp = app
                .send(
                    route.method.clone(),
                    &(route.path)(&fx),
                    Some(&token),
                    (route.body)(&fx),
                )
                .await;
            let status = resp.status().as_u16();
            // Allowed: past the gate (the route's own rules may still say 401/409/422 for this body).
            // Denied: 403, or 404 for an object the role may not see; never a success.
            let ok = if allowed.contains(&role) {
                status != 403 && status < 500
            } else {
                matches!(status, 403 | 404)
            };
            if !ok {
                let body = resp.text().await.unwrap_or_default();
                failures.push(format!(
                    "{role} {} {}: {status} {body}",
                    route.method, route.template
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "RBAC matrix violations:\n{}",
        failures.join("\n")
    );
    app.stop().await;
}

fn app_username(role: &str) -> String {
    match role {
        "ADMIN" => "admin".into(),
        other => other.to_lowercase(),
    }
}

async fn every_mutating_route_writes_an_audit_row(kind: Db) {
    let app = TestApp::spawn_with(kind, |s| s.ratelimit.enabled = false).await;
    let fx = fixtures(&app).await;
    for route in routes() {
        let is_mutation = route.method != Method::GET;
        match (is_mutation, route.audit) {
            (false, Audit::Read) => continue,
            (false, _) => panic!(
                "{} {} is a read but claims an audit action",
                route.method, route.template
            ),
            (true, Audit::Read) => panic!(
                "{} {} mutates but says nothing about its audit row",
                route.method, route.template
            ),
            (true, Audit::CoveredBy(test)) => {
                assert!(!test.is_empty());
                continue;
            }
            (true, Audit::Action(action)) => {
                let Access::Roles(allowed) = route.access else {
                    unreachable!("public mutations are CoveredBy")
                };
                let role = allowed[0];
                let token = if route.fresh_session {
                    let resp = app.login(&app_username(role), PASSWORD).await;
                    resp.json::<Value>().await.unwrap()["access_token"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                } else {
                    fx.session(role).token.clone()
                };
                let filter = uyoop_cal::model::AuditQuery {
                    action_prefix: Some(action.into()),
                    ..Default::default()
                };
                let before = app.store().list_audit(&filter).await.unwrap().total;
                let resp = app
                    .send(
                        route.method.clone(),
                        &(route.path)(&fx),
                        Some(&token),
                        (route.body)(&fx),
                    )
                    .await;
                let status = resp.status();
                assert!(
                    status.is_success(),
                    "{role} {} {}: {status} {}",
                    route.method,
                    route.template,
                    resp.text().await.unwrap()
                );
                let after = app.store().list_audit(&filter).await.unwrap();
                assert_eq!(
                    after.total,
                    before + 1,
                    "{} {} wrote no `{action}` audit row",
                    route.method,
                    route.template
                );
                let row = &after.items[0];
                assert!(row.ip.is_some(), "audit rows carry the client IP");
                assert!(row.request_id.is_some(), "audit rows carry the request id");
            }
        }
    }
    app.stop().await;
}
