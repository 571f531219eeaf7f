//! `/api/users`, `/api/invitations`, `/api/delegations`: the people side of the app.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::routes::{validate_identity, validate_password};
use crate::auth::{Auth, Permission, deny, password, require, tokens};
use crate::error::{Error, Problem, Result};
use crate::http::AppState;
use crate::http::extract::{Json, Path, Query};
use crate::http::meta::ClientMeta;
use crate::model::{
    Capability, Delegation, Id, NewDelegation, NewInvitation, NewUser, Page, Role, User, UserQuery,
    UserUpdate,
};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(unlock_user))
        .routes(routes!(create_invitation))
        .routes(routes!(list_delegations, create_delegation))
        .routes(routes!(revoke_delegation))
}

/// Filters of the user list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserFilter {
    /// Only this role.
    pub role: Option<Role>,
    /// Only this team.
    pub team_id: Option<Id>,
    /// Rows to skip.
    #[serde(default)]
    pub offset: i64,
    /// Rows to return (100 by default, 500 at most).
    #[serde(default)]
    pub limit: i64,
}

/// List users (every role may, spec 3.2).
#[utoipa::path(get, path = "/api/users", tag = "users", params(UserFilter),
    responses((status = 200, body = Page<User>)), security(("bearer" = [])))]
async fn list_users(
    State(state): State<AppState>,
    Auth(_caller): Auth,
    Query(f): Query<UserFilter>,
) -> Result<Json<Page<User>>> {
    let q = UserQuery {
        role: f.role,
        team_id: f.team_id,
        offset: f.offset,
        limit: f.limit,
    };
    Ok(Json(state.store.list_users(&q).await?))
}

/// An account created by an ADMIN.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Login name.
    pub username: String,
    /// E-mail.
    pub email: String,
    /// Initial password.
    pub password: String,
    /// Role.
    pub role: Role,
    /// Team.
    #[serde(default)]
    pub team_id: Option<Id>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
}

impl std::fmt::Debug for CreateUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateUser")
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Create a user (ADMIN).
#[utoipa::path(post, path = "/api/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = User), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Json(req): Json<CreateUser>,
) -> Result<Response> {
    require(&state, &caller, &meta, Permission::ManageUsers).await?;
    validate_identity(&req.username, &req.email)?;
    validate_password(&req.password, &req.username, &req.email)?;
    let new = NewUser {
        username: req.username.trim().to_owned(),
        email: req.email.trim().to_owned(),
        display_name: req
            .display_name
            .unwrap_or_default()
            .trim()
            .chars()
            .take(100)
            .collect(),
        password_hash: password::hash(&req.password).await?,
        role: req.role,
        team_id: req.team_id,
    };
    let mut record = meta.audit(Some(caller.id()), "jwt", "user.create", "user");
    record.details = serde_json::json!({ "username": new.username, "role": new.role.as_str() });
    let user = state.store.create_user(&new, &record).await?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/users/me", tag = "users", responses((status = 200, body = User)), security(("bearer" = [])))]
async fn me(Auth(caller): Auth) -> Json<User> {
    Json(caller.user)
}

/// A user by id.
#[utoipa::path(get, path = "/api/users/{id}", tag = "users", params(("id" = Id, Path)),
    responses((status = 200, body = User), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn get_user(
    State(state): State<AppState>,
    Auth(_caller): Auth,
    Path(id): Path<Id>,
) -> Result<Json<User>> {
    Ok(Json(state.store.user(id).await?.ok_or(Error::NotFound("user"))?))
}

/// Changes to a user. Everyone may change their own profile; only an ADMIN changes role, team or
/// the disabled flag, and never their own role.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// E-mail (changing your own needs `current_password`).
    pub email: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// UI language, `fr` or `en`.
    pub locale: Option<String>,
    /// IANA time zone.
    pub timezone: Option<String>,
    /// Role (ADMIN only, not your own).
    pub role: Option<Role>,
    /// Team (ADMIN only); null removes it.
    #[serde(default, with = "crate::http::extract::double_option")]
    #[schema(value_type = Option<Id>)]
    pub team_id: Option<Option<Id>>,
    /// Disable or enable the account (ADMIN only, not your own).
    pub disabled: Option<bool>,
    /// Your current password, to change your own e-mail.
    pub current_password: Option<String>,
}

impl std::fmt::Debug for UpdateUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateUser")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Update a user.
#[utoipa::path(put, path = "/api/users/{id}", tag = "users", params(("id" = Id, Path)), request_body = UpdateUser,
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
    Json(req): Json<UpdateUser>,
) -> Result<Json<User>> {
    let is_self = caller.id() == id;
    let admin = caller.can(Permission::ManageUsers);
    if !is_self && !admin {
        return Err(deny(&state, &caller, &meta, "update another user").await);
    }
    let admin_fields = req.role.is_some() || req.team_id.is_some() || req.disabled.is_some();
    if admin_fields && (!admin || (is_self && (req.role.is_some() || req.disabled.is_some()))) {
        return Err(deny(&state, &caller, &meta, "change role, team or disabled").await);
    }
    let target = state.store.user(id).await?.ok_or(Error::NotFound("user"))?;
    if let Some(email) = &req.email {
        validate_identity(&target.username, email)?;
        if is_self {
            let ok = match &req.current_password {
                Some(pw) => password::verify(pw, &caller.user.password_hash).await?,
                None => false,
            };
            if !ok {
                return Err(Error::invalid(
                    "current_password",
                    "required",
                    "confirm your current password to change your e-mail",
                ));
            }
        }
    }
    if let Some(locale) = &req.locale
        && !matches!(locale.as_str(), "fr" | "en")
    {
        return Err(Error::invalid("locale", "invalid", "use fr or en"));
    }
    let up = UserUpdate {
        email: req.email.map(|e| e.trim().to_owned()),
        display_name: req.display_name.map(|d| d.trim().chars().take(100).collect()),
        role: req.role,
        team_id: req.team_id,
        disabled: req.disabled,
        locale: req.locale,
        timezone: req.timezone.map(|t| t.chars().take(64).collect()),
    };
    let mut record = meta.audit(Some(caller.id()), "jwt", "user.update", "user");
    record.details = serde_json::json!({
        "role": up.role.map(Role::as_str), "team_id": up.team_id, "disabled": up.disabled,
        "email_changed": up.email.is_some(),
    });
    Ok(Json(state.store.update_user(id, &up, &record).await?))
}

/// Delete a user (ADMIN, not yourself).
#[utoipa::path(delete, path = "/api/users/{id}", tag = "users", params(("id" = Id, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn delete_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
) -> Result<StatusCode> {
    require(&state, &caller, &meta, Permission::ManageUsers).await?;
    if id == caller.id() {
        return Err(Error::forbidden(
            "self-delete",
            "you cannot delete your own account",
        ));
    }
    state
        .store
        .delete_user(id, &meta.audit(Some(caller.id()), "jwt", "user.delete", "user"))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unlock an account locked by failed logins (ADMIN).
#[utoipa::path(post, path = "/api/users/{id}/unlock", tag = "users", params(("id" = Id, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn unlock_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
) -> Result<StatusCode> {
    require(&state, &caller, &meta, Permission::ManageUsers).await?;
    state
        .store
        .unlock_user(id, &meta.audit(Some(caller.id()), "jwt", "user.unlock", "user"))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A password change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    /// Current password.
    pub current_password: String,
    /// New password.
    pub new_password: String,
}

impl std::fmt::Debug for ChangePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangePassword")
    }
}

/// Change your password; every other session ends.
#[utoipa::path(put, path = "/api/users/me/password", tag = "users", request_body = ChangePassword,
    responses((status = 204), (status = 401, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn change_password(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Json(req): Json<ChangePassword>,
) -> Result<StatusCode> {
    if !password::verify(&req.current_password, &caller.user.password_hash).await? {
        return Err(Error::Unauthorized("the current password is wrong".to_owned()));
    }
    validate_password(&req.new_password, &caller.user.username, &caller.user.email)?;
    let hash = password::hash(&req.new_password).await?;
    let record = meta.audit(Some(caller.id()), "password", "user.password_change", "user");
    state
        .store
        .set_password_hash(caller.id(), &hash, true, &record)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An invitation to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitation {
    /// Invitee e-mail.
    pub email: String,
    /// Role of the new account.
    pub role: Role,
    /// Team of the new account.
    #[serde(default)]
    pub team_id: Option<Id>,
    /// Validity in hours (default 72, at most 720).
    #[serde(default)]
    pub valid_hours: Option<u32>,
}

/// A created invitation: send the token (or the link) to the invitee.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invitation {
    /// Identifier.
    pub id: Id,
    /// Single-use token, shown once.
    pub token: String,
    /// Registration link.
    pub url: String,
    /// End of validity.
    pub expires_at: chrono::DateTime<Utc>,
}

/// Invite someone (ADMIN).
#[utoipa::path(post, path = "/api/invitations", tag = "users", request_body = CreateInvitation,
    responses((status = 201, body = Invitation), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn create_invitation(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Json(req): Json<CreateInvitation>,
) -> Result<Response> {
    require(&state, &caller, &meta, Permission::ManageUsers).await?;
    validate_identity("invitee", &req.email)?;
    let token = tokens::new_opaque_token();
    let expires_at = Utc::now() + Duration::hours(i64::from(req.valid_hours.unwrap_or(72).clamp(1, 720)));
    let mut record = meta.audit(Some(caller.id()), "jwt", "invitation.create", "invitation");
    record.details = serde_json::json!({ "email": req.email, "role": req.role.as_str() });
    let id = state
        .store
        .create_invitation(
            &NewInvitation {
                token_hash: tokens::hash_token(&token),
                email: req.email.trim().to_owned(),
                role: req.role,
                team_id: req.team_id,
                created_by: Some(caller.id()),
                expires_at,
            },
            &record,
        )
        .await?;
    let url = format!(
        "{}/register?invitation={token}",
        state.settings.server.public_url.trim_end_matches('/')
    );
    Ok((
        StatusCode::CREATED,
        Json(Invitation {
            id,
            token,
            url,
            expires_at,
        }),
    )
        .into_response())
}

/// A delegation to grant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDelegation {
    /// The DEV who receives it.
    pub grantee_id: Id,
    /// Capability (only `dev_lead`).
    pub capability: Capability,
    /// Duration in hours, 1 to 72.
    pub hours: u32,
}

/// Delegations in force.
#[utoipa::path(get, path = "/api/delegations", tag = "users", responses((status = 200, body = [Delegation])), security(("bearer" = [])))]
async fn list_delegations(
    State(state): State<AppState>,
    Auth(_caller): Auth,
) -> Result<Json<Vec<Delegation>>> {
    Ok(Json(state.store.list_delegations(Utc::now()).await?))
}

/// Grant a DEV the DEV-lead capability for at most 72 hours (PROJET for their team, ADMIN).
#[utoipa::path(post, path = "/api/delegations", tag = "users", request_body = CreateDelegation,
    responses((status = 201, body = Delegation), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_delegation(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Json(req): Json<CreateDelegation>,
) -> Result<Response> {
    require(&state, &caller, &meta, Permission::GrantDelegation).await?;
    if !(1..=72).contains(&req.hours) {
        return Err(Error::invalid(
            "hours",
            "out_of_range",
            "a delegation lasts 1 to 72 hours",
        ));
    }
    let grantee = state
        .store
        .user(req.grantee_id)
        .await?
        .ok_or_else(|| Error::invalid("grantee_id", "not_found", "no user with this id"))?;
    if grantee.role != Role::Dev {
        return Err(Error::invalid(
            "grantee_id",
            "not_dev",
            "only a DEV can receive the DEV-lead capability",
        ));
    }
    if caller.role() != Role::Admin
        && (caller.user.team_id.is_none() || grantee.team_id != caller.user.team_id)
    {
        return Err(deny(&state, &caller, &meta, "delegate outside your team").await);
    }
    let now = Utc::now();
    let mut record = meta.audit(Some(caller.id()), "jwt", "delegation.create", "delegation");
    record.details = serde_json::json!({ "grantee_id": grantee.id, "hours": req.hours });
    let d = state
        .store
        .create_delegation(
            &NewDelegation {
                grantor_id: caller.id(),
                grantee_id: grantee.id,
                capability: req.capability,
                starts_at: now,
                expires_at: now + Duration::hours(i64::from(req.hours)),
            },
            &record,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

/// End a delegation early (its grantor or an ADMIN).
#[utoipa::path(delete, path = "/api/delegations/{id}", tag = "users", params(("id" = Id, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn revoke_delegation(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
) -> Result<StatusCode> {
    let now = Utc::now();
    let d = state
        .store
        .list_delegations(now)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(Error::NotFound("delegation"))?;
    if d.grantor_id != caller.id() && caller.role() != Role::Admin {
        return Err(deny(&state, &caller, &meta, "revoke another's delegation").await);
    }
    state
        .store
        .revoke_delegation(
            id,
            now,
            &meta.audit(Some(caller.id()), "jwt", "delegation.revoke", "delegation"),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates an account from the command line (`uyoop-cal admin create`), with the same validation
/// and audit as the API. Migrates the database first, so it works on a fresh install.
pub async fn create_from_cli(
    settings: &crate::config::Settings,
    username: &str,
    email: &str,
    role: Role,
    password: &str,
) -> Result<User> {
    validate_identity(username, email)?;
    validate_password(password, username, email)?;
    let store = crate::store::connect(&settings.database).await?;
    store.migrate().await?;
    let new = NewUser {
        username: username.trim().to_owned(),
        email: email.trim().to_owned(),
        display_name: String::new(),
        password_hash: password::hash(password).await?,
        role,
        team_id: None,
    };
    let mut record = crate::model::AuditRecord::system("user.create", "user");
    record.credential = "cli".to_owned();
    record.details = serde_json::json!({ "username": new.username, "role": role.as_str(), "via": "cli" });
    let user = store.create_user(&new, &record).await;
    store.close().await;
    user
}
