// UI helpers for the specs: sign in through the login page (with the 2FA step when asked), open the
// wizard, run axe-core, take screenshots into artifacts/.
import { expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ADMIN, USERS, freshTotp, readState } from "./seed.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = join(here, "..", "artifacts");
mkdirSync(ARTIFACTS, { recursive: true });

export { ADMIN, USERS };

/**
 * Collects console errors and page errors (CSP violations included). The one expected error is the
 * browser's log of the 401 answered to the silent session refresh when nobody is signed in.
 */
export function watchConsole(page) {
  const errors = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/status of 401/.test(msg.text())) errors.push(msg.text());
  });
  page.on("pageerror", (err) => errors.push(String(err)));
  return errors;
}

export async function login(page, account) {
  await page.goto("/login");
  await page.getByLabel(/Identifiant|Username/).fill(account.username);
  await page.getByLabel(/Mot de passe|Password/).fill(account.password);
  await page.getByRole("button", { name: /Se connecter|Sign in/ }).click();
  if (account.role === "ADMIN") {
    const code = page.getByLabel(/Code de vérification|Verification code/);
    await expect(code).toBeVisible();
    await code.fill(await freshTotp(readState().adminSecret));
    await page.getByRole("button", { name: /Vérifier|Verify/ }).click();
  }
  await expect(page).toHaveURL(/\/calendar/);
  await expect(page.getByRole("heading", { level: 1, name: /Calendrier|Calendar/ })).toBeVisible();
}

export async function logout(page) {
  await page.getByRole("button", { name: /Déconnexion|Log out/ }).click();
  await expect(page).toHaveURL(/\/login/);
}

/** Local date + time N days from now, for wizard inputs. */
export function slot(daysAhead = 1, time = "10:00") {
  const d = new Date();
  d.setDate(d.getDate() + daysAhead);
  const pad = (n) => String(n).padStart(2, "0");
  return { date: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`, time };
}

export async function openWizard(page, kindLabel) {
  await page.getByRole("button", { name: /Nouvel événement|New event/ }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  if (kindLabel) {
    const choice = dialog.getByRole("radio", { name: kindLabel });
    if (await choice.count()) {
      await choice.check();
      await dialog.getByRole("button", { name: /Suivant|Next/ }).click();
    }
  }
  return dialog;
}

export async function next(dialog) {
  await dialog.getByRole("button", { name: /Suivant|Next/ }).click();
}

/** axe-core with the WCAG 2.x A/AA rules; returns the serious and critical violations. */
export async function seriousViolations(page, { exclude = [] } = {}) {
  let builder = new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]);
  for (const sel of exclude) builder = builder.exclude(sel);
  const results = await builder.analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true, animations: "disabled" });
}
