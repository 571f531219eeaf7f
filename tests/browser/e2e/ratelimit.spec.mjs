// The 429 answer in the UI. The shared server runs with rate limits off (see global-setup.mjs), so this
// spec starts its own server with the limits on: the 6th sign-in attempt within a minute from one
// address is refused (login: 5/min per IP), and the page says when to retry, in the UI's language.
import { expect, test } from "@playwright/test";
import { startServer } from "./server.mjs";
import { watchConsole } from "./helpers.mjs";

test("too many sign-in attempts: the page tells when to retry", async ({ page }) => {
  const server = await startServer({ env: { UYOOP_RATELIMIT__ENABLED: "true" }, logName: "server-ratelimit.log" });
  try {
    const errors = watchConsole(page, { allow: [/status of (401|429)/] });
    await page.goto(`${server.baseURL}/login`);
    const alert = page.locator(".form-alert");
    const attempt = async (i) => {
      await page.getByLabel("Identifiant").fill("nobody");
      await page.getByLabel("Mot de passe").fill(`wrong-password-${i}`);
      const answer = page.waitForResponse((r) => r.url().endsWith("/api/auth/login"));
      await page.getByRole("button", { name: "Se connecter" }).click();
      const res = await answer;
      await expect(page.getByRole("button", { name: "Se connecter" })).toBeEnabled();
      return res;
    };
    for (let i = 1; i <= 5; i += 1) {
      expect((await attempt(i)).status()).toBe(401);
      await expect(alert).toHaveText("Identifiant ou mot de passe incorrect.");
    }
    const res = await attempt(6);
    expect(res.status()).toBe(429);
    expect(Number(res.headers()["retry-after"])).toBeGreaterThan(0);
    await expect(alert).toHaveText(/^Trop de tentatives\. Réessayez dans \d+ s\.$/);
    expect(errors).toEqual([]);
  } finally {
    await server.stop();
  }
});
