// Playwright drives Debian's Chromium (no browser download) against the real uyoop-cal server, started
// by global-setup.mjs on a free port with a fresh SQLite database. UYOOP_BASE_URL points the suite at an
// already running instance instead.
import { defineConfig } from "@playwright/test";

// Specs kept in the repository but not run yet: they need the events, comments and notifications APIs
// that are landing in the server now. Each line names the API its spec needs; remove the line once that
// API is committed and the spec passes (the UI switches those features on by itself: it reads the
// server's /api/openapi.json). Listed here, not skipped inside the specs, so every run reports exactly
// what it covers (run.sh prints this list).
export const WAITING_FOR_API = [
  "**/meeting.spec.mjs", // POST/GET /api/events, GET /api/events/{id} (wizards -> event page -> calendar)
  "**/approval.spec.mjs", // POST /api/events/{id}/approvals (approve, refuse with comment), approval history
  "**/mention.spec.mjs", // /api/events/{id}/comments, /api/comments/{id}/reactions, /api/markdown/preview, /api/notifications
  "**/a11y-events.spec.mjs", // GET /api/events/{id} with its comments, the wizard dialog, GET /api/notifications
];

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
    timezoneId: "Europe/Paris",
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
