// Form building blocks with the accessibility wiring done once: label for=, hint and error linked by
// aria-describedby, aria-invalid on error, error text in a live element.
import { h, uid } from "./dom.js";
import { fieldMessages } from "./messages.js";

/**
 * field({ label, control, hint, required, name }) -> wrapper with .setError(text|null)
 * `control` is an <input>/<select>/<textarea> or a group element (then pass `group: true`: a fieldset).
 */
export function field({ label, control, hint, required = false, name, group = false, className }) {
  const id = control.id || uid(name || "field");
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const error = h("p", { id: errorId, class: "field__error", hidden: true });
  let wrapper;
  if (group) {
    wrapper = h(
      "fieldset",
      { class: ["field", "field--group", className], "aria-describedby": [hintId, errorId].filter(Boolean).join(" ") },
      h("legend", { class: "field__label" }, label, required ? h("span", { class: "field__req", "aria-hidden": "true", text: " *" }) : null),
      hint ? h("p", { id: hintId, class: "field__hint", text: hint }) : null,
      control,
      error,
    );
  } else {
    control.id = id;
    if (name) control.name = name;
    if (required) control.required = true;
    control.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
    wrapper = h(
      "div",
      { class: ["field", className] },
      h("label", { class: "field__label", for: id }, label, required ? h("span", { class: "field__req", "aria-hidden": "true", text: " *" }) : null),
      control,
      hint ? h("p", { id: hintId, class: "field__hint", text: hint }) : null,
      error,
    );
  }
  wrapper.dataset.field = name || "";
  wrapper.setError = (text) => {
    error.textContent = text || "";
    error.hidden = !text;
    wrapper.classList.toggle("has-error", Boolean(text));
    const target = group ? wrapper : control;
    if (text) target.setAttribute("aria-invalid", "true");
    else target.removeAttribute("aria-invalid");
  };
  wrapper.control = control;
  return wrapper;
}

export function input(attrs = {}) {
  return h("input", { class: "input", type: "text", ...attrs });
}

export function textarea(attrs = {}) {
  return h("textarea", { class: "input input--area", rows: 4, ...attrs });
}

export function selectEl(options, value, attrs = {}) {
  return h(
    "select",
    { class: "input", ...attrs },
    options.map(([v, label]) => h("option", { value: v, selected: String(v) === String(value ?? ""), text: label })),
  );
}

/** Form-level alert (problem detail) placed at the top of a form. */
export function formAlert() {
  const el = h("div", { class: "form-alert", role: "alert", hidden: true });
  el.show = (text) => {
    el.textContent = text || "";
    el.hidden = !text;
  };
  return el;
}

/**
 * Applies errors to fields found under `root` by their data-field name.
 * `errors` maps field -> text. Returns the first field with an error (to focus it).
 */
export function applyFieldErrors(root, errors) {
  let first = null;
  for (const wrapper of root.querySelectorAll("[data-field]")) {
    const name = wrapper.dataset.field;
    if (!name || typeof wrapper.setError !== "function") continue;
    const text = errors[name] || null;
    wrapper.setError(text);
    if (text && !first) first = wrapper;
  }
  return first;
}

export function focusField(wrapper) {
  if (!wrapper) return;
  const target = wrapper.querySelector("input, select, textarea, button") || wrapper;
  target.focus();
}

/** Server field errors as {field: translated text} (see messages.js). */
export function serverFieldErrors(error) {
  return fieldMessages(error);
}

/** Disables a submit button and shows a spinner in it while `fn` runs. */
export async function busy(button, fn) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.classList.add("is-busy");
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.classList.remove("is-busy");
    button.textContent = label;
  }
}
