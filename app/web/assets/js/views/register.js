// Account creation (POST /api/auth/register). The first account of a server becomes its ADMIN; later
// ones need the invitation an ADMIN sends (the link /register?invitation=TOKEN), unless the server
// has open registration. The server checks the password policy (length, common and context words)
// and answers with field errors, shown next to each field in the UI's language.
import { api } from "../api.js";
import { h } from "../dom.js";
import { applyFieldErrors, busy, field, focusField, formAlert, input, serverFieldErrors } from "../forms.js";
import { t } from "../i18n.js";
import { errorMessage } from "../messages.js";
import { toast } from "../toast.js";

const MIN_PASSWORD = 12;

export function mount(main, ctx) {
  const invitation = (ctx.query.get("invitation") || "").trim();
  const alert = formAlert();
  const username = field({ label: t("register.username"), name: "username", required: true, hint: t("register.username_hint"), control: input({ autocomplete: "username", autocapitalize: "none", spellcheck: "false", maxlength: "100" }) });
  const displayName = field({ label: t("members.display_name"), name: "display_name", control: input({ autocomplete: "name", maxlength: "100" }) });
  const email = field({ label: t("register.email"), name: "email", required: true, control: input({ type: "email", autocomplete: "email", maxlength: "255" }) });
  const password = field({ label: t("register.password"), name: "password", required: true, hint: t("register.password_hint", { min: MIN_PASSWORD }), control: input({ type: "password", autocomplete: "new-password" }) });
  const confirm = field({ label: t("register.confirm"), name: "confirm", required: true, control: input({ type: "password", autocomplete: "new-password" }) });
  const submit = h("button", { type: "submit", class: "btn btn--primary btn--block", text: t("register.submit") });
  const form = h("form", { class: "form", novalidate: true }, alert, username, displayName, email, password, confirm, submit);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    alert.show("");
    const values = { username: username.control.value.trim(), email: email.control.value.trim(), password: password.control.value };
    const name = displayName.control.value.trim();
    if (name) values.display_name = name;
    if (invitation) values.invitation = invitation;
    const errors = {};
    if (!/^[A-Za-z0-9._-]{3,100}$/.test(values.username)) errors.username = t("validation.username");
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(values.email)) errors.email = t("validation.email");
    if ([...values.password.normalize("NFKC")].length < MIN_PASSWORD) errors.password = t("validation.password_min", { min: MIN_PASSWORD });
    if (confirm.control.value !== values.password) errors.confirm = t("validation.password_mismatch");
    const first = applyFieldErrors(form, errors);
    if (first) return focusField(first);
    await busy(submit, async () => {
      try {
        await api.post("/api/auth/register", values);
        toast(t("register.done"), "success");
        ctx.navigate("/login", { replace: true });
      } catch (err) {
        const fieldErrors = serverFieldErrors(err);
        const firstServer = applyFieldErrors(form, fieldErrors);
        alert.show(Object.keys(fieldErrors).length ? t("validation.fix_fields") : errorMessage(err));
        if (firstServer) focusField(firstServer);
      }
    });
  });
  main.append(
    h(
      "div",
      { class: "auth-page" },
      h(
        "section",
        { class: "auth-card card", "aria-labelledby": "register-title" },
        h("h1", { id: "register-title", class: "auth-card__title", text: t("register.title") }),
        h("p", { class: "auth-card__lead", text: invitation ? t("register.lead_invited") : t("register.lead") }),
        form,
        h("p", { class: "auth-card__footer" }, t("register.have_account"), " ", h("a", { href: "/login", text: t("register.login_link") })),
      ),
    ),
  );
  username.control.focus();
}
