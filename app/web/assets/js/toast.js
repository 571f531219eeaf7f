// Toast notifications: slide in at the top right, dismissed after 5 s (paused while the close button
// is hovered or focus is inside), announced to screen readers (errors assertively). They never block
// the header's controls under them: clicks go through, except on the close button.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { errorMessage } from "./messages.js";

const DURATION_MS = 5000;
let container = null;

function ensureContainer() {
  if (container && container.isConnected) return container;
  container = h("div", { class: "toasts", "aria-label": t("toast.region") });
  document.body.append(container);
  return container;
}

/** toast("Saved", "success" | "error" | "warning" | "info") */
export function toast(message, kind = "info") {
  const box = ensureContainer();
  const close = () => {
    if (!el.isConnected) return;
    el.classList.add("toast--leaving");
    setTimeout(() => el.remove(), 200);
  };
  const el = h(
    "div",
    { class: ["toast", `toast--${kind}`], role: kind === "error" ? "alert" : "status" },
    h("span", { class: "toast__icon", "aria-hidden": "true", text: { success: "✓", error: "!", warning: "⚠", info: "i" }[kind] || "i" }),
    h("p", { class: "toast__text", text: message }),
    h("button", { type: "button", class: "icon-btn toast__close", "aria-label": t("toast.close"), onclick: close, text: "×" }),
  );
  let timer = setTimeout(close, DURATION_MS);
  const pause = () => clearTimeout(timer);
  const resume = () => {
    clearTimeout(timer);
    timer = setTimeout(close, DURATION_MS);
  };
  // The toast lets clicks through to the page (CSS): only its close button, hovered or focused, holds it.
  const closeBtn = el.querySelector(".toast__close");
  closeBtn.addEventListener("mouseenter", pause);
  closeBtn.addEventListener("mouseleave", resume);
  el.addEventListener("focusin", pause);
  el.addEventListener("focusout", resume);
  box.append(el);
  return close;
}

/** A toast for a failed API call: the problem in the user's language, with the request id. */
export function toastError(error, fallbackKey = "error.generic") {
  let message = errorMessage(error, { fallback: fallbackKey });
  if (error?.requestId) message += ` (${t("error.request_id")} ${error.requestId})`;
  return toast(message, "error");
}
