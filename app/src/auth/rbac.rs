//! Role-based access control: spec 3.2 as one table. Handlers ask `caller.can(Permission)` (or the
//! object-level helpers); nothing else decides who may do what.

use crate::model::{Capability, Delegation, Event, EventKind, Id, Role, User};

/// Something a user may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read the calendar, events, comments, git logs.
    ViewEvents,
    /// Create an event of this kind (and edit/delete their own ones).
    CreateEvent(EventKind),
    /// Edit or delete anyone's event.
    ManageAnyEvent,
    /// Approve or refuse production deployments.
    ApproveProd,
    /// Run git actions.
    RunGit,
    /// List and read users.
    ListUsers,
    /// Create and delete users, change roles, unlock, invite.
    ManageUsers,
    /// Create and delete teams, manage any team.
    ManageTeams,
    /// Manage the members of one's own team.
    ManageOwnTeam,
    /// Grant temporary DEV-lead delegations.
    GrantDelegation,
    /// Read the audit trail.
    ReadAudit,
}

/// The table of spec 3.2. Read it as: which roles have this permission.
pub fn roles_for(p: Permission) -> &'static [Role] {
    use Role::*;
    match p {
        Permission::ViewEvents | Permission::ListUsers => &[Projet, Dev, Ops, Admin],
        Permission::CreateEvent(EventKind::Meeting) => &[Projet, Admin],
        Permission::CreateEvent(EventKind::DeploymentWindow) => &[Projet, Ops, Admin],
        Permission::CreateEvent(EventKind::GitAction) => &[Projet, Dev, Admin],
        Permission::RunGit => &[Dev, Admin],
        Permission::ManageOwnTeam | Permission::GrantDelegation => &[Projet, Admin],
        Permission::ManageAnyEvent
        | Permission::ApproveProd
        | Permission::ManageUsers
        | Permission::ManageTeams
        | Permission::ReadAudit => &[Admin],
    }
}

/// Whether `role` has `p`.
pub fn allows(role: Role, p: Permission) -> bool {
    roles_for(p).contains(&role)
}

/// The authenticated user with what they hold right now (delegations included).
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user, as stored now (role read from the store on every request).
    pub user: User,
    /// Session family of the access token.
    pub session: uuid::Uuid,
    /// Delegations in force.
    pub delegations: Vec<Delegation>,
}

impl Caller {
    /// User id.
    pub fn id(&self) -> Id {
        self.user.id
    }

    /// Role.
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// Whether the caller's role has `p`.
    pub fn can(&self, p: Permission) -> bool {
        allows(self.user.role, p)
    }

    /// Holds a delegated capability now.
    pub fn has_capability(&self, c: Capability) -> bool {
        self.delegations.iter().any(|d| d.capability == c)
    }

    /// May edit or delete `event`: ADMIN; its creator when their role may create that kind; a DEV
    /// lead for git actions of their team.
    pub fn can_modify_event(&self, event: &Event) -> bool {
        if self.can(Permission::ManageAnyEvent) {
            return true;
        }
        let kind = event.kind();
        if event.created_by == Some(self.user.id) && self.can(Permission::CreateEvent(kind)) {
            return true;
        }
        kind == EventKind::GitAction
            && self.has_capability(Capability::DevLead)
            && event.team_id.is_some()
            && event.team_id == self.user.team_id
    }

    /// May manage team `team_id`: ADMIN any, PROJET their own.
    pub fn can_manage_team(&self, team_id: Id) -> bool {
        self.can(Permission::ManageTeams)
            || (self.can(Permission::ManageOwnTeam) && self.user.team_id == Some(team_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::*;

    /// The spec's table, spelled out once more: a change to `roles_for` must change this too.
    #[test]
    fn matrix_matches_the_spec() {
        let expect = |p, roles: &[Role]| {
            for r in Role::ALL {
                assert_eq!(allows(r, p), roles.contains(&r), "{r:?} {p:?}");
            }
        };
        expect(Permission::CreateEvent(EventKind::Meeting), &[Projet, Admin]);
        expect(
            Permission::CreateEvent(EventKind::DeploymentWindow),
            &[Projet, Ops, Admin],
        );
        expect(
            Permission::CreateEvent(EventKind::GitAction),
            &[Projet, Dev, Admin],
        );
        expect(Permission::ApproveProd, &[Admin]);
        expect(Permission::RunGit, &[Dev, Admin]);
        expect(Permission::ManageUsers, &[Admin]);
        expect(Permission::ListUsers, &[Projet, Dev, Ops, Admin]);
        expect(Permission::ManageOwnTeam, &[Projet, Admin]);
        expect(Permission::GrantDelegation, &[Projet, Admin]);
        expect(Permission::ReadAudit, &[Admin]);
    }
}
