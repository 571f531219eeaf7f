// Normalizes GET /api/metrics answers into what the four DORA charts draw. The server's exact shape
// may evolve, so this accepts the reasonable variants (series of points keyed by period, per
// environment, numerator/denominator for the failure rate) and returns null for a metric without data,
// which the dashboard shows as an empty state instead of an invented chart.

const LABEL_KEYS = ["period", "label", "week", "month", "date", "day", "bucket", "start"];
const VALUE_KEYS = {
  deployment_frequency: ["count", "deployments", "value", "per_week"],
  lead_time: ["median_hours", "hours", "median", "value", "median_seconds", "seconds"],
  time_to_restore: ["mean_minutes", "minutes", "mean_hours", "hours", "median_hours", "value", "mean_seconds", "seconds"],
};
const ALIASES = {
  deployment_frequency: ["deployment_frequency", "deploymentFrequency", "deployments"],
  lead_time: ["lead_time", "lead_time_for_changes", "leadTime"],
  change_failure_rate: ["change_failure_rate", "changeFailureRate", "failure_rate"],
  time_to_restore: ["time_to_restore", "time_to_restore_service", "mttr", "timeToRestore"],
};

function pick(obj, keys) {
  for (const k of keys) if (obj && obj[k] !== undefined && obj[k] !== null) return [k, obj[k]];
  return [null, undefined];
}

function metricNode(data, name) {
  const [, node] = pick(data, ALIASES[name]);
  return node;
}

function pointsOf(node) {
  if (Array.isArray(node)) return node;
  if (node && typeof node === "object") {
    const [, arr] = pick(node, ["series", "points", "data", "items", "weeks", "months"]);
    if (Array.isArray(arr)) return arr;
  }
  return [];
}

function labelOf(point) {
  const [, label] = pick(point, LABEL_KEYS);
  return label === undefined ? null : String(label);
}

/** Converts a value to the unit the chart shows: hours for lead time, minutes for restore time. */
function valueOf(point, metric) {
  const [key, raw] = pick(point, VALUE_KEYS[metric]);
  const n = Number(raw);
  if (key === null || !Number.isFinite(n)) return null;
  if (metric === "lead_time") {
    if (key.includes("seconds")) return n / 3600;
    return n;
  }
  if (metric === "time_to_restore") {
    if (key.includes("seconds")) return n / 60;
    if (key.includes("hours")) return n * 60;
    return n;
  }
  return n;
}

function series(node, metric) {
  const points = pointsOf(node)
    .map((p) => ({ label: labelOf(p), value: valueOf(p, metric) }))
    .filter((p) => p.label !== null && p.value !== null);
  if (!points.length) return null;
  return { labels: points.map((p) => p.label), data: points.map((p) => p.value) };
}

function deploymentFrequency(node) {
  const points = pointsOf(node).filter((p) => labelOf(p) !== null && valueOf(p, "deployment_frequency") !== null);
  if (!points.length) return null;
  const labels = [...new Set(points.map(labelOf))];
  const envs = [...new Set(points.map((p) => (p.environment ? String(p.environment) : "")))];
  const datasets = envs.map((env) => ({
    environment: env || null,
    data: labels.map((label) => {
      const hit = points.filter((p) => labelOf(p) === label && (p.environment ? String(p.environment) : "") === env);
      return hit.reduce((sum, p) => sum + valueOf(p, "deployment_frequency"), 0);
    }),
  }));
  return { labels, datasets };
}

function changeFailureRate(node) {
  if (!node || typeof node !== "object") return null;
  const [, failedRaw] = pick(node, ["failed", "failures", "numerator"]);
  const [, totalRaw] = pick(node, ["total", "deployments", "denominator"]);
  let failed = Number(failedRaw);
  let total = Number(totalRaw);
  if (Number.isFinite(failed) && Number.isFinite(total) && total > 0) {
    failed = Math.min(failed, total);
    return { failed, succeeded: total - failed, total, rate: failed / total };
  }
  const [, rateRaw] = pick(node, ["rate", "value", "percent"]);
  let rate = Number(rateRaw);
  if (!Number.isFinite(rate)) return null;
  if (rate > 1) rate /= 100; // a percentage
  if (rate < 0 || rate > 1) return null;
  return { failed: null, succeeded: null, total: null, rate };
}

export function normalizeMetrics(data) {
  const d = data && typeof data === "object" ? data : {};
  const result = {
    deploymentFrequency: deploymentFrequency(metricNode(d, "deployment_frequency")),
    leadTime: series(metricNode(d, "lead_time"), "lead_time"),
    changeFailureRate: changeFailureRate(metricNode(d, "change_failure_rate")),
    timeToRestore: series(metricNode(d, "time_to_restore"), "time_to_restore"),
  };
  result.empty = Object.values(result).every((v) => v === null);
  return result;
}
