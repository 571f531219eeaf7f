// Event details: the event's fields by type, edit/delete for its creator or an ADMIN, the deployment
// checklist and status transitions, the production approval panel (ADMIN decides, a refusal needs a
// comment, full history) and the comment thread (markdown rendered and sanitized by the server,
// @mentions, reactions).
import { api } from "../api.js";
import { has, hasFeature } from "../capabilities.js";
import { h, icon, skeleton, trustedHtml, setChildren } from "../dom.js";
import { field, formAlert, textarea } from "../forms.js";
import { formatDateTime, formatDuration, formatRange, formatRelative } from "../format.js";
import { label, t } from "../i18n.js";
import { confirmDialog } from "../modal.js";
import { canApprove, canEdit, nextStatuses } from "../roles.js";
import { loadTeams, loadUsers, userLabel } from "../store.js";
import { toast, toastError } from "../toast.js";

export const REACTIONS = Object.freeze(["👍", "✅", "❌", "🔥"]);

function dl(rows) {
  return h(
    "dl",
    { class: "details" },
    rows.filter(Boolean).map(([label, value]) => [h("dt", { text: label }), h("dd", {}, value === undefined || value === null || value === "" ? t("common.none") : value)]),
  );
}

function list(values) {
  if (!values?.length) return t("common.none");
  return h("ul", { class: "plain-list" }, values.map((v) => h("li", { text: v })));
}

function safeLink(url) {
  if (!/^https?:\/\//i.test(String(url || ""))) return url || "";
  return h("a", { href: url, target: "_blank", rel: "noopener noreferrer nofollow", text: url });
}

export async function mount(main, ctx) {
  const id = ctx.params.id;
  if (!hasFeature("events")) {
    main.append(h("div", { class: "empty-state" }, h("h1", { class: "view-title", text: t("event.title") }), h("p", { class: "notice notice--info", role: "note", text: t("events.unavailable") }), h("a", { class: "btn btn--secondary", href: "/calendar", text: t("action.back_calendar") })));
    return undefined;
  }
  main.append(skeleton(8, t("common.loading")));
  let event;
  let teams = [];
  let users = [];
  try {
    [event, teams, users] = await Promise.all([api.get(`/api/events/${encodeURIComponent(id)}`), loadTeams(), loadUsers()]);
  } catch (err) {
    if (!ctx.isCurrent()) return undefined;
    setChildren(main, 
      h("div", { class: "empty-state" }, h("h1", { class: "view-title", text: err.status === 404 ? t("event.not_found") : t("error.generic") }), h("p", { class: "muted", text: err.detail || "" }), h("a", { class: "btn btn--secondary", href: "/calendar", text: t("action.back_calendar") })),
    );
    return undefined;
  }
  if (!ctx.isCurrent()) return undefined;
  const user = ctx.user;
  const userName = (uid) => userLabel(users.find((u) => String(u.id) === String(uid))) || `#${uid}`;
  const teamName = (tid) => teams.find((tm) => String(tm.id) === String(tid))?.name;

  const header = h("div");
  const detailsCard = h("section", { class: "card", "aria-labelledby": "details-title" });
  const opsCard = h("section", { class: "card", "aria-labelledby": "ops-title", hidden: true });
  const approvalCard = h("section", { class: "card", "aria-labelledby": "approval-title", hidden: true });
  const commentsCard = h("section", { class: "card", "aria-labelledby": "comments-title" });
  setChildren(main, header, h("div", { class: "event-grid" }, h("div", { class: "event-grid__main" }, detailsCard, opsCard, commentsCard), h("div", { class: "event-grid__side" }, approvalCard)));

  function drawHeader() {
    ctx.setTitle(event.title);
    const actions = h("div", { class: "button-row" });
    if (canEdit(user, event)) {
      actions.append(
        h("button", { type: "button", class: "btn btn--secondary", onclick: () => ctx.openWizard({ event }) }, icon("edit", 16), ` ${t("action.edit")}`),
        h("button", { type: "button", class: "btn btn--danger", onclick: remove }, icon("trash", 16), ` ${t("action.delete")}`),
      );
    }
    setChildren(header, 
      h("a", { href: "/calendar", class: "back-link", text: `← ${t("action.back_calendar")}` }),
      h(
        "div",
        { class: "view-header event-header" },
        h("span", { class: ["type-chip", `ev--${event.type}`], text: t(`kind.${event.type}`) }),
        h("h1", { class: "view-title", text: event.title }),
        h("span", { class: ["status-badge", `status-badge--${event.status}`], text: label("status.event", event.status) }),
        actions,
      ),
    );
  }

  async function remove() {
    const ok = await confirmDialog({ title: t("event.delete_title"), message: t("event.delete_confirm", { title: event.title }), confirmLabel: t("action.delete"), danger: true });
    if (!ok) return;
    try {
      await api.del(`/api/events/${event.id}`);
      toast(t("event.deleted"), "success");
      ctx.navigate("/calendar");
    } catch (err) {
      toastError(err);
    }
  }

  function drawDetails() {
    const x = event.extra || {};
    const rows = [
      [t("field.when"), formatRange(event.occurrence_start || event.start, event.end)],
      [t("field.created_by"), userLabel(event.created_by)],
      [t("field.team"), teamName(event.team_id)],
    ];
    if (event.type === "meeting") {
      rows.push([t("field.meeting_kind"), x.meeting_kind ? t(`meeting_kind.${x.meeting_kind}`) : ""]);
      rows.push([t("field.participants"), list((x.participants || []).map(userName))]);
      rows.push([t("field.video_url"), safeLink(x.video_url)]);
      rows.push([t("field.recurrence"), x.recurrence?.freq ? t(`recurrence.${x.recurrence.freq}`) + (x.recurrence.until ? ` → ${x.recurrence.until}` : "") : ""]);
      if (x.tags?.sprint || x.tags?.epic) rows.push([t("field.tags"), [x.tags.sprint ? `${t("field.sprint")} ${x.tags.sprint}` : "", x.tags.epic || ""].filter(Boolean).join(" · ")]);
    } else if (event.type === "deployment_window") {
      rows.push([t("field.environment"), h("span", { class: ["env-badge", `env-badge--${x.environment}`], text: t(`env.${x.environment}`) })]);
      rows.push([t("field.estimated_minutes"), x.duration_minutes ? formatDuration(x.duration_minutes) : ""]);
      rows.push([t("field.services"), list(x.services)]);
    } else if (event.type === "git_action") {
      rows.push([t("field.repository_url"), h("code", { text: x.repository_url || "" })]);
      rows.push([t("field.branch"), h("code", { text: x.branch || "" })]);
      rows.push([t("field.git_action"), x.action ? t(`git.action.${x.action}`) : ""]);
      rows.push([t("field.trigger"), x.trigger ? t(`git.trigger.${x.trigger}`) + (x.trigger === "cron" && x.cron ? ` — ${x.cron}` : "") : ""]);
      rows.push([t("field.post_actions"), list((x.post_actions || []).map((p) => t(`git.post.${p}`)))]);
    }
    const blocks = [h("h2", { id: "details-title", class: "card__title", text: t("event.details") }), dl(rows)];
    const description = event.type === "deployment_window" ? x.change_description || event.description : event.description;
    if (description) blocks.push(h("h3", { class: "card__subtitle", text: event.type === "deployment_window" ? t("field.change_description") : t("field.description") }), h("p", { class: "prewrap", text: description }));
    if (event.type === "deployment_window" && x.rollback_plan) blocks.push(h("h3", { class: "card__subtitle", text: t("field.rollback_plan") }), h("p", { class: "prewrap", text: x.rollback_plan }));
    if (event.type === "meeting" && x.agenda_md) {
      const agenda = h("div", { class: "markdown" }, h("p", { class: "prewrap", text: x.agenda_md }));
      blocks.push(h("h3", { class: "card__subtitle", text: t("field.agenda") }), agenda);
      api.post("/api/markdown/preview", { body: x.agenda_md }).then((res) => res?.html && trustedHtml(agenda, res.html)).catch(() => {});
    }
    setChildren(detailsCard, ...blocks);
  }

  // ---- deployment operations: checklist + status ------------------------------------------------
  function drawOps() {
    if (event.type !== "deployment_window") return;
    opsCard.hidden = false;
    const x = event.extra || {};
    const editable = canEdit(user, event);
    const checklist = Array.isArray(x.checklist) ? x.checklist : [];
    const done = checklist.filter((c) => c.done).length;
    const items = checklist.map((item, i) => {
      const cbId = `check-${i}`;
      const cb = h("input", { type: "checkbox", id: cbId, checked: Boolean(item.done), disabled: !editable });
      cb.addEventListener("change", () => toggleCheck(i, cb));
      const who = item.done && (item.done_by || item.done_at) ? h("span", { class: "muted checklist__who", text: [item.done_by ? (typeof item.done_by === "object" ? userLabel(item.done_by) : userName(item.done_by)) : "", item.done_at ? formatDateTime(item.done_at) : ""].filter(Boolean).join(" · ") }) : null;
      return h("li", { class: ["checklist__item", item.done && "is-done"] }, cb, h("label", { for: cbId, text: item.label }), who);
    });
    const transitions = nextStatuses(event).map((to) => {
      const btn = h("button", { type: "button", class: ["btn", to === "failed" || to === "rolled_back" ? "btn--danger" : "btn--primary"], text: t(`transition.${to}`) });
      btn.addEventListener("click", () => transition(to, btn));
      return btn;
    });
    setChildren(opsCard, 
      h("h2", { id: "ops-title", class: "card__title", text: t("event.operations") }),
      h("h3", { class: "card__subtitle" }, t("field.checklist"), " ", h("span", { class: "muted", text: `(${done}/${checklist.length})` })),
      checklist.length ? h("ul", { class: "checklist" }, items) : h("p", { class: "muted", text: t("event.no_checklist") }),
      h("h3", { class: "card__subtitle", text: t("event.status_actions") }),
      transitions.length && editable ? h("div", { class: "button-row" }, transitions) : h("p", { class: "muted", text: t("event.no_transition") }),
    );
  }

  async function toggleCheck(index, cb) {
    const x = event.extra || {};
    const checklist = (x.checklist || []).map((c, i) => (i === index ? { ...c, done: cb.checked } : c));
    const body = { type: event.type, title: event.title, description: event.description || "", start: event.start, end: event.end, team_id: event.team_id ?? null, extra: { ...x, checklist }, version: event.version };
    cb.disabled = true;
    try {
      event = await api.put(`/api/events/${event.id}`, body);
      drawOps();
      opsCard.querySelector(`#check-${index}`)?.focus();
    } catch (err) {
      cb.checked = !cb.checked;
      cb.disabled = false;
      if (err.status === 409) {
        toast(t("error.conflict"), "warning");
        await reload();
      } else toastError(err);
    }
  }

  async function transition(to, btn) {
    btn.disabled = true;
    try {
      await api.post(`/api/events/${event.id}/status`, { to });
      toast(t("event.status_changed", { status: label("status.event", to) }), "success");
      await reload();
    } catch (err) {
      btn.disabled = false;
      toastError(err);
    }
  }

  // ---- approvals ---------------------------------------------------------------------------------
  async function drawApprovals() {
    if (event.type !== "deployment_window" || event.extra?.environment !== "prod") return;
    approvalCard.hidden = false;
    let history = [];
    try {
      const res = await api.get(`/api/events/${event.id}/approvals`);
      history = Array.isArray(res?.items) ? res.items : [];
    } catch (err) {
      if (err.status !== 404) toastError(err);
    }
    const blocks = [h("h2", { id: "approval-title", class: "card__title", text: t("approval.title") })];
    // Only a window waiting for approval can be decided (an approval moves it to `planned`).
    const decided = event.status !== "pending_approval";
    if (canApprove(user) && !decided) {
      const alert = formAlert();
      const comment = field({ label: t("approval.comment"), name: "comment", hint: t("approval.comment_hint"), control: textarea({ rows: 3, maxlength: "2000" }) });
      const approve = h("button", { type: "button", class: "btn btn--primary", text: t("approval.approve") });
      const refuse = h("button", { type: "button", class: "btn btn--danger", text: t("approval.refuse") });
      const decide = async (decision, btn) => {
        alert.show("");
        const text = comment.control.value.trim();
        if (decision === "refuse" && !text) {
          comment.setError(t("approval.comment_required"));
          comment.control.focus();
          return;
        }
        comment.setError(null);
        approve.disabled = true;
        refuse.disabled = true;
        btn.classList.add("is-busy");
        try {
          await api.post(`/api/events/${event.id}/approvals`, { decision, ...(text ? { comment: text } : {}) });
          toast(decision === "approve" ? t("approval.approved_toast") : t("approval.refused_toast"), "success");
          await reload();
        } catch (err) {
          alert.show(err.fieldError?.("comment") || err.detail || t("error.generic"));
          approve.disabled = false;
          refuse.disabled = false;
          btn.classList.remove("is-busy");
        }
      };
      approve.addEventListener("click", () => decide("approve", approve));
      refuse.addEventListener("click", () => decide("refuse", refuse));
      blocks.push(h("p", { class: "notice notice--warning", role: "note", text: t("approval.pending") }), alert, comment, h("div", { class: "button-row" }, approve, refuse));
    } else if (!decided) {
      blocks.push(h("p", { class: "notice", role: "note", text: t("approval.waiting") }));
    }
    blocks.push(h("h3", { class: "card__subtitle", text: t("approval.history") }));
    if (!history.length) blocks.push(h("p", { class: "muted", text: t("approval.no_history") }));
    else {
      blocks.push(
        h(
          "ol",
          { class: "timeline" },
          history.map((a) =>
            h(
              "li",
              { class: ["timeline__item", `timeline__item--${a.action}`] },
              h("p", { class: "timeline__head" }, h("strong", { text: label("approval.action", a.action) }), " — ", userLabel(a.actor)),
              h("time", { class: "muted", datetime: a.created_at, text: formatDateTime(a.created_at) }),
              a.comment ? h("p", { class: "timeline__comment prewrap", text: a.comment }) : null,
            ),
          ),
        ),
      );
    }
    setChildren(approvalCard, ...blocks);
  }

  // ---- comments ----------------------------------------------------------------------------------
  const commentList = h("ol", { class: "comments", "aria-live": "polite" });

  function drawComment(c) {
    const content = h("div", { class: "comment__body markdown" });
    trustedHtml(content, c.html || "");
    const reactions = h(
      "div",
      { class: "reactions", role: "group", "aria-label": t("comments.reactions") },
      REACTIONS.map((emoji) => {
        const r = (c.reactions || []).find((x) => x.emoji === emoji) || { emoji, count: 0, reacted: false };
        const btn = h(
          "button",
          { type: "button", class: ["reaction", r.reacted && "is-on"], "aria-pressed": String(Boolean(r.reacted)), "aria-label": t("comments.react", { emoji, count: r.count }) },
          h("span", { "aria-hidden": "true", text: emoji }),
          r.count ? h("span", { class: "reaction__count", "aria-hidden": "true", text: String(r.count) }) : null,
        );
        btn.addEventListener("click", () => react(c, emoji));
        return btn;
      }),
    );
    const mine = c.author?.id === user.id || user.role === "ADMIN";
    const del = mine ? h("button", { type: "button", class: "icon-btn", "aria-label": t("comments.delete"), onclick: () => removeComment(c) }, icon("trash", 16)) : null;
    return h(
      "li",
      { class: "comment", id: `comment-${c.id}` },
      h("div", { class: "comment__head" }, h("strong", { text: userLabel(c.author) }), h("time", { class: "muted", datetime: c.created_at, title: formatDateTime(c.created_at), text: formatRelative(c.created_at) }), del),
      content,
      reactions,
    );
  }

  let comments = [];
  async function loadComments() {
    try {
      const res = await api.get(`/api/events/${event.id}/comments`);
      comments = Array.isArray(res?.items) ? res.items : Array.isArray(res) ? res : [];
    } catch (err) {
      toastError(err);
    }
    drawComments();
  }

  function drawComments() {
    setChildren(commentList, ...comments.map(drawComment));
    if (!comments.length) setChildren(commentList, h("li", { class: "muted comments__empty", text: t("comments.empty") }));
  }

  async function react(c, emoji) {
    try {
      const res = await api.post(`/api/comments/${c.id}/reactions`, { emoji });
      if (Array.isArray(res?.reactions)) c.reactions = res.reactions;
      else if (Array.isArray(res)) c.reactions = res;
      else {
        const r = (c.reactions || []).find((x) => x.emoji === emoji);
        if (r) {
          r.reacted = !r.reacted;
          r.count += r.reacted ? 1 : -1;
        } else (c.reactions = c.reactions || []).push({ emoji, count: 1, reacted: true });
      }
      const node = commentList.querySelector(`#comment-${c.id}`);
      const fresh = drawComment(c);
      node?.replaceWith(fresh);
      [...fresh.querySelectorAll(".reaction")][REACTIONS.indexOf(emoji)]?.focus();
    } catch (err) {
      toastError(err);
    }
  }

  async function removeComment(c) {
    const ok = await confirmDialog({ title: t("comments.delete"), message: t("comments.delete_confirm"), confirmLabel: t("action.delete"), danger: true });
    if (!ok) return;
    try {
      await api.del(`/api/comments/${c.id}`);
      comments = comments.filter((x) => x.id !== c.id);
      drawComments();
      toast(t("comments.deleted"), "success");
    } catch (err) {
      toastError(err);
    }
  }

  function drawCommentForm() {
    const alert = formAlert();
    const area = textarea({ rows: 4, maxlength: "10000" });
    const wrapper = field({ label: t("comments.new"), name: "body", hint: t("comments.hint"), control: area });
    const preview = h("div", { class: "markdown-preview markdown", hidden: true, tabindex: "0", "aria-label": t("markdown.preview") });
    area.after(preview);
    const previewBtn = h("button", { type: "button", class: "btn btn--ghost", "aria-pressed": "false", text: t("markdown.preview") });
    previewBtn.addEventListener("click", async () => {
      if (!preview.hidden) {
        preview.hidden = true;
        area.hidden = false;
        previewBtn.setAttribute("aria-pressed", "false");
        previewBtn.textContent = t("markdown.preview");
        area.focus();
        return;
      }
      try {
        const res = await api.post("/api/markdown/preview", { body: area.value });
        trustedHtml(preview, res?.html || "");
        if (!area.value.trim()) setChildren(preview, h("p", { class: "muted", text: t("markdown.nothing") }));
        preview.hidden = false;
        area.hidden = true;
        previewBtn.setAttribute("aria-pressed", "true");
        previewBtn.textContent = t("markdown.edit");
        preview.focus();
      } catch (err) {
        toastError(err);
      }
    });
    const submit = h("button", { type: "submit", class: "btn btn--primary", text: t("comments.send") });
    const form = h("form", { class: "form comment-form", novalidate: true }, alert, wrapper, h("div", { class: "button-row" }, previewBtn, submit));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      alert.show("");
      const body = area.value.trim();
      if (!body) {
        wrapper.setError(t("validation.required"));
        area.hidden = false;
        preview.hidden = true;
        area.focus();
        return;
      }
      wrapper.setError(null);
      submit.disabled = true;
      try {
        const created = await api.post(`/api/events/${event.id}/comments`, { body });
        comments.push(created);
        drawComments();
        area.value = "";
        preview.hidden = true;
        area.hidden = false;
        previewBtn.setAttribute("aria-pressed", "false");
        previewBtn.textContent = t("markdown.preview");
        toast(t("comments.sent"), "success");
      } catch (err) {
        wrapper.setError(err.fieldError?.("body") || null);
        alert.show(err.detail || t("error.generic"));
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  async function reload() {
    try {
      event = await api.get(`/api/events/${event.id}`);
    } catch (err) {
      toastError(err);
      return;
    }
    drawHeader();
    drawDetails();
    drawOps();
    await drawApprovals();
  }

  drawHeader();
  drawDetails();
  drawOps();
  // The comment thread needs its own API; a server without it shows the event without comments.
  const withComments = has("GET /api/events/{id}/comments");
  commentsCard.hidden = !withComments;
  if (withComments) commentsCard.append(h("h2", { id: "comments-title", class: "card__title", text: t("comments.title") }), commentList, drawCommentForm());
  await Promise.all([drawApprovals(), withComments ? loadComments() : null]);
  return undefined;
}
