// Boot and routing of the single-page app: the header (logo, status pill, user, notifications,
// language, logout), the navbar, the filters panel, and one view at a time in <main>, chosen from the
// URL with the History API. Views are ES modules exporting `mount(container, ctx)`, which may return a
// cleanup function.
import { api } from "./api.js";
import { has, hasFeature, loadCapabilities } from "./capabilities.js";
import { clear, h, skeleton } from "./dom.js";
import { LANGUAGES, getLang, hasStoredLang, onLangChange, setLang, t } from "./i18n.js";
import { creatableKinds, membersScope } from "./roles.js";
import { activeFilterCount, clearCaches, onFiltersChange, userLabel } from "./store.js";
import { toast, toastError } from "./toast.js";
import { createFiltersPanel } from "./views/filters.js";
import { createNotificationsWidget } from "./views/notifications.js";
import { openSubscriptionDialog } from "./views/subscription.js";
import { openWizard } from "./views/wizard.js";

const ROUTES = [
  { path: "/login", view: () => import("./views/login.js"), public: true, title: "login.title" },
  { path: "/register", view: () => import("./views/register.js"), public: true, title: "register.title" },
  { path: "/setup-2fa", view: () => import("./views/setup2fa.js"), title: "setup2fa.title", bare: true },
  { path: "/calendar", view: () => import("./views/calendar.js"), title: "nav.calendar", nav: "calendar" },
  { path: "/table", view: () => import("./views/table.js"), title: "nav.table", nav: "table" },
  { path: "/events/:id", view: () => import("./views/event.js"), title: "event.title" },
  { path: "/metrics", view: () => import("./views/dashboard.js"), title: "nav.dashboard", nav: "metrics" },
  { path: "/members", view: () => import("./views/members.js"), title: "nav.members", nav: "members" },
];
const NOT_FOUND = { path: "*", view: () => import("./views/notfound.js"), title: "notfound.title" };
const HEALTH_POLL_MS = 60000;

const state = { version: "", health: "unknown", cleanup: null, route: null, navToken: 0, filtersOpen: false, menuOpen: false };
const shell = {};

function matchRoute(pathname) {
  for (const route of ROUTES) {
    const names = [];
    const re = new RegExp(`^${route.path.replace(/:(\w+)/g, (_, n) => (names.push(n), "([^/]+)"))}/?$`);
    const m = pathname.match(re);
    if (m) return { route, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])])) };
  }
  return { route: NOT_FOUND, params: {} };
}

export function navigate(to, { replace = false } = {}) {
  const url = new URL(to, location.origin);
  if (url.origin !== location.origin) {
    location.assign(url.href);
    return;
  }
  const target = url.pathname + url.search + url.hash;
  if (replace) history.replaceState({}, "", target);
  else if (target !== location.pathname + location.search + location.hash) history.pushState({}, "", target);
  render();
}

// ---- header ------------------------------------------------------------------------------------

function statusPill() {
  const label = { ok: t("status.operational"), degraded: t("status.degraded"), down: t("status.down"), unknown: t("status.checking") }[state.health];
  return h(
    "div",
    { class: ["status-pill", `status-pill--${state.health}`], role: "status", title: t("status.tooltip") },
    h("span", { class: "status-pill__dot", "aria-hidden": "true" }),
    h("span", { text: label }),
    state.version ? h("span", { class: "status-pill__version", text: `v${state.version}` }) : null,
  );
}

function languageSwitch() {
  const other = getLang() === "fr" ? "en" : "fr";
  return h("button", {
    type: "button",
    class: "btn btn--ghost lang-switch",
    lang: other,
    "aria-label": `${other.toUpperCase()} — ${t("lang.switch_to", {}, other)}`,
    onclick: () => setLang(other),
    text: other.toUpperCase(),
  });
}

/**
 * The account menu (a disclosure button with the user's name and role): the calendar subscription
 * link. Escape or a click outside closes it.
 */
function userMenu(user) {
  const panelId = "user-menu-panel";
  const button = h(
    "button",
    { type: "button", class: "user-menu__button", "aria-expanded": "false", "aria-controls": panelId },
    h("span", { class: "app-header__username", text: userLabel(user) }),
    h("span", { class: ["role-badge", `role-badge--${user.role}`], text: t(`role.${user.role}`) }),
    h("span", { class: "visually-hidden", text: ` — ${t("usermenu.label")}` }),
    h("span", { class: "user-menu__caret", "aria-hidden": "true", text: "▾" }),
  );
  const items = [];
  if (has("POST /api/calendar/token")) {
    items.push(h("button", { type: "button", class: "user-menu__item", onclick: openSubscription, text: t("subscription.menu") }));
  }
  items.push(h("a", { class: "user-menu__item", href: "/docs", text: t("usermenu.api_docs") }));
  const panel = h(
    "div",
    { id: panelId, class: "user-menu__panel", hidden: true },
    h("p", { class: "user-menu__who" }, h("strong", { text: userLabel(user) }), h("span", { class: "muted", text: user.username })),
    h("ul", { class: "user-menu__list" }, items.map((item) => h("li", {}, item))),
  );
  const wrap = h("div", { class: "user-menu app-header__user" }, button, panel);
  const onOutside = (ev) => {
    if (!wrap.contains(ev.target)) close();
  };
  // The dialog gives focus back to what opened it: the menu button, since the menu closes.
  function openSubscription() {
    close();
    button.focus();
    openSubscriptionDialog();
  }
  function close() {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("mousedown", onOutside);
  }
  button.addEventListener("click", () => {
    const open = panel.hidden;
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) {
      document.addEventListener("mousedown", onOutside);
      panel.querySelector(".user-menu__item")?.focus();
    } else close();
  });
  wrap.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && !panel.hidden) {
      close();
      button.focus();
    }
  });
  return wrap;
}

function renderHeader() {
  const user = api.user;
  const right = h("div", { class: "app-header__right" }, languageSwitch());
  if (user && api.authenticated) {
    if (!api.mfaSetupRequired && hasFeature("notifications")) right.prepend(shell.notifications.el);
    right.append(
      api.mfaSetupRequired
        ? h("span", { class: "app-header__user" }, h("span", { class: "app-header__username", text: userLabel(user) }), h("span", { class: ["role-badge", `role-badge--${user.role}`], text: t(`role.${user.role}`) }))
        : userMenu(user),
      h("button", { type: "button", class: "btn btn--secondary", onclick: logout, text: t("action.logout") }),
    );
  }
  const header = h(
    "header",
    { class: "app-header" },
    h(
      "a",
      { class: "brand", href: "/calendar" },
      h("img", { class: "brand__logo", src: "/assets/img/logo.svg", width: "50", height: "50", alt: t("brand.logo_alt") }),
      h("span", { class: "brand__name", text: "uYoop-Cal" }),
      h("span", { class: "brand__sep", "aria-hidden": "true", text: "|" }),
      h("span", { class: "brand__tagline", text: t("brand.tagline") }),
    ),
    statusPill(),
    right,
  );
  shell.header.replaceWith(header);
  shell.header = header;
}

async function refreshHealth() {
  try {
    const res = await fetch("/health", { credentials: "same-origin", headers: { Accept: "application/json" } });
    let status = res.ok ? "ok" : "degraded";
    if (res.ok && (res.headers.get("content-type") || "").includes("json")) {
      const body = await res.json().catch(() => ({}));
      if (body && typeof body.status === "string" && !/^(ok|up|healthy|pass)$/i.test(body.status)) status = "degraded";
    }
    state.health = status;
  } catch {
    state.health = "down";
  }
  if (!state.version) {
    try {
      const res = await fetch("/api/version", { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (res.ok) state.version = String((await res.json()).version || "");
    } catch {
      /* the pill shows no version */
    }
  }
  const pill = shell.header?.querySelector(".status-pill");
  if (pill) pill.replaceWith(statusPill());
}

async function logout() {
  try {
    await api.logout();
  } catch {
    /* the local session is cleared anyway */
  }
  afterSignOut();
  toast(t("login.signed_out"), "success");
}

function afterSignOut() {
  shell.notifications.stop();
  clearCaches();
  navigate("/login", { replace: true });
}

// ---- language ------------------------------------------------------------------------------------
// The language is a UI preference of this browser (localStorage) and of the account (user.locale,
// saved with PUT /api/users/{id}): a browser without a stored choice takes the account's.

function applyServerLocale() {
  const locale = api.user?.locale;
  if (!hasStoredLang() && LANGUAGES.includes(locale) && locale !== getLang()) setLang(locale, { persist: false });
}

function saveLocale(lang) {
  const user = api.user;
  if (!user || !api.authenticated || api.mfaSetupRequired || user.locale === lang) return;
  api
    .put(`/api/users/${encodeURIComponent(user.id)}`, { locale: lang })
    .then((updated) => {
      if (updated && api.user?.id === updated.id) api.setUser({ ...api.user, locale: updated.locale });
    })
    .catch(() => {
      /* the choice is kept in this browser anyway */
    });
}

// ---- navbar ------------------------------------------------------------------------------------

function renderNav(route) {
  const user = api.user;
  if (!user || !api.authenticated || route.public || route.bare || api.mfaSetupRequired) {
    shell.nav.hidden = true;
    shell.filters.el.hidden = true;
    return;
  }
  const tabs = [
    ["calendar", "/calendar", "nav.calendar"],
    ["table", "/table", "nav.table"],
    ["metrics", "/metrics", "nav.dashboard"],
  ];
  if (membersScope(user).visible) tabs.push(["members", "/members", "nav.members"]);
  const count = activeFilterCount();
  const menuId = "nav-menu";
  const toggle = h(
    "button",
    { type: "button", class: "icon-btn nav__toggle", "aria-expanded": String(state.menuOpen), "aria-controls": menuId, "aria-label": t("nav.menu") },
    h("span", { class: "hamburger", "aria-hidden": "true" }),
  );
  toggle.addEventListener("click", () => {
    state.menuOpen = !state.menuOpen;
    toggle.setAttribute("aria-expanded", String(state.menuOpen));
    menu.classList.toggle("nav__menu--open", state.menuOpen);
  });
  const filtersBtn = h(
    "button",
    { type: "button", class: ["btn", "btn--tab", state.filtersOpen && "is-active"], "aria-expanded": String(state.filtersOpen), "aria-controls": "filters-panel" },
    t("nav.filters"),
    count ? h("span", { class: "count-badge", "aria-label": t("filters.active", { count }) , text: String(count) }) : null,
    h("span", { "aria-hidden": "true", text: " ▾" }),
  );
  filtersBtn.addEventListener("click", () => {
    state.filtersOpen = !state.filtersOpen;
    filtersBtn.setAttribute("aria-expanded", String(state.filtersOpen));
    filtersBtn.classList.toggle("is-active", state.filtersOpen);
    shell.filters.el.hidden = !state.filtersOpen;
    if (state.filtersOpen) shell.filters.focus();
  });
  const kinds = hasFeature("createEvent") ? creatableKinds(user.role) : [];
  const menu = h(
    "div",
    { id: menuId, class: ["nav__menu", state.menuOpen && "nav__menu--open"] },
    h(
      "ul",
      { class: "nav__tabs" },
      tabs.map(([key, href, label]) =>
        h("li", {}, h("a", { href, class: ["tab", route.nav === key && "is-active"], "aria-current": route.nav === key ? "page" : null, text: t(label) })),
      ),
    ),
    h(
      "div",
      { class: "nav__actions" },
      hasFeature("events") ? filtersBtn : null,
      kinds.length
        ? h("button", { type: "button", class: "btn btn--primary", onclick: () => openWizard({ user, onSaved: onEventSaved }), text: `+ ${t("nav.new_event")}` })
        : null,
    ),
  );
  const nav = h("nav", { class: "app-nav", "aria-label": t("nav.label") }, toggle, menu);
  shell.nav.replaceWith(nav);
  shell.nav = nav;
  shell.filters.el.hidden = !state.filtersOpen;
}

function onEventSaved(event) {
  if (event?.id) navigate(`/events/${event.id}`);
  else render();
}

// ---- rendering -----------------------------------------------------------------------------------

async function render() {
  const token = ++state.navToken;
  const { pathname, search } = location;
  if (pathname === "/" || pathname === "") {
    navigate("/calendar", { replace: true });
    return;
  }
  const { route, params } = matchRoute(pathname);
  const signedIn = api.authenticated;
  if (!route.public && route !== NOT_FOUND && !signedIn) {
    navigate(`/login?next=${encodeURIComponent(pathname + search)}`, { replace: true });
    return;
  }
  if (route.public && signedIn) {
    navigate("/calendar", { replace: true });
    return;
  }
  if (signedIn && api.mfaSetupRequired && route.path !== "/setup-2fa") {
    navigate("/setup-2fa", { replace: true });
    return;
  }
  if (typeof state.cleanup === "function") state.cleanup();
  state.cleanup = null;
  state.route = route;
  if (state.menuOpen) state.menuOpen = false;
  renderHeader();
  renderNav(route);
  document.body.classList.toggle("is-public", Boolean(route.public || route.bare));
  const main = shell.main;
  clear(main);
  main.setAttribute("aria-busy", "true");
  main.append(skeleton(6, t("common.loading")));
  let mod;
  try {
    mod = await route.view();
  } catch (err) {
    if (token !== state.navToken) return;
    clear(main);
    main.append(h("p", { class: "empty-state", role: "alert", text: t("error.load_module") }));
    main.removeAttribute("aria-busy");
    console.error(err);
    return;
  }
  if (token !== state.navToken) return;
  clear(main);
  main.removeAttribute("aria-busy");
  document.title = `${t(route.title)} · uYoop-Cal`;
  const ctx = {
    params,
    query: new URLSearchParams(search),
    user: api.user,
    navigate,
    isCurrent: () => token === state.navToken,
    setTitle: (text) => {
      document.title = `${text} · uYoop-Cal`;
    },
    onSignedIn,
    refreshNotifications: () => shell.notifications.refresh(),
    openWizard: (opts) => openWizard({ user: api.user, onSaved: onEventSaved, ...opts }),
  };
  try {
    state.cleanup = (await mod.mount(main, ctx)) || null;
  } catch (err) {
    if (token !== state.navToken) return;
    console.error(err);
    clear(main);
    main.append(h("p", { class: "empty-state", role: "alert", text: err?.detail || t("error.generic") }));
  }
  if (token !== state.navToken) return;
  const heading = main.querySelector("h1");
  if (heading && state.focusOnRender) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  }
  state.focusOnRender = true;
}

function onSignedIn(next) {
  if (!api.mfaSetupRequired && hasFeature("notifications")) shell.notifications.start();
  applyServerLocale();
  const safe = typeof next === "string" && next.startsWith("/") && !next.startsWith("//") ? next : "/calendar";
  navigate(api.mfaSetupRequired ? "/setup-2fa" : safe, { replace: true });
}

function interceptLinks(ev) {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const a = ev.target.closest?.("a[href]");
  if (!a || a.target || a.hasAttribute("download") || a.getAttribute("href").startsWith("#")) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  if (/^\/(api|docs|vendor|assets|webhooks|health|ready)(\/|$)/.test(url.pathname)) return;
  ev.preventDefault();
  navigate(url.pathname + url.search + url.hash);
}

async function boot() {
  document.documentElement.lang = getLang();
  const app = document.getElementById("app");
  clear(app);
  shell.header = h("header", { class: "app-header" });
  shell.nav = h("nav", { class: "app-nav", hidden: true });
  shell.filters = createFiltersPanel();
  shell.filters.el.hidden = true;
  shell.main = h("main", { id: "main", class: "app-main", tabindex: "-1" });
  shell.notifications = createNotificationsWidget({ navigate });
  app.append(shell.header, shell.nav, shell.filters.el, shell.main);
  document.querySelector(".skip-link")?.replaceChildren(t("nav.skip"));

  api.onAuthLost = () => {
    toast(t("login.session_expired"), "warning");
    afterSignOut();
  };
  api.onMfaSetupRequired = () => {
    if (location.pathname !== "/setup-2fa") navigate("/setup-2fa", { replace: true });
  };
  onLangChange((lang) => {
    saveLocale(lang);
    document.querySelector(".skip-link")?.replaceChildren(t("nav.skip"));
    shell.filters.rerender();
    shell.notifications.rerender();
    state.focusOnRender = false;
    render();
  });
  onFiltersChange(() => {
    if (state.route) renderNav(state.route);
  });
  document.addEventListener("click", interceptLinks);
  window.addEventListener("popstate", () => render());

  refreshHealth();
  setInterval(refreshHealth, HEALTH_POLL_MS);
  renderHeader();
  await Promise.all([api.resume(), loadCapabilities()]);
  if (api.authenticated) applyServerLocale();
  if (api.authenticated && !api.mfaSetupRequired && hasFeature("notifications")) shell.notifications.start();
  state.focusOnRender = false;
  await render();
}

boot().catch((err) => {
  console.error(err);
  toastError(err);
});
