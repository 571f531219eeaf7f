// Dates and times go through Intl with the user's locale and time zone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { addMinutes, formatDate, formatDateTime, formatDuration, formatRange, formatRelative, fromLocalInputs, minutesBetween, toLocalInputs } from "../../../app/web/assets/js/format.js";
import { getLocale } from "../../../app/web/assets/js/i18n.js";

const instant = "2026-03-15T08:30:00Z";

test("formats in the requested locale and time zone", () => {
  const fr = formatDateTime(instant, { locale: "fr-FR", timeZone: "Europe/Paris" });
  assert.match(fr, /15 mars 2026/);
  assert.match(fr, /09:30/);
  const en = formatDateTime(instant, { locale: "en-US", timeZone: "America/New_York" });
  assert.match(en, /Mar 15, 2026/);
  assert.match(en, /4:30\s?AM/);
  assert.match(formatDate(instant, { locale: "en-GB", timeZone: "UTC" }), /15 Mar 2026/);
});

test("a same-day range prints the date once", () => {
  const text = formatRange("2026-03-15T08:30:00Z", "2026-03-15T09:30:00Z", { locale: "en-GB", timeZone: "UTC" });
  assert.equal((text.match(/2026/g) || []).length, 1, text);
  assert.match(text, /08:30/);
  assert.match(text, /09:30/);
});

test("invalid or empty values format to an empty string", () => {
  assert.equal(formatDateTime("not a date"), "");
  assert.equal(formatDateTime(null), "");
  assert.equal(formatRange(undefined, undefined), "");
});

test("relative time and durations are localized", () => {
  const now = new Date("2026-03-15T10:00:00Z");
  assert.equal(formatRelative("2026-03-15T09:55:00Z", { locale: "en", now }), "5 minutes ago");
  assert.equal(formatRelative("2026-03-16T10:00:00Z", { locale: "fr", now }), "demain");
  assert.match(formatDuration(90, { locale: "en" }), /1\shr\s30\smin/);
  assert.match(formatDuration(45, { locale: "fr" }), /45\smin/);
});

test("local inputs round-trip to the same instant and reject rollovers", () => {
  const d = fromLocalInputs("2026-03-15", "09:30");
  assert.ok(d instanceof Date);
  assert.deepEqual(toLocalInputs(d), { date: "2026-03-15", time: "09:30" });
  assert.equal(fromLocalInputs("2026-02-31", "09:30"), null);
  assert.equal(fromLocalInputs("2026-03-15", "25:00"), null);
  assert.equal(fromLocalInputs("", "09:30"), null);
  assert.equal(minutesBetween(d, addMinutes(d, 45)), 45);
});

test("the Intl locale follows the UI language and the browser's region", () => {
  assert.equal(getLocale("fr", ["fr-CA", "en-US"]), "fr-CA");
  assert.equal(getLocale("en", ["fr-CA", "en-US"]), "en-US");
  assert.equal(getLocale("fr", ["de-DE"]), "fr-FR");
  assert.equal(getLocale("en", []), "en-GB");
});
