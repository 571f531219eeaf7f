// Members: ADMIN lists, creates, edits (role, team) and removes users; PROJET sees its own team.
import { api } from "../api.js";
import { h, icon, skeleton, setChildren } from "../dom.js";
import { applyFieldErrors, field, focusField, formAlert, input, selectEl, serverFieldErrors } from "../forms.js";
import { t } from "../i18n.js";
import { confirmDialog, openModal } from "../modal.js";
import { ROLES, membersScope } from "../roles.js";
import { invalidateUsers, loadTeams, userLabel } from "../store.js";
import { toast, toastError } from "../toast.js";

export async function mount(main, ctx) {
  const scope = membersScope(ctx.user);
  if (!scope.visible) {
    main.append(h("div", { class: "empty-state" }, h("h1", { class: "view-title", text: t("members.forbidden_title") }), h("p", { class: "muted", text: t("members.forbidden") })));
    return undefined;
  }
  let teams = [];
  let users = [];
  const filters = { role: "", team_id: scope.teamId ?? "" };
  const body = h("div", { class: "table-wrap" });
  const count = h("p", { class: "muted", "aria-live": "polite" });
  const toolbar = h("div", { class: "toolbar" });
  main.append(h("div", { class: "view-header" }, h("h1", { class: "view-title", text: scope.manage ? t("nav.members") : t("members.my_team") }), count), toolbar, h("div", { class: "card" }, body));

  const teamName = (id) => teams.find((tm) => String(tm.id) === String(id))?.name || "—";

  function drawToolbar() {
    setChildren(toolbar, );
    if (!scope.manage) return;
    const role = selectEl([["", t("members.all_roles")], ...ROLES.map((r) => [r, t(`role.${r}`)])], filters.role, { "aria-label": t("members.filter_role") });
    const team = selectEl([["", t("filters.all_teams")], ...teams.map((tm) => [String(tm.id), tm.name])], filters.team_id, { "aria-label": t("members.filter_team") });
    role.addEventListener("change", () => {
      filters.role = role.value;
      load();
    });
    team.addEventListener("change", () => {
      filters.team_id = team.value;
      load();
    });
    const add = h("button", { type: "button", class: "btn btn--primary", onclick: () => editUser(null), text: `+ ${t("members.add")}` });
    toolbar.append(role, team, add);
  }

  function drawTable() {
    count.textContent = t("members.count", { count: users.length });
    if (!users.length) {
      setChildren(body, h("div", { class: "empty-state" }, h("p", { class: "empty-state__title", text: scope.teamId === null && !scope.manage ? t("members.no_team") : t("members.empty") })));
      return;
    }
    const cols = [t("members.col.name"), t("members.col.username"), t("members.col.email"), t("members.col.role"), t("members.col.team"), t("members.col.totp")];
    if (scope.manage) cols.push(t("members.col.actions"));
    setChildren(body, 
      h(
        "table",
        { class: "data-table" },
        h("caption", { class: "visually-hidden", text: t("members.caption") }),
        h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col", text: c })))),
        h(
          "tbody",
          {},
          users.map((u) =>
            h(
              "tr",
              {},
              h("td", { dataset: { label: cols[0] } }, userLabel(u)),
              h("td", { dataset: { label: cols[1] } }, h("code", { text: u.username })),
              h("td", { dataset: { label: cols[2] } }, u.email || "—"),
              h("td", { dataset: { label: cols[3] } }, h("span", { class: ["role-badge", `role-badge--${u.role}`], text: t(`role.${u.role}`) })),
              h("td", { dataset: { label: cols[4] } }, teamName(u.team_id)),
              h("td", { dataset: { label: cols[5] } }, u.totp_enabled ? t("common.yes") : t("common.no")),
              scope.manage
                ? h(
                    "td",
                    { dataset: { label: cols[6] }, class: "cell-actions" },
                    h("button", { type: "button", class: "icon-btn", "aria-label": t("members.edit", { name: userLabel(u) }), onclick: () => editUser(u) }, icon("edit", 18)),
                    u.id !== ctx.user.id ? h("button", { type: "button", class: "icon-btn icon-btn--danger", "aria-label": t("members.delete", { name: userLabel(u) }), onclick: () => removeUser(u) }, icon("trash", 18)) : null,
                  )
                : null,
            ),
          ),
        ),
      ),
    );
  }

  async function load() {
    setChildren(body, skeleton(5, t("common.loading")));
    try {
      const res = await api.get("/api/users", { role: filters.role, team_id: filters.team_id });
      if (!ctx.isCurrent()) return;
      users = Array.isArray(res?.items) ? res.items : [];
      drawTable();
    } catch (err) {
      if (!ctx.isCurrent()) return;
      setChildren(body, h("p", { class: "empty-state", role: "alert", text: err.detail || t("error.generic") }));
    }
  }

  function editUser(u) {
    const creating = !u;
    const alert = formAlert();
    const fields = [];
    const username = creating ? field({ label: t("register.username"), name: "username", required: true, control: input({ autocomplete: "off", maxlength: "100" }) }) : null;
    const display = field({ label: t("members.display_name"), name: "display_name", control: input({ value: u?.display_name || "", maxlength: "255" }) });
    const email = field({ label: t("register.email"), name: "email", required: true, control: input({ type: "email", value: u?.email || "", maxlength: "255" }) });
    const password = creating ? field({ label: t("members.initial_password"), name: "password", required: true, hint: t("register.password_hint", { min: 12 }), control: input({ type: "password", autocomplete: "new-password" }) }) : null;
    const role = field({ label: t("members.col.role"), name: "role", required: true, control: selectEl(ROLES.map((r) => [r, t(`role.${r}`)]), u?.role || "DEV") });
    const team = field({ label: t("members.col.team"), name: "team_id", control: selectEl([["", t("wizard.no_team")], ...teams.map((tm) => [String(tm.id), tm.name])], u?.team_id ?? "") });
    fields.push(username, display, email, password, role, team);
    const save = h("button", { type: "submit", class: "btn btn--primary", text: creating ? t("action.create") : t("action.save") });
    const cancel = h("button", { type: "button", class: "btn btn--secondary", text: t("action.cancel") });
    const form = h("form", { class: "form", novalidate: true }, alert, fields, h("div", { class: "modal__actions" }, cancel, save));
    const modal = openModal({ title: creating ? t("members.add") : t("members.edit", { name: userLabel(u) }), content: form });
    cancel.addEventListener("click", () => modal.close("cancel"));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      alert.show("");
      const payload = {
        display_name: display.control.value.trim() || null,
        email: email.control.value.trim(),
        role: role.control.value,
        team_id: team.control.value === "" ? null : Number(team.control.value),
      };
      const errors = {};
      if (creating) {
        payload.username = username.control.value.trim();
        payload.password = password.control.value;
        if (!/^[A-Za-z0-9._-]{3,100}$/.test(payload.username)) errors.username = t("validation.username");
        if ([...payload.password.normalize("NFKC")].length < 12) errors.password = t("validation.password_min", { min: 12 });
      }
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(payload.email)) errors.email = t("validation.email");
      const first = applyFieldErrors(form, errors);
      if (first) return focusField(first);
      save.disabled = true;
      try {
        if (creating) await api.post("/api/users", payload);
        else await api.put(`/api/users/${u.id}`, payload);
        invalidateUsers();
        modal.close("saved");
        toast(creating ? t("members.created") : t("members.saved"), "success");
        load();
      } catch (err) {
        const fe = serverFieldErrors(err);
        const f = applyFieldErrors(form, fe);
        alert.show(err.detail || t("error.generic"));
        if (f) focusField(f);
      } finally {
        save.disabled = false;
      }
      return undefined;
    });
  }

  async function removeUser(u) {
    const ok = await confirmDialog({ title: t("members.delete", { name: userLabel(u) }), message: t("members.delete_confirm", { name: userLabel(u) }), confirmLabel: t("action.delete"), danger: true });
    if (!ok) return;
    try {
      await api.del(`/api/users/${u.id}`);
      invalidateUsers();
      toast(t("members.deleted"), "success");
      load();
    } catch (err) {
      toastError(err);
    }
  }

  teams = await loadTeams();
  if (!ctx.isCurrent()) return undefined;
  drawToolbar();
  if (!scope.manage && scope.teamId === null) {
    count.textContent = "";
    setChildren(body, h("div", { class: "empty-state" }, h("p", { class: "empty-state__title", text: t("members.no_team") })));
    return undefined;
  }
  await load();
  return undefined;
}
