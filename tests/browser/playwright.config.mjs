// Playwright drives Debian's Chromium (no browser download) against the real uyoop-cal server, started
// by global-setup.mjs on a free port with a fresh SQLite database. UYOOP_BASE_URL points the suite at an
// already running instance instead.
import { defineConfig } from "@playwright/test";

// The browser's time zone, and the specs' own (they create events at local times through the API and
// look for them on the calendar): set before any Date is used, inherited by the workers.
export const TIME_ZONE = "Europe/Paris";
process.env.TZ = TIME_ZONE;

// Specs kept in the repository but not run yet, each with the API its spec waits for, as
//   "**/name.spec.mjs", // METHOD /api/path (why)
// Listed here, not skipped inside the specs, so every run reports exactly what it covers (run.sh prints
// this list). Empty: every spec runs.
export const WAITING_FOR_API = [];

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

export default defineConfig({
  testDir: "./e2e",
  testIgnore: WAITING_FOR_API,
  outputDir: "./test-results",
  globalSetup: "./global-setup.mjs",
  timeout: 90_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: Boolean(process.env.CI),
  reporter: [["list"], ["json", { outputFile: "test-results/results.json" }]],
  use: {
    baseURL: process.env.UYOOP_BASE_URL,
    locale: "fr-FR",
    timezoneId: TIME_ZONE,
    viewport: { width: 1280, height: 800 },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      args: CHROMIUM_ARGS,
    },
  },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
});
