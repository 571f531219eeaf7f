// The API client: bearer token from memory, same-origin credentials, one silent refresh on 401 shared
// by concurrent calls, problem+json turned into ApiError with status/detail/errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiClient, ApiError, buildUrl, errorFromResponse, retryAfterSeconds } from "../../../app/web/assets/js/api.js";
import { normalizeMetrics } from "../../../app/web/assets/js/metrics.js";

function json(status, body, type = "application/json") {
  return new Response(body === null ? null : JSON.stringify(body), { status, headers: { "content-type": type } });
}

function fakeFetch(handler) {
  const calls = [];
  const fn = async (url, init) => {
    calls.push({ url, init });
    return handler(url, init, calls.length);
  };
  fn.calls = calls;
  return fn;
}

test("problem+json becomes an ApiError with field errors", async () => {
  const res = json(422, { type: "https://uyoop.dev/problems/validation", title: "Invalid", status: 422, detail: "title is too long", request_id: "r-1", errors: [{ field: "title", message: "255 max" }] }, "application/problem+json");
  const err = await errorFromResponse(res);
  assert.ok(err instanceof ApiError && err instanceof Error);
  assert.equal(err.status, 422);
  assert.equal(err.detail, "title is too long");
  assert.equal(err.message, "title is too long");
  assert.equal(err.requestId, "r-1");
  assert.deepEqual(err.errors, [{ field: "title", code: "", message: "255 max" }]);
  assert.equal(err.fieldError("title"), "255 max");
  assert.equal(err.kind, "validation");
});

test("non-JSON errors still give a status and a detail", async () => {
  const err = await errorFromResponse(new Response("upstream down", { status: 502, statusText: "Bad Gateway", headers: { "content-type": "text/plain" } }));
  assert.equal(err.status, 502);
  assert.equal(err.detail, "upstream down");
  assert.deepEqual(err.errors, []);
  const empty = await errorFromResponse(new Response(null, { status: 500 }));
  assert.equal(empty.status, 500);
});

test("query strings drop empty values", () => {
  assert.equal(buildUrl("/api/events", { start: "a", type: "", team_id: null, status: undefined, created_by: 0 }), "/api/events?start=a&created_by=0");
  assert.equal(buildUrl("/api/events", {}), "/api/events");
});

test("sends the bearer token from memory with same-origin credentials and JSON", async () => {
  const fetchImpl = fakeFetch((url) => (url === "/api/auth/login" ? json(200, { access_token: "tok1", token_type: "Bearer", expires_in: 1800, user: { id: 1, role: "DEV" } }) : json(200, { items: [] })));
  const api = new ApiClient({ fetchImpl });
  await api.login("alice", "pw");
  assert.equal(api.user.id, 1);
  await api.post("/api/events", { title: "x" });
  const call = fetchImpl.calls[1];
  assert.equal(call.init.credentials, "same-origin");
  assert.equal(call.init.headers.Authorization, "Bearer tok1");
  assert.equal(call.init.headers["Content-Type"], "application/json");
  assert.equal(call.init.body, JSON.stringify({ title: "x" }));
  assert.equal(fetchImpl.calls[0].init.headers.Authorization, undefined);
});

test("login answering mfa_required keeps no session", async () => {
  const api = new ApiClient({ fetchImpl: fakeFetch(() => json(200, { mfa_required: true, mfa_ticket: "t" })) });
  const body = await api.login("a", "b");
  assert.equal(body.mfa_ticket, "t");
  assert.equal(api.authenticated, false);
});

test("a 401 triggers one refresh shared by concurrent requests, then a retry", async () => {
  let token = "old";
  const fetchImpl = fakeFetch((url, init) => {
    if (url === "/api/auth/refresh") {
      token = "new";
      return json(200, { access_token: "new", expires_in: 1800, user: { id: 1 } });
    }
    return init.headers.Authorization === `Bearer ${token}` && token === "new" ? json(200, { ok: url }) : json(401, { status: 401, title: "Unauthorized" }, "application/problem+json");
  });
  const api = new ApiClient({ fetchImpl });
  api.setSession({ access_token: "old", user: { id: 1 } });
  const [a, b] = await Promise.all([api.get("/api/a"), api.get("/api/b")]);
  assert.deepEqual([a, b], [{ ok: "/api/a" }, { ok: "/api/b" }]);
  assert.equal(fetchImpl.calls.filter((c) => c.url === "/api/auth/refresh").length, 1);
});

test("a failed refresh clears the session and reports it once", async () => {
  let lost = 0;
  const fetchImpl = fakeFetch(() => json(401, { status: 401, detail: "expired" }, "application/problem+json"));
  const api = new ApiClient({ fetchImpl, onAuthLost: () => (lost += 1) });
  api.setSession({ access_token: "old", user: { id: 1 } });
  await assert.rejects(api.get("/api/events"), (e) => e.status === 401);
  assert.equal(api.authenticated, false);
  assert.equal(lost, 1);
  assert.equal(fetchImpl.calls.filter((c) => c.url === "/api/auth/refresh").length, 1);
});

test("login errors never trigger a refresh", async () => {
  const fetchImpl = fakeFetch(() => json(401, { status: 401, detail: "bad credentials" }, "application/problem+json"));
  const api = new ApiClient({ fetchImpl });
  await assert.rejects(api.login("a", "b"), (e) => e.detail === "bad credentials");
  assert.equal(fetchImpl.calls.length, 1);
});

test("403 mfa-setup-required calls the hook", async () => {
  let called = 0;
  const api = new ApiClient({ fetchImpl: fakeFetch(() => json(403, { type: "https://uyoop.dev/problems/mfa-setup-required", status: 403 }, "application/problem+json")), onMfaSetupRequired: () => (called += 1) });
  api.setSession({ access_token: "x", user: { id: 1, role: "ADMIN" } });
  await assert.rejects(api.get("/api/events"), (e) => e.status === 403 && e.kind === "mfa-setup-required");
  assert.equal(called, 1);
  assert.equal(api.mfaSetupRequired, true);
});

test("network failures become ApiError status 0; 204 resolves null", async () => {
  const api = new ApiClient({ fetchImpl: async () => { throw new TypeError("Failed to fetch"); } });
  await assert.rejects(api.get("/api/x"), (e) => e instanceof ApiError && e.status === 0);
  const ok = new ApiClient({ fetchImpl: async () => new Response(null, { status: 204 }) });
  assert.equal(await ok.del("/api/events/1"), null);
});

test("the access token is never written to web storage", async () => {
  const writes = [];
  globalThis.localStorage = { setItem: (k, v) => writes.push([k, v]), getItem: () => null };
  globalThis.sessionStorage = { setItem: (k, v) => writes.push([k, v]), getItem: () => null };
  try {
    const api = new ApiClient({ fetchImpl: fakeFetch(() => json(200, { access_token: "secret-token", user: { id: 1 } })) });
    await api.login("a", "b");
    await api.refresh();
    assert.deepEqual(writes.filter(([, v]) => String(v).includes("secret-token")), []);
  } finally {
    delete globalThis.localStorage;
    delete globalThis.sessionStorage;
  }
});

test("DORA metrics: variants are normalized, absent metrics are null", () => {
  const empty = normalizeMetrics({});
  assert.equal(empty.empty, true);
  assert.equal(normalizeMetrics(null).empty, true);
  const m = normalizeMetrics({
    deployment_frequency: { series: [{ period: "2026-W01", environment: "prod", count: 2 }, { period: "2026-W01", environment: "staging", count: 5 }, { period: "2026-W02", environment: "prod", count: 1 }] },
    lead_time: [{ month: "2026-01", median_seconds: 7200 }],
    change_failure_rate: { numerator: 1, denominator: 4 },
    mttr: { points: [{ period: "2026-01", mean_hours: 0.5 }] },
  });
  assert.equal(m.empty, false);
  assert.deepEqual(m.deploymentFrequency.labels, ["2026-W01", "2026-W02"]);
  assert.deepEqual(m.deploymentFrequency.datasets, [{ environment: "prod", data: [2, 1] }, { environment: "staging", data: [5, 0] }]);
  assert.deepEqual(m.leadTime, { labels: ["2026-01"], data: [2] });
  assert.deepEqual(m.changeFailureRate, { failed: 1, succeeded: 3, total: 4, rate: 0.25 });
  assert.deepEqual(m.timeToRestore, { labels: ["2026-01"], data: [30] });
  assert.equal(normalizeMetrics({ change_failure_rate: { rate: 12.5 } }).changeFailureRate.rate, 0.125);
  assert.equal(normalizeMetrics({ change_failure_rate: { numerator: 0, denominator: 0 } }).changeFailureRate, null);
});

// ---- the real server's contract (app/src/auth/routes.rs, app/src/http/middleware.rs) ------------

function memoryStorage(initial = {}) {
  const data = { ...initial };
  return { data, getItem: (k) => (k in data ? data[k] : null), setItem: (k, v) => (data[k] = String(v)), removeItem: (k) => delete data[k] };
}

test("field errors keep the server's stable code; 429 carries Retry-After", async () => {
  const err = await errorFromResponse(
    json(422, { type: "/problems/validation", status: 422, detail: "1 field(s) are invalid", errors: [{ field: "password", code: "common", message: "this password is in lists" }] }, "application/problem+json"),
  );
  assert.deepEqual(err.errors, [{ field: "password", code: "common", message: "this password is in lists" }]);
  assert.equal(err.kind, "validation");
  const limited = await errorFromResponse(new Response(JSON.stringify({ type: "/problems/rate-limited", status: 429 }), { status: 429, headers: { "content-type": "application/problem+json", "retry-after": "42" } }));
  assert.equal(limited.retryAfter, 42);
  assert.equal(retryAfterSeconds(null), null);
  assert.equal(retryAfterSeconds("Wed, 21 Oct 2015 07:28:10 GMT", Date.parse("Wed, 21 Oct 2015 07:28:00 GMT")), 10);
});

test("refresh and logout are POSTs without a body (the cookie carries the refresh token)", async () => {
  const fetchImpl = fakeFetch((url) => (url === "/api/auth/refresh" ? json(200, { access_token: "t2", token_type: "Bearer", expires_in: 1800, user: { id: 1 } }) : new Response(null, { status: 204 })));
  const api = new ApiClient({ fetchImpl, storage: memoryStorage({ "uyoop.session": "1" }) });
  assert.equal(await api.resume(), true);
  await api.logout();
  for (const call of fetchImpl.calls) {
    assert.equal(call.init.method, "POST");
    assert.equal(call.init.body, undefined, `${call.url} sends no body`);
    assert.equal(call.init.headers["Content-Type"], undefined, `${call.url} sends no Content-Type`);
    assert.equal(call.init.credentials, "same-origin");
  }
  assert.equal(fetchImpl.calls[1].url, "/api/auth/logout");
  assert.equal(fetchImpl.calls[1].init.headers.Authorization, "Bearer t2");
  assert.equal(api.authenticated, false);
});

test("logout with an expired access token refreshes once, then ends the session on the server", async () => {
  let logouts = 0;
  const fetchImpl = fakeFetch((url, init) => {
    if (url === "/api/auth/refresh") return json(200, { access_token: "fresh", user: { id: 1 } });
    logouts += 1;
    return init.headers.Authorization === "Bearer fresh" ? new Response(null, { status: 204 }) : json(401, { status: 401 }, "application/problem+json");
  });
  let lost = 0;
  const api = new ApiClient({ fetchImpl, storage: memoryStorage(), onAuthLost: () => (lost += 1) });
  api.setSession({ access_token: "stale", user: { id: 1 } });
  await api.logout();
  assert.equal(logouts, 2);
  assert.equal(api.authenticated, false);
  assert.equal(lost, 0, "signing out is not a lost session");
});

test("the boot refresh is skipped in a browser that never started a session", async () => {
  const storage = memoryStorage();
  const fetchImpl = fakeFetch(() => json(401, { status: 401 }, "application/problem+json"));
  const api = new ApiClient({ fetchImpl, storage });
  assert.equal(await api.resume(), false);
  assert.equal(fetchImpl.calls.length, 0);
  // A session sets the (non-secret) flag; a refused refresh clears it.
  api.setSession({ access_token: "a", user: { id: 1 } });
  assert.equal(storage.data["uyoop.session"], "1");
  api.clearSession();
  assert.equal(storage.data["uyoop.session"], undefined);
  storage.setItem("uyoop.session", "1");
  assert.equal(await api.resume(), false);
  assert.equal(fetchImpl.calls.length, 1);
  assert.equal(storage.data["uyoop.session"], undefined);
  // Without web storage the client just tries.
  const bare = new ApiClient({ fetchImpl, storage: null });
  assert.equal(await bare.resume(), false);
  assert.equal(fetchImpl.calls.length, 2);
});

test("mfa_setup_required is read from each session body (the server omits it when false)", () => {
  const api = new ApiClient({ fetchImpl: fakeFetch(() => json(200, {})), storage: memoryStorage() });
  api.setSession({ access_token: "a", user: { id: 1, role: "ADMIN" }, mfa_setup_required: true });
  assert.equal(api.mfaSetupRequired, true);
  api.setSession({ access_token: "b", user: { id: 1, role: "ADMIN", totp_enabled: true } });
  assert.equal(api.mfaSetupRequired, false);
});

test("login answering {mfa_required, mfa_ticket}, then 2fa/verify with the ticket and the code", async () => {
  const fetchImpl = fakeFetch((url) =>
    url === "/api/auth/login" ? json(200, { mfa_required: true, mfa_ticket: "tk" }) : json(200, { access_token: "acc", token_type: "Bearer", expires_in: 1800, user: { id: 7, role: "ADMIN" } }),
  );
  const api = new ApiClient({ fetchImpl, storage: memoryStorage() });
  const first = await api.login("admin", "pw");
  assert.equal(first.mfa_ticket, "tk");
  await api.verify2fa("tk", "123456");
  assert.deepEqual(JSON.parse(fetchImpl.calls[1].init.body), { mfa_ticket: "tk", code: "123456" });
  assert.equal(api.user.id, 7);
  assert.equal(api.authenticated, true);
});
