// Sign-in with the TOTP step, wrong password message from the server, session kept across a reload
// through the refresh cookie (the access token lives in memory only), logout.
import { expect, test } from "@playwright/test";
import { ADMIN, USERS, login, logout, watchConsole } from "./helpers.mjs";

test("ADMIN signs in with the 2FA code, survives a reload, and logs out", async ({ page }) => {
  const errors = watchConsole(page);
  await login(page, ADMIN);
  await expect(page.locator(".app-header__username")).toHaveText(/e2e_admin/);
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  expect(stored).not.toMatch(/eyJ/); // no JWT in web storage
  await page.reload();
  await expect(page.getByRole("heading", { level: 1, name: "Calendrier" })).toBeVisible();
  await logout(page);
  await page.goto("/calendar");
  await expect(page).toHaveURL(/\/login\?next=%2Fcalendar/);
  expect(errors).toEqual([]);
});

test("a wrong password shows the server's message and keeps the user on the form", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Identifiant").fill(USERS.ops.username);
  await page.getByLabel("Mot de passe").fill("not-the-password-at-all");
  await page.getByRole("button", { name: "Se connecter" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByLabel("Mot de passe")).toHaveValue("");
});

test("a wrong 2FA code is refused", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Identifiant").fill(ADMIN.username);
  await page.getByLabel("Mot de passe").fill(ADMIN.password);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.getByLabel("Code de vérification").fill("000000");
  await page.getByRole("button", { name: "Vérifier" }).click();
  await expect(page.locator(".form-alert")).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
});
