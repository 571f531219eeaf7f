// A deployment window run from its event page: the pre-deployment checklist ticked item by item
// (POST /checklist: who and when shown), "start" held back until the checklist is complete, the status
// buttons of the server's state machine (planned -> in_progress -> completed, then rollback only), and
// the history panel recording each change with its author and comment.
import { expect, test } from "@playwright/test";
import { USERS, apiAs, at, deploymentBody, login, seriousViolations, watchConsole } from "./helpers.mjs";

test("OPS ticks the checklist, starts and completes a staging deployment; the history follows", async ({ page }) => {
  const errors = watchConsole(page);
  const ops = await apiAs(USERS.ops);
  const ev = await ops.createEvent(deploymentBody("Staging rollout E2E", at(4, 14), { services: ["search-deploy"], checklist: ["Sauvegarde vérifiée", "Tests verts", "Équipe prévenue"] }));
  expect(ev.status).toBe("planned");

  await login(page, USERS.ops);
  await page.goto(`/events/${ev.id}`);
  const ops_ = page.locator("section", { has: page.getByRole("heading", { name: "Déroulement du déploiement" }) });
  const history = page.locator("section", { has: page.getByRole("heading", { name: "Historique" }) });
  await expect(page.locator(".event-header .status-badge")).toHaveText("Planifié");
  await expect(ops_.locator(".checklist__count")).toHaveText("(0/3)");
  const start = ops_.getByRole("button", { name: "Démarrer le déploiement" });
  await expect(start).toBeDisabled();
  await expect(ops_.getByText("Encore 3 vérifications à cocher avant de démarrer.")).toBeVisible();
  await expect(history.getByText("Aucun changement pour l'instant.")).toBeVisible();

  for (const [i, label] of ["Sauvegarde vérifiée", "Tests verts", "Équipe prévenue"].entries()) {
    const ticked = page.waitForResponse((r) => r.url().endsWith(`/api/events/${ev.id}/checklist`) && r.request().method() === "POST");
    await ops_.getByLabel(label).check();
    const res = await ticked;
    expect(res.status()).toBe(200);
    expect(res.request().postDataJSON()).toEqual({ index: i, done: true });
    await expect(ops_.locator(".checklist__count")).toHaveText(`(${i + 1}/3)`);
    await expect(ops_.getByLabel(label)).toBeChecked();
    await expect(ops_.getByLabel(label)).toBeFocused();
  }
  await expect(ops_.locator(".checklist__item").first()).toContainText("Oscar Ops");
  // Unticking is recorded too; tick it again.
  await ops_.getByLabel("Tests verts").uncheck();
  await expect(ops_.locator(".checklist__count")).toHaveText("(2/3)");
  await expect(start).toBeDisabled();
  await ops_.getByLabel("Tests verts").check();
  await expect(start).toBeEnabled();
  expect(await seriousViolations(page), "event page, deployment").toEqual([]);

  await start.click();
  await expect(page.getByRole("status").filter({ hasText: "Statut : En cours." })).toBeVisible();
  await expect(page.locator(".event-header .status-badge")).toHaveText("En cours");
  // Started: the checklist is closed, the next steps are completed / failed / rolled back.
  await expect(ops_.getByLabel("Sauvegarde vérifiée")).toBeDisabled();
  await expect(ops_.getByText("Le déploiement a démarré : la checklist est close.")).toBeVisible();
  await expect(ops_.getByRole("button")).toHaveText(["Marquer terminé", "Marquer échoué", "Marquer annulé (rollback)"]);
  await expect(history.locator(".timeline__item")).toHaveCount(1);
  await expect(history.locator(".timeline__item").first()).toContainText("Planifié → En cours — Oscar Ops");

  await ops_.getByLabel("Commentaire (facultatif)").fill("All green, 0 errors");
  await ops_.getByRole("button", { name: "Marquer terminé" }).click();
  await expect(page.locator(".event-header .status-badge")).toHaveText("Terminé");
  await expect(ops_.getByRole("button")).toHaveText(["Marquer annulé (rollback)"]);
  const done = history.locator(".timeline__item--completed");
  await expect(done).toContainText("En cours → Terminé — Oscar Ops");
  await expect(done).toContainText("All green, 0 errors");

  // The server holds the same state.
  const saved = await ops.call("GET", `/api/events/${ev.id}`);
  expect(saved.status).toBe("completed");
  expect(saved.extra.checklist.every((c) => c.done && c.done_by === saved.created_by.id)).toBe(true);
  expect(errors).toEqual([]);
});

test("a deployment window the user may not edit: checklist read-only for DEV, no status buttons", async ({ page }) => {
  const ops = await apiAs(USERS.ops);
  const ev = await ops.createEvent(deploymentBody("Read-only window E2E", at(5, 9), { services: ["search-readonly"] }));
  await login(page, USERS.dev);
  await page.goto(`/events/${ev.id}`);
  const ops_ = page.locator("section", { has: page.getByRole("heading", { name: "Déroulement du déploiement" }) });
  await expect(ops_.getByLabel("Sauvegarde vérifiée")).toBeDisabled();
  await expect(ops_.getByRole("button")).toHaveCount(0);
  await expect(ops_.getByText("Seuls le créateur et les administrateurs changent le statut.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Modifier" })).toHaveCount(0);
});
