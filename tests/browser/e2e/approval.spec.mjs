// Spec scenario 3: OPS creates a production deployment window (5 steps) -> ADMIN approves -> status
// updated, history kept. And a refusal, which requires a comment.
import { expect, test } from "@playwright/test";
import { ADMIN, USERS, login, logout, next, openWizard, slot } from "./helpers.mjs";

async function createProdWindow(page, title) {
  await login(page, USERS.ops);
  const dialog = await openWizard(page);
  await expect(dialog.getByText("Étape 1/5")).toBeVisible();
  const when = slot(2, "22:00");
  await dialog.getByLabel(/^Titre/).fill(title);
  await dialog.getByText("Production", { exact: true }).click();
  await expect(dialog.getByText(/approbation ADMIN sera nécessaire/)).toBeVisible();
  await dialog.getByLabel("Date").fill(when.date);
  await dialog.getByLabel("Heure de début").fill(when.time);
  await dialog.getByLabel(/Durée estimée/).fill("60");
  await next(dialog);
  await next(dialog); // empty services -> error
  await expect(dialog.getByText("Ajoutez au moins un service impacté.")).toBeVisible();
  await dialog.getByLabel("Nouveau service impacté").fill("api, web");
  await dialog.getByRole("button", { name: "Ajouter" }).click();
  await dialog.getByLabel(/Description des changements/).fill("Release 2.4: new approval flow");
  await next(dialog);
  await expect(dialog.getByText("Étape 3/5")).toBeVisible();
  await next(dialog);
  await dialog.getByLabel(/Plan de retour arrière/).fill("helm rollback uyoop 1");
  await next(dialog);
  await expect(dialog.getByText("Étape 5/5")).toBeVisible();
  await dialog.getByRole("button", { name: "Soumettre pour approbation" }).click();
  await expect(page.getByRole("heading", { level: 1, name: title })).toBeVisible();
  const url = page.url();
  await logout(page);
  return url;
}

test("OPS submits a prod deployment, ADMIN approves it, the status and history update", async ({ page }) => {
  const url = await createProdWindow(page, "Prod release E2E");
  await login(page, ADMIN);
  await page.goto(url);
  const panel = page.locator("section", { has: page.getByRole("heading", { name: "Approbation production" }) });
  await expect(panel.getByRole("button", { name: "Approuver" })).toBeVisible();
  await panel.getByLabel("Commentaire").fill("Go, checklist reviewed");
  await panel.getByRole("button", { name: "Approuver" }).click();
  await expect(page.locator(".event-header .status-badge")).toHaveText(/Approuvé|Planifié/);
  await expect(panel.locator(".timeline")).toContainText("Go, checklist reviewed");
  await expect(panel.getByRole("button", { name: "Approuver" })).toHaveCount(0);
});

test("ADMIN refuses a prod deployment: a comment is required and kept in the history", async ({ page }) => {
  const url = await createProdWindow(page, "Risky prod change E2E");
  await login(page, ADMIN);
  await page.goto(url);
  const panel = page.locator("section", { has: page.getByRole("heading", { name: "Approbation production" }) });
  await panel.getByRole("button", { name: "Refuser" }).click();
  await expect(panel.getByText("Expliquez le refus dans un commentaire.")).toBeVisible();
  await panel.getByLabel("Commentaire").fill("Not during the freeze, please reschedule");
  await panel.getByRole("button", { name: "Refuser" }).click();
  await expect(page.locator(".event-header .status-badge")).toHaveText("Refusé");
  await expect(panel.locator(".timeline")).toContainText("Not during the freeze, please reschedule");
});
