// axe-core and screenshots of the pages that need the events and notifications APIs: the event
// details page, the creation wizard dialog (with its keyboard handling) and the notifications
// dropdown. Not run until the server has those APIs (playwright.config.mjs, WAITING_FOR_API).
import { expect, test } from "@playwright/test";
import { ADMIN, USERS, login, openWizard, screenshot, seriousViolations, settled, watchConsole } from "./helpers.mjs";
import { apiLogin, call, readState } from "./seed.mjs";

const WIDTHS = [
  ["desktop", { width: 1280, height: 800 }],
  ["mobile", { width: 375, height: 812 }],
];

test("event page, wizard and notifications dropdown as ADMIN", async ({ page }) => {
  const { baseURL } = readState();
  const token = await apiLogin(baseURL, USERS.projet);
  const start = new Date();
  start.setHours(14, 0, 0, 0);
  const ev = await call(baseURL, "POST", "/api/events", {
    token,
    body: { type: "meeting", title: "Daily a11y", description: "Stand-up", start: start.toISOString(), end: new Date(start.getTime() + 900000).toISOString(), team_id: null, extra: { meeting_kind: "daily", participants: [], agenda_md: "- hier\n- aujourd'hui", tags: {}, recurrence: { freq: "none" } } },
  });
  const errors = watchConsole(page);
  await login(page, ADMIN, { recovery: true });
  for (const [name, viewport] of WIDTHS) {
    await page.setViewportSize(viewport);
    for (const [view, path, ready] of [
      ["calendar-events", "/calendar", ".fc-event"],
      ["table-events", "/table", ".data-table"],
      ["event", `/events/${ev.id}`, ".comments"],
    ]) {
      await page.goto(path);
      await expect(page.locator(ready).first()).toBeVisible();
      await settled(page);
      expect(await seriousViolations(page), `${path} @${name}`).toEqual([]);
      await screenshot(page, `${view}-${name}`);
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto("/calendar");
  const dialog = await openWizard(page);
  await expect(dialog).toHaveAttribute("aria-modal", "true");
  expect(await seriousViolations(page), "wizard").toEqual([]);
  await screenshot(page, "wizard-desktop");
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("button", { name: /Nouvel événement/ })).toBeFocused();
  await page.getByRole("button", { name: /^Notifications/ }).click();
  expect(await seriousViolations(page), "notifications dropdown").toEqual([]);
  expect(errors).toEqual([]);
});
