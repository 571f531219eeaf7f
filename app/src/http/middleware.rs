//! Cross-cutting HTTP behaviour: security headers, one log line and metrics per request, and
//! problem+json for errors produced outside handlers (unknown route, timeout, body limit, panic).

use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::error::{PROBLEM_JSON, Problem};

/// The spec's security headers (5.3), sent on every response, errors included. The CSP allows no
/// third-party origin: every script and style is served by the app itself.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains; preload",
    ),
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("permissions-policy", "geolocation=(), microphone=(), camera=()"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
];

/// Adds [`SECURITY_HEADERS`] and removes any `server` banner.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let headers = resp.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    headers.remove(header::SERVER);
    resp
}

/// Turns error responses that are not problem+json (axum's 404/405, the timeout's 408, the body
/// limit's 413) into problem+json, so every error a client sees has one format.
pub async fn problem_for_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with(PROBLEM_JSON));
    if is_problem {
        return resp;
    }
    let (slug, detail) = match status {
        StatusCode::NOT_FOUND => (
            "not-found",
            "no route matches this path; see /api/openapi.json".to_owned(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "this path does not accept this method; see /api/openapi.json".to_owned(),
        ),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long and was stopped".to_owned()),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload-too-large",
            "the request body is larger than the server accepts".to_owned(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported-media-type",
            "send the body as JSON with `Content-Type: application/json`".to_owned(),
        ),
        s if s.is_server_error() => (
            "internal",
            "an unexpected error occurred; report the request_id".to_owned(),
        ),
        _ => (
            "bad-request",
            status.canonical_reason().unwrap_or("bad request").to_owned(),
        ),
    };
    let mut out = Problem::new(status, slug, detail).into_response_with(&[]);
    // Keep headers that matter to clients (Allow on 405, Retry-After ...).
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = resp.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

/// Converts a panic in a handler into a 500 problem (the panic itself is logged by the layer).
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    tracing::error!("a handler panicked");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "an unexpected error occurred; report the request_id",
    )
    .into_response()
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        self.into_response_with(&[])
    }
}

/// One structured log line and the HTTP metrics per request, labelled by the matched route.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let metrics = &state.metrics;
    metrics.http_in_flight.inc();
    let resp = next.run(req).await;
    metrics.http_in_flight.dec();
    let status = resp.status().as_u16();
    let elapsed = started.elapsed();
    metrics
        .http_requests
        .with_label_values(&[method.as_str(), &route, &status.to_string()])
        .inc();
    metrics
        .http_duration
        .with_label_values(&[method.as_str(), &route])
        .observe(elapsed.as_secs_f64());
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let request_id = super::request_id::current().unwrap_or_default();
    if status >= 500 {
        tracing::error!(%method, %route, status, latency_ms, %request_id, "request");
    } else {
        tracing::info!(%method, %route, status, latency_ms, %request_id, "request");
    }
    resp
}

/// Refuses cross-site state-changing requests (CSRF defence in depth beside SameSite=Strict):
/// a browser's `Sec-Fetch-Site` must be `same-origin` or `none`, and an `Origin` header must be the
/// app's own (its public URL or the Host it was reached at). Webhooks, called by other servers, are
/// exempt (they are authenticated by signatures).
pub async fn same_origin_writes(
    State(settings): State<std::sync::Arc<crate::config::Settings>>,
    req: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if safe || req.uri().path().starts_with("/webhooks/") {
        return next.run(req).await;
    }
    let h = req.headers();
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return crate::error::Error::forbidden("cross-site", "cross-site requests may not change anything")
            .into_response();
    }
    if let Some(origin) = h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = h
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or_default();
        let public = url::Url::parse(&settings.server.public_url).ok();
        let public_host = public.as_ref().and_then(|u| {
            u.host_str().map(|hst| match u.port() {
                Some(p) => format!("{hst}:{p}"),
                None => hst.to_owned(),
            })
        });
        let same = (!host.is_empty() && origin_host == host) || public_host.as_deref() == Some(origin_host);
        if !same {
            return crate::error::Error::forbidden(
                "cross-site",
                "requests from another origin may not change anything",
            )
            .into_response();
        }
    }
    next.run(req).await
}
