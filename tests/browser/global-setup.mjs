// Starts `uyoop-cal serve` on a free loopback port with a fresh SQLite database in a temporary
// directory, waits for GET /ready (polling with a deadline, no fixed sleep), seeds the test accounts
// through the API, and returns the teardown that stops the server. With UYOOP_BASE_URL set, uses that
// server instead (it must have been started with the same bootstrap admin variables).
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ADMIN, STATE_FILE, seedAccounts } from "./e2e/seed.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "../..");
export const ARTIFACTS = join(here, "artifacts");

function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

async function waitReady(baseURL, child, logFile, deadlineMs = 120_000) {
  const deadline = Date.now() + deadlineMs;
  let last = "";
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new Error(`uyoop-cal exited with ${child.exitCode} before /ready:\n${tail(logFile)}`);
    }
    try {
      const res = await fetch(`${baseURL}/ready`);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = String(err.cause?.code || err.message);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`uyoop-cal not ready after ${deadlineMs} ms (${last}):\n${tail(logFile)}`);
}

function tail(file) {
  if (!file) return "";
  try {
    return readFileSync(file, "utf8").split("\n").slice(-40).join("\n");
  } catch {
    return "";
  }
}

export default async function globalSetup() {
  mkdirSync(ARTIFACTS, { recursive: true });
  let child = null;
  let dir = null;
  let baseURL = process.env.UYOOP_BASE_URL;
  let logFile = null;
  if (!baseURL) {
    const bin = resolve(repoRoot, process.env.UYOOP_BIN || "target/debug/uyoop-cal");
    const port = await freePort();
    dir = mkdtempSync(join(tmpdir(), "uyoop-e2e-"));
    baseURL = `http://127.0.0.1:${port}`;
    logFile = join(ARTIFACTS, "server.log");
    const log = createWriteStream(logFile);
    child = spawn(bin, ["serve"], {
      cwd: dir,
      env: {
        ...process.env,
        UYOOP_SERVER__BIND: `127.0.0.1:${port}`,
        UYOOP_METRICS__BIND: "127.0.0.1:0",
        UYOOP_DATABASE__URL: `sqlite://${join(dir, "uyoop.db")}`,
        UYOOP_BOOTSTRAP__ADMIN_USERNAME: ADMIN.username,
        UYOOP_BOOTSTRAP__ADMIN_EMAIL: ADMIN.email,
        UYOOP_BOOTSTRAP__ADMIN_PASSWORD: ADMIN.password,
        RUST_LOG: process.env.RUST_LOG || "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    child.on("error", (err) => log.write(`spawn error: ${err.message}\n`));
  }
  process.env.UYOOP_BASE_URL = baseURL;
  try {
    await waitReady(baseURL, child, logFile);
    const state = await seedAccounts(baseURL);
    writeFileSync(STATE_FILE, JSON.stringify({ baseURL, ...state }, null, 2));
  } catch (err) {
    child?.kill("SIGTERM");
    throw err;
  }
  return async () => {
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      const exited = await Promise.race([new Promise((r) => child.once("exit", () => r(true))), new Promise((r) => setTimeout(() => r(false), 10_000))]);
      if (!exited) child.kill("SIGKILL");
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    rmSync(STATE_FILE, { force: true });
  };
}
