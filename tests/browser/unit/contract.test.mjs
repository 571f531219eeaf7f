// Front-end pieces that follow the real server's contract: problems translated from their stable
// parts (type slug, field + code), feature detection from the OpenAPI document, the members page's
// partial updates, the QR image URL; and the harness's own RFC 6238 implementation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ApiError } from "../../../app/web/assets/js/api.js";
import { FEATURES, has, hasFeature, operationsOf, setCapabilities } from "../../../app/web/assets/js/capabilities.js";
import { DICTIONARIES } from "../../../app/web/assets/js/i18n.js";
import { BY_FIELD_CODE, BY_KIND, DUPLICATE_FIELDS, errorMessage, fieldMessages } from "../../../app/web/assets/js/messages.js";
import { changedFields } from "../../../app/web/assets/js/views/members.js";
import { svgDataUrl } from "../../../app/web/assets/js/views/setup2fa.js";
import { base32Decode, totpAt } from "../e2e/seed.mjs";
import { WAITING_FOR_API } from "../playwright.config.mjs";

test("every message key the problem tables name exists in both languages", () => {
  const keys = [...Object.values(BY_KIND), ...Object.values(BY_FIELD_CODE).map(([k]) => k), ...Object.values(DUPLICATE_FIELDS)];
  for (const lang of ["fr", "en"]) for (const k of keys) assert.ok(k in DICTIONARIES[lang], `${lang}: ${k}`);
});

test("problems are shown in the UI's language, from the type slug and the status", () => {
  const problem = (status, slug, extra = {}) => new ApiError({ status, type: `/problems/${slug}`, detail: "english detail", ...extra });
  assert.equal(errorMessage(problem(403, "invitation-required")), "L'inscription se fait sur invitation : demandez un lien à un administrateur.");
  assert.equal(errorMessage(problem(401, "unauthorized"), { byStatus: { 401: "login.failed" } }), "Identifiant ou mot de passe incorrect.");
  assert.equal(errorMessage(problem(429, "rate-limited", { retryAfter: 12 })), "Trop de tentatives. Réessayez dans 12 s.");
  assert.equal(errorMessage(problem(429, "rate-limited")), DICTIONARIES.fr["error.rate_limited"]);
  assert.equal(errorMessage(new ApiError({ status: 0, title: "network" })), DICTIONARIES.fr["error.network"]);
  // An unknown problem keeps the server's explanation rather than a vague message.
  assert.equal(errorMessage(problem(409, "something-new")), "english detail");
});

test("field errors are translated by field + code; duplicates name their field in the detail", () => {
  const err = new ApiError({
    status: 422,
    type: "/problems/validation",
    errors: [
      { field: "password", code: "too_short", message: "use at least 12 characters" },
      { field: "email", code: "invalid", message: "enter an e-mail" },
      { field: "extra.repository_url", code: "invalid", message: "must be https" },
      { field: "title", code: "required", message: "missing field" },
    ],
  });
  assert.deepEqual(fieldMessages(err), {
    password: "Au moins 12 caractères.",
    email: DICTIONARIES.fr["validation.email"],
    repository_url: "must be https",
    title: DICTIONARIES.fr["validation.required"],
  });
  const dup = new ApiError({ status: 409, type: "/problems/duplicate", detail: "username: this username is taken; choose another" });
  assert.deepEqual(fieldMessages(dup), { username: "Cet identifiant est déjà pris." });
});

test("features are read from the OpenAPI document; unknown means available", async () => {
  const doc = { paths: { "/api/users": { get: {}, post: {} }, "/api/teams/{id}": { put: {}, delete: {}, parameters: [] } } };
  assert.deepEqual([...operationsOf(doc)].sort(), ["DELETE /api/teams/{id}", "GET /api/users", "POST /api/users", "PUT /api/teams/{id}"]);
  setCapabilities(null);
  assert.equal(hasFeature("events"), true);
  setCapabilities(operationsOf(doc));
  assert.equal(has("GET /api/users"), true);
  for (const name of Object.keys(FEATURES)) assert.equal(hasFeature(name), false, name);
  setCapabilities(["GET /api/events", "POST /api/events"]);
  assert.equal(hasFeature("events"), true);
  assert.equal(hasFeature("notifications"), false);
  setCapabilities(null);
});

test("capabilities: one fetch of /api/openapi.json; a failure leaves every feature on", async () => {
  const mod = await import(`../../../app/web/assets/js/capabilities.js?fresh=${Date.now()}`);
  const calls = [];
  await mod.loadCapabilities(async (url) => {
    calls.push(url);
    throw new TypeError("offline");
  });
  await mod.loadCapabilities(async (url) => calls.push(url));
  assert.deepEqual(calls, ["/api/openapi.json"]);
  assert.equal(mod.hasFeature("events"), true);
});

test("members: an edit sends only the fields that changed", () => {
  const user = { id: 3, email: "a@example.org", display_name: "Ann", role: "DEV", team_id: null, disabled: false };
  assert.deepEqual(changedFields(user, { email: "a@example.org", display_name: "Ann", role: "OPS", team_id: null, disabled: false }), { role: "OPS" });
  assert.deepEqual(changedFields(user, { team_id: 2, display_name: "" }), { team_id: 2, display_name: "" });
  assert.deepEqual(changedFields({ ...user, team_id: 2 }, { team_id: null }), { team_id: null });
});

test("the QR SVG becomes a data: image URL (CSP img-src allows data:)", () => {
  const svg = '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"><title>é</title></svg>';
  const url = svgDataUrl(svg);
  assert.match(url, /^data:image\/svg\+xml;base64,/);
  assert.equal(Buffer.from(url.split(",")[1], "base64").toString("utf8"), svg);
});

test("harness TOTP: RFC 6238 SHA-1 vectors (last 6 of the 8 digits)", () => {
  // Appendix B, seed "12345678901234567890" = base32 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ.
  const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
  assert.equal(base32Decode(secret).toString(), "12345678901234567890");
  for (const [time, code] of [[59, "287082"], [1111111109, "081804"], [1234567890, "005924"], [2000000000, "279037"]]) {
    assert.equal(totpAt(secret, Math.floor(time / 30)), code, `T=${time}`);
  }
});

test("specs waiting for an API exist and only import what the helpers export", async () => {
  const helpers = await import("../e2e/helpers.mjs");
  const seed = await import("../e2e/seed.mjs");
  const exported = { "./helpers.mjs": helpers, "./seed.mjs": seed };
  for (const pattern of WAITING_FOR_API) {
    const file = new URL(`../e2e/${pattern.replace("**/", "")}`, import.meta.url);
    const src = readFileSync(file, "utf8");
    for (const m of src.matchAll(/import \{([^}]+)\} from "(\.\/[a-z]+\.mjs)"/g)) {
      for (const name of m[1].split(",").map((s) => s.trim()).filter(Boolean)) {
        assert.ok(name in exported[m[2]], `${pattern}: ${m[2]} does not export ${name}`);
      }
    }
  }
});
