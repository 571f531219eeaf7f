//! Identity through the HTTP API: registration, login, 2FA, tokens, sessions, lockout, revocation.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Db, PASSWORD, TestApp, assert_problem, refresh_cookie, totp_code};
use crate::on_both_backends;

on_both_backends!(
    first_user_is_admin_and_must_set_up_2fa,
    login_with_2fa_codes_are_single_use,
    refresh_rotates_and_reuse_revokes_the_family,
    revocation_takes_effect_on_the_next_request,
    lockout_after_consecutive_failures,
    mass_assignment_and_self_role_change_refused,
);

async fn first_user_is_admin_and_must_set_up_2fa(kind: Db) {
    let app = TestApp::spawn(kind).await;
    let resp = app
        .post_json(
            "/api/auth/register",
            None,
            json!({"username": "root", "email": "root@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let user: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(user["role"], "ADMIN");
    assert!(user.get("password_hash").is_none());
    // Afterwards registration is invite-only by default.
    let body = assert_problem(
        app.post_json(
            "/api/auth/register",
            None,
            json!({"username": "eve", "email": "eve@example.com", "password": PASSWORD}),
        )
        .await,
        403,
    )
    .await;
    assert_eq!(body["type"], "/problems/invitation-required");

    let resp = app.login("root", PASSWORD).await;
    assert_eq!(resp.status(), 200);
    let cookie_header = resp
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for attr in [
        "__Host-uyoop_refresh=",
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
    ] {
        assert!(cookie_header.contains(attr), "{cookie_header}");
    }
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["mfa_setup_required"], true);
    assert!(
        body.get("refresh_token").is_none(),
        "browsers get the refresh token only as a cookie"
    );
    let token = body["access_token"].as_str().unwrap();
    // An ADMIN without 2FA reaches nothing but the setup.
    let body = assert_problem(app.get_auth("/api/users/me", token).await, 403).await;
    assert_eq!(body["type"], "/problems/mfa-setup-required");
    let setup: serde_json::Value = app
        .post_json("/api/auth/2fa/setup", Some(token), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        setup["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    assert!(setup["qr_svg"].as_str().unwrap().contains("<svg"));
    let secret = setup["secret"].as_str().unwrap();
    assert_problem(
        app.post_json("/api/auth/2fa/enable", Some(token), json!({"code": "000000"}))
            .await,
        422,
    )
    .await;
    let codes: serde_json::Value = app
        .post_json(
            "/api/auth/2fa/enable",
            Some(token),
            json!({"code": totp_code(secret, 0)}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(codes["recovery_codes"].as_array().unwrap().len(), 10);
    assert_eq!(app.get_auth("/api/users/me", token).await.status(), 200);
    // The TOTP seed is stored encrypted, never in clear.
    let state = app
        .store()
        .totp_state(user["id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(!state.secret_enc.unwrap().contains(secret));

    // Logout ends the session at once, access token included.
    let resp = app
        .send(Method::POST, "/api/auth/logout", Some(token), None)
        .await;
    assert_eq!(resp.status(), 204);
    assert_problem(app.get_auth("/api/users/me", token).await, 401).await;
    app.stop().await;
}

async fn login_with_2fa_codes_are_single_use(kind: Db) {
    let app = TestApp::spawn(kind).await;
    let admin = app.admin().await;
    let secret = admin.totp_secret.clone().unwrap();
    let ticket = |resp: serde_json::Value| {
        assert_eq!(resp["mfa_required"], true, "{resp}");
        assert!(resp.get("access_token").is_none());
        resp["mfa_ticket"].as_str().unwrap().to_owned()
    };
    // The step used to enable 2FA is spent: the next step's code logs in, once.
    let code = totp_code(&secret, 1);
    let t1 = ticket(app.login("admin", PASSWORD).await.json().await.unwrap());
    let ok = app
        .post_json(
            "/api/auth/2fa/verify",
            None,
            json!({"mfa_ticket": t1, "code": code}),
        )
        .await;
    assert_eq!(ok.status(), 200);
    let t2 = ticket(app.login("admin", PASSWORD).await.json().await.unwrap());
    assert_problem(
        app.post_json(
            "/api/auth/2fa/verify",
            None,
            json!({"mfa_ticket": t2, "code": code}),
        )
        .await,
        401,
    )
    .await;
    // A ticket is not an access token.
    assert_problem(app.get_auth("/api/users/me", &t2).await, 401).await;
    let replays = app
        .get_auth(
            "/api/audit?action=auth.2fa.replay",
            ok.json::<serde_json::Value>().await.unwrap()["access_token"]
                .as_str()
                .unwrap(),
        )
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(replays["total"], 1, "{replays}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_totp_code_twenty_concurrent_logins_one_success() {
    let app = TestApp::spawn_with(Db::Postgres, |s| s.ratelimit.enabled = false).await;
    let admin = app.admin().await;
    let secret = admin.totp_secret.clone().unwrap();
    let mut tickets = Vec::new();
    for _ in 0..20 {
        let body: serde_json::Value = app.login("admin", PASSWORD).await.json().await.unwrap();
        tickets.push(body["mfa_ticket"].as_str().unwrap().to_owned());
    }
    let code = totp_code(&secret, 1);
    let results = join_all(tickets.into_iter().map(|t| {
        let app = &app;
        let code = code.clone();
        async move {
            app.post_json(
                "/api/auth/2fa/verify",
                None,
                json!({"mfa_ticket": t, "code": code}),
            )
            .await
            .status()
        }
    }))
    .await;
    assert_eq!(
        results.iter().filter(|s| s.as_u16() == 200).count(),
        1,
        "{results:?}"
    );
    app.stop().await;
}

async fn refresh_rotates_and_reuse_revokes_the_family(kind: Db) {
    let app = TestApp::spawn(kind).await;
    let admin = app.admin().await;
    let dev = app.user(&admin, "dev1", "DEV").await;
    let first = dev.refresh_cookie.clone().unwrap();
    let refresh_with = |cookie: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/auth/refresh"))
                .header("cookie", format!("__Host-uyoop_refresh={cookie}"))
                .send()
                .await
                .unwrap()
        }
    };
    let resp = refresh_with(first.clone()).await;
    assert_eq!(resp.status(), 200);
    let second = refresh_cookie(&resp).expect("a rotated cookie");
    assert_ne!(second, first);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        app.get_auth("/api/users/me", body["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );

    // The old token again: theft. The whole family dies, the new token too.
    assert_problem(refresh_with(first).await, 401).await;
    assert_problem(refresh_with(second).await, 401).await;
    assert_problem(
        app.get_auth("/api/users/me", body["access_token"].as_str().unwrap())
            .await,
        401,
    )
    .await;
    let audit: serde_json::Value = app
        .get_auth("/api/audit?action=auth.refresh.reuse", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["total"], 1);

    // API clients may use the body instead of the cookie; of 10 concurrent refreshes one wins.
    let login: serde_json::Value = app.login("dev1", PASSWORD).await.json().await.unwrap();
    let _ = login;
    let fresh = app.user(&admin, "dev2", "DEV").await.refresh_cookie.unwrap();
    let results = join_all((0..10).map(|_| {
        let app = &app;
        let fresh = fresh.clone();
        async move {
            app.post_json("/api/auth/refresh", None, json!({"refresh_token": fresh}))
                .await
                .status()
                .as_u16()
        }
    }))
    .await;
    assert!(results.iter().filter(|s| **s == 200).count() <= 1, "{results:?}");
    app.stop().await;
}

async fn revocation_takes_effect_on_the_next_request(kind: Db) {
    let app = TestApp::spawn(kind).await;
    let admin = app.admin().await;
    let ops = app.user(&admin, "ops1", "OPS").await;
    assert_eq!(app.get_auth("/api/users/me", &ops.token).await.status(), 200);
    // A role change ends the user's sessions: the unexpired token stops working.
    let resp = app
        .send(
            Method::PUT,
            &format!("/api/users/{}", ops.id),
            Some(&admin.token),
            Some(json!({"role": "DEV"})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_problem(app.get_auth("/api/users/me", &ops.token).await, 401).await;
    // Disabling too, and a disabled user cannot sign in.
    let dev = app.user(&admin, "dev9", "DEV").await;
    app.send(
        Method::PUT,
        &format!("/api/users/{}", dev.id),
        Some(&admin.token),
        Some(json!({"disabled": true})),
    )
    .await;
    assert_problem(app.get_auth("/api/users/me", &dev.token).await, 401).await;
    assert_problem(app.login("dev9", PASSWORD).await, 401).await;
    // "Sign out everywhere".
    let p = app.user(&admin, "projet1", "PROJET").await;
    let other = app
        .login("projet1", PASSWORD)
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(
        app.send(
            Method::POST,
            "/api/auth/sessions/revoke-all",
            Some(&p.token),
            None
        )
        .await
        .status(),
        204
    );
    assert_problem(
        app.get_auth("/api/users/me", other["access_token"].as_str().unwrap())
            .await,
        401,
    )
    .await;
    app.stop().await;
}

async fn lockout_after_consecutive_failures(kind: Db) {
    let app = TestApp::spawn_with(kind, |s| {
        s.auth.lockout_threshold = 3;
        s.ratelimit.enabled = false;
    })
    .await;
    let admin = app.admin().await;
    let victim = app.user(&admin, "victim", "DEV").await;
    let unknown = app.login("nobody-here", "wrong password!!").await;
    let unknown_status = unknown.status();
    let unknown_body: serde_json::Value = unknown.json().await.unwrap();
    for _ in 0..3 {
        let resp = app.login("victim", "wrong password!!").await;
        assert_eq!(
            resp.status(),
            unknown_status,
            "same status for known and unknown users"
        );
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(
            body["detail"], unknown_body["detail"],
            "same message for known and unknown users"
        );
    }
    // Locked: the right password is refused too.
    assert_problem(app.login("victim", PASSWORD).await, 401).await;
    let audit: serde_json::Value = app
        .get_auth("/api/audit?action=auth.lockout", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["total"], 1);
    let resp = app
        .send(
            Method::POST,
            &format!("/api/users/{}/unlock", victim.id),
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(app.login("victim", PASSWORD).await.status(), 200);
    app.stop().await;
}

async fn mass_assignment_and_self_role_change_refused(kind: Db) {
    let app = TestApp::spawn(kind).await;
    let admin = app.admin().await;
    let dev = app.user(&admin, "dev3", "DEV").await;
    let me = format!("/api/users/{}", dev.id);
    assert_problem(
        app.send(Method::PUT, &me, Some(&dev.token), Some(json!({"role": "ADMIN"})))
            .await,
        403,
    )
    .await;
    let body = assert_problem(
        app.send(
            Method::PUT,
            &me,
            Some(&dev.token),
            Some(json!({"is_admin": true})),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "unknown_field");
    // Own profile: allowed; e-mail change needs the current password.
    let resp = app
        .send(
            Method::PUT,
            &me,
            Some(&dev.token),
            Some(json!({"display_name": "Dev Three", "locale": "en"})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_problem(
        app.send(
            Method::PUT,
            &me,
            Some(&dev.token),
            Some(json!({"email": "new@example.com"})),
        )
        .await,
        422,
    )
    .await;
    let ok = app
        .send(
            Method::PUT,
            &me,
            Some(&dev.token),
            Some(json!({"email": "new@example.com", "current_password": PASSWORD})),
        )
        .await;
    assert_eq!(ok.status(), 200);
    // Someone else's profile: refused, and nothing changes.
    let other = app.user(&admin, "dev4", "DEV").await;
    assert_problem(
        app.send(
            Method::PUT,
            &format!("/api/users/{}", other.id),
            Some(&dev.token),
            Some(json!({"display_name": "pwned"})),
        )
        .await,
        403,
    )
    .await;
    let read: serde_json::Value = app
        .get_auth(&format!("/api/users/{}", other.id), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["display_name"], "");
    // An ADMIN cannot change their own role either.
    assert_problem(
        app.send(
            Method::PUT,
            &format!("/api/users/{}", admin.id),
            Some(&admin.token),
            Some(json!({"role": "DEV"})),
        )
        .await,
        403,
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn brute_force_gets_429_per_client_ip() {
    let app = TestApp::spawn_with(Db::Sqlite, |s| {
        s.server.trusted_proxies = vec!["127.0.0.1/32".into()]
    })
    .await;
    let from = |ip: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/auth/login"))
                .header("x-forwarded-for", ip)
                .json(&json!({"username": "x", "password": "wrong password!!"}))
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..5 {
        assert_eq!(from("203.0.113.7").await.status(), 401);
    }
    let limited = from("203.0.113.7").await;
    assert!(
        limited
            .headers()
            .get("retry-after")
            .unwrap()
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_problem(limited, 429).await;
    // Another client is unaffected.
    assert_eq!(from("203.0.113.8").await.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let resp = app
        .client
        .post(app.url("/api/auth/login"))
        .header("origin", "https://evil.example")
        .json(&json!({"username": "x", "password": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(assert_problem(resp, 403).await["type"], "/problems/cross-site");
    let resp = app
        .client
        .post(app.url("/api/auth/login"))
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"username": "x", "password": "y"}))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 403).await;
    // Same origin is fine.
    let resp = app
        .client
        .post(app.url("/api/auth/login"))
        .header("origin", format!("http://{}", app.addr))
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"username": "x", "password": "wrong password!!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Non-JSON bodies are refused on state-changing routes.
    let resp = app
        .client
        .post(app.url("/api/auth/login"))
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_problem(resp, 415).await;
    app.stop().await;
}

#[tokio::test]
async fn jwt_attacks_over_http() {
    use base64::Engine;
    let app = TestApp::spawn(Db::Sqlite).await;
    let admin = app.admin().await;
    let parts: Vec<&str> = admin.token.split('.').collect();
    let b64 = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let none = format!("{}.{}.", b64(json!({"alg": "none", "typ": "at+jwt"})), parts[1]);
    let tampered = format!("{}.{}x.{}", parts[0], parts[1], parts[2]);
    for bad in [none, tampered, "garbage".to_owned(), String::new()] {
        assert_problem(app.get_auth("/api/users/me", &bad).await, 401).await;
    }
    // An expired token signed with the real key.
    let keys = app.state.secrets.jwt_keys().await.unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(keys.current.clone());
    header.typ = Some("at+jwt".into());
    let mut claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    let now = chrono::Utc::now().timestamp();
    claims["iat"] = (now - 4000).into();
    claims["nbf"] = (now - 4000).into();
    claims["exp"] = (now - 2200).into();
    let key = jsonwebtoken::EncodingKey::from_secret(keys.keys[&keys.current].expose().as_bytes());
    let expired = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    let body = assert_problem(app.get_auth("/api/users/me", &expired).await, 401).await;
    assert!(body["detail"].as_str().unwrap().contains("expired"));
    app.stop().await;
}

#[tokio::test]
async fn secrets_never_reach_the_audit_trail() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let admin = app.admin().await;
    let sentinel = "Sentinel-Passw0rd-4242";
    app.post_json(
        "/api/users",
        Some(&admin.token),
        json!({"username": "s1", "email": "s1@example.com", "password": sentinel, "role": "DEV"}),
    )
    .await;
    app.login("s1", "Wrong-Sentinel-xyz-123").await;
    app.login("s1", sentinel).await;
    let all: serde_json::Value = app
        .get_auth("/api/audit?limit=500", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    let text = all.to_string();
    assert!(all["total"].as_i64().unwrap() >= 4);
    for secret in [sentinel, "Wrong-Sentinel-xyz-123", PASSWORD, &admin.token] {
        assert!(!text.contains(secret), "a secret reached the audit trail");
    }
    app.stop().await;
}

on_both_backends!(
    password_change_ends_other_sessions,
    second_factor_can_be_turned_off_with_step_up
);

async fn password_change_ends_other_sessions(kind: Db) {
    let app = TestApp::spawn(kind).await;
    let admin = app.admin().await;
    let dev = app.user(&admin, "pwdev", "DEV").await;
    let path = "/api/users/me/password";
    let wrong = json!({"current_password": "not it at all", "new_password": "a brand new passphrase"});
    assert_problem(
        app.send(Method::PUT, path, Some(&dev.token), Some(wrong)).await,
        401,
    )
    .await;
    let weak = json!({"current_password": PASSWORD, "new_password": "short"});
    assert_problem(
        app.send(Method::PUT, path, Some(&dev.token), Some(weak)).await,
        422,
    )
    .await;
    let ok = json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"});
    assert_eq!(
        app.send(Method::PUT, path, Some(&dev.token), Some(ok))
            .await
            .status(),
        204
    );
    assert_problem(app.get_auth("/api/users/me", &dev.token).await, 401).await;
    assert_problem(app.login("pwdev", PASSWORD).await, 401).await;
    assert_eq!(app.login("pwdev", "a brand new passphrase").await.status(), 200);
    let audit: serde_json::Value = app
        .get_auth("/api/audit?action=user.password_change", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["total"], 1);
    app.stop().await;
}

async fn second_factor_can_be_turned_off_with_step_up(kind: Db) {
    let app = TestApp::spawn(kind).await;
    let admin = app.admin().await;
    let dev = app.user(&admin, "mfadev", "DEV").await;
    let setup: serde_json::Value = app
        .post_json("/api/auth/2fa/setup", Some(&dev.token), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().unwrap();
    let codes: serde_json::Value = app
        .post_json(
            "/api/auth/2fa/enable",
            Some(&dev.token),
            json!({"code": totp_code(secret, 0)}),
        )
        .await
        .json()
        .await
        .unwrap();
    // A recovery code signs in once.
    let recovery = codes["recovery_codes"][0].as_str().unwrap().to_owned();
    let ticket = |v: serde_json::Value| v["mfa_ticket"].as_str().unwrap().to_owned();
    let t = ticket(app.login("mfadev", PASSWORD).await.json().await.unwrap());
    let resp = app
        .post_json(
            "/api/auth/2fa/verify",
            None,
            json!({"mfa_ticket": t, "code": recovery.to_uppercase()}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let t = ticket(app.login("mfadev", PASSWORD).await.json().await.unwrap());
    assert_problem(
        app.post_json(
            "/api/auth/2fa/verify",
            None,
            json!({"mfa_ticket": t, "code": recovery}),
        )
        .await,
        401,
    )
    .await;
    // Turning 2FA off needs the password and a fresh code.
    let path = "/api/auth/2fa/disable";
    assert_problem(
        app.post_json(
            path,
            Some(&dev.token),
            json!({"password": "nope nope nope", "code": totp_code(secret, 1)}),
        )
        .await,
        401,
    )
    .await;
    assert_eq!(
        app.post_json(
            path,
            Some(&dev.token),
            json!({"password": PASSWORD, "code": totp_code(secret, 1)})
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        app.login("mfadev", PASSWORD)
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap()["mfa_required"],
        serde_json::Value::Null
    );
    // ADMINs cannot: 2FA is mandatory for them.
    let body = assert_problem(
        app.post_json(
            path,
            Some(&admin.token),
            json!({"password": PASSWORD, "code": "000000"}),
        )
        .await,
        403,
    )
    .await;
    assert_eq!(body["type"], "/problems/mfa-mandatory");
    app.stop().await;
}

#[tokio::test]
async fn a_key_rotated_elsewhere_is_picked_up_at_once() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let admin = app.admin().await;
    // Another replica rotates in the shared secrets store (Vault in production): tokens it signs
    // carry a kid this replica's token service has not loaded yet.
    let kid = app.state.secrets.rotate_jwt_key().await.unwrap();
    let keys = app.state.secrets.jwt_keys().await.unwrap();
    let service = uyoop_cal::auth::tokens::TokenService::new(&keys, "uyoop-cal", 1800).unwrap();
    let user = app.store().user(admin.id).await.unwrap().unwrap();
    let claims = app.state.tokens.verify_access(&admin.token).unwrap();
    let (token, _) = service
        .issue_access(&user, claims.sid, chrono::Utc::now())
        .unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(),
        Some(kid.as_str())
    );
    assert_eq!(app.get_auth("/api/users/me", &token).await.status(), 200);
    // Old tokens keep working.
    assert_eq!(app.get_auth("/api/users/me", &admin.token).await.status(), 200);
    app.stop().await;
}
