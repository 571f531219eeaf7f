// The two dictionaries have exactly the same keys, no empty string, the same {placeholders}, and every
// key the code asks for (t("...") literals and known enum prefixes) exists.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import fr from "../../../app/web/assets/js/i18n/fr.js";
import en from "../../../app/web/assets/js/i18n/en.js";
import { DICTIONARIES, label, t } from "../../../app/web/assets/js/i18n.js";
import { STEPS, MEETING_KINDS, RECURRENCES, ENVIRONMENTS, GIT_ACTIONS, TRIGGERS, POST_ACTIONS, DEFAULT_CHECKLIST } from "../../../app/web/assets/js/wizard-model.js";
import { EVENT_KINDS, EVENT_STATUSES, ROLES, TRANSITIONS } from "../../../app/web/assets/js/roles.js";

const JS_DIR = new URL("../../../app/web/assets/js/", import.meta.url).pathname;

function sourceFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "i18n" ? [] : sourceFiles(path);
    return name.endsWith(".js") ? [path] : [];
  });
}

test("fr and en have exactly the same keys", () => {
  const frKeys = Object.keys(fr).sort();
  const enKeys = Object.keys(en).sort();
  assert.deepEqual(frKeys.filter((k) => !(k in en)), [], "keys missing in en.js");
  assert.deepEqual(enKeys.filter((k) => !(k in fr)), [], "keys missing in fr.js");
  assert.equal(frKeys.length, enKeys.length);
});

test("no empty translation and the same placeholders in both languages", () => {
  for (const key of Object.keys(fr)) {
    assert.ok(fr[key].trim(), `fr ${key} is empty`);
    assert.ok(en[key].trim(), `en ${key} is empty`);
    const ph = (s) => [...s.matchAll(/\{(\w+)\}|\$0/g)].map((m) => m[0]).sort();
    assert.deepEqual(ph(fr[key]), ph(en[key]), `placeholders differ for ${key}`);
  }
});

test("every literal t() key used by the code exists", () => {
  const missing = [];
  for (const file of sourceFiles(JS_DIR)) {
    const src = readFileSync(file, "utf8");
    for (const m of src.matchAll(/\bt\("([A-Za-z0-9_.]+)"/g)) {
      const key = m[1];
      const known = key in fr || `${key}.one` in fr || `${key}.other` in fr;
      if (!known) missing.push(`${file.replace(JS_DIR, "")}: ${key}`);
    }
    for (const m of src.matchAll(/"(checklist\.default\.[a-z_]+)"/g)) if (!(m[1] in fr)) missing.push(m[1]);
  }
  assert.deepEqual(missing, []);
});

test("every enum value shown by the UI is translated", () => {
  const need = [
    ...EVENT_KINDS.flatMap((k) => [`kind.${k}`, `kind.${k}.desc`]),
    ...ROLES.map((r) => `role.${r}`),
    ...MEETING_KINDS.map((k) => `meeting_kind.${k}`),
    ...RECURRENCES.map((r) => `recurrence.${r}`),
    ...ENVIRONMENTS.flatMap((e) => [`env.${e}`, `env.${e}.desc`]),
    ...GIT_ACTIONS.map((a) => `git.action.${a}`),
    ...TRIGGERS.flatMap((x) => [`git.trigger.${x}`, `git.trigger.${x}.desc`]),
    ...POST_ACTIONS.map((p) => `git.post.${p}`),
    ...Object.entries(STEPS).flatMap(([kind, steps]) => steps.map((s) => `wizard.step.${kind}.${s}`)),
    ...[...new Set(Object.values(TRANSITIONS).flatMap((byStatus) => Object.values(byStatus).flat()))].map((s) => `transition.${s}`),
    ...EVENT_STATUSES.map((s) => `status.event.${s}`),
    ...["submitted", "review_started", "approved", "refused", "withdrawn"].map((a) => `approval.action.${a}`),
    ...DEFAULT_CHECKLIST,
    ...["deployment_frequency", "lead_time", "change_failure_rate", "time_to_restore"].map((k) => `dashboard.${k}`),
  ];
  const validationKeys = [...readFileSync(join(JS_DIR, "wizard-model.js"), "utf8").matchAll(/key: "(validation\.[a-z_]+)"/g)].map((m) => m[1]);
  assert.ok(validationKeys.length > 10);
  for (const key of [...need, ...validationKeys]) assert.ok(key in fr, `missing ${key}`);
});

test("t interpolates, pluralizes, and falls back to the key", () => {
  assert.equal(t("validation.too_long", { max: 255 }, "fr"), "255 caractères au maximum.");
  assert.equal(t("validation.too_long", { max: 255 }, "en"), "255 characters at most.");
  assert.equal(t("members.count", { count: 1 }, "en"), "1 member");
  assert.equal(t("members.count", { count: 3 }, "en"), "3 members");
  assert.equal(t("members.count", { count: 0 }, "fr"), "0 membre");
  assert.equal(t("members.count", { count: 2 }, "fr"), "2 membres");
  assert.equal(t("no.such.key", {}, "fr"), "no.such.key");
  assert.equal(label("status.event", "planned", "en"), "Planned");
  assert.equal(label("status.event", "brand_new_status", "en"), "brand_new_status");
  assert.deepEqual(Object.keys(DICTIONARIES), ["fr", "en"]);
});
