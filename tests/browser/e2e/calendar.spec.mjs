// Drag and drop on the calendar against the real API: moving an event saves it with PUT and the
// version read; when someone else changed the event meanwhile, the server answers 409 and the event
// goes back where it was, with a message. The dates are in the second week of the current month's grid
// (always shown by the month view, whatever today is).
import { expect, test } from "@playwright/test";
import { USERS, apiAs, login, meetingBody, watchConsole, ymd } from "./helpers.mjs";

/** Day `n` (0-based) of the month grid FullCalendar shows for today's month (weeks start on Monday). */
function gridDay(n, hh = 10) {
  const first = new Date();
  first.setDate(1);
  const monday = new Date(first);
  monday.setDate(first.getDate() - ((first.getDay() + 6) % 7));
  const d = new Date(monday);
  d.setDate(monday.getDate() + n);
  d.setHours(hh, 0, 0, 0);
  return d;
}

/** Drags `source` onto the day cell of `date` with real pointer moves (FullCalendar's own dragging). */
async function dragToDay(page, source, date) {
  const from = await source.boundingBox();
  const cell = page.locator(`td.fc-daygrid-day[data-date="${ymd(date)}"]`);
  const to = await cell.boundingBox();
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + from.width / 2 + 8, from.y + from.height / 2 + 4, { steps: 3 });
  await page.mouse.move(to.x + to.width / 2, to.y + to.height * 0.6, { steps: 12 });
  await page.mouse.up();
}

test("drag an event to move it; a stale version (409) puts it back", async ({ page }) => {
  // The browser's own line for the 409 provoked on purpose.
  const errors = watchConsole(page, { allow: [/status of 409/] });
  const projet = await apiAs(USERS.projet);
  const title = "Drag me E2E";
  const ev = await projet.createEvent(meetingBody(title, gridDay(8), 30));
  await login(page, USERS.projet);
  await expect(page.locator(".calendar[aria-busy=false]")).toBeVisible();
  const event = page.locator(".fc-event", { hasText: title });
  const inCell = (date) => page.locator(`td.fc-daygrid-day[data-date="${ymd(date)}"] .fc-event`, { hasText: title });
  await expect(inCell(gridDay(8))).toBeVisible();

  // 1. Move it two days later: PUT with the version read, the new start, the same length.
  const put = page.waitForResponse((r) => r.request().method() === "PUT" && r.url().endsWith(`/api/events/${ev.id}`));
  await dragToDay(page, event, gridDay(10));
  const res = await put;
  expect(res.status()).toBe(200);
  const sent = res.request().postDataJSON();
  expect(sent.version).toBe(ev.version);
  expect(new Date(sent.start).getTime()).toBe(gridDay(10).getTime());
  expect(new Date(sent.end).getTime() - new Date(sent.start).getTime()).toBe(30 * 60000);
  await expect(page.getByRole("status").filter({ hasText: `« ${title} » a été déplacé.` })).toBeVisible();
  await expect(inCell(gridDay(10))).toBeVisible();
  const moved = await projet.call("GET", `/api/events/${ev.id}`);
  expect(new Date(moved.start).getTime()).toBe(gridDay(10).getTime());
  expect(moved.version).toBe(ev.version + 1);

  // 2. Someone else edits it (the page still holds the previous version), then the user drags it.
  await projet.call("PUT", `/api/events/${ev.id}`, { ...meetingBody(title, new Date(moved.start), 30), description: "edited elsewhere", version: moved.version });
  const refused = page.waitForResponse((r) => r.request().method() === "PUT" && r.url().endsWith(`/api/events/${ev.id}`));
  await dragToDay(page, inCell(gridDay(10)), gridDay(12));
  const conflict = await refused;
  expect(conflict.status()).toBe(409);
  expect((await conflict.json()).type).toMatch(/stale-version$/);
  await expect(page.getByRole("status").filter({ hasText: "Quelqu'un a modifié cet élément entre-temps." })).toBeVisible();
  await expect(inCell(gridDay(10))).toBeVisible();
  await expect(inCell(gridDay(12))).toHaveCount(0);
  const kept = await projet.call("GET", `/api/events/${ev.id}`);
  expect(kept.start).toBe(moved.start);
  expect(kept.description).toBe("edited elsewhere");

  // 3. After the refetch the page holds the fresh version: the same drag now succeeds.
  const again = page.waitForResponse((r) => r.request().method() === "PUT" && r.url().endsWith(`/api/events/${ev.id}`));
  await dragToDay(page, inCell(gridDay(10)), gridDay(12));
  expect((await again).status()).toBe(200);
  await expect(inCell(gridDay(12))).toBeVisible();
  expect(errors).toEqual([]);
});

test("events the user may not edit cannot be dragged", async ({ page }) => {
  const projet = await apiAs(USERS.projet);
  const title = "Not yours E2E";
  await projet.createEvent(meetingBody(title, gridDay(9, 15), 30));
  await login(page, USERS.dev);
  const event = page.locator(`td.fc-daygrid-day[data-date="${ymd(gridDay(9))}"] .fc-event`, { hasText: title });
  await expect(event).toBeVisible();
  await expect(event).not.toHaveClass(/fc-event-draggable/);
});
