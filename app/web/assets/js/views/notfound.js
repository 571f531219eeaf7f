// Unknown path: a real page with a way back, never a blank screen.
import { h } from "../dom.js";
import { t } from "../i18n.js";

export function mount(main) {
  main.append(
    h(
      "div",
      { class: "empty-state empty-state--page" },
      h("p", { class: "empty-state__code", "aria-hidden": "true", text: "404" }),
      h("h1", { class: "view-title", text: t("notfound.title") }),
      h("p", { class: "muted", text: t("notfound.text") }),
      h("a", { class: "btn btn--primary", href: "/calendar", text: t("action.back_calendar") }),
    ),
  );
}
