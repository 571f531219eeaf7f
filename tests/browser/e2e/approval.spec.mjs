// Spec scenario 3: OPS creates a production deployment window through the 5-step wizard -> an ADMIN
// reviews and approves it on the event page -> the status is updated and the history keeps who
// decided, when and why. And a refusal, which requires a comment and can be submitted again.
// Two production windows overlapping on a shared service are refused (409 deployment-conflict): each
// test books its own services on its own evening.
import { expect, test } from "@playwright/test";
import { ADMIN, USERS, apiAs, at, deploymentBody, login, logout, next, openWizard, slot, watchConsole } from "./helpers.mjs";

async function createProdWindow(page, { title, day, services }) {
  await login(page, USERS.ops);
  const dialog = await openWizard(page);
  await expect(dialog.getByText("Étape 1/5")).toBeVisible();
  await expect(dialog.locator(".dot")).toHaveCount(5);
  const when = slot(day, "22:00");
  await dialog.getByLabel(/^Titre/).fill(title);
  await dialog.getByText("Production", { exact: true }).click();
  await expect(dialog.getByText(/approbation ADMIN sera nécessaire/)).toBeVisible();
  await dialog.getByLabel("Date").fill(when.date);
  await dialog.getByLabel("Heure de début").fill(when.time);
  await dialog.getByLabel(/Durée estimée/).fill("60");
  await next(dialog);
  await next(dialog); // empty services -> error
  await expect(dialog.getByText("Ajoutez au moins un service impacté.")).toBeVisible();
  await dialog.getByLabel("Nouveau service impacté").fill(services);
  await dialog.getByRole("button", { name: "Ajouter" }).click();
  await dialog.getByLabel(/Description des changements/).fill(`${title}: new approval flow`);
  await next(dialog);
  await expect(dialog.getByText("Étape 3/5")).toBeVisible();
  await next(dialog);
  await dialog.getByLabel(/Plan de retour arrière/).fill("helm rollback uyoop 1");
  await next(dialog);
  await expect(dialog.getByText("Étape 5/5")).toBeVisible();
  await dialog.getByRole("button", { name: "Soumettre pour approbation" }).click();
  await expect(page.getByRole("heading", { level: 1, name: title })).toBeVisible();
  await expect(page.locator(".event-header .status-badge")).toHaveText("En attente d'approbation");
  // The requester sees the request waiting, no decision buttons.
  const panel = approvalPanel(page);
  await expect(panel.getByText("En attente de l'approbation d'un administrateur.")).toBeVisible();
  await expect(panel.getByRole("button", { name: "Approuver" })).toHaveCount(0);
  await expect(history(page)).toContainText("Soumis — Oscar Ops");
  const url = page.url();
  await logout(page);
  return url;
}

const approvalPanel = (page) => page.locator("section", { has: page.getByRole("heading", { name: "Approbation production" }) });
const history = (page) => page.locator("section", { has: page.getByRole("heading", { name: "Historique" }) }).locator(".timeline");

test("OPS submits a prod deployment, ADMIN reviews and approves it, the status and history update", async ({ page }) => {
  const errors = watchConsole(page);
  const url = await createProdWindow(page, { title: "Prod release E2E", day: 2, services: "api-approve, web-approve" });
  await login(page, ADMIN);
  await page.goto(url);
  const panel = approvalPanel(page);
  await expect(panel.getByText("Ce déploiement en production attend votre décision.")).toBeVisible();
  await panel.getByRole("button", { name: "Prendre en revue" }).click();
  await expect(panel.getByText("En revue par Ada Admin.")).toBeVisible();
  await expect(history(page)).toContainText("Revue commencée — Ada Admin");
  await panel.getByLabel("Commentaire").fill("Go, checklist reviewed");
  await panel.getByRole("button", { name: "Approuver" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Déploiement approuvé." })).toBeVisible();
  await expect(page.locator(".event-header .status-badge")).toHaveText("Planifié");
  await expect(panel.getByText(/^Approuvé par Ada Admin le /)).toBeVisible();
  await expect(panel.getByRole("button", { name: "Approuver" })).toHaveCount(0);
  const approved = history(page).locator(".timeline__item--approved");
  await expect(approved).toContainText("Approuvé — Ada Admin");
  await expect(approved).toContainText("Go, checklist reviewed");
  // The approval's own status change is not listed twice.
  await expect(history(page).locator(".timeline__item")).toHaveCount(3);
  await expect(page.locator(".details")).toContainText("Approuvé par");
  expect(errors).toEqual([]);
});

test("ADMIN refuses a prod deployment: a comment is required and kept in the history; OPS submits it again", async ({ page }) => {
  const errors = watchConsole(page);
  // The wizard is covered above: this window is requested through the API.
  const ops = await apiAs(USERS.ops);
  const ev = await ops.createEvent(deploymentBody("Risky prod change E2E", at(3, 22), { environment: "prod", services: ["billing-refuse"] }));
  expect(ev.status).toBe("pending_approval");
  await login(page, ADMIN, { recovery: true });
  await page.goto(`/events/${ev.id}`);
  const panel = approvalPanel(page);
  await panel.getByRole("button", { name: "Refuser" }).click();
  await expect(panel.getByText("Expliquez le refus dans un commentaire.")).toBeVisible();
  await expect(panel.getByLabel("Commentaire")).toBeFocused();
  await panel.getByLabel("Commentaire").fill("Not during the freeze, please reschedule");
  await panel.getByRole("button", { name: "Refuser" }).click();
  await expect(page.locator(".event-header .status-badge")).toHaveText("Refusé");
  const refused = history(page).locator(".timeline__item--refused");
  await expect(refused).toContainText("Refusé — Ada Admin");
  await expect(refused).toContainText("Not during the freeze, please reschedule");
  await expect(history(page).locator(".timeline__item")).toHaveCount(2);
  await logout(page);

  // The requester reads why, and submits the window again.
  await login(page, USERS.ops);
  await page.goto(`/events/${ev.id}`);
  await expect(panel.getByText(/^Demande refusée/)).toBeVisible();
  await panel.getByLabel("Ce qui a changé (facultatif)").fill("Moved after the freeze");
  await panel.getByRole("button", { name: "Soumettre à nouveau" }).click();
  await expect(page.locator(".event-header .status-badge")).toHaveText("En attente d'approbation");
  await expect(history(page).locator(".timeline__item--submitted").last()).toContainText("Moved after the freeze");
  await expect(history(page).locator(".timeline__item")).toHaveCount(3);
  expect(errors).toEqual([]);
});
