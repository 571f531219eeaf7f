// What each role may do in the UI (spec 3.2 + the brief). The server enforces every rule again; the UI
// only hides what would be refused.

export const ROLES = Object.freeze(["PROJET", "DEV", "OPS", "ADMIN"]);
export const EVENT_KINDS = Object.freeze(["meeting", "deployment_window", "git_action"]);

const CREATABLE = Object.freeze({
  ADMIN: EVENT_KINDS,
  PROJET: EVENT_KINDS,
  DEV: Object.freeze(["git_action"]),
  OPS: Object.freeze(["deployment_window"]),
});

/** Event kinds the role may create, in the spec's order. Unknown roles create nothing. */
export function creatableKinds(role) {
  return CREATABLE[role] || [];
}

export function canCreate(role, kind) {
  return creatableKinds(role).includes(kind);
}

/** Edit/delete: the server's can_edit flag when present, else creator or ADMIN. */
export function canEdit(user, event) {
  if (!user || !event) return false;
  if (typeof event.can_edit === "boolean") return event.can_edit;
  return user.role === "ADMIN" || event.created_by?.id === user.id;
}

export function canApprove(user) {
  return user?.role === "ADMIN";
}

/** Members page: ADMIN sees and manages everyone, PROJET sees its own team. */
export function membersScope(user) {
  if (user?.role === "ADMIN") return { visible: true, manage: true, teamId: null };
  if (user?.role === "PROJET") return { visible: true, manage: false, teamId: user.team_id ?? null };
  return { visible: false, manage: false, teamId: null };
}

/** Every status an event can have (the server's EventStatus), in lifecycle order. */
export const EVENT_STATUSES = Object.freeze(["pending_approval", "refused", "planned", "in_progress", "completed", "failed", "rolled_back", "cancelled"]);

/**
 * Status changes offered as buttons, per kind: the server's state machine (events/workflow.rs,
 * `can_transition`). Approval steps move `pending_approval` themselves (approvals panel).
 */
export const TRANSITIONS = Object.freeze({
  deployment_window: Object.freeze({
    pending_approval: ["cancelled"],
    refused: ["cancelled"],
    planned: ["in_progress", "cancelled"],
    in_progress: ["completed", "failed", "rolled_back"],
    completed: ["rolled_back"],
    failed: ["rolled_back"],
  }),
  meeting: Object.freeze({ planned: ["completed", "cancelled"], cancelled: ["planned"] }),
  git_action: Object.freeze({ planned: ["completed", "cancelled"], cancelled: ["planned"] }),
});

/** Deployment window transitions (kept for the dictionaries' completeness test). */
export const DEPLOYMENT_TRANSITIONS = TRANSITIONS.deployment_window;

/** The statuses `event` may move to, in the order the buttons are shown. */
export function nextStatuses(event) {
  return TRANSITIONS[event?.type]?.[event?.status] || [];
}

/** Who may tick a deployment checklist: its editors, and anyone who plans deployments (server rule). */
export function canTickChecklist(user, event) {
  return canEdit(user, event) || canCreate(user?.role, "deployment_window");
}
