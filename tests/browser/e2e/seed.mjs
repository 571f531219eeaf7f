// Test accounts, TOTP codes and API helpers shared by global-setup and the specs.
//
// Seeding goes through the real API, the way an operator would: the first POST /api/auth/register of
// a fresh database becomes ADMIN; that ADMIN turns on 2FA (mandatory before any other route), then
// creates a team and one account per other role with POST /api/users.
//
// TOTP: RFC 6238 (SHA-1, 6 digits, 30 s) computed here with node:crypto. The server accepts a code
// once: it stores the last time step used per account and only takes a later one, within -1/0/+1
// steps of its clock. freshTotp() therefore hands out, per secret, the next unused step that is
// current or one ahead, waiting for the clock when both are spent; it never replays a code.
import { createHmac } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const STATE_FILE = join(here, "..", ".e2e-state.json");
const PASSWORD = "Violet-Harbour-Lantern-58";
export const STEP_MS = 30_000;

export const ADMIN = { username: "e2e_admin", email: "e2e_admin@example.org", password: PASSWORD, role: "ADMIN", display_name: "Ada Admin" };
export const USERS = {
  projet: { username: "e2e_projet", email: "e2e_projet@example.org", password: PASSWORD, role: "PROJET", display_name: "Paula Projet", team: true },
  ops: { username: "e2e_ops", email: "e2e_ops@example.org", password: PASSWORD, role: "OPS", display_name: "Oscar Ops", team: true },
  dev: { username: "e2e_dev", email: "e2e_dev@example.org", password: PASSWORD, role: "DEV", display_name: "Dana Dev", team: true },
  // The language spec changes this account's stored locale: nobody else depends on it.
  polyglot: { username: "e2e_polyglot", email: "e2e_polyglot@example.org", password: PASSWORD, role: "DEV", display_name: "Pol Yglot" },
  // A second ADMIN created without 2FA: the 2FA setup spec turns it on through the page.
  newadmin: { username: "e2e_newadmin", email: "e2e_newadmin@example.org", password: PASSWORD, role: "ADMIN", display_name: "Nina Newadmin" },
};
export const TEAM = { name: "Plateforme", description: "Équipe plateforme (E2E)" };

export function readState() {
  return JSON.parse(readFileSync(STATE_FILE, "utf8"));
}

export function updateState(patch) {
  let state = {};
  try {
    state = readState();
  } catch {
    state = {};
  }
  const next = { ...state, ...patch };
  writeFileSync(STATE_FILE, JSON.stringify(next, null, 2));
  return next;
}

// ---- RFC 6238 --------------------------------------------------------------------------------------

export function base32Decode(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const clean = String(text).toUpperCase().replace(/[\s=-]/g, "");
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const idx = alphabet.indexOf(ch);
    if (idx < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** The 6-digit code of time step `step` for a base32 secret. */
export function totpAt(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(bin % 1_000_000).padStart(6, "0");
}

/**
 * A code the server has not seen for `secret`: the next step after the last one used, if it is the
 * current step or the next one (both inside the server's window); otherwise waits for the clock.
 */
export async function freshTotp(secret) {
  const used = readState().lastTotpStep?.[secret] ?? -1;
  let now = Math.floor(Date.now() / STEP_MS);
  const step = Math.max(used + 1, now);
  if (step > now + 1) {
    // Both usable steps are spent: wait until `step` is within one step of the clock.
    const waitMs = (step - 1) * STEP_MS - Date.now() + 250;
    console.log(`[e2e] waiting ${Math.ceil(waitMs / 1000)} s for a fresh TOTP step`);
    await new Promise((r) => setTimeout(r, waitMs));
    now = Math.floor(Date.now() / STEP_MS);
  }
  const state = readState();
  updateState({ lastTotpStep: { ...(state.lastTotpStep || {}), [secret]: step } });
  return totpAt(secret, step);
}

/** One unused recovery code of the seeded ADMIN (each signs in once). */
export function takeRecoveryCode() {
  const state = readState();
  const [code, ...rest] = state.adminRecoveryCodes || [];
  if (!code) throw new Error("no recovery code left");
  updateState({ adminRecoveryCodes: rest });
  return code;
}

// ---- API -------------------------------------------------------------------------------------------

/** JSON call to the API; throws with the problem body on a non-2xx answer. */
export async function call(baseURL, method, path, { token, body } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${baseURL}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} -> ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Signs in through the API (with the TOTP step when asked) and returns the access token. */
export async function apiLogin(baseURL, account) {
  let body = await call(baseURL, "POST", "/api/auth/login", { body: { username: account.username, password: account.password } });
  if (body.mfa_required) {
    const secret = readState().totpSecrets?.[account.username];
    if (!secret) throw new Error(`${account.username} has 2FA but no known secret`);
    body = await call(baseURL, "POST", "/api/auth/2fa/verify", { body: { mfa_ticket: body.mfa_ticket, code: await freshTotp(secret) } });
  }
  return body.access_token;
}

export async function seedAccounts(baseURL) {
  writeFileSync(STATE_FILE, JSON.stringify({ baseURL, lastTotpStep: {}, totpSecrets: {} }, null, 2));
  // 1. The first account of a fresh database becomes ADMIN.
  const admin = await call(baseURL, "POST", "/api/auth/register", { body: { username: ADMIN.username, email: ADMIN.email, password: ADMIN.password, display_name: ADMIN.display_name } });
  if (admin.role !== "ADMIN") throw new Error(`the first account is ${admin.role}, not ADMIN: is the database fresh?`);
  // 2. Its first session may only set up 2FA; turning 2FA on makes the same session a full one.
  const login = await call(baseURL, "POST", "/api/auth/login", { body: { username: ADMIN.username, password: ADMIN.password } });
  if (!login.mfa_setup_required) throw new Error("expected mfa_setup_required for a new ADMIN");
  const token = login.access_token;
  const setup = await call(baseURL, "POST", "/api/auth/2fa/setup", { token });
  updateState({ totpSecrets: { [ADMIN.username]: setup.secret } });
  const enabled = await call(baseURL, "POST", "/api/auth/2fa/enable", { token, body: { code: await freshTotp(setup.secret) } });
  // 3. A team, then one account per role (POST /api/users, ADMIN only).
  const team = await call(baseURL, "POST", "/api/teams", { token, body: TEAM });
  const ids = { admin: admin.id };
  for (const [key, u] of Object.entries(USERS)) {
    const created = await call(baseURL, "POST", "/api/users", {
      token,
      body: { username: u.username, email: u.email, password: u.password, role: u.role, display_name: u.display_name, team_id: u.team ? team.id : null },
    });
    ids[key] = created.id;
  }
  return updateState({ adminSecret: setup.secret, adminRecoveryCodes: enabled.recovery_codes, teamId: team.id, ids });
}
