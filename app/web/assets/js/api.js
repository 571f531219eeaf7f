// HTTP client of the API. The access token lives in memory only (this module), never in localStorage
// or sessionStorage; the refresh token is an HttpOnly cookie (`__Host-uyoop_refresh`) that only the
// server reads. A 401 triggers one silent POST /api/auth/refresh (no body: the cookie carries the
// token; shared by concurrent callers) and one retry of the request. Errors are RFC 9457
// problem+json documents turned into ApiError objects.
//
// Web storage holds one non-secret flag, "a session was started in this browser": without it the
// boot skips the refresh call that could only answer 401 (the cookie is invisible to scripts).

export class ApiError extends Error {
  constructor({ status = 0, title = "", detail = "", type = "about:blank", errors = [], requestId = null, retryAfter = null } = {}) {
    super(detail || title || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.type = type;
    this.errors = errors;
    this.requestId = requestId;
    this.retryAfter = retryAfter;
  }

  /** Message of the field error for `field`, if the server named one. */
  fieldError(field) {
    return this.errors.find((e) => e.field === field)?.message;
  }

  /** The last path segment of the problem type, e.g. "mfa-setup-required". */
  get kind() {
    const type = String(this.type || "");
    return type === "about:blank" ? "" : type.split(/[/#]/).filter(Boolean).pop() || "";
  }
}

function normalizeFieldErrors(errors) {
  if (!Array.isArray(errors)) return [];
  return errors
    .filter((e) => e && typeof e === "object")
    .map((e) => ({ field: String(e.field ?? e.pointer ?? e.name ?? ""), code: String(e.code ?? ""), message: String(e.message ?? e.detail ?? "") }));
}

/** Retry-After in seconds (delta-seconds or an HTTP date), or null. */
export function retryAfterSeconds(value, now = Date.now()) {
  if (value === null || value === undefined || value === "") return null;
  if (/^\d+$/.test(String(value).trim())) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Builds an ApiError from a failed fetch Response (problem+json, other JSON, or anything else). */
export async function errorFromResponse(response) {
  let body = null;
  const type = response.headers.get("content-type") || "";
  try {
    if (type.includes("json")) body = await response.json();
    else {
      const text = await response.text();
      body = text ? { detail: text.slice(0, 500) } : null;
    }
  } catch {
    body = null;
  }
  body = body && typeof body === "object" ? body : {};
  return new ApiError({
    status: response.status,
    title: typeof body.title === "string" ? body.title : response.statusText || "",
    detail: typeof body.detail === "string" ? body.detail : "",
    type: typeof body.type === "string" ? body.type : "about:blank",
    errors: normalizeFieldErrors(body.errors),
    requestId: body.request_id ?? response.headers.get("x-request-id") ?? null,
    retryAfter: retryAfterSeconds(response.headers.get("retry-after")),
  });
}

/** "/api/events" + {start, type: ""} -> "/api/events?start=..." (empty values dropped). */
export function buildUrl(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    params.append(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

// Requests that must never trigger the silent refresh (they are the authentication itself).
const NO_REFRESH = new Set(["/api/auth/login", "/api/auth/refresh", "/api/auth/2fa/verify", "/api/auth/register", "/api/auth/logout"]);
const SESSION_HINT = "uyoop.session";

function defaultStorage() {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}

export class ApiClient {
  #token = null;
  #user = null;
  #refreshing = null;
  #listeners = new Set();

  constructor({ fetchImpl, onAuthLost = () => {}, onMfaSetupRequired = () => {}, storage = defaultStorage() } = {}) {
    this.fetchImpl = fetchImpl || ((...args) => globalThis.fetch(...args));
    this.storage = storage;
    this.onAuthLost = onAuthLost;
    this.onMfaSetupRequired = onMfaSetupRequired;
    this.mfaSetupRequired = false;
  }

  get user() {
    return this.#user;
  }

  get authenticated() {
    return this.#token !== null;
  }

  onSessionChange(fn) {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit() {
    for (const fn of this.#listeners) fn(this.#user);
  }

  /** Stores a login/refresh/verify success body: {access_token, user, mfa_setup_required?}. */
  setSession(body) {
    if (!body || typeof body.access_token !== "string") throw new ApiError({ status: 0, detail: "malformed session" });
    this.#token = body.access_token;
    if (body.user) this.#user = body.user;
    // The server omits the flag when false.
    this.mfaSetupRequired = Boolean(body.mfa_setup_required);
    this.#hint(true);
    this.#emit();
  }

  setUser(user) {
    this.#user = user;
    this.#emit();
  }

  clearSession() {
    this.#token = null;
    this.#user = null;
    this.mfaSetupRequired = false;
    this.#hint(false);
    this.#emit();
  }

  #hint(on) {
    try {
      if (on) this.storage?.setItem(SESSION_HINT, "1");
      else this.storage?.removeItem(SESSION_HINT);
    } catch {
      /* storage full or disabled: the boot will just try the refresh */
    }
  }

  /** Whether a session may exist (unknown without storage: then try). */
  get mayHaveSession() {
    try {
      return !this.storage || this.storage.getItem(SESSION_HINT) === "1";
    } catch {
      return true;
    }
  }

  async #send(method, path, { body, query, headers = {} } = {}) {
    const init = {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json, application/problem+json", ...headers },
    };
    if (this.#token) init.headers.Authorization = `Bearer ${this.#token}`;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    try {
      return await this.fetchImpl(buildUrl(path, query), init);
    } catch (err) {
      throw new ApiError({ status: 0, title: "network", detail: String(err?.message || err) });
    }
  }

  /** One refresh at a time; concurrent 401s wait for the same attempt. Resolves true on success. */
  refresh() {
    if (!this.#refreshing) {
      this.#refreshing = (async () => {
        try {
          const res = await this.#send("POST", "/api/auth/refresh");
          if (!res.ok) {
            if (res.status === 401) this.#hint(false);
            return false;
          }
          this.setSession(await res.json());
          return true;
        } catch {
          return false;
        } finally {
          queueMicrotask(() => {
            this.#refreshing = null;
          });
        }
      })();
    }
    return this.#refreshing;
  }

  async request(method, path, options = {}) {
    let res = await this.#send(method, path, options);
    if (res.status === 401 && !NO_REFRESH.has(path) && options.retry !== false) {
      const hadSession = this.#token !== null;
      if (await this.refresh()) {
        res = await this.#send(method, path, options);
      } else if (hadSession) {
        this.clearSession();
        this.onAuthLost();
      }
    }
    if (!res.ok) {
      const error = await errorFromResponse(res);
      if (error.status === 401 && !NO_REFRESH.has(path) && this.#token !== null) {
        this.clearSession();
        this.onAuthLost();
      }
      if (error.status === 403 && error.kind === "mfa-setup-required") {
        this.mfaSetupRequired = true;
        this.onMfaSetupRequired();
      }
      throw error;
    }
    if (res.status === 204) return null;
    const type = res.headers.get("content-type") || "";
    if (type.includes("json")) return res.json();
    const text = await res.text();
    return text === "" ? null : text;
  }

  get(path, query) {
    return this.request("GET", path, { query });
  }

  post(path, body) {
    return this.request("POST", path, { body });
  }

  put(path, body) {
    return this.request("PUT", path, { body });
  }

  del(path) {
    return this.request("DELETE", path);
  }

  // ---- authentication -------------------------------------------------------------------------
  /** Resolves {mfa_required, mfa_ticket} for a second step, or the session body once signed in. */
  async login(username, password) {
    const body = await this.post("/api/auth/login", { username, password });
    if (body && body.mfa_required) return body;
    this.setSession(body);
    return body;
  }

  async verify2fa(ticket, code) {
    const body = await this.post("/api/auth/2fa/verify", { mfa_ticket: ticket, code });
    this.setSession(body);
    return body;
  }

  /**
   * Ends the session on the server (POST without a body; the server revokes the refresh family and
   * expires the cookie), then forgets it here whatever the answer. An expired access token is
   * refreshed once first, so the server-side session really ends.
   */
  async logout() {
    try {
      let res = await this.#send("POST", "/api/auth/logout");
      if (res.status === 401 && (await this.refresh())) res = await this.#send("POST", "/api/auth/logout");
    } catch {
      /* offline: the local session is cleared anyway */
    } finally {
      this.clearSession();
    }
  }

  /** Restores a session from the refresh cookie at boot. Resolves true when signed in. */
  async resume() {
    if (!this.mayHaveSession) return false;
    return this.refresh();
  }
}

export const api = new ApiClient();
