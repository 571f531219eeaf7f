// Two-factor setup: the server generates a TOTP secret and its QR code (POST /api/auth/2fa/setup ->
// {otpauth_uri, qr_svg, secret}), the user confirms with a code from the authenticator app
// (POST /api/auth/2fa/enable {code}), then sees the ten recovery codes once. Mandatory for ADMIN
// accounts: until it is done every other page sends them here. The QR SVG is shown through an <img>
// (data: URL, allowed by the CSP's img-src): markup from the network is never parsed into the page.
import { api } from "../api.js";
import { h, spinner, setChildren } from "../dom.js";
import { busy, field, formAlert, input } from "../forms.js";
import { t } from "../i18n.js";
import { errorMessage } from "../messages.js";
import { toast } from "../toast.js";

/** data: URL of an SVG document (UTF-8 safe base64). */
export function svgDataUrl(svg) {
  const bytes = new TextEncoder().encode(String(svg || ""));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return `data:image/svg+xml;base64,${btoa(bin)}`;
}

export async function mount(main, ctx) {
  const card = h("section", { class: "auth-card auth-card--wide card", "aria-labelledby": "setup2fa-title" });
  main.append(h("div", { class: "auth-page" }, card));
  const heading = h("h1", { id: "setup2fa-title", class: "auth-card__title", text: t("setup2fa.title") });
  const required = api.mfaSetupRequired;

  if (api.user?.totp_enabled && !required) {
    setChildren(card, heading, h("p", { class: "auth-card__lead", text: t("setup2fa.already") }), h("a", { class: "btn btn--secondary", href: "/calendar", text: t("action.back_calendar") }));
    return;
  }

  setChildren(card, heading, h("div", { class: "center" }, spinner(t("common.loading"))));
  let setup;
  try {
    setup = await api.post("/api/auth/2fa/setup");
  } catch (err) {
    if (!ctx.isCurrent()) return;
    const already = err.kind === "2fa-already-enabled";
    setChildren(
      card,
      heading,
      h("p", { class: already ? "auth-card__lead" : "form-alert", role: already ? null : "alert", text: already ? t("setup2fa.already") : errorMessage(err, { fallback: "setup2fa.setup_failed" }) }),
      h("a", { class: "btn btn--secondary", href: "/calendar", text: t("action.back_calendar") }),
    );
    return;
  }
  if (!ctx.isCurrent()) return;

  const alert = formAlert();
  const qr = h("div", { class: "qr" }, h("img", { class: "qr__img", src: svgDataUrl(setup.qr_svg), alt: t("setup2fa.qr_alt"), width: "200", height: "200" }));
  const secret = h("code", { class: "secret", text: String(setup.secret || "").replace(/(.{4})/g, "$1 ").trim() });
  const copy = h("button", { type: "button", class: "btn btn--ghost btn--small", text: t("action.copy") });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(setup.secret);
      toast(t("common.copied"), "success");
    } catch {
      toast(t("common.copy_failed"), "warning");
    }
  });
  const code = field({ label: t("setup2fa.code"), name: "code", required: true, hint: t("setup2fa.code_hint"), control: input({ autocomplete: "one-time-code", inputmode: "numeric", maxlength: "6", pattern: "[0-9]{6}" }) });
  const submit = h("button", { type: "submit", class: "btn btn--primary", text: t("setup2fa.enable") });
  const form = h("form", { class: "form", novalidate: true }, alert, code, submit);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    alert.show("");
    const value = code.control.value.replace(/\s+/g, "");
    if (!/^\d{6}$/.test(value)) {
      code.setError(t("validation.totp"));
      code.control.focus();
      return;
    }
    code.setError(null);
    await busy(submit, async () => {
      try {
        const body = await api.post("/api/auth/2fa/enable", { code: value });
        showRecoveryCodes(Array.isArray(body?.recovery_codes) ? body.recovery_codes : []);
      } catch (err) {
        alert.show(err.status === 422 ? t("setup2fa.enable_failed") : errorMessage(err, { fallback: "setup2fa.enable_failed" }));
        code.control.value = "";
        code.control.focus();
      }
    });
  });

  setChildren(card, 
    heading,
    required ? h("p", { class: "notice notice--warning", role: "note", text: t("setup2fa.required") }) : null,
    h("p", { class: "auth-card__lead", text: t("setup2fa.lead") }),
    h(
      "div",
      { class: "setup2fa" },
      qr,
      h(
        "div",
        { class: "setup2fa__side" },
        h("ol", { class: "steps-list" }, h("li", { text: t("setup2fa.step_scan") }), h("li", { text: t("setup2fa.step_code") })),
        h("p", { class: "field__hint", text: t("setup2fa.manual") }),
        h("p", { class: "secret-row" }, secret, copy),
        /^otpauth:\/\//.test(String(setup.otpauth_uri || "")) ? h("p", { class: "field__hint" }, h("a", { href: setup.otpauth_uri, text: t("setup2fa.open_app") })) : null,
        form,
      ),
    ),
  );
  code.control.focus();

  function showRecoveryCodes(codes) {
    const list = h("ol", { class: "recovery-codes" }, codes.map((c) => h("li", {}, h("code", { text: c }))));
    const copyAll = h("button", { type: "button", class: "btn btn--secondary", text: t("setup2fa.copy_codes") });
    copyAll.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(codes.join("\n"));
        toast(t("common.copied"), "success");
      } catch {
        toast(t("common.copy_failed"), "warning");
      }
    });
    const download = h("a", { class: "btn btn--secondary", download: "uyoop-cal-recovery-codes.txt", text: t("setup2fa.download_codes") });
    download.href = URL.createObjectURL(new Blob([`${codes.join("\n")}\n`], { type: "text/plain" }));
    const saved = h("input", { type: "checkbox", id: "codes-saved" });
    const done = h("button", { type: "button", class: "btn btn--primary", disabled: true, text: t("action.continue") });
    saved.addEventListener("change", () => {
      done.disabled = !saved.checked;
    });
    done.addEventListener("click", () => {
      URL.revokeObjectURL(download.href);
      api.mfaSetupRequired = false;
      if (api.user) api.setUser({ ...api.user, totp_enabled: true });
      toast(t("setup2fa.enabled"), "success");
      ctx.onSignedIn("/calendar");
    });
    const title = h("h1", { id: "setup2fa-title", class: "auth-card__title", tabindex: "-1", text: t("setup2fa.codes_title") });
    setChildren(card, 
      title,
      h("p", { class: "notice notice--warning", role: "note", text: t("setup2fa.codes_warning") }),
      list,
      h("div", { class: "button-row" }, copyAll, download),
      h("div", { class: "checkbox-row" }, saved, h("label", { for: "codes-saved", text: t("setup2fa.codes_saved") })),
      h("div", { class: "button-row" }, done),
    );
    title.focus();
  }
  return () => {};
}

