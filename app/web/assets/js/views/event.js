// Event details: the event's fields by type, edit/delete for its creator or an ADMIN, the deployment
// checklist (POST /checklist, one item at a time: who and when are recorded by the server) and the
// status buttons of the server's state machine, the production approval panel (an ADMIN other than
// the requester decides, a refusal needs a comment; a refused window can be submitted again), the
// history panel (approval steps and status changes, GET /history) and the comment thread (markdown
// rendered and sanitized by the server, @mentions, reactions).
import { api } from "../api.js";
import { has, hasFeature } from "../capabilities.js";
import { h, icon, skeleton, trustedHtml, setChildren } from "../dom.js";
import { field, formAlert, textarea } from "../forms.js";
import { formatDateTime, formatDuration, formatRange, formatRelative } from "../format.js";
import { label, t } from "../i18n.js";
import { errorMessage, fieldMessages } from "../messages.js";
import { confirmDialog } from "../modal.js";
import { canApprove, canEdit, canTickChecklist, nextStatuses } from "../roles.js";
import { loadTeams, loadUsers, userLabel } from "../store.js";
import { toast, toastError } from "../toast.js";

export const REACTIONS = Object.freeze(["👍", "✅", "❌", "🔥"]);

// The checklist can be ticked until the deployment starts (server: `checklist-closed` afterwards).
const CHECKLIST_OPEN = new Set(["pending_approval", "planned"]);
const DANGER = new Set(["failed", "rolled_back", "cancelled"]);

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

// The status change each approval step causes (the server records both, in the same transaction).
const APPROVAL_MOVES = Object.freeze({
  approved: ["pending_approval", "planned"],
  refused: ["pending_approval", "refused"],
  submitted: ["refused", "pending_approval"],
});

/**
 * GET /history entries, oldest first. The server lists the approval steps, then the status changes;
 * an approval that moves the status is in both lists (same actor, same comment, at most a moment
 * apart): only the approval step is kept.
 */
export function historyTimeline(items) {
  const entries = Array.isArray(items) ? items : [];
  const approvals = entries.filter((e) => e.kind === "approval");
  const causedByApproval = (e) =>
    e.kind === "status" &&
    approvals.some((a) => {
      const move = APPROVAL_MOVES[a.action];
      return (
        move &&
        move[0] === e.from_status &&
        move[1] === e.to_status &&
        a.actor?.id === e.actor?.id &&
        a.comment === e.comment &&
        Math.abs(new Date(a.created_at) - new Date(e.created_at)) < 2000
      );
    });
  return entries
    .filter((e) => !causedByApproval(e))
    .map((e, i) => ({ e, i }))
    .sort((a, b) => new Date(a.e.created_at) - new Date(b.e.created_at) || a.i - b.i)
    .map(({ e }) => e);
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
      h("div", { class: "empty-state" }, h("h1", { class: "view-title", text: err.status === 404 ? t("event.not_found") : t("error.generic") }), h("p", { class: "muted", text: err.status === 404 ? "" : errorMessage(err) }), h("a", { class: "btn btn--secondary", href: "/calendar", text: t("action.back_calendar") })),
    );
    return undefined;
  }
  if (!ctx.isCurrent()) return undefined;
  const user = ctx.user;
  const userById = (uid) => users.find((u) => String(u.id) === String(uid));
  const userName = (uid) => userLabel(userById(uid)) || `#${uid}`;
  // An actor ({id, username}) by its display name when the users list knows it.
  const actorName = (a) => (a ? userLabel(userById(a.id)) || userLabel(a) : t("common.none"));
  const teamName = (tid) => teams.find((tm) => String(tm.id) === String(tid))?.name;

  const header = h("div");
  const detailsCard = h("section", { class: "card details-card", "aria-labelledby": "details-title" });
  const opsCard = h("section", { class: "card ops-card", "aria-labelledby": "ops-title", hidden: true });
  const approvalCard = h("section", { class: "card approval-card", "aria-labelledby": "approval-title", hidden: true });
  const historyCard = h("section", { class: "card history-card", "aria-labelledby": "history-title" });
  const commentsCard = h("section", { class: "card comments-card", "aria-labelledby": "comments-title" });
  setChildren(main, header, h("div", { class: "event-grid" }, h("div", { class: "event-grid__main" }, detailsCard, opsCard, commentsCard), h("div", { class: "event-grid__side" }, approvalCard, historyCard)));

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
      [t("field.created_by"), event.created_by ? actorName(event.created_by) : ""],
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
      if (event.approved_by) rows.push([t("field.approved_by"), `${actorName(event.approved_by)}${event.approved_at ? ` · ${formatDateTime(event.approved_at)}` : ""}`]);
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

  // ---- checklist + status -----------------------------------------------------------------------
  function drawOps() {
    const deployment = event.type === "deployment_window";
    const editable = canEdit(user, event);
    const statuses = editable ? nextStatuses(event) : [];
    if (!deployment && !statuses.length) {
      opsCard.hidden = true;
      return;
    }
    opsCard.hidden = false;
    const blocks = [h("h2", { id: "ops-title", class: "card__title", text: deployment ? t("event.operations") : t("event.status_title") })];
    let open = [];
    if (deployment) {
      const checklist = Array.isArray(event.extra?.checklist) ? event.extra.checklist : [];
      open = checklist.filter((c) => !c.done);
      const tickable = canTickChecklist(user, event) && CHECKLIST_OPEN.has(event.status);
      const items = checklist.map((item, i) => {
        const cbId = `check-${i}`;
        const cb = h("input", { type: "checkbox", id: cbId, checked: Boolean(item.done), disabled: !tickable });
        cb.addEventListener("change", () => tick(i, cb));
        const who = item.done && (item.done_by || item.done_at) ? h("span", { class: "muted checklist__who", text: [item.done_by ? userName(item.done_by) : "", item.done_at ? formatDateTime(item.done_at) : ""].filter(Boolean).join(" · ") }) : null;
        return h("li", { class: ["checklist__item", item.done && "is-done"] }, cb, h("label", { for: cbId, text: item.label }), who);
      });
      blocks.push(
        h("h3", { class: "card__subtitle" }, t("field.checklist"), " ", h("span", { class: "muted checklist__count", text: `(${checklist.length - open.length}/${checklist.length})` })),
        checklist.length ? h("ul", { class: "checklist" }, items) : h("p", { class: "muted", text: t("event.no_checklist") }),
      );
      if (checklist.length && !CHECKLIST_OPEN.has(event.status)) blocks.push(h("p", { class: "muted", text: t("event.checklist_closed") }));
      if (event.status === "pending_approval") blocks.push(h("p", { class: "muted", text: t("event.start_after_approval") }));
    }
    blocks.push(h("h3", { class: "card__subtitle", text: t("event.status_actions") }));
    if (!statuses.length) {
      blocks.push(h("p", { class: "muted", text: editable ? t("event.no_transition") : t("event.no_transition_rights") }));
      setChildren(opsCard, ...blocks);
      return;
    }
    const comment = field({ label: t("event.status_comment"), name: "status-comment", hint: t("event.status_comment_hint"), control: textarea({ rows: 2, maxlength: "2000" }) });
    const alert = formAlert();
    // Starting needs every checklist item ticked: say so rather than offer a button the server refuses.
    const blockedStart = deployment && open.length > 0;
    const hintId = "start-blocked-hint";
    const buttons = statuses.map((to) => {
      const blocked = to === "in_progress" && blockedStart;
      const btn = h("button", {
        type: "button",
        class: ["btn", DANGER.has(to) ? "btn--danger" : "btn--primary"],
        disabled: blocked,
        "aria-describedby": blocked ? hintId : null,
        text: t(`transition.${to}`),
      });
      btn.addEventListener("click", () => transition(to, btn, comment, alert));
      return btn;
    });
    blocks.push(alert, h("div", { class: "button-row" }, buttons));
    if (blockedStart && statuses.includes("in_progress")) blocks.push(h("p", { id: hintId, class: "field__hint", text: t("event.start_needs_checklist", { count: open.length }) }));
    blocks.push(comment);
    setChildren(opsCard, ...blocks);
  }

  async function tick(index, cb) {
    const done = cb.checked;
    for (const box of opsCard.querySelectorAll(".checklist input")) box.disabled = true;
    try {
      event = await api.post(`/api/events/${event.id}/checklist`, { index, done });
      drawHeader();
      drawOps();
      opsCard.querySelector(`#check-${index}`)?.focus();
    } catch (err) {
      cb.checked = !done;
      toastError(err);
      await reload({ focus: `#check-${index}` });
    }
  }

  async function transition(to, btn, comment, alert) {
    if (to === "cancelled") {
      const ok = await confirmDialog({ title: t("transition.cancelled"), message: t("event.cancel_confirm", { title: event.title }), confirmLabel: t("transition.cancelled"), danger: true });
      if (!ok) return;
    }
    alert.show("");
    for (const b of opsCard.querySelectorAll(".button-row .btn")) b.disabled = true;
    btn.classList.add("is-busy");
    const text = comment.control.value.trim();
    try {
      event = await api.post(`/api/events/${event.id}/status`, { to, ...(text ? { comment: text } : {}) });
      toast(t("event.status_changed", { status: label("status.event", to) }), "success");
      await reload({ fetched: true, focus: "#ops-title" });
    } catch (err) {
      btn.classList.remove("is-busy");
      if (err.status === 409) {
        // The state moved on (someone else, a freeze, the checklist): show why on the fresh state.
        await reload();
        const after = opsCard.querySelector(".form-alert");
        if (after?.show) after.show(errorMessage(err));
        else toast(errorMessage(err), "warning");
      } else {
        alert.show(errorMessage(err));
        for (const b of opsCard.querySelectorAll(".button-row .btn")) b.disabled = false;
      }
    }
  }

  // ---- approvals ---------------------------------------------------------------------------------
  function drawApprovals() {
    if (event.type !== "deployment_window" || event.extra?.environment !== "prod") {
      approvalCard.hidden = true;
      return;
    }
    approvalCard.hidden = false;
    const blocks = [h("h2", { id: "approval-title", class: "card__title", text: t("approval.title") })];
    const pending = event.status === "pending_approval";
    const requester = event.created_by?.id === user.id;
    if (pending && canApprove(user) && !requester) {
      blocks.push(h("p", { class: "notice notice--warning", role: "note", text: t("approval.pending") }), decisionForm());
    } else if (pending) {
      blocks.push(h("p", { class: "notice", role: "note", text: requester && canApprove(user) ? t("approval.own_request") : t("approval.waiting") }));
    } else if (event.status === "refused") {
      blocks.push(h("p", { class: "notice notice--danger", role: "note", text: t("approval.refused_note") }));
      if (canEdit(user, event)) blocks.push(resubmitForm());
    } else if (event.approved_by) {
      blocks.push(h("p", { class: "notice notice--success", role: "note", text: t("approval.approved_note", { name: actorName(event.approved_by), when: formatDateTime(event.approved_at) }) }));
    } else {
      blocks.push(h("p", { class: "muted", text: t("approval.closed_note") }));
    }
    setChildren(approvalCard, ...blocks);
  }

  function decisionForm() {
    const alert = formAlert();
    const comment = field({ label: t("approval.comment"), name: "comment", hint: t("approval.comment_hint"), control: textarea({ rows: 3, maxlength: "2000" }) });
    const approve = h("button", { type: "button", class: "btn btn--primary", text: t("approval.approve") });
    const refuse = h("button", { type: "button", class: "btn btn--danger", text: t("approval.refuse") });
    const buttons = [approve, refuse];
    const reviewing = lastApproval?.action === "review_started";
    let review = null;
    if (!reviewing) {
      review = h("button", { type: "button", class: "btn btn--secondary", text: t("approval.review") });
      buttons.unshift(review);
    }
    const decide = async (decision, btn) => {
      alert.show("");
      const text = comment.control.value.trim();
      if (decision === "refuse" && !text) {
        comment.setError(t("approval.comment_required"));
        comment.control.focus();
        return;
      }
      comment.setError(null);
      for (const b of buttons) b.disabled = true;
      btn.classList.add("is-busy");
      try {
        event = await api.post(`/api/events/${event.id}/approvals`, { decision, ...(text ? { comment: text } : {}) });
        toast({ review: t("approval.review_toast"), approve: t("approval.approved_toast"), refuse: t("approval.refused_toast") }[decision], "success");
        await reload({ fetched: true, focus: "#approval-title" });
      } catch (err) {
        comment.setError(fieldMessages(err).comment || null);
        alert.show(errorMessage(err));
        for (const b of buttons) b.disabled = false;
        btn.classList.remove("is-busy");
      }
    };
    review?.addEventListener("click", () => decide("review", review));
    approve.addEventListener("click", () => decide("approve", approve));
    refuse.addEventListener("click", () => decide("refuse", refuse));
    return h("div", { class: "approval-form" }, reviewing ? h("p", { class: "muted", text: t("approval.in_review", { name: actorName(lastApproval.actor) }) }) : null, alert, comment, h("div", { class: "button-row" }, buttons));
  }

  function resubmitForm() {
    const alert = formAlert();
    const comment = field({ label: t("approval.resubmit_comment"), name: "resubmit-comment", hint: t("approval.resubmit_hint"), control: textarea({ rows: 2, maxlength: "2000" }) });
    const submit = h("button", { type: "button", class: "btn btn--primary", text: t("approval.resubmit") });
    submit.addEventListener("click", async () => {
      alert.show("");
      submit.disabled = true;
      try {
        const text = comment.control.value.trim();
        event = await api.post(`/api/events/${event.id}/submit`, text ? { comment: text } : {});
        toast(t("wizard.submitted_approval"), "success");
        await reload({ fetched: true, focus: "#approval-title" });
      } catch (err) {
        alert.show(errorMessage(err));
        submit.disabled = false;
      }
    });
    return h("div", { class: "approval-form" }, alert, comment, h("div", { class: "button-row" }, submit));
  }

  // ---- history -----------------------------------------------------------------------------------
  let history = [];
  let lastApproval = null;
  async function loadHistory() {
    try {
      const res = await api.get(`/api/events/${event.id}/history`);
      history = historyTimeline(res?.items);
    } catch (err) {
      history = [];
      if (err.status !== 404) toastError(err);
    }
    lastApproval = [...history].reverse().find((e) => e.kind === "approval") || null;
  }

  function drawHistory() {
    const blocks = [h("h2", { id: "history-title", class: "card__title", text: t("history.title") })];
    if (!history.length) blocks.push(h("p", { class: "muted", text: t("history.empty") }));
    else {
      blocks.push(
        h(
          "ol",
          { class: "timeline" },
          history.map((e) => {
            const approval = e.kind === "approval";
            const what = approval
              ? label("approval.action", e.action)
              : `${label("status.event", e.from_status)} → ${label("status.event", e.to_status)}`;
            return h(
              "li",
              { class: ["timeline__item", `timeline__item--${approval ? e.action : e.to_status}`] },
              h("p", { class: "timeline__head" }, h("strong", { text: what }), " — ", actorName(e.actor)),
              h("time", { class: "muted", datetime: e.created_at, text: formatDateTime(e.created_at) }),
              e.comment ? h("p", { class: "timeline__comment prewrap", text: e.comment }) : null,
            );
          }),
        ),
      );
    }
    setChildren(historyCard, ...blocks);
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
        const r = (c.reactions || []).find((x) => x.emoji === emoji) || { emoji, count: 0, reacted: false, users: [] };
        const who = (r.users || []).join(", ");
        const btn = h(
          "button",
          { type: "button", class: ["reaction", r.reacted && "is-on"], "aria-pressed": String(Boolean(r.reacted)), "aria-label": t("comments.react", { emoji, count: r.count }), title: who || null },
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
      h("div", { class: "comment__head" }, h("strong", { text: c.author ? actorName(c.author) : t("comments.deleted_author") }), h("time", { class: "muted", datetime: c.created_at, title: formatDateTime(c.created_at), text: formatRelative(c.created_at) }), del),
      content,
      reactions,
    );
  }

  let comments = [];
  async function loadComments() {
    try {
      const res = await api.get(`/api/events/${event.id}/comments`);
      comments = Array.isArray(res?.items) ? res.items : [];
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
      const updated = await api.post(`/api/comments/${c.id}/reactions`, { emoji });
      if (Array.isArray(updated?.reactions)) c.reactions = updated.reactions;
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
    const showEditor = () => {
      preview.hidden = true;
      area.hidden = false;
      previewBtn.setAttribute("aria-pressed", "false");
      previewBtn.textContent = t("markdown.preview");
    };
    previewBtn.addEventListener("click", async () => {
      if (!preview.hidden) {
        showEditor();
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
        showEditor();
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
        showEditor();
        toast(t("comments.sent"), "success");
      } catch (err) {
        wrapper.setError(err.fieldError?.("body") || null);
        alert.show(errorMessage(err));
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  /** Redraws everything but the comments, from the server (or from `event` when just `fetched`). */
  async function reload({ fetched = false, focus } = {}) {
    try {
      const fresh = fetched ? event : await api.get(`/api/events/${event.id}`);
      await loadHistory();
      event = fresh;
    } catch (err) {
      toastError(err);
      return;
    }
    if (!ctx.isCurrent()) return;
    drawHeader();
    drawDetails();
    drawOps();
    drawApprovals();
    drawHistory();
    if (focus) {
      const target = main.querySelector(focus);
      if (target && target.tabIndex < 0 && !/^(INPUT|BUTTON|SELECT|TEXTAREA|A)$/.test(target.tagName)) target.setAttribute("tabindex", "-1");
      target?.focus();
    }
  }

  await loadHistory();
  if (!ctx.isCurrent()) return undefined;
  drawHeader();
  drawDetails();
  drawOps();
  drawApprovals();
  drawHistory();
  // The comment thread needs its own API; a server without it shows the event without comments.
  const withComments = has("GET /api/events/{id}/comments");
  commentsCard.hidden = !withComments;
  if (withComments) {
    commentsCard.append(h("h2", { id: "comments-title", class: "card__title", text: t("comments.title") }), commentList, drawCommentForm());
    await loadComments();
  }
  return undefined;
}
