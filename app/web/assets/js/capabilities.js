// Which API operations this server offers, read once from its OpenAPI document (public, generated from
// the routes themselves). Features whose API the running server does not have yet (events, comments,
// notifications, DORA metrics) are then shown as "not available" instead of calling routes that answer
// 404: no error toast, no failed request in the console. If the document cannot be read, every feature
// is assumed to exist (the API still answers for itself).

let loaded = null; // Set of "METHOD /path" keys, or null while unknown
let pending = null;

/** "GET /api/events/{id}" keys from an OpenAPI document's `paths`. */
export function operationsOf(doc) {
  const out = new Set();
  const paths = doc && typeof doc === "object" && doc.paths && typeof doc.paths === "object" ? doc.paths : {};
  for (const [path, item] of Object.entries(paths)) {
    if (!item || typeof item !== "object") continue;
    for (const method of Object.keys(item)) {
      if (/^(get|put|post|delete|patch)$/i.test(method)) out.add(`${method.toUpperCase()} ${path}`);
    }
  }
  return out;
}

/** Loads the operations once; resolves when known (or given up on). */
export function loadCapabilities(fetchImpl = (...args) => globalThis.fetch(...args)) {
  if (!pending) {
    pending = (async () => {
      try {
        const res = await fetchImpl("/api/openapi.json", { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (res.ok) loaded = operationsOf(await res.json());
      } catch {
        loaded = null;
      }
      return loaded;
    })();
  }
  return pending;
}

/** Tests only: forget what was loaded, or install a known set of operations. */
export function setCapabilities(operations) {
  loaded = operations ? new Set(operations) : null;
  pending = Promise.resolve(loaded);
}

/** Whether the server has `op` ("GET /api/events"); true while unknown. */
export function has(op) {
  return loaded === null || loaded.has(op);
}

/** Feature groups the UI switches on. */
export const FEATURES = Object.freeze({
  events: "GET /api/events",
  createEvent: "POST /api/events",
  notifications: "GET /api/notifications",
  metrics: "GET /api/metrics",
});

export function hasFeature(name) {
  return has(FEATURES[name]);
}
