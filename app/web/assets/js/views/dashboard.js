// DORA dashboard (/metrics): deployment frequency, lead time for changes, change failure rate and time
// to restore, as a 2x2 grid of Chart.js charts in the dark palette. A metric without data shows an
// empty state, never an invented chart.
import { api } from "../api.js";
import { hasFeature } from "../capabilities.js";
import { h, skeleton, setChildren } from "../dom.js";
import { toMonthInput } from "../format.js";
import { getLocale, t } from "../i18n.js";
import { normalizeMetrics } from "../metrics.js";

const PALETTE = { neon: "#00ff00", yellow: "#facc15", blue: "#3b82f6", red: "#f87171", text: "#d1d5db", grid: "#222222" };
const ENV_COLORS = { prod: PALETTE.yellow, staging: PALETTE.blue, dev: PALETTE.neon };

function themeCharts(Chart) {
  Chart.defaults.color = PALETTE.text;
  Chart.defaults.borderColor = PALETTE.grid;
  Chart.defaults.font.family = 'system-ui, -apple-system, BlinkMacSystemFont, "Segoe UI", sans-serif';
  Chart.defaults.plugins.legend.labels.color = PALETTE.text;
}

export async function mount(main, ctx) {
  if (!hasFeature("metrics")) {
    main.append(
      h("div", { class: "view-header" }, h("h1", { class: "view-title", text: t("dashboard.title") }), h("p", { class: "muted", text: t("dashboard.lead") })),
      h("p", { class: "notice notice--info", role: "note", text: t("dashboard.unavailable") }),
    );
    return undefined;
  }
  const now = new Date();
  const range = { start: toMonthInput(new Date(now.getFullYear(), now.getMonth() - 2, 1)), end: toMonthInput(now) };
  const charts = [];
  const grid = h("div", { class: "dashboard-grid" });
  const startInput = h("input", { type: "month", id: "metrics-start", class: "input", value: range.start });
  const endInput = h("input", { type: "month", id: "metrics-end", class: "input", value: range.end });
  const apply = h("button", { type: "submit", class: "btn btn--secondary", text: t("dashboard.apply") });
  const form = h(
    "form",
    { class: "toolbar", "aria-label": t("dashboard.range") },
    h("div", { class: "field field--inline" }, h("label", { for: "metrics-start", text: t("dashboard.from") }), startInput),
    h("div", { class: "field field--inline" }, h("label", { for: "metrics-end", text: t("dashboard.to") }), endInput),
    apply,
  );
  const notice = h("div", { "aria-live": "polite" });
  main.append(h("div", { class: "view-header" }, h("h1", { class: "view-title", text: t("dashboard.title") }), h("p", { class: "muted", text: t("dashboard.lead") })), form, notice, grid);

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (startInput.value && endInput.value && startInput.value > endInput.value) {
      setChildren(notice, h("p", { class: "form-alert", role: "alert", text: t("dashboard.range_invalid") }));
      return;
    }
    range.start = startInput.value || range.start;
    range.end = endInput.value || range.end;
    load();
  });

  function destroyCharts() {
    while (charts.length) charts.pop().destroy();
  }

  function card(key, target, draw, summary) {
    const title = t(`dashboard.${key}`);
    const body = h("div", { class: "chart-box" });
    const el = h("section", { class: "card chart-card", "aria-labelledby": `chart-${key}` }, h("h2", { id: `chart-${key}`, class: "card__title", text: title }), h("p", { class: "muted chart-card__target", text: target }), body);
    if (!draw) {
      body.append(h("div", { class: "empty-state empty-state--compact" }, h("p", { text: t("dashboard.no_data") })));
      return el;
    }
    const canvas = h("canvas", { role: "img", "aria-label": `${title}. ${summary}` });
    body.append(canvas);
    requestAnimationFrame(() => {
      if (!canvas.isConnected) return;
      charts.push(draw(canvas));
    });
    return el;
  }

  async function load() {
    destroyCharts();
    setChildren(notice, );
    setChildren(grid, ...Array.from({ length: 4 }, () => h("div", { class: "card chart-card" }, skeleton(4, t("common.loading")))));
    let data;
    try {
      data = normalizeMetrics(await api.get("/api/metrics", { start: range.start, end: range.end }));
    } catch (err) {
      if (!ctx.isCurrent()) return;
      setChildren(grid, );
      setChildren(notice, h("p", { class: "form-alert", role: "alert", text: err.detail || t("dashboard.error") }));
      return;
    }
    if (!ctx.isCurrent()) return;
    const Chart = window.Chart;
    if (Chart) themeCharts(Chart);
    const nf = new Intl.NumberFormat(getLocale(), { maximumFractionDigits: 1 });
    const pf = new Intl.NumberFormat(getLocale(), { style: "percent", maximumFractionDigits: 1 });
    if (data.empty) {
      setChildren(notice, h("div", { class: "empty-state" }, h("p", { class: "empty-state__title", text: t("dashboard.empty_title") }), h("p", { class: "muted", text: t("dashboard.empty_text") })));
    }
    const df = data.deploymentFrequency;
    const lt = data.leadTime;
    const cfr = data.changeFailureRate;
    const mttr = data.timeToRestore;
    const baseOptions = { responsive: true, maintainAspectRatio: false, animation: { duration: 200 }, plugins: { legend: { position: "bottom" } } };
    setChildren(grid, 
      card(
        "deployment_frequency",
        t("dashboard.target_df"),
        Chart && df
          ? (canvas) =>
              new Chart(canvas, {
                type: "bar",
                data: { labels: df.labels, datasets: df.datasets.map((d) => ({ label: d.environment ? t(`env.${d.environment}`) : t("dashboard.deployments"), data: d.data, backgroundColor: ENV_COLORS[d.environment] || PALETTE.neon, borderRadius: 4 })) },
                options: { ...baseOptions, scales: { x: { stacked: true, grid: { color: PALETTE.grid } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, grid: { color: PALETTE.grid } } } },
              })
          : null,
        df ? t("dashboard.sr_df", { total: nf.format(df.datasets.reduce((s, d) => s + d.data.reduce((a, b) => a + b, 0), 0)), periods: df.labels.length }) : "",
      ),
      card(
        "lead_time",
        t("dashboard.target_lt"),
        Chart && lt
          ? (canvas) =>
              new Chart(canvas, {
                type: "line",
                data: { labels: lt.labels, datasets: [{ label: t("dashboard.median_hours"), data: lt.data, borderColor: PALETTE.blue, backgroundColor: "rgba(59,130,246,0.2)", fill: true, tension: 0.3 }] },
                options: { ...baseOptions, scales: { y: { beginAtZero: true, grid: { color: PALETTE.grid } }, x: { grid: { color: PALETTE.grid } } } },
              })
          : null,
        lt ? t("dashboard.sr_lt", { last: nf.format(lt.data[lt.data.length - 1]) }) : "",
      ),
      card(
        "change_failure_rate",
        t("dashboard.target_cfr"),
        Chart && cfr
          ? (canvas) =>
              new Chart(canvas, {
                type: "doughnut",
                data: {
                  labels: [t("dashboard.failed"), t("dashboard.succeeded")],
                  datasets: [{ data: cfr.failed === null ? [cfr.rate, 1 - cfr.rate] : [cfr.failed, cfr.succeeded], backgroundColor: [PALETTE.red, PALETTE.neon], borderColor: "#050505" }],
                },
                options: { ...baseOptions, cutout: "60%" },
              })
          : null,
        cfr ? t("dashboard.sr_cfr", { rate: pf.format(cfr.rate) }) + (cfr.total !== null ? ` (${cfr.failed}/${cfr.total})` : "") : "",
      ),
      card(
        "time_to_restore",
        t("dashboard.target_mttr"),
        Chart && mttr
          ? (canvas) =>
              new Chart(canvas, {
                type: "line",
                data: { labels: mttr.labels, datasets: [{ label: t("dashboard.mean_minutes"), data: mttr.data, borderColor: PALETTE.yellow, backgroundColor: "rgba(250,204,21,0.2)", fill: true, tension: 0.3 }] },
                options: { ...baseOptions, scales: { y: { beginAtZero: true, grid: { color: PALETTE.grid } }, x: { grid: { color: PALETTE.grid } } } },
              })
          : null,
        mttr ? t("dashboard.sr_mttr", { last: nf.format(mttr.data[mttr.data.length - 1]) }) : "",
      ),
    );
    if (cfr) {
      const figure = grid.querySelector("#chart-change_failure_rate")?.parentElement;
      figure?.querySelector(".chart-card__target")?.after(h("p", { class: "big-number", text: pf.format(cfr.rate) }));
    }
  }

  await load();
  return destroyCharts;
}
