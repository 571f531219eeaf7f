// UI helpers for the specs: sign in through the login page (with the 2FA step when asked), run
// axe-core, take screenshots into artifacts/, collect console errors.
import { expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ADMIN, USERS, apiLogin, call, freshTotp, readState, takeRecoveryCode } from "./seed.mjs";
import { ARTIFACTS } from "./server.mjs";

mkdirSync(ARTIFACTS, { recursive: true });

export { ADMIN, ARTIFACTS, USERS };

/**
 * Collects console errors and page errors (CSP violations included). `allow` lists messages a test
 * provokes on purpose, e.g. the browser's log of a 401 answered to a wrong password.
 */
export function watchConsole(page, { allow = [] } = {}) {
  const errors = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" && !allow.some((re) => re.test(msg.text()))) errors.push(msg.text());
  });
  page.on("pageerror", (err) => errors.push(String(err)));
  return errors;
}

/** The code for the 2FA step: a fresh TOTP code of the account, or one of the ADMIN's recovery codes. */
async function secondFactor(account, { recovery = false } = {}) {
  if (recovery) return takeRecoveryCode();
  const secret = readState().totpSecrets?.[account.username];
  if (!secret) throw new Error(`no TOTP secret known for ${account.username}`);
  return freshTotp(secret);
}

/** Signs in through the login page; ADMIN accounts go through the 2FA step. Lands on the calendar. */
export async function login(page, account, { recovery = false } = {}) {
  await page.goto("/login");
  await page.getByLabel(/^(Identifiant|Username)/).fill(account.username);
  await page.getByLabel(/^(Mot de passe|Password)/).fill(account.password);
  await page.getByRole("button", { name: /^(Se connecter|Sign in)$/ }).click();
  if (readState().totpSecrets?.[account.username]) {
    const code = page.getByLabel(/^(Code de vérification|Verification code)/);
    await expect(code).toBeVisible();
    await code.fill(await secondFactor(account, { recovery }));
    await page.getByRole("button", { name: /^(Vérifier|Verify)$/ }).click();
  }
  await expect(page).toHaveURL(/\/calendar/);
  await expect(page.getByRole("heading", { level: 1, name: /^(Calendrier|Calendar)$/ })).toBeVisible();
}

export async function logout(page) {
  await page.getByRole("button", { name: /^(Déconnexion|Log out)$/ }).click();
  await expect(page).toHaveURL(/\/login/);
}

/** axe-core with the WCAG 2.x A/AA rules and best practices; returns the serious and critical violations. */
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

/** Waits until the view finished loading (no skeleton, main not busy). */
export async function settled(page) {
  await expect(page.locator("main[aria-busy=true]")).toHaveCount(0);
  await expect(page.locator("main .skeleton-group")).toHaveCount(0);
}

// ---- events through the API (arranging a test's data) ---------------------------------------------

// API tokens by username, for this worker process: a sign-in costs an argon2id verification, slow in
// a debug build, and an access token outlives the whole run (30 min).
const sessions = new Map();

/** An API session of `account` (not for ADMIN: its TOTP steps are kept for the sign-in pages). */
export async function apiAs(account) {
  const { baseURL } = readState();
  const key = `${baseURL} ${account.username}`;
  if (!sessions.has(key)) {
    const pending = apiLogin(baseURL, account);
    sessions.set(key, pending);
    pending.catch(() => sessions.delete(key));
  }
  const token = await sessions.get(key);
  return {
    token,
    call: (method, path, body) => call(baseURL, method, path, { token, body }),
    createEvent: (body) => call(baseURL, "POST", "/api/events", { token, body }),
  };
}

/** A Date at local `hh:mm` `days` from today. */
export function at(days, hh = 10, mm = 0) {
  const d = new Date();
  d.setDate(d.getDate() + days);
  d.setHours(hh, mm, 0, 0);
  return d;
}

/** POST /api/events body of a meeting. */
export function meetingBody(title, start, minutes = 60, extra = {}) {
  return {
    type: "meeting",
    title,
    description: "",
    start: start.toISOString(),
    end: new Date(start.getTime() + minutes * 60000).toISOString(),
    team_id: null,
    extra: { meeting_kind: "review", participants: [], agenda_md: "", tags: {}, recurrence: { freq: "none" }, ...extra },
  };
}

/**
 * POST /api/events body of a deployment window. Production windows overlapping on a shared service are
 * refused (409 deployment-conflict): each spec names its own services.
 */
export function deploymentBody(title, start, { environment = "staging", services, minutes = 60, checklist = ["Sauvegarde vérifiée", "Tests verts"] } = {}) {
  return {
    type: "deployment_window",
    title,
    description: "",
    start: start.toISOString(),
    end: new Date(start.getTime() + minutes * 60000).toISOString(),
    team_id: null,
    extra: {
      environment,
      duration_minutes: minutes,
      services,
      change_description: `${title}: changes`,
      checklist: checklist.map((label) => ({ label, done: false })),
      rollback_plan: "helm rollback",
    },
  };
}

/** Local YYYY-MM-DD of a Date (FullCalendar's data-date of a day cell). */
export function ymd(d) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// ---- event wizard -----------------------------------------------------------------------------

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
