// Tiny DOM helpers. Everything the app shows goes through textContent; the only way to insert HTML is
// trustedHtml(), reserved for markup the server sanitized (comment html, markdown preview, 2FA QR SVG).

/**
 * h('button', { class: 'btn', onclick: fn, 'aria-label': 'Close' }, 'x', child)
 * Attributes: `class` (string or array, falsy entries dropped), `text`, `on<event>` handlers,
 * `dataset` object, booleans (true sets "", false/null/undefined omits), other values as strings.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    } else if (key === "text") {
      el.textContent = String(value);
    } else if (key === "dataset") {
      for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
    } else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "value" && "value" in el) {
      el.value = String(value);
    } else if (key === "checked" || key === "selected" || key === "disabled" || key === "hidden") {
      el[key] = Boolean(value);
      if (key === "disabled" || key === "hidden") el.toggleAttribute(key, Boolean(value));
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Inserts HTML that the server already sanitized. Never pass user text here. */
export function trustedHtml(el, html) {
  el.innerHTML = typeof html === "string" ? html : "";
  // Defence in depth: links from user content never get the opener, scripts never run anyway (CSP).
  for (const a of el.querySelectorAll("a[href]")) {
    a.setAttribute("rel", "noopener noreferrer nofollow");
    a.setAttribute("target", "_blank");
  }
  return el;
}

let idCounter = 0;
/** A unique id for label/aria wiring. */
export function uid(prefix = "id") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** Spinner with an accessible label. */
export function spinner(label) {
  return h("span", { class: "spinner", role: "status" }, h("span", { class: "visually-hidden", text: label }));
}

/** Skeleton block rows shown while a view loads. */
export function skeleton(rows = 3, label = "") {
  return h(
    "div",
    { class: "skeleton-group", "aria-busy": "true", "aria-label": label || null },
    Array.from({ length: rows }, (_, i) => h("div", { class: ["skeleton", i % 3 === 2 && "skeleton--short"] })),
  );
}

export const FOCUSABLE =
  'a[href], area[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), iframe, [tabindex]:not([tabindex="-1"]), [contenteditable="true"]';

export function focusables(root) {
  return [...root.querySelectorAll(FOCUSABLE)].filter((el) => !el.hidden && el.getClientRects().length > 0);
}

const ICONS = {
  bell: "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z",
  check: "M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4L9 16.2Z",
  trash: "M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6v12ZM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4Z",
  edit: "M3 17.25V21h3.75L17.81 9.94l-3.75-3.75L3 17.25ZM20.71 7.04a1 1 0 0 0 0-1.41l-2.34-2.34a1 1 0 0 0-1.41 0l-1.83 1.83 3.75 3.75 1.83-1.83Z",
};

/** A decorative SVG icon (aria-hidden); give the button around it an aria-label. */
export function icon(name, size = 20) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", String(size));
  svg.setAttribute("height", String(size));
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", "icon");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICONS[name] || "");
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}

/** replaceChildren that skips null/undefined/false (the native one would print "null"). */
export function setChildren(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}
