//! `/api/teams`: teams and their members (ADMIN any team, PROJET their own).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{Auth, Permission, deny, require};
use crate::error::{Error, Problem, Result};
use crate::http::AppState;
use crate::http::extract::{Json, Path};
use crate::http::meta::ClientMeta;
use crate::model::{Id, NewTeam, Team, TeamUpdate, UserUpdate};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_teams, create_team))
        .routes(routes!(update_team, delete_team))
        .routes(routes!(add_member, remove_member))
}

/// A team to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    /// Unique name, 1-100 characters.
    pub name: String,
    /// What the team does.
    #[serde(default)]
    pub description: String,
    /// Lead.
    #[serde(default)]
    pub lead_id: Option<Id>,
}

fn check_name(name: &str) -> Result<()> {
    let n = name.trim().chars().count();
    if n == 0 || n > 100 {
        return Err(Error::invalid(
            "name",
            "invalid",
            "a team name has 1 to 100 characters",
        ));
    }
    Ok(())
}

/// Every team.
#[utoipa::path(get, path = "/api/teams", tag = "teams", responses((status = 200, body = [Team])), security(("bearer" = [])))]
async fn list_teams(State(state): State<AppState>, Auth(_caller): Auth) -> Result<Json<serde_json::Value>> {
    let items = state.store.list_teams().await?;
    Ok(Json(serde_json::json!({ "items": items })))
}

/// Create a team (ADMIN).
#[utoipa::path(post, path = "/api/teams", tag = "teams", request_body = CreateTeam,
    responses((status = 201, body = Team), (status = 403, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn create_team(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Json(req): Json<CreateTeam>,
) -> Result<Response> {
    require(&state, &caller, &meta, Permission::ManageTeams).await?;
    check_name(&req.name)?;
    let team = state
        .store
        .create_team(
            &NewTeam {
                name: req.name.trim().to_owned(),
                description: req.description,
                lead_id: req.lead_id,
            },
            &meta.audit(Some(caller.id()), "jwt", "team.create", "team"),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(team)).into_response())
}

/// Changes to a team.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTeam {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New lead; null removes it.
    #[serde(default, with = "crate::http::extract::double_option")]
    #[schema(value_type = Option<Id>)]
    pub lead_id: Option<Option<Id>>,
}

/// Update a team (ADMIN, or a PROJET of this team).
#[utoipa::path(put, path = "/api/teams/{id}", tag = "teams", params(("id" = Id, Path)), request_body = UpdateTeam,
    responses((status = 200, body = Team), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn update_team(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
    Json(req): Json<UpdateTeam>,
) -> Result<Json<Team>> {
    if !caller.can_manage_team(id) {
        return Err(deny(&state, &caller, &meta, "manage this team").await);
    }
    if let Some(name) = &req.name {
        check_name(name)?;
    }
    let up = TeamUpdate {
        name: req.name.map(|n| n.trim().to_owned()),
        description: req.description,
        lead_id: req.lead_id,
    };
    Ok(Json(
        state
            .store
            .update_team(
                id,
                &up,
                &meta.audit(Some(caller.id()), "jwt", "team.update", "team"),
            )
            .await?,
    ))
}

/// Delete a team (ADMIN).
#[utoipa::path(delete, path = "/api/teams/{id}", tag = "teams", params(("id" = Id, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn delete_team(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path(id): Path<Id>,
) -> Result<StatusCode> {
    require(&state, &caller, &meta, Permission::ManageTeams).await?;
    state
        .store
        .delete_team(id, &meta.audit(Some(caller.id()), "jwt", "team.delete", "team"))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add a user to the team (ADMIN, or a PROJET of this team).
#[utoipa::path(put, path = "/api/teams/{id}/members/{user_id}", tag = "teams", params(("id" = Id, Path), ("user_id" = Id, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn add_member(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path((id, user_id)): Path<(Id, Id)>,
) -> Result<StatusCode> {
    if !caller.can_manage_team(id) {
        return Err(deny(&state, &caller, &meta, "manage this team").await);
    }
    state.store.team(id).await?.ok_or(Error::NotFound("team"))?;
    let up = UserUpdate {
        team_id: Some(Some(id)),
        ..Default::default()
    };
    let mut record = meta.audit(Some(caller.id()), "jwt", "team.member_add", "user");
    record.details = serde_json::json!({ "team_id": id });
    state.store.update_user(user_id, &up, &record).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a user from the team (ADMIN, or a PROJET of this team).
#[utoipa::path(delete, path = "/api/teams/{id}/members/{user_id}", tag = "teams", params(("id" = Id, Path), ("user_id" = Id, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn remove_member(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Path((id, user_id)): Path<(Id, Id)>,
) -> Result<StatusCode> {
    if !caller.can_manage_team(id) {
        return Err(deny(&state, &caller, &meta, "manage this team").await);
    }
    let member = state
        .store
        .user(user_id)
        .await?
        .filter(|u| u.team_id == Some(id))
        .ok_or(Error::NotFound("member"))?;
    let up = UserUpdate {
        team_id: Some(None),
        ..Default::default()
    };
    let mut record = meta.audit(Some(caller.id()), "jwt", "team.member_remove", "user");
    record.details = serde_json::json!({ "team_id": id });
    state.store.update_user(member.id, &up, &record).await?;
    Ok(StatusCode::NO_CONTENT)
}
