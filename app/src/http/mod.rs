//! The HTTP surface: routes of every feature merged in one place, and the middleware stack.

pub mod assets;
pub mod client_ip;
pub mod docs;
pub mod extract;
pub mod health;
pub mod meta;
pub mod middleware;
pub mod request_id;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, StatusCode};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::tokens::TokenService;
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::ratelimit::DynLimiter;
use crate::secrets::DynSecrets;
use crate::store::DynStore;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Storage.
    pub store: DynStore,
    /// Effective configuration.
    pub settings: Arc<Settings>,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
    /// Redis, when configured.
    pub redis: Option<redis::aio::ConnectionManager>,
    /// Signing keys, encryption, named secrets.
    pub secrets: DynSecrets,
    /// Access tokens and MFA tickets.
    pub tokens: Arc<TokenService>,
    /// Rate limits.
    pub limiter: DynLimiter,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("backend", &self.store.backend())
            .field("redis", &self.redis.is_some())
            .field("secrets", &self.secrets.backend())
            .finish_non_exhaustive()
    }
}

/// The OpenAPI document's root: info and the shared components.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "uYoop-Cal API",
        description = "DevOps + Agile control center: calendar of meetings, deployment windows and git actions. \
                       Errors are RFC 9457 problem+json.",
        license(name = "Apache-2.0")
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "meta", description = "About this server"),
        (name = "auth", description = "Sign in, tokens, two-factor authentication, sessions"),
        (name = "users", description = "Users, invitations, delegations"),
        (name = "teams", description = "Teams and their members"),
        (name = "comments", description = "Comment threads on events: markdown, mentions, reactions"),
        (name = "notifications", description = "In-app notifications and delivery preferences"),
        (name = "audit", description = "The audit trail"),
        (name = "events", description = "Calendar events, deployment approvals, freezes, the iCalendar feed"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme used by protected operations.
#[derive(Debug)]
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every feature's routes with their OpenAPI operations.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(crate::auth::routes::router())
        .merge(crate::comments::router())
        .merge(crate::notifications::router())
        .merge(crate::users::router())
        .merge(crate::teams::router())
        .merge(crate::audit::router())
        .merge(crate::events::router())
}

/// The OpenAPI document generated from the code.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().split_for_parts().1
}

/// The full application router with its middleware stack.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// The application router plus `extra` routes, all under the same middleware stack (tests mount
/// probe routes this way).
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
    let (api, openapi) = api_routes().split_for_parts();
    let settings = state.settings.clone();
    let request_id = HeaderName::from_static(request_id::HEADER);

    let app = api
        .merge(docs::router(&openapi))
        .merge(extra)
        .fallback(assets::serve)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::observe,
        ))
        .with_state(state);

    // Router::layer wraps what is already there: the last layer added is the outermost.
    app.layer(DefaultBodyLimit::max(settings.server.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(settings.server.request_timeout_secs),
        ))
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum::middleware::from_fn_with_state(
            settings.clone(),
            middleware::same_origin_writes,
        ))
        .layer(axum::middleware::from_fn(middleware::problem_for_errors))
        .layer(axum::middleware::from_fn(request_id::scope))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}
