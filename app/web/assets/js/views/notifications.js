// In-app notifications: a bell in the header with the unread count, and a dropdown listing the latest
// notifications; opening one marks it read and follows its link. Polled every 30 s while the tab is
// visible (live push arrives with a later issue).
import { api } from "../api.js";
import { h, icon, spinner, setChildren } from "../dom.js";
import { formatRelative } from "../format.js";
import { t } from "../i18n.js";
import { toastError } from "../toast.js";

const POLL_MS = 30000;

export function createNotificationsWidget({ navigate }) {
  const el = h("div", { class: "notif" });
  let items = [];
  let unread = 0;
  let open = false;
  let timer = null;
  let loading = false;

  const button = h("button", { type: "button", class: "icon-btn notif__button", "aria-expanded": "false", "aria-controls": "notif-panel", "aria-haspopup": "true" });
  const panel = h("div", { id: "notif-panel", class: "notif__panel", hidden: true });
  el.append(button, panel);

  function renderButton() {
    setChildren(button, 
      icon("bell", 22),
      h("span", { class: "visually-hidden", text: unread ? t("notifications.button_unread", { count: unread }) : t("notifications.button") }),
      unread ? h("span", { class: "count-badge notif__badge", "aria-hidden": "true", text: unread > 99 ? "99+" : String(unread) }) : null,
    );
    button.setAttribute("aria-expanded", String(open));
  }

  function renderPanel() {
    const readAll = h("button", { type: "button", class: "btn btn--ghost btn--small", disabled: unread === 0, text: t("notifications.read_all") });
    readAll.addEventListener("click", markAllRead);
    let list;
    if (loading && !items.length) list = h("div", { class: "notif__empty" }, spinner(t("common.loading")));
    else if (!items.length) list = h("p", { class: "notif__empty", text: t("notifications.empty") });
    else {
      list = h(
        "ul",
        { class: "notif__list" },
        items.map((n) => {
          const isUnread = !n.read_at;
          const item = h(
            "button",
            { type: "button", class: ["notif__item", isUnread && "is-unread"] },
            h("span", { class: "notif__title" }, isUnread ? h("span", { class: "notif__dot", "aria-hidden": "true" }) : null, n.title || t("notifications.untitled")),
            isUnread ? h("span", { class: "visually-hidden", text: t("notifications.unread") }) : null,
            n.body ? h("span", { class: "notif__body", text: n.body }) : null,
            h("time", { class: "notif__time", datetime: n.created_at, text: formatRelative(n.created_at) }),
          );
          item.addEventListener("click", () => openItem(n));
          return h("li", {}, item);
        }),
      );
    }
    setChildren(panel, 
      h("div", { class: "notif__header" }, h("h2", { class: "notif__heading", text: t("notifications.title") }), readAll),
      list,
    );
  }

  async function refresh() {
    if (!api.authenticated) return;
    loading = true;
    try {
      const body = await api.get("/api/notifications");
      items = Array.isArray(body?.items) ? body.items : [];
      unread = Number.isFinite(body?.unread) ? body.unread : items.filter((n) => !n.read_at).length;
    } catch {
      /* keep the last known state; the bell is not worth an error toast every 30 s */
    } finally {
      loading = false;
    }
    renderButton();
    if (open) renderPanel();
  }

  async function openItem(n) {
    try {
      if (!n.read_at) {
        await api.post(`/api/notifications/${encodeURIComponent(n.id)}/read`);
        n.read_at = new Date().toISOString();
        unread = Math.max(0, unread - 1);
      }
    } catch (err) {
      toastError(err);
    }
    setOpen(false);
    renderButton();
    if (typeof n.link === "string" && n.link.startsWith("/") && !n.link.startsWith("//")) navigate(n.link);
  }

  async function markAllRead() {
    try {
      await api.post("/api/notifications/read-all");
      const now = new Date().toISOString();
      for (const n of items) n.read_at = n.read_at || now;
      unread = 0;
      renderButton();
      renderPanel();
      button.focus();
    } catch (err) {
      toastError(err);
    }
  }

  function setOpen(value) {
    open = value;
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) {
      renderPanel();
      refresh();
      document.addEventListener("mousedown", onOutside);
      panel.addEventListener("keydown", onKey);
    } else {
      document.removeEventListener("mousedown", onOutside);
      panel.removeEventListener("keydown", onKey);
    }
  }

  function onOutside(ev) {
    if (!el.contains(ev.target)) setOpen(false);
  }

  function onKey(ev) {
    if (ev.key === "Escape") {
      setOpen(false);
      button.focus();
    }
  }

  button.addEventListener("click", () => {
    setOpen(!open);
    if (open) panel.querySelector("button:not([disabled]), .notif__item")?.focus();
  });
  button.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && open) setOpen(false);
  });

  function tick() {
    if (document.visibilityState === "visible") refresh();
  }

  renderButton();
  return {
    el,
    refresh,
    rerender() {
      renderButton();
      if (open) renderPanel();
    },
    start() {
      clearInterval(timer);
      refresh();
      timer = setInterval(tick, POLL_MS);
    },
    stop() {
      clearInterval(timer);
      timer = null;
      items = [];
      unread = 0;
      setOpen(false);
      renderButton();
    },
  };
}
