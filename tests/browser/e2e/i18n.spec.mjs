// Language switch: French by default, English on demand; every visible navbar string changes, the
// calendar's dates follow. The choice is kept by this browser (localStorage) and by the account
// (PUT /api/users/{id} {locale}): another browser signing in gets it too.
import { expect, test } from "@playwright/test";
import { USERS, login, watchConsole } from "./helpers.mjs";

const MONTHS_EN = /January|February|March|April|May|June|July|August|September|October|November|December/;
const MONTHS_FR = /janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre/;

test("switches between French and English and remembers the choice", async ({ page, browser }) => {
  const errors = watchConsole(page);
  const account = USERS.polyglot;
  await login(page, account);
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  await expect(page.getByRole("link", { name: "Tableau", exact: true })).toBeVisible();
  await expect(page.locator(".fc-toolbar-title")).toHaveText(MONTHS_FR);

  const saved = page.waitForResponse((r) => r.request().method() === "PUT" && /\/api\/users\/\d+$/.test(r.url()));
  await page.getByRole("button", { name: "EN — Switch to English" }).click();
  expect((await saved).status()).toBe(200);
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  for (const name of ["Calendar", "Table", "Dashboard"]) await expect(page.getByRole("link", { name, exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: "Log out" })).toBeVisible();
  await expect(page.getByRole("heading", { level: 1, name: "Calendar" })).toBeVisible();
  await expect(page.locator(".status-pill")).toContainText("Operational");
  await expect(page.locator(".fc-toolbar-title")).toHaveText(MONTHS_EN);
  await page.reload();
  await expect(page.getByRole("heading", { level: 1, name: "Calendar" })).toBeVisible();

  // A browser that never chose a language takes the account's.
  const other = await browser.newContext();
  try {
    const page2 = await other.newPage();
    await login(page2, account);
    await expect(page2.locator("html")).toHaveAttribute("lang", "en");
    await expect(page2.getByRole("button", { name: "Log out" })).toBeVisible();
  } finally {
    await other.close();
  }

  await page.getByRole("button", { name: "FR — Passer en français" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Calendrier" })).toBeVisible();
  await expect(page.locator(".fc-toolbar-title")).toHaveText(MONTHS_FR);
  expect(errors).toEqual([]);
});
