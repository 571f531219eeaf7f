// The server's problems in the user's language. The API explains errors in English (`detail`, field
// `message`); the UI shows its own translation, chosen from the stable parts of the problem: the type
// slug (`/problems/invitation-required`), the status, and each field error's `field` + `code`. A
// problem the UI does not know keeps the server's explanation (better than a vague message).
import { formatDateTime } from "./format.js";
import { t } from "./i18n.js";

export const BY_KIND = Object.freeze({
  "invitation-required": "error.invitation_required",
  "invitation-invalid": "error.invitation_invalid",
  "registration-closed": "error.registration_closed",
  "mfa-mandatory": "error.mfa_mandatory",
  "mfa-setup-required": "error.mfa_setup_required",
  "self-delete": "members.self_delete",
  forbidden: "error.forbidden",
  "cross-site": "error.cross_site",
  duplicate: "error.duplicate",
  "2fa-not-pending": "setup2fa.not_pending",
  "2fa-already-enabled": "setup2fa.already",
  "payload-too-large": "error.too_large",
  unavailable: "error.unavailable",
  internal: "error.internal",
  "not-found": "error.not_found",
  validation: "validation.fix_fields",
  "stale-version": "error.conflict",
  "mfa-ticket-invalid": "login.ticket_expired",
  "checklist-incomplete": "error.checklist_incomplete",
  "checklist-closed": "error.checklist_closed",
  "not-approved": "error.not_approved",
  frozen: "error.frozen",
  "illegal-transition": "error.illegal_transition",
  "not-pending": "error.not_pending",
  "not-refused": "error.not_refused",
  "no-approval-needed": "error.no_approval_needed",
});

/**
 * The next free slot a `deployment-conflict` problem proposes, as a Date, or null. The server names it
 * only in `detail` ("...; the next free slot starts at 2026-11-27T22:00:00+00:00").
 */
export function nextFreeSlot(err) {
  if (err?.kind !== "deployment-conflict") return null;
  const m = String(err.detail || "").match(/next free slot starts at (\S+?)\.?$/);
  const at = m ? new Date(m[1]) : null;
  return at && !Number.isNaN(at.getTime()) ? at : null;
}

/** User-facing text for an ApiError (or any error). `byStatus` overrides per HTTP status. */
export function errorMessage(err, { fallback = "error.generic", byStatus = {} } = {}) {
  if (!err) return t(fallback);
  const status = Number(err.status) || 0;
  if (status === 0 && err.title === "network") return t("error.network");
  if (byStatus[status]) return t(byStatus[status]);
  if (status === 429) {
    return Number.isFinite(err.retryAfter) && err.retryAfter > 0 ? t("error.rate_limited_in", { seconds: err.retryAfter }) : t("error.rate_limited");
  }
  if (err.kind === "deployment-conflict") {
    const slot = nextFreeSlot(err);
    return slot ? t("error.deployment_conflict_next", { when: formatDateTime(slot) }) : t("error.deployment_conflict");
  }
  const key = BY_KIND[err.kind];
  if (key) return t(key);
  if (status === 401) return t("error.unauthorized");
  if (status === 403) return t("error.forbidden");
  return err.detail || t(fallback);
}

export const BY_FIELD_CODE = Object.freeze({
  "password.too_short": ["validation.password_min", { min: 12 }],
  "password.too_long": ["validation.password_max"],
  "password.common": ["validation.password_common"],
  "password.contains_context": ["validation.password_context"],
  "password.repetitive": ["validation.password_repetitive"],
  "username.invalid": ["validation.username"],
  "email.invalid": ["validation.email"],
  "code.wrong_code": ["setup2fa.enable_failed"],
  "current_password.required": ["validation.current_password"],
  "name.invalid": ["validation.team_name"],
  "locale.invalid": ["validation.invalid"],
  "username.taken": ["validation.username_taken"],
  "email.taken": ["validation.email_taken"],
  "name.taken": ["validation.team_name_taken"],
  "comment.required": ["approval.comment_required"],
});

// 409 duplicate problems name the field at the start of `detail` ("username: this username is taken").
export const DUPLICATE_FIELDS = Object.freeze({ username: "validation.username_taken", email: "validation.email_taken", name: "validation.team_name_taken" });

/** Field errors of a problem as {field: translated text}; JSON pointers and `extra.` prefixes reduced. */
export function fieldMessages(err) {
  const out = {};
  for (const e of err?.errors || []) {
    const name = String(e.field || "").replace(/^\/+/, "").replace(/^extra[./]/, "").split(/[./[]/)[0];
    if (!name || out[name]) continue;
    const known = BY_FIELD_CODE[`${name}.${e.code}`];
    if (known) out[name] = t(known[0], known[1]);
    else if (e.code === "required") out[name] = t("validation.required");
    else out[name] = e.message || t("validation.invalid");
  }
  if (err?.kind === "duplicate" && typeof err.detail === "string") {
    const m = err.detail.match(/^(\w+):/);
    if (m && DUPLICATE_FIELDS[m[1]] && !out[m[1]]) out[m[1]] = t(DUPLICATE_FIELDS[m[1]]);
  }
  return out;
}
