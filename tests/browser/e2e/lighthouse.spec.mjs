// Lighthouse on the calendar page of a signed-in user (with the events earlier specs created):
// accessibility >= 95 and best practices >= 95; performance is recorded in
// artifacts/lighthouse-calendar.json, not asserted (a debug build on a shared CI core).
import { expect, test, chromium } from "@playwright/test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { mkdtempSync, rmSync } from "node:fs";
import lighthouse from "lighthouse";
import { CHROMIUM_ARGS } from "../playwright.config.mjs";
import { ARTIFACTS, USERS, login } from "./helpers.mjs";
import { readState } from "./seed.mjs";
import { freePort } from "./server.mjs";

test("Lighthouse: calendar page accessibility and best practices >= 95", async () => {
  test.setTimeout(180_000);
  const { baseURL } = readState();
  const port = await freePort();
  const profile = mkdtempSync(join(tmpdir(), "uyoop-lh-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: [...CHROMIUM_ARGS, `--remote-debugging-port=${port}`],
    baseURL,
    locale: "fr-FR",
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    await login(page, USERS.projet); // the refresh cookie is now in the shared profile
    const result = await lighthouse(`${baseURL}/calendar`, {
      port,
      output: "json",
      logLevel: "error",
      onlyCategories: ["accessibility", "best-practices", "performance"],
      disableStorageReset: true,
      formFactor: "desktop",
      screenEmulation: { mobile: false, width: 1350, height: 940, deviceScaleFactor: 1, disabled: false },
      throttlingMethod: "provided",
    });
    const scores = Object.fromEntries(Object.entries(result.lhr.categories).map(([k, v]) => [k, Math.round(v.score * 100)]));
    writeFileSync(join(ARTIFACTS, "lighthouse-calendar.json"), JSON.stringify({ url: result.lhr.finalDisplayedUrl, scores, failing: Object.values(result.lhr.audits).filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode === "binary").map((a) => a.id) }, null, 2));
    expect(result.lhr.finalDisplayedUrl).toContain("/calendar");
    expect(scores.accessibility).toBeGreaterThanOrEqual(95);
    expect(scores["best-practices"]).toBeGreaterThanOrEqual(95);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
