//! Identity: passwords, tokens, TOTP, roles; the `Auth` extractor every protected handler takes.

pub mod password;
pub mod rbac;
pub mod routes;
pub mod tokens;
pub mod totp;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use chrono::Utc;

pub use rbac::{Caller, Permission};

use crate::error::Error;
use crate::http::AppState;
use crate::http::meta::ClientMeta;
use crate::model::{Outcome, Role, User};

/// Name of the refresh cookie: `__Host-` so it is Secure, host-only and path `/`.
pub const REFRESH_COOKIE: &str = "__Host-uyoop_refresh";

/// Whether `user` must have TOTP on before using the app.
pub fn requires_2fa(state: &AppState, user: &User) -> bool {
    user.role == Role::Admin || state.settings.auth.require_2fa_for_all
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Caller, Error> {
    let token = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Error::Unauthorized("sign in: send `Authorization: Bearer <access token>`".to_owned())
        })?;
    let claims = match state.tokens.verify_access(token) {
        Ok(c) => c,
        // A key rotated on another replica: re-read the key set (at most every few seconds) and retry.
        Err(e) if state.tokens.kid_unknown(token) && state.tokens.may_reload() => {
            let keys = state.secrets.jwt_keys().await?;
            state.tokens.update_keys(&keys)?;
            state.tokens.verify_access(token).map_err(|_| e)?
        }
        Err(e) => return Err(e),
    };
    let id: i64 = claims
        .sub
        .parse()
        .map_err(|_| Error::Unauthorized("invalid token".to_owned()))?;
    // Roles, disabling and session ends are read from the store on every request: a change takes
    // effect on the next request even while the access token is unexpired.
    let user = state
        .store
        .user(id)
        .await?
        .ok_or_else(|| Error::Unauthorized("the account no longer exists".to_owned()))?;
    if user.disabled {
        return Err(Error::Unauthorized("the account is disabled".to_owned()));
    }
    if user.session_epoch != claims.sep || !state.store.session_family_active(claims.sid, Utc::now()).await? {
        return Err(Error::Unauthorized(
            "the session has ended; sign in again".to_owned(),
        ));
    }
    let delegations = state.store.active_delegations(user.id, Utc::now()).await?;
    Ok(Caller {
        user,
        session: claims.sid,
        delegations,
    })
}

/// An authenticated caller who has completed any mandatory 2FA setup.
#[derive(Debug, Clone)]
pub struct Auth(pub Caller);

impl FromRequestParts<AppState> for Auth {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = authenticate(parts, state).await?;
        if requires_2fa(state, &caller.user) && !caller.user.totp_enabled {
            return Err(Error::forbidden(
                "mfa-setup-required",
                "two-factor authentication is mandatory for your account: set it up with POST /api/auth/2fa/setup",
            ));
        }
        Ok(Auth(caller))
    }
}

/// An authenticated caller who may still have to set up 2FA (only the 2FA setup routes and
/// sign-out take this).
#[derive(Debug, Clone)]
pub struct AuthAllowSetup(pub Caller);

impl FromRequestParts<AppState> for AuthAllowSetup {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(AuthAllowSetup(authenticate(parts, state).await?))
    }
}

/// Refuses with 403 unless the caller has `p`; the denial is audited.
pub async fn require(
    state: &AppState,
    caller: &Caller,
    meta: &ClientMeta,
    p: Permission,
) -> Result<(), Error> {
    if caller.can(p) {
        return Ok(());
    }
    Err(deny(state, caller, meta, &format!("{p:?}")).await)
}

/// Audits an authorization denial and returns the 403 to answer (or the audit write's error).
pub async fn deny(state: &AppState, caller: &Caller, meta: &ClientMeta, what: &str) -> Error {
    let mut record = meta.audit(Some(caller.id()), "jwt", "authz.denied", "route");
    record.outcome = Outcome::Failure;
    record.details = serde_json::json!({ "needed": what, "role": caller.role().as_str() });
    if let Err(e) = state.store.append_audit(&record).await {
        return e;
    }
    Error::forbidden(
        "forbidden",
        format!("your role ({}) may not do this", caller.role().as_str()),
    )
}
