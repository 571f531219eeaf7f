// Runs the real uyoop-cal binary for the tests: a free loopback port, a fresh SQLite database and
// keyring in a temporary directory, the log in artifacts/, GET /ready polled with a deadline.
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "../../..");
export const ARTIFACTS = join(here, "..", "artifacts");

export function freePort() {
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

function tail(file) {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-40).join("\n");
  } catch {
    return "";
  }
}

async function waitReady(baseURL, child, logFile, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  let last = "";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null || child.spawnError) {
      throw new Error(`uyoop-cal stopped before /ready (${child.spawnError?.message || child.exitCode || child.signalCode}):\n${tail(logFile)}`);
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

/**
 * Starts `uyoop-cal serve`; resolves {baseURL, stop()} once /ready answers 200. `env` adds or
 * overrides settings (UYOOP_*).
 */
export async function startServer({ env = {}, logName = "server.log", deadlineMs = 60_000 } = {}) {
  const bin = resolve(repoRoot, process.env.UYOOP_BIN || "target/debug/uyoop-cal");
  if (!existsSync(bin)) throw new Error(`server binary ${bin} not found: cargo build -p uyoop-cal, or set UYOOP_BIN`);
  mkdirSync(ARTIFACTS, { recursive: true });
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "uyoop-e2e-"));
  const baseURL = `http://127.0.0.1:${port}`;
  const logFile = join(ARTIFACTS, logName);
  const log = createWriteStream(logFile);
  const child = spawn(bin, ["serve"], {
    cwd: dir,
    env: {
      ...process.env,
      UYOOP_SERVER__BIND: `127.0.0.1:${port}`,
      UYOOP_SERVER__PUBLIC_URL: baseURL,
      UYOOP_METRICS__BIND: "127.0.0.1:0",
      UYOOP_DATABASE__URL: `sqlite://${join(dir, "uyoop.db")}`,
      UYOOP_SECRETS__KEYRING_PATH: join(dir, "keyring.json"),
      UYOOP_LOG__FORMAT: "json",
      RUST_LOG: process.env.RUST_LOG || "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  child.on("error", (err) => {
    child.spawnError = err;
    log.write(`spawn error: ${err.message}\n`);
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && !child.spawnError) {
      const exited = new Promise((r) => child.once("exit", () => r(true)));
      child.kill("SIGTERM");
      const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r(false), 10_000))]);
      if (!done) child.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(baseURL, child, logFile, deadlineMs);
  } catch (err) {
    await stop();
    throw err;
  }
  return { baseURL, stop };
}
