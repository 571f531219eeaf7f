// Wizard rules: steps per kind (spec 3.1), per-step validation mirroring the server, payload building,
// and which kinds each role may create.
import { test } from "node:test";
import assert from "node:assert/strict";
import { canCreate, canEdit, creatableKinds, membersScope, nextStatuses } from "../../../app/web/assets/js/roles.js";
import { STEPS, buildPayload, dataFromEvent, initialData, isBranchName, isCron, isGitUrl, isHttpUrl, validateAll, validateStep } from "../../../app/web/assets/js/wizard-model.js";

const user = { id: 7, role: "PROJET", team_id: 3 };
const start = new Date(2026, 2, 16, 9, 0);

test("steps: meeting 4, deployment window 5, git action 4, each ending with a summary", () => {
  assert.equal(STEPS.meeting.length, 4);
  assert.equal(STEPS.deployment_window.length, 5);
  assert.equal(STEPS.git_action.length, 4);
  for (const steps of Object.values(STEPS)) assert.equal(steps.at(-1), "summary");
});

test("roles create only their kinds", () => {
  assert.deepEqual(creatableKinds("PROJET"), ["meeting", "deployment_window", "git_action"]);
  assert.deepEqual(creatableKinds("ADMIN"), ["meeting", "deployment_window", "git_action"]);
  assert.deepEqual(creatableKinds("DEV"), ["git_action"]);
  assert.deepEqual(creatableKinds("OPS"), ["deployment_window"]);
  assert.deepEqual(creatableKinds("GUEST"), []);
  assert.equal(canCreate("OPS", "meeting"), false);
  assert.equal(canCreate("DEV", "git_action"), true);
});

test("edit rights: server flag first, else creator or ADMIN", () => {
  assert.equal(canEdit(user, { created_by: { id: 1 }, can_edit: true }), true);
  assert.equal(canEdit(user, { created_by: { id: 7 }, can_edit: false }), false);
  assert.equal(canEdit(user, { created_by: { id: 7 } }), true);
  assert.equal(canEdit(user, { created_by: { id: 8 } }), false);
  assert.equal(canEdit({ id: 1, role: "ADMIN" }, { created_by: { id: 8 } }), true);
  assert.deepEqual(membersScope({ role: "PROJET", team_id: 3 }), { visible: true, manage: false, teamId: 3 });
  assert.equal(membersScope({ role: "DEV" }).visible, false);
  assert.deepEqual(nextStatuses({ type: "deployment_window", status: "in_progress" }), ["completed", "failed", "rolled_back"]);
  assert.deepEqual(nextStatuses({ type: "meeting", status: "planned" }), ["completed", "cancelled"]);
});

test("title: required, at most 255 code points (emoji count as one)", () => {
  const d = initialData("meeting", { user, start });
  assert.equal(validateStep("meeting", "basics", d).title.key, "validation.required");
  d.title = "   ";
  assert.equal(validateStep("meeting", "basics", d).title.key, "validation.required");
  d.title = "🔥".repeat(255);
  assert.equal(validateStep("meeting", "basics", d).title, undefined);
  d.title = "a".repeat(256);
  assert.deepEqual(validateStep("meeting", "basics", d).title, { key: "validation.too_long", params: { max: 255 } });
});

test("description at most 2000; duration an integer in range; date must exist", () => {
  const d = { ...initialData("meeting", { user, start }), title: "Daily" };
  d.description = "x".repeat(2001);
  assert.equal(validateStep("meeting", "basics", d).description.key, "validation.too_long");
  d.description = "x".repeat(2000);
  d.duration = "0";
  assert.equal(validateStep("meeting", "basics", d).duration.key, "validation.duration_range");
  d.duration = "1.5";
  assert.equal(validateStep("meeting", "basics", d).duration.key, "validation.duration_range");
  d.duration = "30";
  d.date = "2026-02-30";
  assert.equal(validateStep("meeting", "basics", d).date.key, "validation.date_invalid");
  d.date = "2026-03-16";
  assert.deepEqual(validateStep("meeting", "basics", d), {});
});

test("video link must be http(s)", () => {
  assert.equal(isHttpUrl("https://meet.example.org/abc"), true);
  assert.equal(isHttpUrl("http://zoom.example.com/j/1"), true);
  for (const bad of ["javascript:alert(1)", "ftp://x.org", "meet.example.org", "https://", "https://a b.org"]) assert.equal(isHttpUrl(bad), false, bad);
  const d = { ...initialData("meeting", { user, start }), video_url: "javascript:alert(1)" };
  assert.equal(validateStep("meeting", "people", d).video_url.key, "validation.http_url");
  d.video_url = "";
  assert.deepEqual(validateStep("meeting", "people", d), {});
});

test("git URL must start with https:// or git@", () => {
  for (const ok of ["https://git.example.org/team/app.git", "git@github.com:org/repo.git", "https://host/x"]) assert.equal(isGitUrl(ok), true, ok);
  for (const bad of ["http://git.example.org/a.git", "ssh://git@host/a.git", "file:///etc/passwd", "git@host", "https://user:pw@host/a.git", "https://host", "ext::sh -c id", " https://host/a.git x", "git@host:../a"]) {
    assert.equal(isGitUrl(bad), false, bad);
  }
  const d = { ...initialData("git_action", { user, start }), repository_url: "http://x/y.git" };
  assert.equal(validateStep("git_action", "repository", d).repository_url.key, "validation.git_url");
});

test("branch names follow git's ref rules", () => {
  for (const ok of ["main", "feature/login-2fa", "release-1.2"]) assert.equal(isBranchName(ok), true, ok);
  for (const bad of ["", "-x", "a..b", "a b", "a~1", "a^", "a:b", "x.lock", "x/", "/x", ".hidden", "a/.b", "a@{1}"]) assert.equal(isBranchName(bad), false, bad);
});

test("cron expressions have exactly 5 valid fields", () => {
  for (const ok of ["0 2 * * 1-5", "*/15 * * * *", "0 0 1 * *", "30 9 * jan,jul mon", "0 0 * * 7", "5,10 1-3/2 * * *"]) assert.equal(isCron(ok), true, ok);
  for (const bad of ["", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "a b c d e", "5-1 * * * *", "@daily"]) assert.equal(isCron(bad), false, bad);
  const d = { ...initialData("git_action", { user, start }), trigger: "cron", cron: "* * *" };
  assert.equal(validateStep("git_action", "action", d).cron.key, "validation.cron");
  d.trigger = "manual";
  assert.deepEqual(validateStep("git_action", "action", d), {});
});

test("deployment: services and change description required; prod needs a checklist", () => {
  const d = { ...initialData("deployment_window", { user, start }), title: "Release 2.4", environment: "prod" };
  assert.deepEqual(validateStep("deployment_window", "schedule", d), {});
  const e = validateStep("deployment_window", "changes", d);
  assert.equal(e.services.key, "validation.services_required");
  assert.equal(e.change_description.key, "validation.required");
  d.checklist = [];
  assert.equal(validateStep("deployment_window", "checklist", d).checklist.key, "validation.checklist_required");
  d.environment = "staging";
  assert.deepEqual(validateStep("deployment_window", "checklist", d), {});
  d.checklist = [{ label: " ", done: false }];
  assert.equal(validateStep("deployment_window", "checklist", d).checklist.key, "validation.checklist_empty_item");
  assert.equal(validateStep("deployment_window", "rollback", d).rollback_plan.key, "validation.required");
});

test("payload of a meeting", () => {
  const d = { ...initialData("meeting", { user, start }), title: "  Sprint planning ", meeting_kind: "planning", participants: ["2", "5"], video_url: "https://meet.example.org/x", sprint: "42", epic: "Auth", recurrence: "weekly", until: "2026-06-30" };
  assert.deepEqual(validateAll("meeting", d), {});
  const body = buildPayload(d);
  assert.equal(body.type, "meeting");
  assert.equal(body.title, "Sprint planning");
  assert.equal(body.start, start.toISOString());
  assert.equal(new Date(body.end) - new Date(body.start), 60 * 60000);
  assert.equal(body.team_id, 3);
  assert.deepEqual(body.extra, { meeting_kind: "planning", participants: [2, 5], video_url: "https://meet.example.org/x", agenda_md: "", tags: { sprint: 42, epic: "Auth" }, recurrence: { freq: "weekly", until: "2026-06-30" } });
  assert.equal("version" in body, false);
});

test("payload of a prod deployment window and of a git action", () => {
  const dw = { ...initialData("deployment_window", { user, start, translate: (k) => `T:${k}` }), title: "Release", environment: "prod", services: ["api", "web"], change_description: "Bump", rollback_plan: "helm rollback", duration: 90 };
  assert.deepEqual(validateAll("deployment_window", dw), {});
  const body = buildPayload(dw);
  assert.equal(body.description, "Bump");
  assert.equal(body.extra.environment, "prod");
  assert.equal(body.extra.duration_minutes, 90);
  assert.equal(body.extra.checklist.length, 4);
  assert.match(body.extra.checklist[0].label, /^T:checklist\.default\./);
  assert.equal(new Date(body.end) - new Date(body.start), 90 * 60000);

  const git = { ...initialData("git_action", { user, start }), repository_url: "https://git.example.org/team/app.git", branch: "main", action: "release", trigger: "cron", cron: " 0  2 * * 1-5 ", post_actions: ["notify", "run_tests"] };
  assert.deepEqual(validateAll("git_action", git), {});
  const g = buildPayload(git);
  assert.equal(g.title, "release app:main");
  assert.deepEqual(g.extra, { repository_url: "https://git.example.org/team/app.git", branch: "main", action: "release", trigger: "cron", cron: "0 2 * * 1-5", post_actions: ["run_tests", "notify"] });
  git.trigger = "manual";
  assert.equal("cron" in buildPayload(git).extra, false);
});

test("editing keeps the version and round-trips the event", () => {
  const event = { id: 9, type: "meeting", title: "Retro", description: "", start: "2026-03-20T15:00:00.000Z", end: "2026-03-20T16:00:00.000Z", team_id: 2, version: 4, extra: { meeting_kind: "retro", participants: [1], agenda_md: "# x", tags: {}, recurrence: { freq: "none" } } };
  const data = dataFromEvent(event);
  assert.equal(data.duration, 60);
  const body = buildPayload(data);
  assert.equal(body.version, 4);
  assert.equal(body.start, event.start);
  assert.equal(body.end, event.end);
  assert.deepEqual(body.extra.recurrence, { freq: "none" });
});
