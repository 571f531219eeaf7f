//! The HTTP foundation: health, readiness, errors as problem+json, security headers, metrics,
//! OpenAPI and docs, graceful shutdown.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::helpers::{Db, TestApp, assert_problem};
use crate::on_both_backends;

on_both_backends!(
    health_ready_and_headers,
    ready_fails_when_the_database_is_gone,
    errors_are_problem_json
);

async fn health_ready_and_headers(kind: Db) {
    let app = TestApp::spawn(kind).await;
    let resp = app.get("/health").await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(
        h["strict-transport-security"],
        "max-age=63072000; includeSubDomains; preload"
    );
    assert_eq!(
        h["permissions-policy"],
        "geolocation=(), microphone=(), camera=()"
    );
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self';") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("http"), "no third-party origin in the CSP: {csp}");
    assert!(h.get("server").is_none());
    assert!(!h["x-request-id"].is_empty());
    assert_eq!(resp.json::<serde_json::Value>().await.unwrap()["status"], "ok");

    let ready: serde_json::Value = app.get("/ready").await.json().await.unwrap();
    assert_eq!(ready["checks"]["database"], "ok");

    // A request id sent by the proxy is kept.
    let resp = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc-123");
    app.stop().await;
}

async fn ready_fails_when_the_database_is_gone(kind: Db) {
    let app = TestApp::spawn(kind).await;
    app.store().close().await;
    let body = assert_problem(app.get("/ready").await, 503).await;
    assert_eq!(body["checks"]["database"], "unreachable");
    // Liveness does not depend on the database.
    assert_eq!(app.get("/health").await.status(), 200);
    app.stop().await;
}

async fn errors_are_problem_json(kind: Db) {
    let app = TestApp::spawn(kind).await;
    let body = assert_problem(app.get("/api/does-not-exist").await, 404).await;
    assert!(!body["request_id"].as_str().unwrap().is_empty());
    let resp = app.client.delete(app.url("/health")).send().await.unwrap();
    assert!(resp.headers().get("allow").is_some());
    assert_problem(resp, 405).await;
    // Security headers are on errors too.
    let resp = app.get("/api/nope").await;
    assert_eq!(resp.headers()["x-frame-options"], "DENY");
    app.stop().await;
}

#[tokio::test]
async fn json_bodies_malformed_wrong_type_or_oversized() {
    // The JSON extractor, mounted on a probe route inside the real middleware stack.
    use axum::routing::post;
    use uyoop_cal::http::extract::Json;

    #[derive(serde::Deserialize, serde::Serialize)]
    #[serde(deny_unknown_fields)]
    struct Probe {
        title: String,
        count: u8,
    }
    let app = TestApp::spawn_with(Db::Sqlite, |s| s.server.body_limit_bytes = 4096).await;
    let router = uyoop_cal::http::router_with(
        app.state.clone(),
        axum::Router::new().route("/api/probe", post(|Json(p): Json<Probe>| async move { Json(p) })),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let url = format!("http://{addr}/api/probe");
    let c = &app.client;
    let send = |body: Vec<u8>, ct: &'static str| c.post(&url).header("content-type", ct).body(body).send();

    let ok = send(br#"{"title":"t","count":3}"#.to_vec(), "application/json")
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let body = assert_problem(
        send(b"{\"title\":".to_vec(), "application/json").await.unwrap(),
        400,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("not valid JSON"));
    let body = assert_problem(
        send(br#"{"title":"t","count":300}"#.to_vec(), "application/json")
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "count");
    let body = assert_problem(
        send(
            br#"{"title":"t","count":1,"role":"ADMIN"}"#.to_vec(),
            "application/json",
        )
        .await
        .unwrap(),
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "unknown_field");
    assert_problem(
        send(br#"{"title":"t","count":1}"#.to_vec(), "text/plain")
            .await
            .unwrap(),
        415,
    )
    .await;
    assert_problem(
        send(b"\xff\xfe\x00".to_vec(), "application/json").await.unwrap(),
        400,
    )
    .await;
    let big = format!(r#"{{"title":"{}","count":1}}"#, "x".repeat(10_000)).into_bytes();
    assert_problem(send(big, "application/json").await.unwrap(), 413).await;
    app.stop().await;
}

#[tokio::test]
async fn metrics_are_on_their_own_listener_labelled_by_route() {
    let app = TestApp::spawn(Db::Sqlite).await;
    app.get("/health").await;
    app.get("/api/unknown/12345").await;
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"http_requests_total{method="GET",route="/health",status="200"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"route="unmatched",status="404""#), "{metrics}");
    assert!(!metrics.contains("12345"), "raw URLs never become labels");
    assert!(
        metrics
            .contains("http_request_duration_seconds_bucket{method=\"GET\",route=\"/health\",le=\"0.005\"}")
    );
    for series in [
        r#"events_created_total{type="meeting"} 0"#,
        r#"deployments_total{environment="prod",status="failed"} 0"#,
        "git_actions_executed_total",
        "http_requests_in_flight",
        "background_jobs_pending",
    ] {
        assert!(metrics.contains(series), "missing {series}");
    }
    // Not on the public port.
    assert_eq!(
        app.get("/metrics").await.status(),
        200,
        "the SPA shell, not metrics"
    );
    assert!(
        !app.get("/metrics")
            .await
            .text()
            .await
            .unwrap()
            .contains("http_requests_total")
    );
    app.stop().await;
}

#[tokio::test]
async fn openapi_and_offline_docs() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let doc: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/health"]["get"].is_object());
    assert!(doc["paths"]["/ready"]["get"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let docs = app.get("/docs").await.text().await.unwrap();
    assert!(docs.contains("/vendor/swagger-ui/swagger-ui-bundle.js"));
    assert!(!docs.contains("https://"), "no CDN");
    for asset in [
        "/vendor/swagger-ui/swagger-ui-bundle.js",
        "/vendor/swagger-ui/swagger-ui.css",
        "/docs/docs.js",
    ] {
        let resp = app.get(asset).await;
        assert_eq!(resp.status(), 200, "{asset}");
        let etag = resp.headers()["etag"].clone();
        let again = app
            .client
            .get(app.url(asset))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{asset} revalidates by ETag");
    }
    assert_problem(app.get("/vendor/missing.js").await, 404).await;
    app.stop().await;
}

#[tokio::test]
async fn graceful_shutdown_drains_in_flight_requests() {
    use axum::routing::get;
    let app = TestApp::spawn(Db::Sqlite).await;
    let entered = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let (e, r) = (entered.clone(), release.clone());
    let router = uyoop_cal::http::router_with(
        app.state.clone(),
        axum::Router::new().route(
            "/slow",
            get(move || {
                let (e, r) = (e.clone(), r.clone());
                async move {
                    e.notify_one();
                    r.notified().await;
                    "done"
                }
            }),
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.await;
            })
            .await
    });
    let client = app.client.clone();
    let in_flight = tokio::spawn(async move { client.get(format!("http://{addr}/slow")).send().await });
    entered.notified().await;
    stop_tx.send(()).unwrap();
    // The server stopped accepting, but the request in flight completes.
    release.notify_one();
    let resp = in_flight.await.unwrap().unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "done");
    server.await.unwrap().unwrap();
    app.stop().await;
}
