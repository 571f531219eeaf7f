// axe-core on every page (no serious or critical WCAG 2.1 A/AA violation), at desktop (1280) and
// mobile (375) widths, with a full-page screenshot of each in tests/browser/artifacts/; the mobile
// hamburger menu; the members dialog's keyboard handling. The calendar, table and event pages, with
// events, are in a11y-events.spec.mjs.
import { expect, test } from "@playwright/test";
import { ADMIN, USERS, login, screenshot, seriousViolations, settled, watchConsole } from "./helpers.mjs";

const WIDTHS = [
  ["desktop", { width: 1280, height: 800 }],
  ["mobile", { width: 375, height: 812 }],
];

test("public pages: login, register, 404", async ({ page }) => {
  const errors = watchConsole(page);
  for (const [name, viewport] of WIDTHS) {
    await page.setViewportSize(viewport);
    for (const [view, path] of [["login", "/login"], ["register", "/register"], ["notfound", "/no-such-page"]]) {
      await page.goto(path);
      await expect(page.locator("h1")).toBeVisible();
      await settled(page);
      expect(await seriousViolations(page), `${path} @${name}`).toEqual([]);
      await screenshot(page, `${view}-${name}`);
    }
  }
  expect(errors).toEqual([]);
});

test("signed-in pages as ADMIN: dashboard, members, 404", async ({ page }) => {
  const errors = watchConsole(page);
  await login(page, ADMIN, { recovery: true });
  const pages = [
    ["dashboard", "/metrics", "h1"],
    ["members", "/members", ".data-table"],
    ["notfound-signed-in", "/nothing-here", "h1"],
  ];
  for (const [name, viewport] of WIDTHS) {
    await page.setViewportSize(viewport);
    for (const [view, path, ready] of pages) {
      await page.goto(path);
      await expect(page.locator(ready).first()).toBeVisible();
      await settled(page);
      expect(await seriousViolations(page), `${path} @${name}`).toEqual([]);
      await screenshot(page, `${view}-${name}`);
    }
  }

  // A dialog: aria-modal, focus inside, Escape closes it and gives focus back to its opener.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto("/members");
  await settled(page);
  const opener = page.getByRole("button", { name: "+ Ajouter un membre" });
  await opener.click();
  const dialog = page.getByRole("dialog", { name: "Ajouter un membre" });
  await expect(dialog).toHaveAttribute("aria-modal", "true");
  await expect(dialog.getByLabel(/^Identifiant/)).toBeFocused();
  expect(await seriousViolations(page), "member dialog").toEqual([]);
  await screenshot(page, "member-dialog-desktop");
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(opener).toBeFocused();
  expect(errors).toEqual([]);
});

test("mobile navigation uses the hamburger menu", async ({ page }) => {
  const errors = watchConsole(page);
  await page.setViewportSize({ width: 375, height: 812 });
  await login(page, USERS.ops);
  const menu = page.getByRole("button", { name: "Menu" });
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(page.getByRole("link", { name: "Tableau" })).toBeHidden();
  await menu.click();
  await expect(menu).toHaveAttribute("aria-expanded", "true");
  expect(await seriousViolations(page), "open menu").toEqual([]);
  await page.getByRole("link", { name: "Tableau" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Tableau" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Membres" })).toHaveCount(0); // OPS: no members page
  expect(errors).toEqual([]);
});
