// Language switch: French by default, English on demand, kept across reloads (a UI preference in
// localStorage), every visible navbar string changes, dates follow the language.
import { expect, test } from "@playwright/test";
import { USERS, login } from "./helpers.mjs";

test("switches between French and English and remembers the choice", async ({ page }) => {
  await login(page, USERS.projet);
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  await expect(page.getByRole("link", { name: "Tableau", exact: true })).toBeVisible();
  await page.getByRole("button", { name: "Switch to English" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  for (const name of ["Calendar", "Table", "Dashboard"]) await expect(page.getByRole("link", { name, exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: "Log out" })).toBeVisible();
  await expect(page.getByRole("heading", { level: 1, name: "Calendar" })).toBeVisible();
  await expect(page.locator(".fc-toolbar-title")).toHaveText(/January|February|March|April|May|June|July|August|September|October|November|December/);
  await page.reload();
  await expect(page.getByRole("heading", { level: 1, name: "Calendar" })).toBeVisible();
  await page.getByRole("button", { name: "Passer en français" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Calendrier" })).toBeVisible();
  await expect(page.locator(".fc-toolbar-title")).toHaveText(/janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre/);
});
