// Spec scenario 1: log in -> create a meeting through the 4-step wizard -> it shows on the calendar in
// the meeting colour, and its details page opens from it.
import { expect, test } from "@playwright/test";
import { USERS, login, next, openWizard, slot, watchConsole } from "./helpers.mjs";

test("PROJET creates a meeting with the wizard and finds it on the calendar", async ({ page }) => {
  const errors = watchConsole(page);
  await login(page, USERS.projet);
  const dialog = await openWizard(page, /Réunion/);
  await expect(dialog.getByText("Étape 1/4")).toBeVisible();
  await expect(dialog.locator(".dot")).toHaveCount(4);

  // Step 1: validation blocks an empty title.
  await next(dialog);
  await expect(dialog.getByText("Champ obligatoire.")).toBeVisible();
  const when = slot(1, "10:00");
  await dialog.getByLabel(/^Titre/).fill("Sprint planning E2E");
  await dialog.getByLabel("Date").fill(when.date);
  await dialog.getByLabel("Heure de début").fill(when.time);
  await dialog.getByLabel(/^Durée/).fill("45");
  await next(dialog);

  // Step 2: a bad video link is refused, then fixed.
  await expect(dialog.getByText("Étape 2/4")).toBeVisible();
  await dialog.getByLabel("Type de réunion").selectOption("planning");
  await dialog.getByLabel("Lien visio").fill("javascript:alert(1)");
  await next(dialog);
  await expect(dialog.getByText(/Lien invalide/)).toBeVisible();
  await dialog.getByLabel("Lien visio").fill("https://meet.example.org/sprint");
  const participant = dialog.getByRole("checkbox", { name: /Oscar Ops/ });
  if (await participant.count()) await participant.check();
  await next(dialog);

  // Step 3: agenda + weekly recurrence.
  await expect(dialog.getByText("Étape 3/4")).toBeVisible();
  await dialog.getByLabel(/Ordre du jour/).fill("## Objectifs\n- Capacité\n- Engagements");
  await dialog.getByLabel("Sprint n°").fill("42");
  await next(dialog);

  // Step 4: summary, then create.
  await expect(dialog.getByText("Étape 4/4")).toBeVisible();
  await expect(dialog.locator(".summary")).toContainText("Sprint planning E2E");
  await dialog.getByRole("button", { name: "Créer" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("heading", { level: 1, name: "Sprint planning E2E" })).toBeVisible();

  await page.getByRole("link", { name: "Calendrier", exact: true }).click();
  const ev = page.locator(".fc-event.ev--meeting", { hasText: "Sprint planning E2E" }).first();
  const tomorrow = new Date(Date.now() + 86400000);
  if (tomorrow.getMonth() !== new Date().getMonth()) await page.locator(".fc-next-button").click();
  await expect(page.locator(".calendar[aria-busy=false]")).toBeVisible();
  await expect(ev).toBeVisible();
  await expect(ev).toHaveCSS("background-color", "rgb(59, 130, 246)");
  await ev.click();
  await expect(page).toHaveURL(/\/events\/\d+/);
  expect(errors).toEqual([]);
});

test("a DEV is only offered the git action wizard, with URL and cron validation", async ({ page }) => {
  await login(page, USERS.dev);
  const dialog = await openWizard(page);
  await expect(dialog.getByRole("radio")).toHaveCount(0); // no type chooser: one creatable kind
  await expect(dialog.getByText("Étape 1/4")).toBeVisible();
  await dialog.getByLabel("URL du dépôt").fill("ftp://example.org/repo.git");
  await next(dialog);
  await expect(dialog.getByText(/https:\/\/ ou git@/).first()).toBeVisible();
  await dialog.getByLabel("URL du dépôt").fill("https://git.example.org/team/app.git");
  await next(dialog);
  await dialog.getByText("Planifié (cron)").click();
  await dialog.getByRole("textbox", { name: "Expression cron" }).fill("* * *");
  await next(dialog);
  await expect(dialog.getByText(/Expression cron invalide/)).toBeVisible();
  await dialog.getByRole("textbox", { name: "Expression cron" }).fill("0 2 * * 1-5");
  await next(dialog);
  await next(dialog);
  await expect(dialog.getByText("Étape 4/4")).toBeVisible();
  await dialog.getByRole("button", { name: "Créer" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /pull app:main/ })).toBeVisible();
});
