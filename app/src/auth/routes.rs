//! `/api/auth/*`: register, login, 2FA, refresh, logout, sessions.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{Auth, AuthAllowSetup, REFRESH_COOKIE, password, requires_2fa, tokens, totp};
use crate::config::Registration;
use crate::error::{Error, Problem, Result};
use crate::http::AppState;
use crate::http::extract::{Json, Path};
use crate::http::meta::ClientMeta;
use crate::model::{NewSession, NewUser, Outcome, Role, Rotation, SessionInfo, User};
use crate::ratelimit::{enforce, policies};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(verify_2fa))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(setup_2fa))
        .routes(routes!(enable_2fa))
        .routes(routes!(disable_2fa))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(revoke_all_sessions))
}

/// Registration form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Login name: 3-100 letters, digits, `.`, `_`, `-`.
    pub username: String,
    /// E-mail.
    pub email: String,
    /// Password (12 characters at least).
    pub password: String,
    /// Name shown in the UI.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Invitation token (required when registration is invite-only).
    #[serde(default)]
    pub invitation: Option<String>,
}

/// Validates username and e-mail, the same way for every way of creating an account.
pub fn validate_identity(username: &str, email: &str) -> Result<()> {
    let mut errors = Vec::new();
    let u = username.trim();
    if u.chars().count() < 3
        || u.chars().count() > 100
        || !u
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        errors.push(crate::error::FieldError::new(
            "username",
            "invalid",
            "use 3 to 100 letters, digits, dots, dashes or underscores",
        ));
    }
    let e = email.trim();
    let valid_email = e.len() <= 255
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !e.contains(char::is_whitespace)
        });
    if !valid_email {
        errors.push(crate::error::FieldError::new(
            "email",
            "invalid",
            "enter an e-mail address like name@example.com",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

/// Checks the password policy with the account's own words as context.
pub fn validate_password(password: &str, username: &str, email: &str) -> Result<()> {
    let local = email.split('@').next().unwrap_or_default();
    password::check_policy(password, &[username, local]).map_err(|e| Error::Validation(vec![e]))
}

/// Create an account. The first account becomes ADMIN; afterwards `auth.registration` decides
/// (invite-only by default: the invitation sets the role).
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterRequest, responses(
    (status = 201, body = User), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)
))]
async fn register(
    State(state): State<AppState>,
    meta: ClientMeta,
    Json(req): Json<RegisterRequest>,
) -> Result<Response> {
    enforce(
        state.limiter.as_ref(),
        &state.metrics,
        &policies::LOGIN,
        &crate::ratelimit::ip_key(meta.ip),
    )
    .await?;
    validate_identity(&req.username, &req.email)?;
    validate_password(&req.password, &req.username, &req.email)?;
    let hash = password::hash(&req.password).await?;
    let mut new = NewUser {
        username: req.username.trim().to_owned(),
        email: req.email.trim().to_owned(),
        display_name: req
            .display_name
            .unwrap_or_default()
            .trim()
            .chars()
            .take(100)
            .collect(),
        password_hash: hash,
        role: Role::Dev,
        team_id: None,
    };
    let audit = meta.audit(None, "password", "user.register", "user");
    let user = if state.store.count_users().await? == 0 {
        new.role = Role::Admin;
        state
            .store
            .create_user(&new, &audit.with_details(serde_json::json!({"first_user": true})))
            .await?
    } else if let Some(token) = req.invitation.as_deref() {
        state
            .store
            .register_invited(&new, &tokens::hash_token(token), Utc::now(), &audit)
            .await?
            .ok_or_else(|| {
                Error::forbidden(
                    "invitation-invalid",
                    "the invitation is unknown, used or expired; ask for a new one",
                )
            })?
    } else {
        match state.settings.auth.registration {
            Registration::Open => state.store.create_user(&new, &audit).await?,
            Registration::InviteOnly => {
                return Err(Error::forbidden(
                    "invitation-required",
                    "registration needs an invitation from an administrator",
                ));
            }
            Registration::Closed => {
                return Err(Error::forbidden(
                    "registration-closed",
                    "registration is closed; ask an administrator",
                ));
            }
        }
    };
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

/// Login form.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username or e-mail.
    pub username: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A signed-in session.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Access token (JWT), to send as `Authorization: Bearer`. Keep it in memory only.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The refresh token, for API clients that asked for it in the body (browsers get a cookie).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The signed-in user.
    pub user: User,
    /// The user must set up 2FA before anything else.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub mfa_setup_required: bool,
}

/// The password step succeeded; the second factor is needed.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaRequired {
    /// Always true.
    pub mfa_required: bool,
    /// Send it with the code to `/api/auth/2fa/verify` within 5 minutes.
    pub mfa_ticket: String,
}

fn refresh_cookie(token: String, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build((REFRESH_COOKIE, token))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::seconds(max_age_secs.max(0)))
        .build()
}

/// Starts a session: a new refresh family, an access token, the cookie.
async fn start_session(state: &AppState, jar: CookieJar, user: User, meta: &ClientMeta) -> Result<Response> {
    let now = Utc::now();
    let family = uuid::Uuid::new_v4();
    let refresh = tokens::new_opaque_token();
    let ttl = i64::try_from(state.settings.auth.refresh_token_ttl_secs).unwrap_or(7 * 86400);
    state
        .store
        .create_session(&NewSession {
            user_id: user.id,
            family_id: family,
            token_hash: tokens::hash_token(&refresh),
            expires_at: now + Duration::seconds(ttl),
            ip: Some(meta.ip.to_string()),
            user_agent: meta.user_agent.clone(),
        })
        .await?;
    let (access, exp) = state.tokens.issue_access(&user, family, now)?;
    let mfa_setup_required = requires_2fa(state, &user) && !user.totp_enabled;
    let body = TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: exp - now.timestamp(),
        refresh_token: None,
        user,
        mfa_setup_required,
    };
    Ok((jar.add(refresh_cookie(refresh, ttl)), Json(body)).into_response())
}

/// Rate-limit key of a signed-in user: their own budget, whatever address they come from. The
/// unauthenticated 2FA step (`/2fa/verify`) is keyed by client IP, as the spec's table says.
fn user_key(caller: &super::Caller) -> String {
    format!("user:{}", caller.id())
}

fn bad_credentials() -> Error {
    Error::Unauthorized(
        "wrong username or password (or the account is locked: ask an administrator)".to_owned(),
    )
}

/// Sign in with a password. Answers a session, or `mfa_required` with a ticket for the second step.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, description = "TokenResponse, or MfaRequired when 2FA is on", body = TokenResponse),
    (status = 401, body = Problem), (status = 429, body = Problem)
))]
async fn login(
    State(state): State<AppState>,
    meta: ClientMeta,
    jar: CookieJar,
    Json(req): Json<LoginRequest>,
) -> Result<Response> {
    enforce(
        state.limiter.as_ref(),
        &state.metrics,
        &policies::LOGIN,
        &crate::ratelimit::ip_key(meta.ip),
    )
    .await?;
    let user = state.store.user_by_login(req.username.trim()).await?;
    let Some(user) = user else {
        // Same work, same answer as for a known user.
        password::verify(&req.password, password::dummy_hash().await).await?;
        let mut record = meta.audit(None, "password", "auth.login", "user");
        record.outcome = Outcome::Failure;
        record.details = serde_json::json!({"reason": "unknown_user"});
        state.store.append_audit(&record).await?;
        state.metrics.logins.with_label_values(&["failure"]).inc();
        return Err(bad_credentials());
    };
    let ok = password::verify(&req.password, &user.password_hash).await?;
    if !ok || user.locked || user.disabled {
        let reason = if user.disabled {
            "disabled"
        } else if user.locked {
            "locked"
        } else {
            "bad_password"
        };
        let mut record = meta
            .audit(Some(user.id), "password", "auth.login", "user")
            .on(user.id);
        record.outcome = Outcome::Failure;
        record.details = serde_json::json!({ "reason": reason });
        if !ok {
            let threshold = i32::try_from(state.settings.auth.lockout_threshold).unwrap_or(i32::MAX);
            if state
                .store
                .record_login_failure(user.id, threshold, &record)
                .await?
                && !user.locked
            {
                let mut lock = meta
                    .audit(Some(user.id), "system", "auth.lockout", "user")
                    .on(user.id);
                lock.details = serde_json::json!({ "threshold": threshold });
                state.store.append_audit(&lock).await?;
            }
        } else {
            state.store.append_audit(&record).await?;
        }
        state
            .metrics
            .logins
            .with_label_values(&[if user.locked { "locked" } else { "failure" }])
            .inc();
        return Err(bad_credentials());
    }
    state.store.record_login_success(user.id).await?;
    if password::needs_rehash(&user.password_hash) {
        let hash = password::hash(&req.password).await?;
        let record = meta.audit(Some(user.id), "password", "auth.password_rehash", "user");
        state
            .store
            .set_password_hash(user.id, &hash, false, &record)
            .await?;
    }
    if user.totp_enabled {
        state.metrics.logins.with_label_values(&["mfa_required"]).inc();
        let ticket = state.tokens.issue_mfa_ticket(user.id, Utc::now())?;
        return Ok(Json(MfaRequired {
            mfa_required: true,
            mfa_ticket: ticket,
        })
        .into_response());
    }
    let record = meta
        .audit(Some(user.id), "password", "auth.login", "user")
        .on(user.id);
    state.store.append_audit(&record).await?;
    state.metrics.logins.with_label_values(&["success"]).inc();
    start_session(&state, jar, user, &meta).await
}

/// Second step of a login.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// Ticket from the login answer.
    pub mfa_ticket: String,
    /// The 6-digit code, or a recovery code.
    pub code: String,
}

impl std::fmt::Debug for VerifyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifyRequest")
    }
}

/// Checks a TOTP or recovery code for `user`, consuming it. Replays are audited.
async fn check_second_factor(state: &AppState, user: &User, code: &str, meta: &ClientMeta) -> Result<bool> {
    let Some(st) = state.store.totp_state(user.id).await? else {
        return Ok(false);
    };
    let Some(enc) = st.secret_enc.as_deref() else {
        return Ok(false);
    };
    let secret = state.secrets.decrypt(enc).await?;
    let now = u64::try_from(Utc::now().timestamp()).unwrap_or_default();
    if let Some(step) = totp::matching_step(&secret, code, now)? {
        if state.store.use_totp_step(user.id, step).await? {
            return Ok(true);
        }
        let mut record = meta
            .audit(Some(user.id), "totp", "auth.2fa.replay", "user")
            .on(user.id);
        record.outcome = Outcome::Failure;
        state.store.append_audit(&record).await?;
        return Ok(false);
    }
    let normalized = totp::normalize_recovery_code(code);
    if normalized.len() == 10
        && state
            .store
            .use_recovery_code(user.id, &tokens::hash_token(&normalized))
            .await?
    {
        let record = meta
            .audit(Some(user.id), "recovery_code", "auth.2fa.recovery_used", "user")
            .on(user.id);
        state.store.append_audit(&record).await?;
        return Ok(true);
    }
    Ok(false)
}

/// Complete a login that answered `mfa_required`.
#[utoipa::path(post, path = "/api/auth/2fa/verify", tag = "auth", request_body = VerifyRequest, responses(
    (status = 200, body = TokenResponse), (status = 401, body = Problem), (status = 429, body = Problem)
))]
async fn verify_2fa(
    State(state): State<AppState>,
    meta: ClientMeta,
    jar: CookieJar,
    Json(req): Json<VerifyRequest>,
) -> Result<Response> {
    enforce(
        state.limiter.as_ref(),
        &state.metrics,
        &policies::TWO_FACTOR,
        &crate::ratelimit::ip_key(meta.ip),
    )
    .await?;
    let user_id = state
        .tokens
        .verify_mfa_ticket(&req.mfa_ticket)
        .map_err(|_| Error::MfaTicketInvalid)?;
    let user = state.store.user(user_id).await?.ok_or_else(bad_credentials)?;
    if user.disabled || user.locked || !user.totp_enabled {
        return Err(bad_credentials());
    }
    if !check_second_factor(&state, &user, &req.code, &meta).await? {
        let mut record = meta
            .audit(Some(user.id), "totp", "auth.login", "user")
            .on(user.id);
        record.outcome = Outcome::Failure;
        record.details = serde_json::json!({"reason": "bad_second_factor"});
        let threshold = i32::try_from(state.settings.auth.lockout_threshold).unwrap_or(i32::MAX);
        state
            .store
            .record_login_failure(user.id, threshold, &record)
            .await?;
        state.metrics.logins.with_label_values(&["failure"]).inc();
        return Err(Error::Unauthorized("wrong or already used code".to_owned()));
    }
    let record = meta
        .audit(Some(user.id), "password+totp", "auth.login", "user")
        .on(user.id);
    state.store.append_audit(&record).await?;
    state.metrics.logins.with_label_values(&["success"]).inc();
    start_session(&state, jar, user, &meta).await
}

/// Refresh request from an API client (browsers send the cookie and no body).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshRequest")
    }
}

/// Exchange a refresh token for a new access token. The refresh token rotates on every use;
/// presenting an already-used one revokes the whole session (theft detection).
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body(content = RefreshRequest, description = "optional: browsers send the cookie"), responses(
    (status = 200, body = TokenResponse), (status = 401, body = Problem)
))]
async fn refresh(
    State(state): State<AppState>,
    meta: ClientMeta,
    jar: CookieJar,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response> {
    // Browsers send no body (the cookie carries the token); API clients send JSON.
    let from_body = if body.is_empty() {
        None
    } else {
        let is_json = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        if !is_json {
            return Err(Error::UnsupportedMediaType(
                "send the body as JSON with `Content-Type: application/json`".to_owned(),
            ));
        }
        crate::http::extract::parse_json::<RefreshRequest>(&body)?.refresh_token
    };
    let via_body = from_body.is_some();
    let presented = from_body
        .or_else(|| jar.get(REFRESH_COOKIE).map(|c| c.value().to_owned()))
        .ok_or_else(|| Error::Unauthorized("no refresh token; sign in again".to_owned()))?;
    let now = Utc::now();
    let next = tokens::new_opaque_token();
    let idle = i64::try_from(state.settings.auth.refresh_idle_timeout_secs).unwrap_or(86400);
    let rotation = state
        .store
        .rotate_session(
            &tokens::hash_token(&presented),
            &tokens::hash_token(&next),
            now,
            now - Duration::seconds(idle),
        )
        .await?;
    let (user_id, family, expires_at) = match rotation {
        Rotation::Rotated {
            user_id,
            family_id,
            expires_at,
        } => (user_id, family_id, expires_at),
        Rotation::Reused { user_id, family_id } => {
            let mut record = meta.audit(Some(user_id), "refresh", "auth.refresh.reuse", "session");
            record.outcome = Outcome::Failure;
            record.resource_id = Some(family_id.to_string());
            state.store.append_audit(&record).await?;
            return Err(Error::Unauthorized(
                "this refresh token was already used: the session is revoked for safety; sign in again"
                    .to_owned(),
            ));
        }
        Rotation::Invalid => {
            return Err(Error::Unauthorized(
                "the session has ended; sign in again".to_owned(),
            ));
        }
    };
    let user = state
        .store
        .user(user_id)
        .await?
        .ok_or_else(|| Error::Unauthorized("sign in again".to_owned()))?;
    if user.disabled {
        state.store.revoke_session_family(family, "user disabled").await?;
        return Err(Error::Unauthorized("the account is disabled".to_owned()));
    }
    let (access, exp) = state.tokens.issue_access(&user, family, now)?;
    let mfa_setup_required = requires_2fa(&state, &user) && !user.totp_enabled;
    let body = TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: exp - now.timestamp(),
        refresh_token: via_body.then(|| next.clone()),
        user,
        mfa_setup_required,
    };
    let jar = if via_body {
        jar
    } else {
        jar.add(refresh_cookie(next, (expires_at - now).num_seconds()))
    };
    Ok((jar, Json(body)).into_response())
}

/// Sign out: revokes this session (its refresh token and, on the next request, its access token).
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn logout(
    State(state): State<AppState>,
    AuthAllowSetup(caller): AuthAllowSetup,
    meta: ClientMeta,
    jar: CookieJar,
) -> Result<Response> {
    state
        .store
        .revoke_session_family(caller.session, "logout")
        .await?;
    let mut record = meta.audit(Some(caller.id()), "jwt", "auth.logout", "session");
    record.resource_id = Some(caller.session.to_string());
    state.store.append_audit(&record).await?;
    // Removal needs the cookie's own attributes: browsers ignore a `__Host-` cookie without Secure.
    let jar = jar.remove(refresh_cookie(String::new(), 0));
    Ok((StatusCode::NO_CONTENT, jar).into_response())
}

/// A new TOTP secret to scan.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetupResponse {
    /// `otpauth://` URI.
    pub otpauth_uri: String,
    /// The URI as an SVG QR code.
    pub qr_svg: String,
    /// The seed in base32, to type when scanning is impossible. Shown once.
    pub secret: String,
}

/// Start 2FA setup: a new seed, stored encrypted and pending until confirmed with a code.
#[utoipa::path(post, path = "/api/auth/2fa/setup", tag = "auth", responses((status = 200, body = SetupResponse), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn setup_2fa(
    State(state): State<AppState>,
    AuthAllowSetup(caller): AuthAllowSetup,
    meta: ClientMeta,
) -> Result<Json<SetupResponse>> {
    enforce(
        state.limiter.as_ref(),
        &state.metrics,
        &policies::TWO_FACTOR,
        &user_key(&caller),
    )
    .await?;
    let secret = totp::new_secret();
    let enc = state.secrets.encrypt(&secret).await?;
    state.store.set_pending_totp(caller.id(), &enc).await?;
    let uri = totp::otpauth_uri(&secret, &caller.user.username, "uYoop-Cal")?;
    let record = meta
        .audit(Some(caller.id()), "jwt", "auth.2fa.setup", "user")
        .on(caller.id());
    state.store.append_audit(&record).await?;
    Ok(Json(SetupResponse {
        qr_svg: totp::qr_svg(&uri)?,
        otpauth_uri: uri,
        secret: totp::secret_base32(&secret),
    }))
}

/// A code from the authenticator app.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// 6-digit code.
    pub code: String,
}

impl std::fmt::Debug for CodeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeRequest")
    }
}

/// Recovery codes, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes. Store them somewhere safe: they are not shown again.
    pub recovery_codes: Vec<String>,
}

/// Confirm 2FA setup with a code: 2FA is on, and one-time recovery codes are returned.
#[utoipa::path(post, path = "/api/auth/2fa/enable", tag = "auth", request_body = CodeRequest,
    responses((status = 200, body = RecoveryCodes), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn enable_2fa(
    State(state): State<AppState>,
    AuthAllowSetup(caller): AuthAllowSetup,
    meta: ClientMeta,
    Json(req): Json<CodeRequest>,
) -> Result<Json<RecoveryCodes>> {
    enforce(
        state.limiter.as_ref(),
        &state.metrics,
        &policies::TWO_FACTOR,
        &user_key(&caller),
    )
    .await?;
    let st = state
        .store
        .totp_state(caller.id())
        .await?
        .ok_or(Error::NotFound("user"))?;
    let enc = st.secret_enc.filter(|_| !st.enabled).ok_or_else(|| {
        Error::conflict(
            "2fa-not-pending",
            "no two-factor setup is pending; start with POST /api/auth/2fa/setup",
        )
    })?;
    let secret = state.secrets.decrypt(&enc).await?;
    let now = u64::try_from(Utc::now().timestamp()).unwrap_or_default();
    let step = totp::matching_step(&secret, &req.code, now)?.ok_or_else(|| {
        Error::invalid(
            "code",
            "wrong_code",
            "the code does not match; check the time of your device",
        )
    })?;
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| tokens::hash_token(&totp::normalize_recovery_code(c)))
        .collect();
    let record = meta.audit(Some(caller.id()), "jwt+totp", "auth.2fa.enable", "user");
    state
        .store
        .enable_totp(caller.id(), step, &hashes, &record)
        .await?;
    Ok(Json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// Step-up form: the password and a current code.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepUpRequest {
    /// Current password.
    pub password: String,
    /// Current TOTP code.
    pub code: String,
}

impl std::fmt::Debug for StepUpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StepUpRequest")
    }
}

/// Turn 2FA off (password and code required). Not possible where 2FA is mandatory.
#[utoipa::path(post, path = "/api/auth/2fa/disable", tag = "auth", request_body = StepUpRequest,
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn disable_2fa(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Json(req): Json<StepUpRequest>,
) -> Result<StatusCode> {
    enforce(
        state.limiter.as_ref(),
        &state.metrics,
        &policies::TWO_FACTOR,
        &user_key(&caller),
    )
    .await?;
    if requires_2fa(&state, &caller.user) {
        return Err(Error::forbidden(
            "mfa-mandatory",
            "two-factor authentication is mandatory for your account",
        ));
    }
    if !password::verify(&req.password, &caller.user.password_hash).await?
        || !check_second_factor(&state, &caller.user, &req.code, &meta).await?
    {
        return Err(Error::Unauthorized("wrong password or code".to_owned()));
    }
    let record = meta.audit(Some(caller.id()), "password+totp", "auth.2fa.disable", "user");
    state.store.disable_totp(caller.id(), &record).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Your active sessions.
#[utoipa::path(get, path = "/api/auth/sessions", tag = "auth", responses((status = 200, body = [SessionInfo])),
    security(("bearer" = [])))]
async fn list_sessions(State(state): State<AppState>, Auth(caller): Auth) -> Result<Json<Vec<SessionInfo>>> {
    Ok(Json(state.store.list_sessions(caller.id(), Utc::now()).await?))
}

/// End one of your sessions.
#[utoipa::path(delete, path = "/api/auth/sessions/{id}", tag = "auth", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn revoke_session(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<uuid::Uuid>,
) -> Result<StatusCode> {
    let mine = state
        .store
        .list_sessions(caller.id(), Utc::now())
        .await?
        .iter()
        .any(|s| s.id == id);
    if !mine {
        return Err(Error::NotFound("session"));
    }
    state.store.revoke_session_family(id, "revoked by owner").await?;
    let mut record = meta.audit(Some(caller.id()), "jwt", "auth.session.revoke", "session");
    record.resource_id = Some(id.to_string());
    state.store.append_audit(&record).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End every session of yours, this one included.
#[utoipa::path(post, path = "/api/auth/sessions/revoke-all", tag = "auth", responses((status = 204)),
    security(("bearer" = [])))]
async fn revoke_all_sessions(
    State(state): State<AppState>,
    AuthAllowSetup(caller): AuthAllowSetup,
    meta: ClientMeta,
) -> Result<StatusCode> {
    let record = meta.audit(Some(caller.id()), "jwt", "auth.session.revoke_all", "user");
    state.store.end_all_sessions(caller.id(), &record).await?;
    Ok(StatusCode::NO_CONTENT)
}
