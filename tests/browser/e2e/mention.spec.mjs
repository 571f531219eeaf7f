// A comment mentioning @username notifies that user: the header badge counts it, the dropdown lists
// it, opening it marks it read and leads to the event. Reactions toggle.
import { expect, test } from "@playwright/test";
import { USERS, login, logout } from "./helpers.mjs";
import { apiLogin, call, readState } from "./seed.mjs";

test("a mention produces an in-app notification", async ({ page }) => {
  const { baseURL } = readState();
  const token = await apiLogin(baseURL, USERS.projet);
  const start = new Date(Date.now() + 3 * 86400000);
  const event = await call(baseURL, "POST", "/api/events", {
    token,
    body: { type: "meeting", title: "Mention target E2E", description: "", start: start.toISOString(), end: new Date(start.getTime() + 3600000).toISOString(), team_id: null, extra: { meeting_kind: "review", participants: [], agenda_md: "", tags: {}, recurrence: { freq: "none" } } },
  });

  await login(page, USERS.projet);
  await page.goto(`/events/${event.id}`);
  await page.getByLabel("Nouveau commentaire").fill(`@${USERS.ops.username} peux-tu **vérifier** le plan ?`);
  await page.getByRole("button", { name: "Aperçu" }).click();
  await expect(page.locator(".markdown-preview strong")).toHaveText("vérifier");
  await page.getByRole("button", { name: "Publier" }).click();
  const comment = page.locator(".comment").last();
  await expect(comment).toContainText("peux-tu");
  await comment.getByRole("button", { name: /Réagir 👍/ }).click();
  await expect(comment.getByRole("button", { name: /Réagir 👍 \(1\)/ })).toHaveAttribute("aria-pressed", "true");
  await logout(page);

  await login(page, USERS.ops);
  const bell = page.getByRole("button", { name: /Notifications : 1 non lue/ });
  await expect(bell).toBeVisible({ timeout: 15_000 });
  await bell.click();
  const item = page.locator(".notif__item.is-unread").first();
  await expect(item).toBeVisible();
  await item.click();
  await expect(page).toHaveURL(new RegExp(`/events/${event.id}`));
  await expect(page.locator(".notif__badge")).toHaveCount(0);
});
