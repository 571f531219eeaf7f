// Sign-in against the real server: an ADMIN through the TOTP step (and with a recovery code), a
// non-ADMIN without it, the server's refusals shown in the UI's language, the session kept across a
// reload by the HttpOnly refresh cookie (the access token lives in memory only), and logout.
import { expect, test } from "@playwright/test";
import { ADMIN, USERS, login, logout, watchConsole } from "./helpers.mjs";

test("ADMIN signs in with a TOTP code, survives a reload, and logs out", async ({ page, context }) => {
  const errors = watchConsole(page);
  await login(page, ADMIN);
  await expect(page.locator(".app-header__username")).toHaveText(ADMIN.display_name);
  await expect(page.locator(".app-header .role-badge")).toHaveText("Admin");
  // Header status from GET /health, version from GET /api/version.
  await expect(page.locator(".status-pill")).toContainText("Opérationnel");
  await expect(page.locator(".status-pill__version")).toHaveText(/^v\d+\.\d+\.\d+/);
  await expect(page.getByRole("link", { name: "Membres", exact: true })).toBeVisible();

  // The refresh token is an HttpOnly, Secure, SameSite=Strict host cookie; no token in web storage.
  const cookie = (await context.cookies()).find((c) => c.name === "__Host-uyoop_refresh");
  expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/" });
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  expect(stored).not.toMatch(/eyJ|uyoop_refresh/);
  expect(await page.evaluate(() => document.cookie)).not.toMatch(/uyoop_refresh/);

  // A reload starts with no access token: POST /api/auth/refresh with the cookie restores the session.
  const refreshed = page.waitForResponse((r) => r.url().endsWith("/api/auth/refresh") && r.request().method() === "POST");
  await page.reload();
  expect((await refreshed).status()).toBe(200);
  await expect(page.getByRole("heading", { level: 1, name: "Calendrier" })).toBeVisible();
  await expect(page.locator(".app-header__username")).toHaveText(ADMIN.display_name);

  await logout(page);
  await expect(page.getByRole("status").filter({ hasText: "Vous êtes déconnecté." })).toBeVisible();
  // The server ended the session: the refresh cookie, if the browser still holds it, is refused.
  const status = await page.evaluate(async () => (await fetch("/api/auth/refresh", { method: "POST", credentials: "same-origin" })).status);
  expect(status).toBe(401);
  await page.goto("/calendar");
  await expect(page).toHaveURL(/\/login\?next=%2Fcalendar/);
  // The only error logged is the browser's own line for the 401 just provoked above.
  expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
});

test("ADMIN signs in with a recovery code instead of the TOTP code", async ({ page }) => {
  const errors = watchConsole(page);
  await login(page, ADMIN, { recovery: true });
  await expect(page.locator(".app-header__username")).toHaveText(ADMIN.display_name);
  expect(errors).toEqual([]);
});

test("a non-ADMIN signs in without a second step and sees only what the role allows", async ({ page }) => {
  const errors = watchConsole(page);
  await login(page, USERS.ops);
  await expect(page.locator(".app-header__username")).toHaveText(USERS.ops.display_name);
  await expect(page.locator(".app-header .role-badge")).toHaveText("Ops");
  await expect(page.getByRole("link", { name: "Calendrier", exact: true })).toBeVisible();
  await expect(page.getByRole("link", { name: "Membres" })).toHaveCount(0);
  // Members is ADMIN's (and a PROJET's own team): an OPS typing the address gets an explanation.
  await page.goto("/members");
  await expect(page.getByRole("heading", { level: 1, name: "Accès réservé" })).toBeVisible();
  await logout(page);
  expect(errors).toEqual([]);
});

test("a wrong password shows the UI's message and keeps the user on the form", async ({ page }) => {
  const errors = watchConsole(page, { allow: [/status of 401/] });
  await page.goto("/login");
  await page.getByLabel("Identifiant").fill(USERS.dev.username);
  await page.getByLabel("Mot de passe").fill("not-the-password-at-all");
  await page.getByRole("button", { name: "Se connecter" }).click();
  await expect(page.locator(".form-alert")).toHaveText("Identifiant ou mot de passe incorrect.");
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByLabel("Mot de passe")).toHaveValue("");
  await expect(page.getByLabel("Mot de passe")).toBeFocused();
  expect(errors).toEqual([]);
});

test("a wrong 2FA code is refused and the code step stays", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Identifiant").fill(ADMIN.username);
  await page.getByLabel("Mot de passe").fill(ADMIN.password);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Vérification en deux étapes" })).toBeVisible();
  await page.getByLabel("Code de vérification").fill("000000");
  await page.getByRole("button", { name: "Vérifier" }).click();
  await expect(page.locator(".form-alert")).toContainText("Code refusé");
  await expect(page).toHaveURL(/\/login/);
  await page.getByRole("button", { name: "Retour" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Connexion" })).toBeVisible();
});

test("unknown addresses get the 404 page, signed out and signed in", async ({ page }) => {
  await page.goto("/no-such-page");
  await expect(page.getByRole("heading", { level: 1, name: "Page introuvable" })).toBeVisible();
  await login(page, USERS.dev);
  await page.goto("/still/not/here");
  await expect(page.getByRole("heading", { level: 1, name: "Page introuvable" })).toBeVisible();
  await page.getByRole("link", { name: "Retour au calendrier" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Calendrier" })).toBeVisible();
});
