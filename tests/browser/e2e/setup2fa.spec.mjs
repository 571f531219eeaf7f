// 2FA setup: an ADMIN without 2FA may only reach the setup page (the server answers
// /problems/mfa-setup-required elsewhere); the page shows the server's QR code (as an image, CSP-safe)
// and the base32 key, refuses a wrong code, turns 2FA on with a right one, shows the ten recovery
// codes once, and the next sign-in asks for a code.
import { expect, test } from "@playwright/test";
import { USERS, login, logout, screenshot, seriousViolations, settled, watchConsole } from "./helpers.mjs";
import { readState, totpAt, updateState, STEP_MS } from "./seed.mjs";

test("a new ADMIN is sent to the 2FA setup page and turns 2FA on with the QR code's key", async ({ page }) => {
  const account = USERS.newadmin;
  const errors = watchConsole(page, { allow: [/status of 422/] }); // the wrong code, on purpose
  await page.goto("/login");
  await page.getByLabel("Identifiant").fill(account.username);
  await page.getByLabel("Mot de passe").fill(account.password);
  await page.getByRole("button", { name: "Se connecter" }).click();

  await expect(page).toHaveURL(/\/setup-2fa$/);
  await expect(page.getByRole("heading", { level: 1, name: "Double authentification" })).toBeVisible();
  await expect(page.getByRole("note").filter({ hasText: "obligatoire pour les administrateurs" })).toBeVisible();
  await expect(page.getByRole("navigation")).toBeHidden(); // nothing else to reach until it is done
  // Other pages send back here.
  await page.goto("/members");
  await expect(page).toHaveURL(/\/setup-2fa$/);

  const qr = page.getByRole("img", { name: "QR code à scanner avec votre application d'authentification" });
  await expect(qr).toBeVisible();
  expect(await qr.evaluate((img) => img.complete && img.naturalWidth >= 200)).toBe(true);
  const secret = (await page.locator("code.secret").textContent()).replace(/\s+/g, "");
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await expect(page.getByRole("link", { name: "Ouvrir dans l'application d'authentification" })).toHaveAttribute("href", /^otpauth:\/\/totp\/.*secret=/);
  await settled(page);
  expect(await seriousViolations(page), "setup-2fa").toEqual([]);
  await screenshot(page, "setup2fa-desktop");

  // A wrong code is refused by the server; the field is emptied.
  const step = Math.floor(Date.now() / STEP_MS);
  const wrong = totpAt(secret, step + 10);
  await page.getByLabel("Code à 6 chiffres").fill(wrong);
  await page.getByRole("button", { name: "Activer" }).click();
  await expect(page.locator(".form-alert")).toHaveText(/Code refusé/);
  await expect(page.getByLabel("Code à 6 chiffres")).toHaveValue("");

  await page.getByLabel("Code à 6 chiffres").fill(totpAt(secret, step));
  await page.getByRole("button", { name: "Activer" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Vos codes de récupération" })).toBeVisible();
  const codes = await page.locator(".recovery-codes li").allTextContents();
  expect(codes).toHaveLength(10);
  for (const c of codes) expect(c).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
  updateState({ totpSecrets: { ...readState().totpSecrets, [account.username]: secret }, lastTotpStep: { ...readState().lastTotpStep, [secret]: step } });
  expect(await seriousViolations(page), "recovery codes").toEqual([]);

  const done = page.getByRole("button", { name: "Continuer" });
  await expect(done).toBeDisabled();
  await page.getByLabel("J'ai conservé mes codes de récupération").check();
  await done.click();
  await expect(page).toHaveURL(/\/calendar$/);
  await expect(page.getByRole("link", { name: "Membres", exact: true })).toBeVisible();
  await logout(page);

  // From now on the account signs in with a code (helpers.login knows the secret).
  await login(page, account);
  await page.goto("/setup-2fa");
  await expect(page.getByText("La double authentification est déjà active sur votre compte.")).toBeVisible();
  expect(errors).toEqual([]);
});
