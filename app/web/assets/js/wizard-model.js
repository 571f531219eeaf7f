// The creation wizards' model, free of DOM so it can be unit-tested: steps per kind (spec 3.1), the
// per-step validation that mirrors the server's rules, and the conversion between the wizard's form
// data and the API's event body. Error values are i18n keys (plus params), never raw text.
import { addMinutes, fromLocalInputs, minutesBetween, toLocalInputs } from "./format.js";

export const STEPS = Object.freeze({
  meeting: Object.freeze(["basics", "people", "agenda", "summary"]),
  deployment_window: Object.freeze(["schedule", "changes", "checklist", "rollback", "summary"]),
  git_action: Object.freeze(["repository", "action", "post_actions", "summary"]),
});

export const MEETING_KINDS = Object.freeze(["daily", "planning", "retro", "review", "technical"]);
export const RECURRENCES = Object.freeze(["none", "daily", "weekly", "monthly"]);
export const ENVIRONMENTS = Object.freeze(["dev", "staging", "prod"]);
export const GIT_ACTIONS = Object.freeze(["clone", "pull", "merge", "tag", "release"]);
export const TRIGGERS = Object.freeze(["manual", "webhook", "cron"]);
export const POST_ACTIONS = Object.freeze(["run_tests", "build_image", "notify"]);

export const LIMITS = Object.freeze({
  title: 255,
  description: 2000,
  url: 1000,
  gitUrl: 500,
  agenda: 10000,
  rollback: 4000,
  service: 100,
  services: 50,
  checklistItem: 200,
  checklistItems: 50,
  branch: 255,
  epic: 100,
  meetingMinutes: 24 * 60,
  deploymentMinutes: 7 * 24 * 60,
});

// Suggested pre-deployment checks, as i18n keys; the user edits the list freely.
export const DEFAULT_CHECKLIST = Object.freeze([
  "checklist.default.backup",
  "checklist.default.tests",
  "checklist.default.monitoring",
  "checklist.default.communication",
]);

/** Length in Unicode code points, as the server counts it. */
export const length = (s) => [...String(s ?? "")].length;

export function isHttpUrl(value) {
  const s = String(value ?? "").trim();
  if (!/^https?:\/\//i.test(s) || /\s/.test(s)) return false;
  try {
    const url = new URL(s);
    return (url.protocol === "http:" || url.protocol === "https:") && Boolean(url.hostname);
  } catch {
    return false;
  }
}

/** Git remote: https://host/path or git@host:path (the server accepts nothing else). */
export function isGitUrl(value) {
  const s = String(value ?? "").trim();
  if (/\s/.test(s) || length(s) > LIMITS.gitUrl) return false;
  if (s.startsWith("https://")) {
    try {
      const url = new URL(s);
      return Boolean(url.hostname) && url.pathname.length > 1 && !url.username && !url.password;
    } catch {
      return false;
    }
  }
  return /^git@[A-Za-z0-9.-]+:[A-Za-z0-9._~/-]+$/.test(s) && !s.includes("..");
}

/** git check-ref-format, simplified: the rules a user can break by typing. */
export function isBranchName(value) {
  const s = String(value ?? "");
  if (!s || length(s) > LIMITS.branch) return false;
  if (/[\s~^:?*[\\\x00-\x1f\x7f]/.test(s)) return false;
  if (s.startsWith("-") || s.startsWith("/") || s.endsWith("/") || s.endsWith(".") || s.endsWith(".lock")) return false;
  if (s.includes("..") || s.includes("//") || s.includes("@{") || s === "@") return false;
  return !s.split("/").some((part) => part.startsWith("."));
}

const CRON_FIELDS = [
  { min: 0, max: 59, names: null },
  { min: 0, max: 23, names: null },
  { min: 1, max: 31, names: null },
  { min: 1, max: 12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] },
  { min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

function cronValue(token, field) {
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    return n >= field.min && n <= field.max ? n : null;
  }
  const idx = field.names ? field.names.indexOf(token.toLowerCase()) : -1;
  return idx >= 0 ? idx + (field.min === 1 ? 1 : 0) : null;
}

function cronPart(part, field) {
  const [range, step, extra] = part.split("/");
  if (extra !== undefined) return false;
  if (step !== undefined && !(/^\d+$/.test(step) && Number(step) > 0 && Number(step) <= field.max)) return false;
  if (range === "*") return true;
  const bounds = range.split("-");
  if (bounds.length > 2) return false;
  const values = bounds.map((b) => cronValue(b, field));
  if (values.some((v) => v === null)) return false;
  return values.length === 1 || values[0] <= values[1];
}

/** Standard 5-field cron expression (minute hour day-of-month month day-of-week). */
export function isCron(value) {
  const fields = String(value ?? "").trim().split(/\s+/);
  if (fields.length !== 5 || fields[0] === "") return false;
  return fields.every((f, i) => f.split(",").every((part) => part !== "" && cronPart(part, CRON_FIELDS[i])));
}

/** Repository name from its URL, for a default title: "org/app.git" -> "app". */
export function repoName(url) {
  const s = String(url ?? "").trim().replace(/\/+$/, "").replace(/\.git$/, "");
  const last = s.split(/[/:]/).pop();
  return last || s;
}

// ---- data ----------------------------------------------------------------------------------------

function nextHalfHour(now = new Date()) {
  const d = new Date(now.getTime());
  d.setSeconds(0, 0);
  d.setMinutes(d.getMinutes() < 30 ? 30 : 60);
  return d;
}

/** Fresh form data for `kind`; `start` (Date) preselects a slot clicked on the calendar. */
export function initialData(kind, { user, start, translate = (k) => k, now = new Date() } = {}) {
  const when = toLocalInputs(start || nextHalfHour(now));
  const base = {
    type: kind,
    title: "",
    description: "",
    date: when.date,
    time: when.time,
    duration: kind === "git_action" ? 30 : 60,
    team_id: user?.team_id ?? null,
  };
  if (kind === "meeting") {
    return { ...base, meeting_kind: "daily", participants: [], video_url: "", agenda_md: "", sprint: "", epic: "", recurrence: "none", until: "" };
  }
  if (kind === "deployment_window") {
    return {
      ...base,
      environment: "staging",
      services: [],
      change_description: "",
      checklist: DEFAULT_CHECKLIST.map((key) => ({ label: translate(key), done: false })),
      rollback_plan: "",
    };
  }
  return { ...base, repository_url: "", branch: "main", action: "pull", trigger: "manual", cron: "", post_actions: [] };
}

/** Form data of an existing event, for the edit wizard. */
export function dataFromEvent(event) {
  const when = toLocalInputs(event.start);
  const x = event.extra || {};
  const base = {
    type: event.type,
    title: event.title || "",
    description: event.description || "",
    date: when.date,
    time: when.time,
    duration: Math.max(1, minutesBetween(event.start, event.end)),
    team_id: event.team_id ?? null,
    version: event.version,
  };
  if (event.type === "meeting") {
    return {
      ...base,
      meeting_kind: x.meeting_kind || "daily",
      participants: Array.isArray(x.participants) ? [...x.participants] : [],
      video_url: x.video_url || "",
      agenda_md: x.agenda_md || "",
      sprint: x.tags?.sprint ?? "",
      epic: x.tags?.epic ?? "",
      recurrence: x.recurrence?.freq || "none",
      until: x.recurrence?.until || "",
    };
  }
  if (event.type === "deployment_window") {
    return {
      ...base,
      duration: x.duration_minutes || base.duration,
      environment: x.environment || "staging",
      services: Array.isArray(x.services) ? [...x.services] : [],
      change_description: x.change_description ?? event.description ?? "",
      checklist: Array.isArray(x.checklist) ? x.checklist.map((c) => ({ ...c })) : [],
      rollback_plan: x.rollback_plan || "",
    };
  }
  return {
    ...base,
    repository_url: x.repository_url || "",
    branch: x.branch || "",
    action: x.action || "pull",
    trigger: x.trigger || "manual",
    cron: x.cron || "",
    post_actions: Array.isArray(x.post_actions) ? [...x.post_actions] : [],
  };
}

// ---- validation ----------------------------------------------------------------------------------

function checkTitle(d, errors) {
  const n = length(d.title.trim());
  if (n === 0) errors.title = { key: "validation.required" };
  else if (n > LIMITS.title) errors.title = { key: "validation.too_long", params: { max: LIMITS.title } };
}

function checkWhen(d, errors, maxMinutes) {
  if (!d.date) errors.date = { key: "validation.required" };
  if (!d.time) errors.time = { key: "validation.required" };
  if (d.date && d.time && !fromLocalInputs(d.date, d.time)) errors.date = { key: "validation.date_invalid" };
  const minutes = Number(d.duration);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > maxMinutes) {
    errors.duration = { key: "validation.duration_range", params: { max: maxMinutes } };
  }
}

function checkMax(value, max, field, errors) {
  if (length(value) > max) errors[field] = { key: "validation.too_long", params: { max } };
}

const VALIDATORS = {
  meeting: {
    basics(d, e) {
      checkTitle(d, e);
      checkWhen(d, e, LIMITS.meetingMinutes);
      checkMax(d.description, LIMITS.description, "description", e);
    },
    people(d, e) {
      if (!MEETING_KINDS.includes(d.meeting_kind)) e.meeting_kind = { key: "validation.choose_one" };
      const url = String(d.video_url || "").trim();
      if (url && !isHttpUrl(url)) e.video_url = { key: "validation.http_url" };
      else if (length(url) > LIMITS.url) e.video_url = { key: "validation.too_long", params: { max: LIMITS.url } };
    },
    agenda(d, e) {
      checkMax(d.agenda_md, LIMITS.agenda, "agenda_md", e);
      const sprint = String(d.sprint ?? "").trim();
      if (sprint && !(/^\d{1,4}$/.test(sprint) && Number(sprint) >= 1)) e.sprint = { key: "validation.sprint_number" };
      checkMax(d.epic, LIMITS.epic, "epic", e);
      if (!RECURRENCES.includes(d.recurrence)) e.recurrence = { key: "validation.choose_one" };
      if (d.recurrence !== "none" && d.until) {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(d.until)) e.until = { key: "validation.date_invalid" };
        else if (d.date && d.until < d.date) e.until = { key: "validation.until_before_start" };
      }
    },
    summary() {},
  },
  deployment_window: {
    schedule(d, e) {
      checkTitle(d, e);
      if (!ENVIRONMENTS.includes(d.environment)) e.environment = { key: "validation.choose_one" };
      checkWhen(d, e, LIMITS.deploymentMinutes);
    },
    changes(d, e) {
      if (!d.services.length) e.services = { key: "validation.services_required" };
      else if (d.services.length > LIMITS.services) e.services = { key: "validation.too_many", params: { max: LIMITS.services } };
      else if (d.services.some((s) => length(s) > LIMITS.service)) {
        e.services = { key: "validation.too_long", params: { max: LIMITS.service } };
      }
      const n = length(String(d.change_description || "").trim());
      if (n === 0) e.change_description = { key: "validation.required" };
      else if (n > LIMITS.description) e.change_description = { key: "validation.too_long", params: { max: LIMITS.description } };
    },
    checklist(d, e) {
      const items = d.checklist || [];
      if (d.environment === "prod" && items.length === 0) e.checklist = { key: "validation.checklist_required" };
      else if (items.length > LIMITS.checklistItems) e.checklist = { key: "validation.too_many", params: { max: LIMITS.checklistItems } };
      else if (items.some((c) => length(String(c.label).trim()) === 0)) e.checklist = { key: "validation.checklist_empty_item" };
      else if (items.some((c) => length(c.label) > LIMITS.checklistItem)) {
        e.checklist = { key: "validation.too_long", params: { max: LIMITS.checklistItem } };
      }
    },
    rollback(d, e) {
      const n = length(String(d.rollback_plan || "").trim());
      if (n === 0) e.rollback_plan = { key: "validation.required" };
      else if (n > LIMITS.rollback) e.rollback_plan = { key: "validation.too_long", params: { max: LIMITS.rollback } };
    },
    summary() {},
  },
  git_action: {
    repository(d, e) {
      const url = String(d.repository_url || "").trim();
      if (!url) e.repository_url = { key: "validation.required" };
      else if (!isGitUrl(url)) e.repository_url = { key: "validation.git_url" };
      if (!String(d.branch || "").trim()) e.branch = { key: "validation.required" };
      else if (!isBranchName(d.branch.trim())) e.branch = { key: "validation.branch" };
      if (d.title && length(d.title.trim()) > LIMITS.title) e.title = { key: "validation.too_long", params: { max: LIMITS.title } };
    },
    action(d, e) {
      if (!GIT_ACTIONS.includes(d.action)) e.action = { key: "validation.choose_one" };
      if (!TRIGGERS.includes(d.trigger)) e.trigger = { key: "validation.choose_one" };
      if (d.trigger === "cron") {
        if (!String(d.cron || "").trim()) e.cron = { key: "validation.required" };
        else if (!isCron(d.cron)) e.cron = { key: "validation.cron" };
      }
    },
    post_actions(d, e) {
      if ((d.post_actions || []).some((p) => !POST_ACTIONS.includes(p))) e.post_actions = { key: "validation.choose_one" };
    },
    summary(d, e) {
      checkWhen(d, e, LIMITS.meetingMinutes);
      checkMax(d.description, LIMITS.description, "description", e);
    },
  },
};

/** Errors of one step: {} when valid, else {field: {key, params}}. */
export function validateStep(kind, step, data) {
  const errors = {};
  const validator = VALIDATORS[kind]?.[step];
  if (!validator) throw new Error(`unknown wizard step ${kind}/${step}`);
  validator(data, errors);
  return errors;
}

/** Errors of every step, keyed by step, only the failing ones. */
export function validateAll(kind, data) {
  const out = {};
  for (const step of STEPS[kind]) {
    const errors = validateStep(kind, step, data);
    if (Object.keys(errors).length) out[step] = errors;
  }
  return out;
}

/** The default title of a git action when the user left it empty. */
export function gitTitle(d) {
  return `${d.action} ${repoName(d.repository_url)}:${String(d.branch || "").trim()}`;
}

/** Form data -> POST/PUT /api/events body. */
export function buildPayload(data) {
  const kind = data.type;
  const start = fromLocalInputs(data.date, data.time);
  if (!start) throw new Error("invalid start");
  const minutes = Number(data.duration);
  const end = addMinutes(start, minutes);
  const body = {
    type: kind,
    title: String(data.title || "").trim(),
    description: String(data.description || "").trim(),
    start: start.toISOString(),
    end: end.toISOString(),
    team_id: data.team_id === "" || data.team_id === undefined ? null : data.team_id === null ? null : Number(data.team_id),
    extra: {},
  };
  if (kind === "meeting") {
    const tags = {};
    if (String(data.sprint ?? "").trim()) tags.sprint = Number(data.sprint);
    if (String(data.epic ?? "").trim()) tags.epic = String(data.epic).trim();
    const recurrence = { freq: data.recurrence };
    if (data.recurrence !== "none" && data.until) recurrence.until = data.until;
    body.extra = {
      meeting_kind: data.meeting_kind,
      participants: [...data.participants].map(Number),
      ...(String(data.video_url || "").trim() ? { video_url: String(data.video_url).trim() } : {}),
      agenda_md: data.agenda_md || "",
      tags,
      recurrence,
    };
  } else if (kind === "deployment_window") {
    body.description = String(data.change_description || "").trim();
    body.extra = {
      environment: data.environment,
      duration_minutes: minutes,
      services: data.services.map((s) => String(s).trim()).filter(Boolean),
      change_description: String(data.change_description || "").trim(),
      checklist: data.checklist.map((c) => ({
        label: String(c.label).trim(),
        done: Boolean(c.done),
        ...(c.done_by !== undefined ? { done_by: c.done_by } : {}),
        ...(c.done_at !== undefined ? { done_at: c.done_at } : {}),
      })),
      rollback_plan: String(data.rollback_plan || "").trim(),
    };
  } else if (kind === "git_action") {
    if (!body.title) body.title = gitTitle(data);
    body.extra = {
      repository_url: String(data.repository_url).trim(),
      branch: String(data.branch).trim(),
      action: data.action,
      trigger: data.trigger,
      ...(data.trigger === "cron" ? { cron: String(data.cron).trim().split(/\s+/).join(" ") } : {}),
      post_actions: POST_ACTIONS.filter((p) => data.post_actions.includes(p)),
    };
  }
  if (data.version !== undefined) body.version = data.version;
  return body;
}

/** True when this deployment needs an ADMIN approval before it may run. */
export function needsApproval(data) {
  return data.type === "deployment_window" && data.environment === "prod";
}
