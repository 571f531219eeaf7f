//! The request id: taken from `x-request-id` (set by the proxy or by our own layer), kept in a
//! task-local for the duration of the request so errors and logs can name it.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// Header carrying the request id.
pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Middleware: runs the rest of the stack with the request id in scope.
pub async fn scope(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(ToOwned::to_owned)
        .unwrap_or_default();
    REQUEST_ID.scope(id, next.run(req)).await
}
