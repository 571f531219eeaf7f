// A comment mentioning @username notifies that user: the server's job worker turns the comment's
// `notify.fanout` job into an in-app notification; the header badge counts it, the dropdown lists it,
// opening it marks it read and leads to the event. The comment is previewed as markdown first, and
// reactions toggle.
import { expect, test } from "@playwright/test";
import { USERS, apiAs, at, login, logout, meetingBody, watchConsole } from "./helpers.mjs";

test("a mention produces an in-app notification: badge, dropdown, read, link", async ({ page }) => {
  const errors = watchConsole(page);
  const projet = await apiAs(USERS.projet);
  const ops = await apiAs(USERS.ops);
  const event = await projet.createEvent(meetingBody("Mention target E2E", at(3, 10)));

  await login(page, USERS.projet);
  await page.goto(`/events/${event.id}`);
  await page.getByLabel("Nouveau commentaire").fill(`@${USERS.ops.username} peux-tu **vérifier** le plan ?`);
  await page.getByRole("button", { name: "Aperçu" }).click();
  await expect(page.locator(".markdown-preview strong")).toHaveText("vérifier");
  await page.getByRole("button", { name: "Publier" }).click();
  const comment = page.locator(".comment").last();
  await expect(comment).toContainText("peux-tu");
  await expect(comment.locator(".comment__body strong")).toHaveText("vérifier");
  await comment.getByRole("button", { name: "Réagir avec 👍, 0 réaction" }).click();
  await expect(comment.getByRole("button", { name: "Réagir avec 👍, 1 réaction" })).toHaveAttribute("aria-pressed", "true");
  await expect(comment.getByRole("button", { name: "Réagir avec 👍, 1 réaction" })).toBeFocused();
  await comment.getByRole("button", { name: "Réagir avec 👍, 1 réaction" }).click();
  await expect(comment.getByRole("button", { name: "Réagir avec 👍, 0 réaction" })).toHaveAttribute("aria-pressed", "false");
  await logout(page);

  // The notification is written by a background job: wait for the server to deliver it.
  await expect
    .poll(async () => (await ops.call("GET", "/api/notifications")).items.filter((n) => n.kind === "mention" && n.link === `/events/${event.id}` && !n.read_at).length, {
      timeout: 20_000,
      message: "the mention's notification (is the job worker running in the server?)",
    })
    .toBe(1);

  await login(page, USERS.ops);
  // Other specs' changes may notify this account too: the badge counts at least this one.
  const bell = page.getByRole("button", { name: /^Notifications : \d+ non lues?$/ });
  await expect(bell).toBeVisible();
  await expect(page.locator(".notif__badge")).toHaveText(/^[1-9]\d*$/);
  await bell.click();
  await expect(bell).toHaveAttribute("aria-expanded", "true");
  const item = page.locator(".notif__item.is-unread", { hasText: "Mention target E2E" }).first();
  await expect(item).toBeVisible();
  await item.click();
  await expect(page).toHaveURL(new RegExp(`/events/${event.id}$`));
  await expect(page.getByRole("heading", { level: 1, name: "Mention target E2E" })).toBeVisible();
  const after = await ops.call("GET", "/api/notifications");
  expect(after.items.find((n) => n.link === `/events/${event.id}`).read_at).toBeTruthy();
  if (after.unread === 0) await expect(page.locator(".notif__badge")).toHaveCount(0);
  expect(errors).toEqual([]);
});
