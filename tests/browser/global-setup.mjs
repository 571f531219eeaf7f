// Starts the real `uyoop-cal serve` (UYOOP_BIN, default target/debug/uyoop-cal) on a free loopback port
// with a fresh SQLite database and keyring in a temporary directory (e2e/server.mjs), waits for
// GET /ready, seeds the accounts through the API (e2e/seed.mjs), and returns the teardown that stops
// the server and removes the directory. With UYOOP_BASE_URL set, the suite uses that server instead:
// it must have a fresh database (seeding registers the first account) and rate limits off.
import { rmSync } from "node:fs";
import { STATE_FILE, seedAccounts } from "./e2e/seed.mjs";
import { startServer } from "./e2e/server.mjs";

export default async function globalSetup() {
  let server = null;
  if (!process.env.UYOOP_BASE_URL) {
    server = await startServer({
      // Rate limits off for this run: the suite signs in far more often than 5 times a minute from
      // one address (login, register and 2FA verify are limited per IP, 2FA setup per user).
      // e2e/ratelimit.spec.mjs starts its own server with the limits on to check the 429 message.
      env: { UYOOP_RATELIMIT__ENABLED: "false" },
    });
    process.env.UYOOP_BASE_URL = server.baseURL;
  }
  try {
    await seedAccounts(process.env.UYOOP_BASE_URL);
  } catch (err) {
    await server?.stop();
    throw err;
  }
  return async () => {
    await server?.stop();
    rmSync(STATE_FILE, { force: true });
  };
}
