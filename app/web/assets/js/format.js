// Date and time formatting with Intl, in the user's locale and time zone, plus the conversions between
// the wizard's local date/time inputs and the API's ISO 8601 UTC instants.
import { getLang, getLocale } from "./i18n.js";

function loc(locale) {
  return locale || getLocale(getLang());
}

function toDate(value) {
  if (value instanceof Date) return value;
  if (value === null || value === undefined || value === "") return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "lun. 12 janv. 2026, 09:30" style: medium date + short time. */
export function formatDateTime(value, { locale, timeZone } = {}) {
  const d = toDate(value);
  if (!d) return "";
  return new Intl.DateTimeFormat(loc(locale), { dateStyle: "medium", timeStyle: "short", timeZone }).format(d);
}

export function formatDate(value, { locale, timeZone } = {}) {
  const d = toDate(value);
  if (!d) return "";
  return new Intl.DateTimeFormat(loc(locale), { dateStyle: "medium", timeZone }).format(d);
}

export function formatTime(value, { locale, timeZone } = {}) {
  const d = toDate(value);
  if (!d) return "";
  return new Intl.DateTimeFormat(loc(locale), { timeStyle: "short", timeZone }).format(d);
}

/** A start-end range, collapsing the date when both ends fall on the same day. */
export function formatRange(start, end, { locale, timeZone } = {}) {
  const a = toDate(start);
  const b = toDate(end);
  if (!a) return "";
  if (!b) return formatDateTime(a, { locale, timeZone });
  const fmt = new Intl.DateTimeFormat(loc(locale), { dateStyle: "medium", timeStyle: "short", timeZone });
  return typeof fmt.formatRange === "function" ? fmt.formatRange(a, b) : `${fmt.format(a)} – ${fmt.format(b)}`;
}

/** "il y a 5 minutes" / "in 2 days", relative to `now`. */
export function formatRelative(value, { locale, now = new Date() } = {}) {
  const d = toDate(value);
  if (!d) return "";
  const seconds = Math.round((d.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  const rtf = new Intl.RelativeTimeFormat(loc(locale), { numeric: "auto" });
  if (abs < 60) return rtf.format(seconds, "second");
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), "hour");
  if (abs < 86400 * 30) return rtf.format(Math.round(seconds / 86400), "day");
  return formatDate(d, { locale });
}

/** A duration in minutes as "1 h 30 min" / "45 min", localized through Intl.NumberFormat units. */
export function formatDuration(minutes, { locale } = {}) {
  const total = Math.max(0, Math.round(Number(minutes) || 0));
  const hours = Math.floor(total / 60);
  const mins = total % 60;
  const unit = (n, u) => new Intl.NumberFormat(loc(locale), { style: "unit", unit: u, unitDisplay: "short" }).format(n);
  if (hours && mins) return `${unit(hours, "hour")} ${unit(mins, "minute")}`;
  if (hours) return unit(hours, "hour");
  return unit(mins, "minute");
}

const pad = (n) => String(n).padStart(2, "0");

/** Local "YYYY-MM-DD" and "HH:MM" of an instant, for <input type=date|time>. */
export function toLocalInputs(value) {
  const d = toDate(value);
  if (!d) return { date: "", time: "" };
  return {
    date: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
    time: `${pad(d.getHours())}:${pad(d.getMinutes())}`,
  };
}

/** Local date + time inputs -> Date, or null when either is missing or invalid. */
export function fromLocalInputs(date, time) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date || "") || !/^\d{2}:\d{2}$/.test(time || "")) return null;
  const [y, m, d] = date.split("-").map(Number);
  const [hh, mm] = time.split(":").map(Number);
  const result = new Date(y, m - 1, d, hh, mm, 0, 0);
  // Reject rollovers such as 2026-02-31 or 25:00.
  if (result.getFullYear() !== y || result.getMonth() !== m - 1 || result.getDate() !== d) return null;
  if (hh > 23 || mm > 59) return null;
  return result;
}

export function addMinutes(date, minutes) {
  return new Date(date.getTime() + minutes * 60000);
}

/** Minutes between two instants (rounded). */
export function minutesBetween(start, end) {
  const a = toDate(start);
  const b = toDate(end);
  if (!a || !b) return 0;
  return Math.round((b.getTime() - a.getTime()) / 60000);
}

/** "YYYY-MM" of a Date (local), for the metrics month range. */
export function toMonthInput(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}`;
}
