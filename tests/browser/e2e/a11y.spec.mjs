// axe-core on every page (no serious or critical WCAG 2.1 A/AA violation), keyboard handling of the
// wizard dialog, and screenshots of each main view at desktop (1280) and mobile (375) widths, saved in
// tests/browser/artifacts/.
import { expect, test } from "@playwright/test";
import { ADMIN, USERS, login, openWizard, screenshot, seriousViolations, watchConsole } from "./helpers.mjs";
import { apiLogin, call, readState } from "./seed.mjs";

const WIDTHS = [
  ["desktop", { width: 1280, height: 800 }],
  ["mobile", { width: 375, height: 812 }],
];

test("public pages: login, register, 404", async ({ page }) => {
  const errors = watchConsole(page);
  for (const [name, viewport] of WIDTHS) {
    await page.setViewportSize(viewport);
    for (const path of ["/login", "/register", "/no-such-page"]) {
      await page.goto(path);
      await expect(page.locator("h1")).toBeVisible();
      expect(await seriousViolations(page), `${path} @${name}`).toEqual([]);
    }
    await page.goto("/login");
    await screenshot(page, `login-${name}`);
  }
  expect(errors).toEqual([]);
});

test("signed-in pages as ADMIN: calendar, table, dashboard, members, event, wizard, notifications", async ({ page }) => {
  const { baseURL } = readState();
  const token = await apiLogin(baseURL, USERS.projet);
  const start = new Date();
  start.setHours(14, 0, 0, 0);
  const ev = await call(baseURL, "POST", "/api/events", {
    token,
    body: { type: "meeting", title: "Daily a11y", description: "Stand-up", start: start.toISOString(), end: new Date(start.getTime() + 900000).toISOString(), team_id: null, extra: { meeting_kind: "daily", participants: [], agenda_md: "- hier\n- aujourd'hui", tags: {}, recurrence: { freq: "none" } } },
  });
  const errors = watchConsole(page);
  await login(page, ADMIN);
  const pages = [
    ["calendar", "/calendar", ".fc-view-harness"],
    ["table", "/table", ".data-table, .empty-state"],
    ["dashboard", "/metrics", ".dashboard-grid .card__title, .empty-state"],
    ["members", "/members", ".data-table"],
    ["event", `/events/${ev.id}`, ".comments"],
  ];
  for (const [name, viewport] of WIDTHS) {
    await page.setViewportSize(viewport);
    for (const [view, path, ready] of pages) {
      await page.goto(path);
      await expect(page.locator(ready).first()).toBeVisible();
      await expect(page.locator("main[aria-busy=true]")).toHaveCount(0);
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

test("mobile navigation uses the hamburger menu", async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 812 });
  await login(page, USERS.ops);
  const menu = page.getByRole("button", { name: "Menu" });
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(page.getByRole("link", { name: "Tableau" })).toBeHidden();
  await menu.click();
  await expect(menu).toHaveAttribute("aria-expanded", "true");
  await page.getByRole("link", { name: "Tableau" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Tableau" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Membres" })).toHaveCount(0); // OPS: no members page
});
