// Calendar subscription (iCalendar feed) from the user menu: POST /api/calendar/token creates a
// personal, read-only feed URL that Outlook, Google Calendar or Thunderbird can subscribe to. The server
// keeps only a hash of the token, so the URL is shown once, here; DELETE /api/calendar/token revokes
// every link of the account.
import { api } from "../api.js";
import { h, setChildren } from "../dom.js";
import { field, formAlert, input } from "../forms.js";
import { t } from "../i18n.js";
import { errorMessage } from "../messages.js";
import { confirmDialog, openModal } from "../modal.js";
import { toast } from "../toast.js";

/** `webcal://` form of an http(s) feed URL, which calendar apps open as a subscription. */
export function webcalUrl(url) {
  return String(url || "").replace(/^https?:\/\//i, "webcal://");
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast(t("common.copied"), "success");
  } catch {
    toast(t("common.copy_failed"), "warning");
  }
}

export function openSubscriptionDialog() {
  const alert = formAlert();
  const result = h("div", { class: "subscription__result", "aria-live": "polite" });
  const create = h("button", { type: "button", class: "btn btn--primary", text: t("subscription.create") });
  const revoke = h("button", { type: "button", class: "btn btn--danger", text: t("subscription.revoke") });
  const content = h(
    "div",
    { class: "subscription" },
    h("p", { text: t("subscription.lead") }),
    h("p", { class: "notice notice--warning", role: "note", text: t("subscription.secret") }),
    alert,
    result,
    h("div", { class: "modal__actions" }, revoke, create),
  );
  const modal = openModal({ title: t("subscription.title"), content, size: "md" });

  create.addEventListener("click", async () => {
    alert.show("");
    create.disabled = true;
    create.classList.add("is-busy");
    try {
      const { url } = await api.post("/api/calendar/token");
      const control = input({ value: url, readonly: true, spellcheck: "false", autocomplete: "off" });
      control.addEventListener("focus", () => control.select());
      const copyBtn = h("button", { type: "button", class: "btn btn--secondary", text: t("action.copy") });
      copyBtn.addEventListener("click", () => copy(url));
      setChildren(
        result,
        field({ label: t("subscription.url"), name: "feed-url", hint: t("subscription.shown_once"), control }),
        h(
          "div",
          { class: "button-row" },
          copyBtn,
          h("a", { class: "btn btn--ghost", href: webcalUrl(url), text: t("subscription.open_app") }),
        ),
      );
      create.textContent = t("subscription.create_another");
      control.focus();
    } catch (err) {
      alert.show(errorMessage(err));
    } finally {
      create.disabled = false;
      create.classList.remove("is-busy");
    }
  });

  revoke.addEventListener("click", async () => {
    const ok = await confirmDialog({ title: t("subscription.revoke"), message: t("subscription.revoke_confirm"), confirmLabel: t("subscription.revoke"), danger: true });
    if (!ok) return;
    alert.show("");
    try {
      await api.del("/api/calendar/token");
      setChildren(result);
      create.textContent = t("subscription.create");
      toast(t("subscription.revoked"), "success");
    } catch (err) {
      alert.show(errorMessage(err));
    }
  });
  return modal;
}
