// Members: ADMIN lists, creates, edits (profile, role, team, disabled), unlocks and removes users,
// invites people, and manages teams; a PROJET sees its own team and adds or removes its members.
// API: /api/users (GET list {items,total}, POST, PUT /{id} with only the changed fields, DELETE,
// POST /{id}/unlock), /api/invitations, /api/teams (GET {items}, POST, PUT /{id}, DELETE) and
// /api/teams/{id}/members/{user_id} (PUT adds, DELETE removes).
import { api } from "../api.js";
import { h, icon, skeleton, setChildren } from "../dom.js";
import { applyFieldErrors, field, focusField, formAlert, input, selectEl, serverFieldErrors, textarea } from "../forms.js";
import { formatDateTime } from "../format.js";
import { t } from "../i18n.js";
import { errorMessage } from "../messages.js";
import { confirmDialog, openModal } from "../modal.js";
import { ROLES, membersScope } from "../roles.js";
import { invalidateUsers, invalidateTeams, loadTeams, userLabel } from "../store.js";
import { toast, toastError } from "../toast.js";

const USERNAME = /^[\p{L}\p{N}._-]{3,100}$/u;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MIN_PASSWORD = 12;

/** The fields of `next` that differ from `current` (the server changes only what it is sent). */
export function changedFields(current, next) {
  const out = {};
  for (const [key, value] of Object.entries(next)) {
    const before = current?.[key] ?? null;
    if ((value ?? null) !== before) out[key] = value;
  }
  return out;
}

/** Shows a failed save: field errors next to their fields, the problem in the form's alert. */
function showFailure(form, alert, err) {
  const fe = serverFieldErrors(err);
  const first = applyFieldErrors(form, fe);
  alert.show(Object.keys(fe).length ? t("validation.fix_fields") : errorMessage(err));
  if (first) focusField(first);
}

function modalForm({ title, fields, submitLabel, onSubmit, size }) {
  const alert = formAlert();
  const save = h("button", { type: "submit", class: "btn btn--primary", text: submitLabel });
  const cancel = h("button", { type: "button", class: "btn btn--secondary", text: t("action.cancel") });
  const form = h("form", { class: "form", novalidate: true }, alert, fields, h("div", { class: "modal__actions" }, cancel, save));
  const modal = openModal({ title, content: form, size });
  cancel.addEventListener("click", () => modal.close("cancel"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    alert.show("");
    save.disabled = true;
    try {
      await onSubmit({ form, alert, modal });
    } catch (err) {
      showFailure(form, alert, err);
    } finally {
      save.disabled = false;
    }
  });
  return { form, alert, modal };
}

export async function mount(main, ctx) {
  const me = ctx.user;
  const scope = membersScope(me);
  if (!scope.visible) {
    main.append(h("div", { class: "empty-state" }, h("h1", { class: "view-title", text: t("members.forbidden_title") }), h("p", { class: "muted", text: t("members.forbidden") })));
    return undefined;
  }
  const isAdmin = scope.manage;
  let teams = [];
  let users = [];
  let allUsers = null; // PROJET: users who could join the team
  const filters = { role: "", team_id: scope.teamId ?? "" };
  const body = h("div", { class: "table-wrap" });
  const count = h("p", { class: "muted", "aria-live": "polite" });
  const toolbar = h("div", { class: "toolbar" });
  const teamsBody = h("div", { class: "table-wrap" });
  main.append(
    h("div", { class: "view-header" }, h("h1", { class: "view-title", text: isAdmin ? t("nav.members") : t("members.my_team") }), count),
    toolbar,
    h("section", { class: "card", "aria-labelledby": "members-users-title" }, h("h2", { id: "members-users-title", class: "visually-hidden", text: t("members.caption") }), body),
  );
  if (isAdmin) {
    main.append(
      h(
        "section",
        { class: "card members-teams", "aria-labelledby": "members-teams-title" },
        h("div", { class: "card__header" }, h("h2", { id: "members-teams-title", class: "card__title", text: t("teams.title") }), h("button", { type: "button", class: "btn btn--secondary", onclick: () => editTeam(null), text: `+ ${t("teams.add")}` })),
        teamsBody,
      ),
    );
  }

  const teamName = (id) => teams.find((tm) => String(tm.id) === String(id))?.name || "—";
  const teamOptions = () => [["", t("wizard.no_team")], ...teams.map((tm) => [String(tm.id), tm.name])];

  function drawToolbar() {
    setChildren(toolbar);
    if (isAdmin) {
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
      toolbar.append(
        role,
        team,
        h("button", { type: "button", class: "btn btn--primary", onclick: () => editUser(null), text: `+ ${t("members.add")}` }),
        h("button", { type: "button", class: "btn btn--secondary", onclick: invite, text: t("members.invite") }),
      );
    } else if (scope.teamId !== null) {
      toolbar.append(h("button", { type: "button", class: "btn btn--primary", onclick: addToTeam, text: `+ ${t("members.add_to_team")}` }));
    }
  }

  function statusBadges(u) {
    const badges = [];
    if (u.disabled) badges.push(h("span", { class: "status-badge status-badge--failed", text: t("members.disabled") }));
    if (u.locked) badges.push(h("span", { class: "status-badge status-badge--pending_approval", text: t("members.locked") }));
    return badges.length ? badges : t("members.active");
  }

  function drawTable() {
    count.textContent = t("members.count", { count: users.length });
    if (!users.length) {
      setChildren(body, h("div", { class: "empty-state" }, h("p", { class: "empty-state__title", text: t("members.empty") })));
      return;
    }
    const cols = [t("members.col.name"), t("members.col.username"), t("members.col.email"), t("members.col.role"), t("members.col.team"), t("members.col.totp"), t("members.col.status"), t("members.col.actions")];
    const actions = (u) => {
      const name = userLabel(u);
      if (isAdmin) {
        return [
          h("button", { type: "button", class: "icon-btn", "aria-label": t("members.edit", { name }), title: t("members.edit", { name }), onclick: () => editUser(u) }, icon("edit", 18)),
          u.locked ? h("button", { type: "button", class: "btn btn--ghost btn--small", "aria-label": t("members.unlock_name", { name }), onclick: () => unlock(u), text: t("members.unlock") }) : null,
          u.id !== me.id ? h("button", { type: "button", class: "icon-btn icon-btn--danger", "aria-label": t("members.delete", { name }), title: t("members.delete", { name }), onclick: () => removeUser(u) }, icon("trash", 18)) : null,
        ];
      }
      return u.id !== me.id ? h("button", { type: "button", class: "icon-btn icon-btn--danger", "aria-label": t("members.remove_from_team", { name }), title: t("members.remove_from_team", { name }), onclick: () => removeFromTeam(u) }, icon("trash", 18)) : null;
    };
    setChildren(
      body,
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
              h("td", { dataset: { label: cols[6] } }, statusBadges(u)),
              h("td", { dataset: { label: cols[7] }, class: "cell-actions" }, actions(u)),
            ),
          ),
        ),
      ),
    );
  }

  function drawTeams() {
    if (!isAdmin) return;
    if (!teams.length) {
      setChildren(teamsBody, h("div", { class: "empty-state" }, h("p", { class: "empty-state__title", text: t("teams.empty") })));
      return;
    }
    const cols = [t("teams.col.name"), t("teams.col.description"), t("teams.col.lead"), t("teams.col.created"), t("members.col.actions")];
    setChildren(
      teamsBody,
      h(
        "table",
        { class: "data-table" },
        h("caption", { class: "visually-hidden", text: t("teams.title") }),
        h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col", text: c })))),
        h(
          "tbody",
          {},
          teams.map((tm) =>
            h(
              "tr",
              {},
              h("td", { dataset: { label: cols[0] } }, tm.name),
              h("td", { dataset: { label: cols[1] } }, tm.description || "—"),
              h("td", { dataset: { label: cols[2] } }, tm.lead_id ? userLabel(users.find((u) => u.id === tm.lead_id)) || `#${tm.lead_id}` : "—"),
              h("td", { dataset: { label: cols[3] } }, tm.created_at ? h("time", { datetime: tm.created_at, text: formatDateTime(tm.created_at) }) : "—"),
              h(
                "td",
                { dataset: { label: cols[4] }, class: "cell-actions" },
                h("button", { type: "button", class: "icon-btn", "aria-label": t("teams.edit", { name: tm.name }), title: t("teams.edit", { name: tm.name }), onclick: () => editTeam(tm) }, icon("edit", 18)),
                h("button", { type: "button", class: "icon-btn icon-btn--danger", "aria-label": t("teams.delete", { name: tm.name }), title: t("teams.delete", { name: tm.name }), onclick: () => removeTeam(tm) }, icon("trash", 18)),
              ),
            ),
          ),
        ),
      ),
    );
  }

  async function load() {
    setChildren(body, skeleton(5, t("common.loading")));
    try {
      const res = await api.get("/api/users", { role: filters.role, team_id: filters.team_id, limit: 500 });
      if (!ctx.isCurrent()) return;
      users = Array.isArray(res?.items) ? res.items : [];
      drawTable();
      drawTeams();
    } catch (err) {
      if (!ctx.isCurrent()) return;
      setChildren(body, h("p", { class: "empty-state", role: "alert", text: errorMessage(err) }));
    }
  }

  async function reloadTeams() {
    invalidateTeams();
    teams = await loadTeams();
    if (!ctx.isCurrent()) return;
    drawToolbar();
    drawTeams();
    drawTable();
  }

  function editUser(u) {
    const creating = !u;
    const self = !creating && u.id === me.id;
    const username = creating ? field({ label: t("register.username"), name: "username", required: true, hint: t("register.username_hint"), control: input({ autocomplete: "off", autocapitalize: "none", spellcheck: "false", maxlength: "100" }) }) : null;
    const display = field({ label: t("members.display_name"), name: "display_name", control: input({ value: u?.display_name || "", maxlength: "100" }) });
    const email = field({ label: t("register.email"), name: "email", required: true, control: input({ type: "email", value: u?.email || "", maxlength: "255", autocomplete: "off" }) });
    const password = creating ? field({ label: t("members.initial_password"), name: "password", required: true, hint: t("register.password_hint", { min: MIN_PASSWORD }), control: input({ type: "password", autocomplete: "new-password" }) }) : null;
    const roleSelect = selectEl(ROLES.map((r) => [r, t(`role.${r}`)]), u?.role || "DEV", self ? { disabled: true } : {});
    const role = field({ label: t("members.col.role"), name: "role", required: true, hint: self ? t("members.own_role") : null, control: roleSelect });
    const team = field({ label: t("members.col.team"), name: "team_id", control: selectEl(teamOptions(), u?.team_id ?? "") });
    const disabledBox = h("input", { type: "checkbox", id: `user-disabled-${u?.id ?? "new"}`, checked: Boolean(u?.disabled) });
    const disabledRow = !creating && !self ? h("div", { class: "checkbox-row" }, disabledBox, h("label", { for: disabledBox.id, text: t("members.disable_account") })) : null;
    // Changing one's own e-mail needs the current password (the server asks for it).
    const currentPassword = self ? field({ label: t("members.current_password"), name: "current_password", hint: t("members.current_password_hint"), control: input({ type: "password", autocomplete: "current-password" }) }) : null;
    modalForm({
      title: creating ? t("members.add") : t("members.edit", { name: userLabel(u) }),
      fields: [username, display, email, password, role, team, currentPassword, disabledRow],
      submitLabel: creating ? t("action.create") : t("action.save"),
      async onSubmit({ form, alert, modal }) {
        const next = {
          display_name: display.control.value.trim(),
          email: email.control.value.trim(),
          team_id: team.control.value === "" ? null : Number(team.control.value),
        };
        if (!self) next.role = role.control.value;
        if (!creating && !self) next.disabled = disabledBox.checked;
        const errors = {};
        if (creating) {
          next.username = username.control.value.trim();
          next.password = password.control.value;
          if (!USERNAME.test(next.username)) errors.username = t("validation.username");
          if ([...next.password.normalize("NFKC")].length < MIN_PASSWORD) errors.password = t("validation.password_min", { min: MIN_PASSWORD });
        }
        if (!EMAIL.test(next.email)) errors.email = t("validation.email");
        const payload = creating ? next : changedFields(u, next);
        if (self && payload.email !== undefined) {
          if (!currentPassword.control.value) errors.current_password = t("validation.current_password");
          else payload.current_password = currentPassword.control.value;
        }
        const first = applyFieldErrors(form, errors);
        if (first) {
          alert.show(t("validation.fix_fields"));
          focusField(first);
          return;
        }
        if (creating) {
          if (!payload.display_name) delete payload.display_name;
          await api.post("/api/users", payload);
        } else if (Object.keys(payload).length) {
          const updated = await api.put(`/api/users/${encodeURIComponent(u.id)}`, payload);
          if (self && updated) api.setUser({ ...api.user, ...updated });
        }
        invalidateUsers();
        modal.close("saved");
        toast(creating ? t("members.created") : t("members.saved"), "success");
        load();
      },
    });
  }

  function invite() {
    const email = field({ label: t("register.email"), name: "email", required: true, control: input({ type: "email", maxlength: "255", autocomplete: "off" }) });
    const role = field({ label: t("members.col.role"), name: "role", required: true, control: selectEl(ROLES.map((r) => [r, t(`role.${r}`)]), "DEV") });
    const team = field({ label: t("members.col.team"), name: "team_id", control: selectEl(teamOptions(), "") });
    const hours = field({ label: t("members.invite_hours"), name: "valid_hours", hint: t("members.invite_hours_hint"), control: input({ type: "number", min: "1", max: "720", value: "72", inputmode: "numeric" }) });
    modalForm({
      title: t("members.invite"),
      fields: [email, role, team, hours],
      submitLabel: t("members.invite_send"),
      async onSubmit({ form, alert, modal }) {
        const payload = { email: email.control.value.trim(), role: role.control.value, team_id: team.control.value === "" ? null : Number(team.control.value) };
        const n = Number(hours.control.value);
        const errors = {};
        if (!EMAIL.test(payload.email)) errors.email = t("validation.email");
        if (!Number.isInteger(n) || n < 1 || n > 720) errors.valid_hours = t("validation.invalid");
        else payload.valid_hours = n;
        const first = applyFieldErrors(form, errors);
        if (first) {
          alert.show(t("validation.fix_fields"));
          focusField(first);
          return;
        }
        const inv = await api.post("/api/invitations", payload);
        // The token is shown once: the link replaces the form until the dialog is closed.
        const link = h("input", { class: "input", type: "text", readonly: true, value: inv?.url || "", id: "invitation-link", "aria-describedby": "invitation-link-hint" });
        const copy = h("button", { type: "button", class: "btn btn--secondary", text: t("action.copy") });
        copy.addEventListener("click", async () => {
          try {
            await navigator.clipboard.writeText(link.value);
            toast(t("common.copied"), "success");
          } catch {
            link.select();
            toast(t("common.copy_failed"), "warning");
          }
        });
        const close = h("button", { type: "button", class: "btn btn--primary", text: t("action.close"), onclick: () => modal.close("done") });
        setChildren(
          modal.body,
          h("p", { class: "notice notice--warning", role: "note", text: t("members.invite_once") }),
          h("div", { class: "field" }, h("label", { class: "field__label", for: "invitation-link", text: t("members.invite_link") }), link, h("p", { id: "invitation-link-hint", class: "field__hint", text: t("members.invite_expires", { date: formatDateTime(inv?.expires_at) }) })),
          h("div", { class: "modal__actions" }, copy, close),
        );
        link.focus();
        link.select();
      },
    });
  }

  function editTeam(tm) {
    const creating = !tm;
    const name = field({ label: t("teams.col.name"), name: "name", required: true, control: input({ value: tm?.name || "", maxlength: "100" }) });
    const description = field({ label: t("teams.col.description"), name: "description", control: textarea({ rows: 3, maxlength: "1000" }) });
    description.control.value = tm?.description || "";
    const lead = field({ label: t("teams.col.lead"), name: "lead_id", control: selectEl([["", t("common.none")], ...users.map((u) => [String(u.id), `${userLabel(u)} (${u.username})`])], tm?.lead_id ?? "") });
    modalForm({
      title: creating ? t("teams.add") : t("teams.edit", { name: tm.name }),
      fields: [name, description, lead],
      submitLabel: creating ? t("action.create") : t("action.save"),
      async onSubmit({ form, alert, modal }) {
        const next = { name: name.control.value.trim(), description: description.control.value.trim(), lead_id: lead.control.value === "" ? null : Number(lead.control.value) };
        if (!next.name) {
          const first = applyFieldErrors(form, { name: t("validation.required") });
          alert.show(t("validation.fix_fields"));
          focusField(first);
          return;
        }
        if (creating) {
          if (next.lead_id === null) delete next.lead_id;
          await api.post("/api/teams", next);
        } else {
          const payload = changedFields(tm, next);
          // The API cannot clear a lead (null means "unchanged"): leave it as it is.
          if (payload.lead_id === null) delete payload.lead_id;
          if (Object.keys(payload).length) await api.put(`/api/teams/${encodeURIComponent(tm.id)}`, payload);
        }
        modal.close("saved");
        toast(creating ? t("teams.created") : t("teams.saved"), "success");
        reloadTeams();
      },
    });
  }

  async function removeTeam(tm) {
    const ok = await confirmDialog({ title: t("teams.delete", { name: tm.name }), message: t("teams.delete_confirm", { name: tm.name }), confirmLabel: t("action.delete"), danger: true });
    if (!ok) return;
    try {
      await api.del(`/api/teams/${encodeURIComponent(tm.id)}`);
      toast(t("teams.deleted"), "success");
      await reloadTeams();
      load();
    } catch (err) {
      toastError(err);
    }
  }

  async function unlock(u) {
    try {
      await api.post(`/api/users/${encodeURIComponent(u.id)}/unlock`);
      toast(t("members.unlocked", { name: userLabel(u) }), "success");
      load();
    } catch (err) {
      toastError(err);
    }
  }

  async function removeUser(u) {
    const ok = await confirmDialog({ title: t("members.delete", { name: userLabel(u) }), message: t("members.delete_confirm", { name: userLabel(u) }), confirmLabel: t("action.delete"), danger: true });
    if (!ok) return;
    try {
      await api.del(`/api/users/${encodeURIComponent(u.id)}`);
      invalidateUsers();
      toast(t("members.deleted"), "success");
      load();
    } catch (err) {
      toastError(err);
    }
  }

  async function addToTeam() {
    if (!allUsers) {
      try {
        const res = await api.get("/api/users", { limit: 500 });
        allUsers = Array.isArray(res?.items) ? res.items : [];
      } catch (err) {
        toastError(err);
        return;
      }
    }
    const candidates = allUsers.filter((u) => u.team_id === null || u.team_id === undefined);
    const who = field({ label: t("members.add_who"), name: "user_id", required: true, hint: candidates.length ? null : t("members.no_candidates"), control: selectEl(candidates.map((u) => [String(u.id), `${userLabel(u)} (${u.username})`]), candidates[0]?.id ?? "") });
    modalForm({
      title: t("members.add_to_team"),
      fields: [who],
      submitLabel: t("action.add"),
      async onSubmit({ modal }) {
        if (!who.control.value) return;
        await api.put(`/api/teams/${encodeURIComponent(scope.teamId)}/members/${encodeURIComponent(who.control.value)}`);
        allUsers = null;
        invalidateUsers();
        modal.close("saved");
        toast(t("members.added_to_team"), "success");
        load();
      },
    });
  }

  async function removeFromTeam(u) {
    const ok = await confirmDialog({ title: t("members.remove_from_team", { name: userLabel(u) }), message: t("members.remove_confirm", { name: userLabel(u) }), confirmLabel: t("members.remove"), danger: true });
    if (!ok) return;
    try {
      await api.del(`/api/teams/${encodeURIComponent(scope.teamId)}/members/${encodeURIComponent(u.id)}`);
      allUsers = null;
      invalidateUsers();
      toast(t("members.removed_from_team"), "success");
      load();
    } catch (err) {
      toastError(err);
    }
  }

  teams = await loadTeams();
  if (!ctx.isCurrent()) return undefined;
  drawToolbar();
  if (!isAdmin && scope.teamId === null) {
    count.textContent = "";
    setChildren(body, h("div", { class: "empty-state" }, h("p", { class: "empty-state__title", text: t("members.no_team") })));
    return undefined;
  }
  await load();
  return undefined;
}
