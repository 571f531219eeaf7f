// The "Filtres" panel under the navbar: type, team, status, creator and date range. The calendar and
// the table both follow these filters (the calendar keeps its own visible range and jumps to the start
// date when one is set).
import { h, uid, setChildren } from "../dom.js";
import { label, t } from "../i18n.js";
import { EVENT_KINDS, EVENT_STATUSES } from "../roles.js";
import { getFilters, loadTeams, loadUsers, resetFilters, setFilters, userLabel } from "../store.js";

export const STATUSES = EVENT_STATUSES;

function field(labelText, control) {
  const id = control.id || uid("f");
  control.id = id;
  return h("div", { class: "field field--inline" }, h("label", { for: id, text: labelText }), control);
}

function select(name, options, value) {
  const el = h("select", { name, class: "input" }, options.map(([v, label]) => h("option", { value: v, selected: v === value, text: label })));
  return el;
}

export function createFiltersPanel() {
  const el = h("section", { id: "filters-panel", class: "filters-panel", "aria-label": t("filters.title") });
  let teams = [];
  let users = [];
  let loaded = false;

  function rerender() {
    const f = getFilters();
    el.setAttribute("aria-label", t("filters.title"));
    const type = select("type", [["", t("filters.all_types")], ...EVENT_KINDS.map((k) => [k, t(`kind.${k}`)])], f.type);
    const status = select("status", [["", t("filters.all_statuses")], ...STATUSES.map((s) => [s, label("status.event", s)])], f.status);
    const team = select("team_id", [["", t("filters.all_teams")], ...teams.map((tm) => [String(tm.id), tm.name])], f.team_id);
    const creator = select("created_by", [["", t("filters.all_creators")], ...users.map((u) => [String(u.id), userLabel(u)])], f.created_by);
    const start = h("input", { type: "date", name: "start", class: "input", value: f.start });
    const end = h("input", { type: "date", name: "end", class: "input", value: f.end });
    for (const control of [type, status, team, creator, start, end]) {
      control.addEventListener("change", () => setFilters({ [control.name]: control.value }));
    }
    const reset = h("button", { type: "button", class: "btn btn--secondary", text: t("filters.reset") });
    reset.addEventListener("click", () => {
      resetFilters();
      rerender();
    });
    setChildren(el, 
      h("h2", { class: "visually-hidden", text: t("filters.title") }),
      h(
        "div",
        { class: "filters-panel__grid" },
        field(t("filters.type"), type),
        field(t("filters.status"), status),
        field(t("filters.team"), team),
        field(t("filters.creator"), creator),
        field(t("filters.from"), start),
        field(t("filters.to"), end),
        h("div", { class: "field field--inline field--end" }, reset),
      ),
    );
  }

  async function load() {
    if (loaded) return;
    loaded = true;
    [teams, users] = await Promise.all([loadTeams(), loadUsers()]);
    rerender();
  }

  rerender();
  return {
    el,
    rerender,
    focus() {
      load();
      el.querySelector("select")?.focus();
    },
    reset() {
      loaded = false;
      teams = [];
      users = [];
      rerender();
    },
  };
}
