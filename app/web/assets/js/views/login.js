// Sign-in: username + password (POST /api/auth/login), then the TOTP (or recovery code) step when the
// server answers {mfa_required, mfa_ticket} (POST /api/auth/2fa/verify). Messages are the UI's own
// translations of the server's problems (messages.js).
import { api } from "../api.js";
import { h, setChildren } from "../dom.js";
import { applyFieldErrors, busy, field, formAlert, input, serverFieldErrors } from "../forms.js";
import { t } from "../i18n.js";
import { errorMessage } from "../messages.js";

function errorText(err, step) {
  return errorMessage(err, { fallback: "login.failed", byStatus: { 401: step === "code" ? "login.code_failed" : "login.failed" } });
}

export function mount(main, ctx) {
  const next = ctx.query.get("next") || "/calendar";
  const card = h("section", { class: "auth-card card", "aria-labelledby": "login-title" });
  main.append(h("div", { class: "auth-page" }, card));

  function passwordStep() {
    const alert = formAlert();
    const username = field({ label: t("login.username"), name: "username", required: true, control: input({ autocomplete: "username", autocapitalize: "none", spellcheck: "false" }) });
    const password = field({ label: t("login.password"), name: "password", required: true, control: input({ type: "password", autocomplete: "current-password" }) });
    const submit = h("button", { type: "submit", class: "btn btn--primary btn--block", text: t("login.submit") });
    const form = h("form", { class: "form", novalidate: true }, alert, username, password, submit);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      alert.show("");
      const u = username.control.value.trim();
      const p = password.control.value;
      const errors = {};
      if (!u) errors.username = t("validation.required");
      if (!p) errors.password = t("validation.required");
      const first = applyFieldErrors(form, errors);
      if (first) {
        first.querySelector("input").focus();
        return;
      }
      await busy(submit, async () => {
        try {
          const body = await api.login(u, p);
          if (body?.mfa_required) codeStep(body.mfa_ticket);
          else ctx.onSignedIn(next);
        } catch (err) {
          applyFieldErrors(form, serverFieldErrors(err));
          alert.show(errorText(err, "password"));
          password.control.value = "";
          password.control.focus();
        }
      });
    });
    setChildren(card, 
      h("h1", { id: "login-title", class: "auth-card__title", text: t("login.title") }),
      h("p", { class: "auth-card__lead", text: t("login.lead") }),
      form,
      h("p", { class: "auth-card__footer" }, t("login.no_account"), " ", h("a", { href: "/register", text: t("login.register_link") })),
    );
    username.control.focus();
  }

  function codeStep(ticket) {
    const alert = formAlert();
    const code = field({
      label: t("login.code"),
      name: "code",
      required: true,
      hint: t("login.code_hint"),
      control: input({ autocomplete: "one-time-code", inputmode: "numeric", autocapitalize: "none", spellcheck: "false", maxlength: "32" }),
    });
    const submit = h("button", { type: "submit", class: "btn btn--primary btn--block", text: t("login.verify") });
    const back = h("button", { type: "button", class: "btn btn--ghost btn--block", text: t("action.back") });
    back.addEventListener("click", passwordStep);
    const form = h("form", { class: "form", novalidate: true }, alert, code, submit, back);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      alert.show("");
      const value = code.control.value.replace(/\s+/g, "");
      if (!value) {
        code.setError(t("validation.required"));
        code.control.focus();
        return;
      }
      code.setError(null);
      await busy(submit, async () => {
        try {
          await api.verify2fa(ticket, value);
          ctx.onSignedIn(next);
        } catch (err) {
          alert.show(errorText(err, "code"));
          code.control.value = "";
          code.control.focus();
        }
      });
    });
    setChildren(card, 
      h("h1", { id: "login-title", class: "auth-card__title", text: t("login.mfa_title") }),
      h("p", { class: "auth-card__lead", text: t("login.mfa_lead") }),
      form,
    );
    code.control.focus();
  }

  passwordStep();
}
