// Table view: the events of a date range with the navbar filters (type, team, status, creator, dates)
// and sortable columns. Doubles as the accessible, screen-reader friendly alternative to the calendar.
import { api } from "../api.js";
import { hasFeature } from "../capabilities.js";
import { h, skeleton, setChildren } from "../dom.js";
import { formatDate, formatDateTime } from "../format.js";
import { label, t } from "../i18n.js";
import { creatableKinds } from "../roles.js";
import { filterQuery, getFilters, loadTeams, loadUsers, onFiltersChange, resetFilters, userLabel } from "../store.js";
import { toastError } from "../toast.js";

const COLUMNS = [
  ["title", "table.col.title"],
  ["type", "table.col.type"],
  ["start", "table.col.start"],
  ["end", "table.col.end"],
  ["status", "table.col.status"],
  ["team", "table.col.team"],
  ["creator", "table.col.creator"],
];

/** Default range when the filters set none: from 30 days ago to 90 days ahead. */
function defaultRange(now = new Date()) {
  const start = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 30);
  const end = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 90);
  return { start, end };
}

export function sortEvents(items, key, dir, { teamName = () => "", creatorName = (e) => e.created_by?.username || "", collator = new Intl.Collator() } = {}) {
  const value = (e) => {
    switch (key) {
      case "start":
        return new Date(e.occurrence_start || e.start).getTime();
      case "end":
        return new Date(e.end).getTime();
      case "creator":
        return creatorName(e);
      case "team":
        return teamName(e.team_id);
      default:
        return e[key] ?? "";
    }
  };
  const sign = dir === "desc" ? -1 : 1;
  return [...items].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    const cmp = typeof va === "number" && typeof vb === "number" ? va - vb : collator.compare(String(va), String(vb));
    return cmp * sign;
  });
}

export async function mount(main, ctx) {
  let items = [];
  let teams = [];
  let users = [];
  let sort = { key: "start", dir: "asc" };
  const caption = h("p", { class: "muted", "aria-live": "polite" });
  const body = h("div", { class: "table-wrap" });
  if (!hasFeature("events")) {
    main.append(h("div", { class: "view-header" }, h("h1", { class: "view-title", text: t("nav.table") })), h("p", { class: "notice notice--info", role: "note", text: t("events.unavailable") }));
    return undefined;
  }
  main.append(
    h("div", { class: "view-header" }, h("h1", { class: "view-title", text: t("nav.table") }), caption),
    h("div", { class: "card" }, body),
  );

  const teamName = (id) => teams.find((tm) => String(tm.id) === String(id))?.name || "";
  // The API names the creator by username; the members list knows the display name.
  const creatorName = (e) => (e.created_by ? userLabel(users.find((u) => u.id === e.created_by.id) || e.created_by) : "");

  function drawTable() {
    const f = getFilters();
    if (!items.length) {
      const actions = h("div", { class: "button-row" });
      if (Object.values(f).some((v) => v !== "")) {
        actions.append(h("button", { type: "button", class: "btn btn--secondary", onclick: () => resetFilters(), text: t("filters.reset") }));
      }
      if (creatableKinds(ctx.user.role).length) {
        actions.append(h("button", { type: "button", class: "btn btn--primary", onclick: () => ctx.openWizard(), text: `+ ${t("nav.new_event")}` }));
      }
      setChildren(body, h("div", { class: "empty-state" }, h("p", { class: "empty-state__title", text: t("table.empty") }), h("p", { class: "muted", text: t("table.empty_hint") }), actions));
      return;
    }
    const sorted = sortEvents(items, sort.key, sort.dir, { teamName, creatorName, collator: new Intl.Collator(document.documentElement.lang) });
    const head = h(
      "tr",
      {},
      COLUMNS.map(([key, label]) => {
        const active = sort.key === key;
        const btn = h("button", { type: "button", class: "th-sort" }, t(label), h("span", { class: "th-sort__arrow", "aria-hidden": "true", text: active ? (sort.dir === "asc" ? "▲" : "▼") : "↕" }));
        btn.addEventListener("click", () => {
          sort = { key, dir: active && sort.dir === "asc" ? "desc" : "asc" };
          drawTable();
          body.querySelector(`th[data-key="${key}"] button`)?.focus();
        });
        return h("th", { scope: "col", dataset: { key }, "aria-sort": active ? (sort.dir === "asc" ? "ascending" : "descending") : "none" }, btn);
      }),
    );
    const rows = sorted.map((e) =>
      h(
        "tr",
        {},
        h("td", { dataset: { label: t("table.col.title") } }, h("a", { href: `/events/${e.id}`, class: "table-link", text: e.title })),
        h("td", { dataset: { label: t("table.col.type") } }, h("span", { class: ["type-chip", `ev--${e.type}`], text: t(`kind.${e.type}`) })),
        h("td", { dataset: { label: t("table.col.start") } }, h("time", { datetime: e.occurrence_start || e.start, text: formatDateTime(e.occurrence_start || e.start) })),
        h("td", { dataset: { label: t("table.col.end") } }, h("time", { datetime: e.end, text: formatDateTime(e.end) })),
        h("td", { dataset: { label: t("table.col.status") } }, h("span", { class: ["status-badge", `status-badge--${e.status}`], text: label("status.event", e.status) })),
        h("td", { dataset: { label: t("table.col.team") } }, teamName(e.team_id) || "—"),
        h("td", { dataset: { label: t("table.col.creator") } }, creatorName(e) || "—"),
      ),
    );
    setChildren(body, 
      h("table", { class: "data-table" }, h("caption", { class: "visually-hidden", text: t("table.caption") }), h("thead", {}, head), h("tbody", {}, rows)),
    );
  }

  async function load() {
    const f = getFilters();
    const range = defaultRange();
    const query = filterQuery();
    if (!f.start) query.start = range.start.toISOString();
    if (!f.end) query.end = range.end.toISOString();
    setChildren(body, skeleton(6, t("common.loading")));
    try {
      const [res, teamList, userList] = await Promise.all([api.get("/api/events", query), loadTeams(), loadUsers()]);
      if (!ctx.isCurrent()) return;
      teams = teamList;
      users = userList;
      items = Array.isArray(res?.items) ? res.items : [];
      caption.textContent = t("table.count", { count: items.length, from: formatDate(query.start), to: formatDate(query.end) });
      drawTable();
    } catch (err) {
      if (!ctx.isCurrent()) return;
      setChildren(body, h("p", { class: "empty-state", role: "alert", text: err.detail || t("error.generic") }));
      toastError(err);
    }
  }

  const off = onFiltersChange(load);
  await load();
  return off;
}
