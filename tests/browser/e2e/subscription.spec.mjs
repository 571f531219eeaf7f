// The calendar subscription link from the account menu: POST /api/calendar/token shows a personal
// iCalendar URL once; the real feed answers it with the user's events; revoking every link (DELETE)
// makes the server refuse it. The dialog passes axe and gives focus back to the menu button.
import { expect, test } from "@playwright/test";
import { USERS, apiAs, at, login, meetingBody, screenshot, seriousViolations, watchConsole } from "./helpers.mjs";

test("account menu -> calendar subscription: the feed URL works until revoked", async ({ page }) => {
  const errors = watchConsole(page);
  const projet = await apiAs(USERS.projet);
  await projet.createEvent(meetingBody("Feed check E2E", at(9, 11), 30));
  await login(page, USERS.dev);

  const account = page.getByRole("button", { name: /Dana Dev/ });
  await expect(account).toHaveAttribute("aria-expanded", "false");
  await account.click();
  await expect(account).toHaveAttribute("aria-expanded", "true");
  const item = page.getByRole("button", { name: "Abonnement au calendrier (iCal)" });
  await expect(item).toBeFocused();
  expect(await seriousViolations(page), "account menu").toEqual([]);
  await page.keyboard.press("Escape");
  await expect(account).toHaveAttribute("aria-expanded", "false");
  await expect(account).toBeFocused();
  await account.click();
  await item.click();

  const dialog = page.getByRole("dialog", { name: "Abonnement au calendrier" });
  await expect(dialog).toHaveAttribute("aria-modal", "true");
  const created = page.waitForResponse((r) => r.url().endsWith("/api/calendar/token") && r.request().method() === "POST");
  await dialog.getByRole("button", { name: "Créer un lien d'abonnement" }).click();
  expect((await created).status()).toBe(201);
  const field = dialog.getByLabel("Lien d'abonnement");
  await expect(field).toBeFocused();
  const url = await field.inputValue();
  expect(url).toMatch(/\/api\/calendar\.ics\?token=[\w-]+$/);
  await expect(dialog.getByRole("link", { name: "Ouvrir dans mon agenda" })).toHaveAttribute("href", url.replace(/^https?:/, "webcal:"));
  expect(await seriousViolations(page), "subscription dialog").toEqual([]);
  await screenshot(page, "subscription-desktop");

  // The feed itself (no session needed: the token is the credential).
  const feed = await page.request.get(url);
  expect(feed.status()).toBe(200);
  expect(feed.headers()["content-type"]).toMatch(/^text\/calendar/);
  const ics = await feed.text();
  expect(ics).toContain("BEGIN:VCALENDAR");
  expect(ics).toContain("SUMMARY:Feed check E2E");

  // Revoke every link: confirmation, then the old URL is refused.
  await dialog.getByRole("button", { name: "Révoquer tous mes liens" }).click();
  const confirm = page.getByRole("dialog", { name: "Révoquer tous mes liens" });
  const revoked = page.waitForResponse((r) => r.url().endsWith("/api/calendar/token") && r.request().method() === "DELETE");
  await confirm.getByRole("button", { name: "Révoquer tous mes liens" }).click();
  expect((await revoked).status()).toBe(204);
  await expect(page.getByRole("status").filter({ hasText: "Tous vos liens d'abonnement sont révoqués." })).toBeVisible();
  await expect(dialog.getByLabel("Lien d'abonnement")).toHaveCount(0);
  expect((await page.request.get(url)).status()).toBe(401);

  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(account).toBeFocused();
  expect(errors).toEqual([]);
});
