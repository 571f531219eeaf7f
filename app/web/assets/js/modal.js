// Accessible modal dialog: role=dialog + aria-modal + aria-labelledby, focus moved inside and trapped,
// Escape and the close button close it, focus returns to the element that opened it, the page behind
// is inert.
import { focusables, h, uid } from "./dom.js";
import { t } from "./i18n.js";

const stack = [];

/**
 * openModal({ title, content, size, onClose, closable }) -> { el, body, close, setTitle }
 * `content` is a Node or an array of Nodes placed in the dialog body.
 */
export function openModal({ title, content = [], size = "md", onClose = () => {}, closable = true, describedBy } = {}) {
  const opener = document.activeElement;
  const titleId = uid("modal-title");
  const heading = h("h2", { id: titleId, class: "modal__title", text: title });
  const body = h("div", { class: "modal__body" });
  body.append(...[content].flat().filter(Boolean));
  const closeBtn = closable
    ? h("button", { type: "button", class: "icon-btn modal__close", "aria-label": t("modal.close"), text: "×" })
    : null;
  const dialog = h(
    "div",
    { class: ["modal", `modal--${size}`], role: "dialog", "aria-modal": "true", "aria-labelledby": titleId, "aria-describedby": describedBy, tabindex: "-1" },
    h("div", { class: "modal__header" }, heading, closeBtn),
    body,
  );
  const backdrop = h("div", { class: "modal-backdrop" }, dialog);
  const app = document.getElementById("app");
  let closed = false;

  function close(reason) {
    if (closed) return;
    closed = true;
    document.removeEventListener("keydown", onKey, true);
    backdrop.classList.add("modal-backdrop--leaving");
    setTimeout(() => backdrop.remove(), 150);
    stack.splice(stack.indexOf(api), 1);
    if (!stack.length && app) app.inert = false;
    if (opener && typeof opener.focus === "function" && opener.isConnected) opener.focus();
    onClose(reason);
  }

  function onKey(ev) {
    if (stack[stack.length - 1] !== api) return;
    if (ev.key === "Escape" && closable) {
      ev.preventDefault();
      ev.stopPropagation();
      close("escape");
    } else if (ev.key === "Tab") {
      const items = focusables(dialog);
      if (!items.length) {
        ev.preventDefault();
        dialog.focus();
        return;
      }
      const first = items[0];
      const last = items[items.length - 1];
      if (ev.shiftKey && (document.activeElement === first || document.activeElement === dialog)) {
        ev.preventDefault();
        last.focus();
      } else if (!ev.shiftKey && document.activeElement === last) {
        ev.preventDefault();
        first.focus();
      }
    }
  }

  closeBtn?.addEventListener("click", () => close("button"));
  backdrop.addEventListener("mousedown", (ev) => {
    if (ev.target === backdrop && closable) close("backdrop");
  });
  document.addEventListener("keydown", onKey, true);
  document.body.append(backdrop);
  if (app) app.inert = true;
  const api = {
    el: dialog,
    body,
    close,
    setTitle(text) {
      heading.textContent = text;
    },
    focusFirst() {
      const target = focusables(body)[0] || dialog;
      target.focus();
    },
  };
  stack.push(api);
  requestAnimationFrame(() => api.focusFirst());
  return api;
}

/** A confirmation dialog; resolves true when confirmed. */
export function confirmDialog({ title, message, confirmLabel, danger = false }) {
  return new Promise((resolve) => {
    let answered = false;
    const text = h("p", { id: uid("confirm-text"), text: message });
    const cancel = h("button", { type: "button", class: "btn btn--secondary", text: t("action.cancel") });
    const ok = h("button", { type: "button", class: ["btn", danger ? "btn--danger" : "btn--primary"], text: confirmLabel || t("action.confirm") });
    const modal = openModal({
      title,
      size: "sm",
      describedBy: text.id,
      content: [text, h("div", { class: "modal__actions" }, cancel, ok)],
      onClose: () => {
        if (!answered) resolve(false);
      },
    });
    cancel.addEventListener("click", () => modal.close("cancel"));
    ok.addEventListener("click", () => {
      answered = true;
      resolve(true);
      modal.close("confirm");
    });
  });
}
