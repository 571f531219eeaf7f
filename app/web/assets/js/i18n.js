// Internationalisation: French by default, English available. The chosen language is a UI preference
// kept in localStorage (no credential ever is). Dates and times go through Intl (format.js) in the
// browser's own time zone, with the browser's regional variant when it matches the UI language.
import fr from "./i18n/fr.js";
import en from "./i18n/en.js";

export const DICTIONARIES = Object.freeze({ fr, en });
export const LANGUAGES = Object.freeze(["fr", "en"]);
export const DEFAULT_LANG = "fr";
const STORAGE_KEY = "uyoop.lang";

function storage() {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null; // storage disabled by the browser
  }
}

function initialLang() {
  const saved = storage()?.getItem(STORAGE_KEY);
  return LANGUAGES.includes(saved) ? saved : DEFAULT_LANG;
}

let current = initialLang();
const listeners = new Set();

export function getLang() {
  return current;
}

/** BCP 47 locale for Intl: the browser's regional variant of the UI language if it has one. */
export function getLocale(lang = current, navigatorLanguages = globalThis.navigator?.languages || []) {
  const match = navigatorLanguages.find((l) => typeof l === "string" && l.toLowerCase().split("-")[0] === lang);
  return match || (lang === "fr" ? "fr-FR" : "en-GB");
}

/** Whether this browser holds an explicit language choice. */
export function hasStoredLang() {
  try {
    return LANGUAGES.includes(storage()?.getItem(STORAGE_KEY));
  } catch {
    return false;
  }
}

/** Switches the language; `persist: false` applies the account's language without storing a choice. */
export function setLang(lang, { persist = true } = {}) {
  if (!LANGUAGES.includes(lang) || lang === current) return;
  current = lang;
  try {
    if (persist) storage()?.setItem(STORAGE_KEY, lang);
  } catch {
    /* storage full or disabled */
  }
  if (typeof document !== "undefined") document.documentElement.lang = lang;
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * Translate `key`, replacing `{name}` placeholders from params. A `{count}` param selects the
 * `key.one` / `key.other` variant when those exist (Intl.PluralRules of the language).
 * Unknown keys return the key itself, so a gap is visible but never breaks the page.
 */
export function t(key, params = {}, lang = current) {
  const dict = DICTIONARIES[lang] || DICTIONARIES[DEFAULT_LANG];
  let text = dict[key];
  if (text === undefined && typeof params.count === "number") {
    const rule = new Intl.PluralRules(lang).select(params.count);
    text = dict[`${key}.${rule}`] ?? dict[`${key}.other`];
  }
  if (text === undefined) return key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (params[name] === undefined ? m : String(params[name])));
}

/** Label of a server-provided enum value (`prefix.value`), or the raw value when not translated. */
export function label(prefix, value, lang = current) {
  const key = `${prefix}.${value}`;
  const dict = DICTIONARIES[lang] || DICTIONARIES[DEFAULT_LANG];
  return dict[key] === undefined ? String(value ?? "") : dict[key];
}
