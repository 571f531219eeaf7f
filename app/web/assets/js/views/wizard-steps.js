// The fields of each wizard step (spec 3.1), bound to the wizard's data object. Each renderer returns
// the step's content; STEP_FIELDS maps server field names back to the step that edits them.
import { api } from "../api.js";
import { h, trustedHtml, uid, setChildren } from "../dom.js";
import { field, input, selectEl, textarea } from "../forms.js";
import { formatDuration, formatRange, fromLocalInputs, addMinutes } from "../format.js";
import { t } from "../i18n.js";
import { userLabel } from "../store.js";
import { toastError } from "../toast.js";
import {
  ENVIRONMENTS,
  GIT_ACTIONS,
  LIMITS,
  MEETING_KINDS,
  POST_ACTIONS,
  RECURRENCES,
  TRIGGERS,
  gitTitle,
  needsApproval,
} from "../wizard-model.js";

export const STEP_FIELDS = Object.freeze({
  meeting: { basics: ["title", "description", "date", "time", "duration", "team_id", "start", "end"], people: ["meeting_kind", "participants", "video_url"], agenda: ["agenda_md", "sprint", "epic", "tags", "recurrence", "until"], summary: [] },
  deployment_window: { schedule: ["title", "environment", "date", "time", "duration", "duration_minutes", "team_id", "start", "end"], changes: ["services", "change_description", "description"], checklist: ["checklist"], rollback: ["rollback_plan"], summary: [] },
  git_action: { repository: ["repository_url", "branch", "title"], action: ["action", "trigger", "cron"], post_actions: ["post_actions"], summary: ["date", "time", "duration", "description", "team_id", "start", "end"] },
});

// ---- bound controls ----------------------------------------------------------------------------

function text(data, name, label, { required, hint, type = "text", max, attrs = {}, area = false, rows } = {}) {
  const control = area ? textarea({ rows: rows || 4, ...attrs }) : input({ type, ...attrs });
  control.value = data[name] ?? "";
  if (max) control.maxLength = max;
  control.addEventListener("input", () => {
    data[name] = type === "number" ? control.value : control.value;
  });
  return field({ label, name, required, hint, control });
}

function choice(data, name, label, options, { required = true, hint } = {}) {
  const control = selectEl(options, data[name]);
  control.addEventListener("change", () => {
    data[name] = control.value;
  });
  return field({ label, name, required, hint, control });
}

/** Radio cards (environment, action, trigger): a fieldset of native radios. */
function radios(data, name, label, options, { onChange, hint } = {}) {
  const group = uid(name);
  const box = h(
    "div",
    { class: "radio-cards" },
    options.map(([value, title, desc]) => {
      const id = `${group}-${value}`;
      const radio = h("input", { type: "radio", name: group, id, value, checked: data[name] === value });
      radio.addEventListener("change", () => {
        if (radio.checked) {
          data[name] = value;
          onChange?.(value);
        }
      });
      return h("label", { class: ["radio-card", `radio-card--${value}`], for: id }, radio, h("span", { class: "radio-card__title", text: title }), desc ? h("span", { class: "radio-card__desc", text: desc }) : null);
    }),
  );
  return field({ label, name, required: true, hint, control: box, group: true });
}

function checkboxes(data, name, label, options, { hint } = {}) {
  const box = h(
    "div",
    { class: "checkbox-list" },
    options.map(([value, title]) => {
      const id = uid(`${name}-${value}`);
      const cb = h("input", { type: "checkbox", id, value: String(value), checked: data[name].map(String).includes(String(value)) });
      cb.addEventListener("change", () => {
        const set = new Set(data[name].map(String));
        if (cb.checked) set.add(String(value));
        else set.delete(String(value));
        data[name] = options.map(([v]) => v).filter((v) => set.has(String(v)));
      });
      return h("div", { class: "checkbox-row" }, cb, h("label", { for: id, text: title }));
    }),
  );
  return field({ label, name, hint, control: box, group: true });
}

function teamField(data, teams) {
  if (!teams.length) return null;
  const control = selectEl([["", t("wizard.no_team")], ...teams.map((tm) => [String(tm.id), tm.name])], data.team_id ?? "");
  control.addEventListener("change", () => {
    data.team_id = control.value === "" ? null : Number(control.value);
  });
  return field({ label: t("field.team"), name: "team_id", control });
}

function whenRow(data, { durationLabel, maxMinutes }) {
  return h(
    "div",
    { class: "field-row" },
    text(data, "date", t("field.date"), { type: "date", required: true }),
    text(data, "time", t("field.time"), { type: "time", required: true, attrs: { step: "300" } }),
    text(data, "duration", durationLabel, { type: "number", required: true, attrs: { min: "1", max: String(maxMinutes), step: "5", inputmode: "numeric" } }),
  );
}

/** Markdown textarea with a server-rendered preview tab. */
function markdownField(data, name, label, { hint, max }) {
  const wrapper = text(data, name, label, { area: true, rows: 8, hint, max });
  const area = wrapper.control;
  const preview = h("div", { class: "markdown-preview markdown", hidden: true, tabindex: "0", "aria-live": "polite", "aria-label": t("markdown.preview") });
  const toggle = h("button", { type: "button", class: "btn btn--ghost btn--small", "aria-pressed": "false", text: t("markdown.preview") });
  toggle.addEventListener("click", async () => {
    const showing = !preview.hidden;
    if (showing) {
      preview.hidden = true;
      area.hidden = false;
      toggle.setAttribute("aria-pressed", "false");
      toggle.textContent = t("markdown.preview");
      area.focus();
      return;
    }
    try {
      const body = await api.post("/api/markdown/preview", { body: area.value });
      trustedHtml(preview, body?.html || "");
      if (!area.value.trim()) setChildren(preview, h("p", { class: "muted", text: t("markdown.nothing") }));
      preview.hidden = false;
      area.hidden = true;
      toggle.setAttribute("aria-pressed", "true");
      toggle.textContent = t("markdown.edit");
      preview.focus();
    } catch (err) {
      toastError(err);
    }
  });
  wrapper.querySelector(".field__label").after(h("div", { class: "md-toolbar" }, toggle));
  area.after(preview);
  return wrapper;
}

// ---- meeting -----------------------------------------------------------------------------------

const meeting = {
  basics(data, { teams }) {
    return [
      text(data, "title", t("field.title"), { required: true, max: LIMITS.title, attrs: { autocomplete: "off" } }),
      whenRow(data, { durationLabel: t("field.duration_minutes"), maxMinutes: LIMITS.meetingMinutes }),
      text(data, "description", t("field.description"), { area: true, max: LIMITS.description, hint: t("wizard.max_chars", { max: LIMITS.description }) }),
      teamField(data, teams),
    ];
  },
  people(data, { users }) {
    const participants = users.length
      ? checkboxes(data, "participants", t("field.participants"), users.map((u) => [u.id, userLabel(u)]), { hint: t("wizard.participants_hint") })
      : h("p", { class: "muted", text: t("wizard.no_users") });
    return [
      choice(data, "meeting_kind", t("field.meeting_kind"), MEETING_KINDS.map((k) => [k, t(`meeting_kind.${k}`)])),
      participants,
      text(data, "video_url", t("field.video_url"), { type: "url", hint: t("wizard.video_hint"), attrs: { placeholder: "https://meet.example.org/…", inputmode: "url" } }),
    ];
  },
  agenda(data) {
    const untilField = text(data, "until", t("field.until"), { type: "date", hint: t("wizard.until_hint") });
    untilField.hidden = data.recurrence === "none";
    const recurrence = choice(data, "recurrence", t("field.recurrence"), RECURRENCES.map((r) => [r, t(`recurrence.${r}`)]));
    recurrence.control.addEventListener("change", () => {
      untilField.hidden = data.recurrence === "none";
    });
    return [
      markdownField(data, "agenda_md", t("field.agenda"), { hint: t("wizard.markdown_hint"), max: LIMITS.agenda }),
      h("div", { class: "field-row" }, text(data, "sprint", t("field.sprint"), { type: "number", attrs: { min: "1", step: "1", inputmode: "numeric" } }), text(data, "epic", t("field.epic"), { max: LIMITS.epic })),
      h("div", { class: "field-row" }, recurrence, untilField),
    ];
  },
};

// ---- deployment window -------------------------------------------------------------------------

function servicesEditor(data) {
  const list = h("ul", { class: "chips", "aria-live": "polite" });
  const entry = input({ autocomplete: "off", maxlength: String(LIMITS.service), placeholder: t("wizard.service_placeholder") });
  const add = h("button", { type: "button", class: "btn btn--secondary", text: t("action.add") });
  function draw() {
    setChildren(list, 
      ...data.services.map((s, i) =>
        h(
          "li",
          { class: "chip" },
          h("span", { text: s }),
          h("button", {
            type: "button",
            class: "chip__remove",
            "aria-label": t("wizard.remove_service", { name: s }),
            text: "×",
            onclick: () => {
              data.services.splice(i, 1);
              draw();
              entry.focus();
            },
          }),
        ),
      ),
    );
  }
  function commit() {
    for (const name of entry.value.split(",").map((s) => s.trim()).filter(Boolean)) {
      if (!data.services.includes(name)) data.services.push(name);
    }
    entry.value = "";
    draw();
  }
  add.addEventListener("click", () => {
    commit();
    entry.focus();
  });
  entry.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      commit();
    }
  });
  draw();
  const box = h("div", { class: "tag-editor" }, h("div", { class: "tag-editor__entry" }, entry, add), list);
  entry.setAttribute("aria-label", t("wizard.service_new"));
  return field({ label: t("field.services"), name: "services", required: true, hint: t("wizard.services_hint"), control: box, group: true });
}

function checklistEditor(data) {
  const list = h("ol", { class: "checklist-editor" });
  const add = h("button", { type: "button", class: "btn btn--secondary btn--small", text: `+ ${t("wizard.checklist_add")}` });
  function draw(focusIndex) {
    setChildren(list, 
      ...data.checklist.map((item, i) => {
        const label = input({ value: item.label, maxlength: String(LIMITS.checklistItem), "aria-label": t("wizard.checklist_item", { n: i + 1 }) });
        label.addEventListener("input", () => {
          item.label = label.value;
        });
        const remove = h("button", { type: "button", class: "icon-btn", "aria-label": t("wizard.checklist_remove", { n: i + 1 }), text: "×" });
        remove.addEventListener("click", () => {
          data.checklist.splice(i, 1);
          draw(Math.min(i, data.checklist.length - 1));
        });
        return h("li", { class: "checklist-editor__row" }, label, remove);
      }),
    );
    if (focusIndex !== undefined && focusIndex >= 0) list.querySelectorAll("input")[focusIndex]?.focus();
    else if (focusIndex !== undefined) add.focus();
  }
  add.addEventListener("click", () => {
    data.checklist.push({ label: "", done: false });
    draw(data.checklist.length - 1);
  });
  draw();
  return field({ label: t("field.checklist"), name: "checklist", hint: t("wizard.checklist_hint"), control: h("div", {}, list, add), group: true });
}

const deployment_window = {
  schedule(data, { teams, rerender }) {
    return [
      text(data, "title", t("field.title"), { required: true, max: LIMITS.title, attrs: { autocomplete: "off" } }),
      radios(data, "environment", t("field.environment"), ENVIRONMENTS.map((e) => [e, t(`env.${e}`), t(`env.${e}.desc`)]), { onChange: () => rerender?.() }),
      needsApproval(data) ? h("p", { class: "notice notice--warning", role: "note", text: t("wizard.prod_approval") }) : null,
      whenRow(data, { durationLabel: t("field.estimated_minutes"), maxMinutes: LIMITS.deploymentMinutes }),
      teamField(data, teams),
    ];
  },
  changes(data) {
    return [servicesEditor(data), text(data, "change_description", t("field.change_description"), { area: true, required: true, max: LIMITS.description, rows: 6, hint: t("wizard.max_chars", { max: LIMITS.description }) })];
  },
  checklist(data) {
    return [needsApproval(data) ? h("p", { class: "notice notice--warning", role: "note", text: t("wizard.prod_approval") }) : null, checklistEditor(data)];
  },
  rollback(data) {
    return [text(data, "rollback_plan", t("field.rollback_plan"), { area: true, required: true, rows: 8, max: LIMITS.rollback, hint: t("wizard.rollback_hint") })];
  },
};

// ---- git action --------------------------------------------------------------------------------

const COMMON_BRANCHES = ["main", "master", "develop", "release", "staging"];

const git_action = {
  repository(data) {
    const listId = uid("branches");
    const branch = text(data, "branch", t("field.branch"), { required: true, attrs: { list: listId, autocomplete: "off", spellcheck: "false" } });
    branch.append(h("datalist", { id: listId }, COMMON_BRANCHES.map((b) => h("option", { value: b }))));
    return [
      text(data, "repository_url", t("field.repository_url"), { required: true, type: "url", hint: t("wizard.repo_hint"), attrs: { placeholder: "https://git.example.org/team/app.git", spellcheck: "false", autocomplete: "off", inputmode: "url" } }),
      branch,
      text(data, "title", t("field.title_optional"), { max: LIMITS.title, hint: t("wizard.git_title_hint"), attrs: { autocomplete: "off" } }),
    ];
  },
  action(data) {
    const cron = text(data, "cron", t("field.cron"), { required: true, hint: t("wizard.cron_hint"), attrs: { placeholder: "0 2 * * 1-5", spellcheck: "false", autocomplete: "off" } });
    cron.hidden = data.trigger !== "cron";
    return [
      radios(data, "action", t("field.git_action"), GIT_ACTIONS.map((a) => [a, t(`git.action.${a}`)])),
      radios(data, "trigger", t("field.trigger"), TRIGGERS.map((tr) => [tr, t(`git.trigger.${tr}`), t(`git.trigger.${tr}.desc`)]), {
        onChange: () => {
          cron.hidden = data.trigger !== "cron";
        },
      }),
      cron,
    ];
  },
  post_actions(data) {
    return [checkboxes(data, "post_actions", t("field.post_actions"), POST_ACTIONS.map((p) => [p, t(`git.post.${p}`)]), { hint: t("wizard.post_actions_hint") })];
  },
};

// ---- summary -----------------------------------------------------------------------------------

function row(label, value) {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) value = t("common.none");
  return [h("dt", { text: label }), h("dd", {}, Array.isArray(value) ? h("ul", { class: "plain-list" }, value.map((v) => h("li", { text: v }))) : String(value))];
}

function summary(data, { teams, users }) {
  const start = fromLocalInputs(data.date, data.time);
  const end = start ? addMinutes(start, Number(data.duration) || 0) : null;
  const team = teams.find((tm) => String(tm.id) === String(data.team_id ?? ""));
  const rows = [];
  const kind = data.type;
  if (kind === "git_action") rows.push(row(t("field.title"), data.title?.trim() || gitTitle(data)));
  else rows.push(row(t("field.title"), data.title));
  rows.push(row(t("field.kind"), t(`kind.${kind}`)));
  if (kind === "meeting") {
    rows.push(row(t("field.when"), start ? formatRange(start, end) : ""));
    rows.push(row(t("field.meeting_kind"), t(`meeting_kind.${data.meeting_kind}`)));
    rows.push(row(t("field.participants"), data.participants.map((id) => userLabel(users.find((u) => String(u.id) === String(id))) || `#${id}`)));
    rows.push(row(t("field.video_url"), data.video_url));
    rows.push(row(t("field.recurrence"), t(`recurrence.${data.recurrence}`) + (data.recurrence !== "none" && data.until ? ` (${t("field.until").toLowerCase()} ${data.until})` : "")));
    rows.push(row(t("field.sprint"), data.sprint));
    rows.push(row(t("field.epic"), data.epic));
    rows.push(row(t("field.description"), data.description));
  } else if (kind === "deployment_window") {
    rows.push(row(t("field.environment"), t(`env.${data.environment}`)));
    rows.push(row(t("field.when"), start ? `${formatRange(start, end)} (${formatDuration(data.duration)})` : ""));
    rows.push(row(t("field.services"), data.services));
    rows.push(row(t("field.change_description"), data.change_description));
    rows.push(row(t("field.checklist"), data.checklist.map((c) => c.label)));
    rows.push(row(t("field.rollback_plan"), data.rollback_plan));
  } else {
    rows.push(row(t("field.repository_url"), data.repository_url));
    rows.push(row(t("field.branch"), data.branch));
    rows.push(row(t("field.git_action"), t(`git.action.${data.action}`)));
    rows.push(row(t("field.trigger"), t(`git.trigger.${data.trigger}`) + (data.trigger === "cron" ? ` — ${data.cron}` : "")));
    rows.push(row(t("field.post_actions"), data.post_actions.map((p) => t(`git.post.${p}`))));
  }
  rows.push(row(t("field.team"), team?.name));
  const content = [];
  if (kind === "git_action") {
    content.push(h("h3", { class: "wizard__subheading", text: t("wizard.schedule") }));
    content.push(whenRow(data, { durationLabel: t("field.estimated_minutes"), maxMinutes: LIMITS.meetingMinutes }));
    content.push(text(data, "description", t("field.description"), { area: true, max: LIMITS.description, rows: 3 }));
  }
  if (needsApproval(data)) content.push(h("p", { class: "notice notice--warning", role: "note", text: t("wizard.summary_approval") }));
  content.push(h("dl", { class: "summary" }, rows));
  return content;
}

export const RENDERERS = Object.freeze({
  meeting: { ...meeting, summary },
  deployment_window: { ...deployment_window, summary },
  git_action: { ...git_action, summary },
});
