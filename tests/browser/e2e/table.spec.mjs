// The table view with the navbar's filters against the real GET /api/events: type, status, team,
// creator and dates are sent as query parameters and the rows follow; the active filters are counted
// on the button; columns sort both ways; a reset brings everything back.
import { expect, test } from "@playwright/test";
import { USERS, apiAs, at, deploymentBody, login, meetingBody, seriousViolations, settled, watchConsole, ymd } from "./helpers.mjs";

const PREFIX = "Filtre E2E";

test("table filters by type, status, creator, team and dates; columns sort", async ({ page }) => {
  const errors = watchConsole(page);
  const [projet, ops, dev] = await Promise.all([apiAs(USERS.projet), apiAs(USERS.ops), apiAs(USERS.dev)]);
  const day = at(6, 9);
  await projet.createEvent(meetingBody(`${PREFIX} B réunion`, day, 30));
  const cancelled = await projet.createEvent(meetingBody(`${PREFIX} C réunion annulée`, at(7, 11), 30));
  await projet.call("POST", `/api/events/${cancelled.id}/status`, { to: "cancelled", comment: "no longer needed" });
  await ops.createEvent(deploymentBody(`${PREFIX} A déploiement`, at(6, 15), { services: ["table-filters"] }));
  await dev.createEvent({
    type: "git_action",
    title: `${PREFIX} D action git`,
    description: "",
    start: at(8, 2).toISOString(),
    team_id: null,
    extra: { repository_url: "https://git.example.org/team/app.git", branch: "main", action: "pull", trigger: "manual", post_actions: ["run_tests"] },
  });

  await login(page, USERS.projet);
  await page.getByRole("link", { name: "Tableau", exact: true }).click();
  await settled(page);
  const table = page.locator("table.data-table");
  const ours = table.locator("tbody tr", { hasText: PREFIX });
  await expect(ours).toHaveCount(4);

  const filtersBtn = page.getByRole("button", { name: /^Filtres/ });
  await filtersBtn.click();
  await expect(filtersBtn).toHaveAttribute("aria-expanded", "true");
  const panel = page.locator("#filters-panel");
  expect(await seriousViolations(page), "table with the filters panel").toEqual([]);

  // Type: the query asks the server for git actions only.
  const byType = page.waitForRequest((r) => r.url().includes("/api/events?") && r.url().includes("type=git_action"));
  await panel.getByLabel("Type", { exact: true }).selectOption("git_action");
  await byType;
  await expect(ours).toHaveCount(1);
  await expect(ours).toContainText(`${PREFIX} D action git`);
  await expect(table.locator("tbody .type-chip")).toHaveText(Array(await table.locator("tbody tr").count()).fill("Action Git"));
  await expect(filtersBtn.locator(".count-badge")).toHaveText("1");

  // Status (no type): only the cancelled meeting among ours.
  await panel.getByLabel("Type", { exact: true }).selectOption("");
  await panel.getByLabel("Statut", { exact: true }).selectOption("cancelled");
  await expect(ours).toHaveCount(1);
  await expect(ours).toContainText("réunion annulée");
  await expect(ours.locator(".status-badge")).toHaveText("Annulé");

  // Creator: Oscar Ops' deployment window only.
  await panel.getByLabel("Statut", { exact: true }).selectOption("");
  await panel.getByLabel("Créateur").selectOption({ label: "Oscar Ops" });
  await expect(ours).toHaveCount(1);
  await expect(ours).toContainText(`${PREFIX} A déploiement`);
  await expect(table.locator("tbody tr td[data-label='Créateur']")).toHaveText(Array(await table.locator("tbody tr").count()).fill("Oscar Ops"));

  // Team: events created by members of the team take its id (Oscar is in it).
  await panel.getByLabel("Équipe").selectOption({ label: "Plateforme" });
  await expect(ours).toHaveCount(1);
  await expect(ours.locator("td[data-label='Équipe']")).toHaveText("Plateforme");
  await panel.getByLabel("Équipe").selectOption("");
  await panel.getByLabel("Créateur").selectOption("");

  // Dates: one day only.
  const dates = page.waitForRequest((r) => r.url().includes("/api/events?") && r.url().includes("start="));
  await panel.getByLabel("Du", { exact: true }).fill(ymd(day));
  await panel.getByLabel("Au", { exact: true }).fill(ymd(day));
  await dates;
  await expect(ours).toHaveCount(2);
  await expect(filtersBtn.locator(".count-badge")).toHaveText("2");

  // Sorting on the title column, both ways.
  const title = table.getByRole("columnheader", { name: /Titre/ });
  await title.getByRole("button").click();
  await expect(title).toHaveAttribute("aria-sort", "ascending");
  await expect(ours.locator("td[data-label='Titre']")).toHaveText([`${PREFIX} A déploiement`, `${PREFIX} B réunion`]);
  await title.getByRole("button").click();
  await expect(title).toHaveAttribute("aria-sort", "descending");
  await expect(ours.locator("td[data-label='Titre']")).toHaveText([`${PREFIX} B réunion`, `${PREFIX} A déploiement`]);

  await panel.getByRole("button", { name: "Réinitialiser les filtres" }).click();
  await expect(ours).toHaveCount(4);
  await expect(filtersBtn.locator(".count-badge")).toHaveCount(0);
  // A row opens the event.
  await ours.filter({ hasText: "D action git" }).getByRole("link").click();
  await expect(page.getByRole("heading", { level: 1, name: `${PREFIX} D action git` })).toBeVisible();
  expect(errors).toEqual([]);
});
