// Test accounts and API helpers shared by global-setup and the specs. The server creates the bootstrap
// ADMIN from UYOOP_BOOTSTRAP__ADMIN_* (an ADMIN must set up 2FA before anything else); seeding then
// enables the admin's TOTP through the API and creates one user per other role.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { authenticator } from "otplib";

const here = dirname(fileURLToPath(import.meta.url));
export const STATE_FILE = join(here, "..", ".e2e-state.json");
const PASSWORD = "Correct-Horse-Battery-42!";

export const ADMIN = { username: "e2e_admin", email: "e2e_admin@example.org", password: PASSWORD, role: "ADMIN" };
export const USERS = {
  projet: { username: "e2e_projet", email: "e2e_projet@example.org", password: PASSWORD, role: "PROJET", display_name: "Paula Projet" },
  ops: { username: "e2e_ops", email: "e2e_ops@example.org", password: PASSWORD, role: "OPS", display_name: "Oscar Ops" },
  dev: { username: "e2e_dev", email: "e2e_dev@example.org", password: PASSWORD, role: "DEV", display_name: "Dana Dev" },
};

export function readState() {
  return JSON.parse(readFileSync(STATE_FILE, "utf8"));
}

function writeState(state) {
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
}

/**
 * A TOTP code for `secret` that the server has not seen yet: each code is accepted once (SECURITY.md
 * item 3), so when the current 30 s step was already used, wait for the next one.
 */
export async function freshTotp(secret) {
  const state = readState();
  const used = state.lastTotpStep?.[secret] ?? -1;
  let step = Math.floor(Date.now() / 30000);
  if (step <= used) {
    await new Promise((r) => setTimeout(r, (used + 1) * 30000 - Date.now() + 50));
    step = Math.floor(Date.now() / 30000);
  }
  const code = authenticator.generate(secret);
  writeState({ ...readState(), lastTotpStep: { ...(readState().lastTotpStep || {}), [secret]: step } });
  return code;
}

export async function call(baseURL, method, path, { token, body } = {}) {
  const headers = { Accept: "application/json", Origin: baseURL };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${baseURL}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${path} -> ${res.status}: ${text}`);
  return data;
}

/** Signs in through the API (handling the 2FA step) and returns the access token. */
export async function apiLogin(baseURL, account, totpSecret) {
  let body = await call(baseURL, "POST", "/api/auth/login", { body: { username: account.username, password: account.password } });
  if (body.mfa_required) {
    body = await call(baseURL, "POST", "/api/auth/2fa/verify", { body: { mfa_ticket: body.mfa_ticket, code: await freshTotp(totpSecret) } });
  }
  return body.access_token;
}

export async function seedAccounts(baseURL) {
  writeState({ baseURL, lastTotpStep: {} });
  // 1. The bootstrap admin signs in and turns on 2FA (mandatory for ADMIN).
  const login = await call(baseURL, "POST", "/api/auth/login", { body: { username: ADMIN.username, password: ADMIN.password } });
  let adminSecret = null;
  let token = login.access_token;
  if (login.mfa_required) throw new Error("the bootstrap admin already has 2FA: use a fresh database");
  const setup = await call(baseURL, "POST", "/api/auth/2fa/setup", { token });
  adminSecret = setup.secret;
  writeState({ baseURL, lastTotpStep: {}, adminSecret });
  await call(baseURL, "POST", "/api/auth/2fa/enable", { token, body: { code: await freshTotp(adminSecret) } });
  token = await apiLogin(baseURL, ADMIN, adminSecret);
  // 2. A team and one user per other role.
  let teamId = null;
  try {
    const teams = await call(baseURL, "GET", "/api/teams", { token });
    teamId = teams.items?.[0]?.id ?? null;
  } catch {
    teamId = null;
  }
  const ids = {};
  for (const [key, u] of Object.entries(USERS)) {
    const created = await call(baseURL, "POST", "/api/users", { token, body: { username: u.username, email: u.email, password: u.password, role: u.role, display_name: u.display_name, team_id: teamId } });
    ids[key] = created.id;
  }
  return { ...readState(), adminSecret, teamId, ids };
}
