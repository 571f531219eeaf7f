// The event flows' pure pieces, against the real server's contract: the status buttons follow its state
// machine (events/workflow.rs), a drag builds the PUT it expects (version, duration of a deployment
// window, one occurrence of a series), the history merges approval steps and status changes, and the
// 409 problems read in the UI's language (the next free slot of a deployment conflict included).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../../../app/web/assets/js/api.js";
import { DICTIONARIES } from "../../../app/web/assets/js/i18n.js";
import { errorMessage, fieldMessages, nextFreeSlot } from "../../../app/web/assets/js/messages.js";
import { canTickChecklist, nextStatuses } from "../../../app/web/assets/js/roles.js";
import { moveRequest, toCalendarEvent } from "../../../app/web/assets/js/views/calendar.js";
import { historyTimeline } from "../../../app/web/assets/js/views/event.js";
import { webcalUrl } from "../../../app/web/assets/js/views/subscription.js";

const fr = DICTIONARIES.fr;

test("status buttons: the server's deployment state machine, and meetings/git actions", () => {
  const dw = (status) => nextStatuses({ type: "deployment_window", status });
  assert.deepEqual(dw("pending_approval"), ["cancelled"]);
  assert.deepEqual(dw("planned"), ["in_progress", "cancelled"]);
  assert.deepEqual(dw("in_progress"), ["completed", "failed", "rolled_back"]);
  assert.deepEqual(dw("completed"), ["rolled_back"]);
  assert.deepEqual(dw("rolled_back"), []);
  assert.deepEqual(dw("approved"), [], "there is no `approved` status: an approval moves the window to `planned`");
  assert.deepEqual(nextStatuses({ type: "git_action", status: "cancelled" }), ["planned"]);
  assert.deepEqual(nextStatuses(null), []);
});

test("checklist: its editors and every role that plans deployments may tick it", () => {
  const event = { type: "deployment_window", created_by: { id: 9 }, can_edit: false };
  assert.equal(canTickChecklist({ id: 1, role: "OPS" }, event), true);
  assert.equal(canTickChecklist({ id: 1, role: "PROJET" }, event), true);
  assert.equal(canTickChecklist({ id: 1, role: "DEV" }, event), false);
  assert.equal(canTickChecklist({ id: 9, role: "DEV" }, { ...event, can_edit: true }), true);
});

test("a dragged event: PUT with the version read, a deployment's duration follows its new length", () => {
  const raw = {
    id: 7,
    type: "deployment_window",
    title: "Release",
    description: "",
    start: "2026-03-02T21:00:00Z",
    end: "2026-03-02T22:00:00Z",
    team_id: 2,
    status: "planned",
    version: 4,
    extra: { environment: "staging", duration_minutes: 60, services: ["api"], checklist: [{ label: "backup", done: true, done_by: 3, done_at: "2026-03-01T10:00:00Z" }] },
  };
  const { url, body } = moveRequest(raw, new Date("2026-03-03T20:00:00Z"), new Date("2026-03-03T21:30:00Z"));
  assert.equal(url, "/api/events/7");
  assert.equal(body.version, 4);
  assert.equal(body.start, "2026-03-03T20:00:00.000Z");
  assert.equal(body.end, "2026-03-03T21:30:00.000Z");
  assert.equal(body.extra.duration_minutes, 90);
  assert.deepEqual(body.extra.checklist, raw.extra.checklist);
  assert.equal(raw.extra.duration_minutes, 60, "the event read is not modified");
  assert.equal("rrule" in body, false);
});

test("a dragged occurrence of a series moves alone (scope=this), as a one-off meeting", () => {
  const raw = {
    id: 5,
    type: "meeting",
    title: "Daily",
    start: "2026-03-04T08:00:00Z",
    end: "2026-03-04T08:15:00Z",
    occurrence_start: "2026-03-04T08:00:00Z",
    rrule: "FREQ=DAILY",
    status: "planned",
    version: 1,
    can_edit: true,
    extra: { meeting_kind: "daily", participants: [], agenda_md: "", tags: {}, recurrence: { freq: "daily" } },
  };
  const { url, body } = moveRequest(raw, new Date("2026-03-04T09:00:00Z"), new Date("2026-03-04T09:15:00Z"));
  assert.equal(url, "/api/events/5?scope=this&occurrence=2026-03-04T08%3A00%3A00Z");
  assert.deepEqual(body.extra.recurrence, { freq: "none" });
  assert.equal("rrule" in body, false);
  const fc = toCalendarEvent(raw, { id: 1, role: "PROJET" });
  assert.equal(fc.id, "5@2026-03-04T08:00:00Z");
  assert.equal(fc.start, raw.start);
  assert.equal(fc.editable, true);
  assert.equal(toCalendarEvent({ ...raw, status: "completed" }, { id: 1 }).editable, false, "a finished event stays where it happened");
});

test("history: approval steps and status changes by time, an approval's own status change once", () => {
  const admin = { id: 1, username: "admin" };
  const ops = { id: 3, username: "ops" };
  const items = [
    { id: 1, kind: "approval", action: "submitted", actor: ops, comment: "", created_at: "2026-03-01T10:00:00.000Z" },
    { id: 2, kind: "approval", action: "approved", actor: admin, comment: "go", created_at: "2026-03-01T11:00:00.000Z" },
    // SQLite stamps each insert of the transaction on its own: a millisecond apart.
    { id: 1, kind: "status", action: "pending_approval->planned", from_status: "pending_approval", to_status: "planned", actor: admin, comment: "go", created_at: "2026-03-01T11:00:00.001Z" },
    { id: 2, kind: "status", action: "planned->in_progress", from_status: "planned", to_status: "in_progress", actor: ops, comment: "", created_at: "2026-03-01T10:30:00.000Z" },
  ];
  assert.deepEqual(
    historyTimeline(items).map((e) => `${e.kind}:${e.action}`),
    ["approval:submitted", "status:planned->in_progress", "approval:approved"],
  );
  assert.deepEqual(historyTimeline(undefined), []);
  // A later status change by the same person is its own entry.
  const later = { id: 3, kind: "status", action: "planned->cancelled", from_status: "planned", to_status: "cancelled", actor: admin, comment: "go", created_at: "2026-03-01T11:00:00.500Z" };
  assert.equal(historyTimeline([...items, later]).length, 4);
});

test("409 problems in the UI's language; a deployment conflict names the next free slot", () => {
  const conflict = new ApiError({
    status: 409,
    type: "/problems/deployment-conflict",
    detail: "this window cannot be scheduled: overlaps prod window #3 `Release` on api; the next free slot starts at 2026-03-02T23:00:00+00:00",
  });
  assert.equal(nextFreeSlot(conflict).toISOString(), "2026-03-02T23:00:00.000Z");
  assert.match(errorMessage(conflict), /^Ce créneau est indisponible .* Prochain créneau libre : /);
  const noSlot = new ApiError({ status: 409, type: "/problems/deployment-conflict", detail: "inside the freeze `Xmas`" });
  assert.equal(nextFreeSlot(noSlot), null);
  assert.equal(errorMessage(noSlot), fr["error.deployment_conflict"]);
  assert.equal(nextFreeSlot(new ApiError({ status: 409, type: "/problems/stale-version" })), null);
  assert.equal(errorMessage(new ApiError({ status: 409, type: "/problems/stale-version", detail: "x" })), fr["error.conflict"]);
  assert.equal(errorMessage(new ApiError({ status: 409, type: "/problems/checklist-incomplete", detail: "x" })), fr["error.checklist_incomplete"]);
  const refusal = new ApiError({ status: 422, type: "/problems/validation", errors: [{ field: "comment", code: "required", message: "say why" }] });
  assert.equal(fieldMessages(refusal).comment, fr["approval.comment_required"]);
  const taken = new ApiError({ status: 409, type: "/problems/duplicate", detail: "username: taken", errors: [{ field: "username", code: "taken", message: "choose another" }] });
  assert.equal(fieldMessages(taken).username, fr["validation.username_taken"]);
});

test("calendar feed URL as webcal:// for calendar apps", () => {
  assert.equal(webcalUrl("https://cal.example.org/api/calendar.ics?token=abc"), "webcal://cal.example.org/api/calendar.ics?token=abc");
  assert.equal(webcalUrl("http://127.0.0.1:8080/api/calendar.ics?token=x"), "webcal://127.0.0.1:8080/api/calendar.ics?token=x");
});
