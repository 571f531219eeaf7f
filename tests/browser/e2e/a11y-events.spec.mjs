// axe-core and screenshots of the pages with events (no serious or critical WCAG 2.1 A/AA violation):
// the calendar and the table with a week of the three kinds, the event page of a production window
// waiting for approval (details, checklist, approval panel, history, comments with markdown and
// reactions) at 1280 and 375 px; a meeting's page; the creation wizard dialog (with its keyboard
// handling) and the notifications dropdown. The screenshots go to tests/browser/artifacts/ (the README
// shows calendar-desktop.png and event-mobile.png).
import { expect, test } from "@playwright/test";
import { ADMIN, USERS, apiAs, at, deploymentBody, login, meetingBody, openWizard, screenshot, seriousViolations, settled, watchConsole, ymd } from "./helpers.mjs";

const WIDTHS = [
  ["desktop", { width: 1280, height: 800 }],
  ["mobile", { width: 375, height: 812 }],
];

async function seedWeek() {
  const [projet, ops, dev] = await Promise.all([apiAs(USERS.projet), apiAs(USERS.ops), apiAs(USERS.dev)]);
  await projet.createEvent(meetingBody("Daily standup", at(0, 9, 30), 15, { meeting_kind: "daily", recurrence: { freq: "daily", until: ymd(at(11)) } }));
  const planning = await projet.createEvent(
    meetingBody("Sprint planning 42", at(1, 10), 90, { meeting_kind: "planning", video_url: "https://meet.example.org/sprint-42", agenda_md: "## Objectifs\n- Capacité de l'équipe\n- **Engagements** du sprint", tags: { sprint: 42, epic: "Approbations" } }),
  );
  await projet.createEvent(meetingBody("Rétrospective", at(4, 16), 60, { meeting_kind: "retro" }));
  await ops.createEvent(deploymentBody("Release 2.4 (staging)", at(1, 14), { services: ["portal-a11y"], minutes: 45 }));
  const prod = await ops.createEvent(
    deploymentBody("Release 2.4 (prod)", at(2, 22), { environment: "prod", services: ["portal-a11y", "api-a11y"], minutes: 90, checklist: ["Sauvegarde de la base vérifiée", "Tests de non-régression verts", "Supervision prête", "Équipe support prévenue"] }),
  );
  await ops.call("POST", `/api/events/${prod.id}/checklist`, { index: 0, done: true });
  await dev.createEvent({
    type: "git_action",
    title: "Tag nightly",
    description: "",
    start: at(3, 2).toISOString(),
    team_id: null,
    extra: { repository_url: "https://git.example.org/platform/uyoop-cal.git", branch: "main", action: "tag", trigger: "cron", cron: "0 2 * * 1-5", post_actions: ["run_tests", "notify"] },
  });
  const first = await projet.call("POST", `/api/events/${prod.id}/comments`, { body: "Fenêtre validée côté produit. Le **changelog** est prêt :\n\n- approbations\n- calendrier iCal" });
  await ops.call("POST", `/api/comments/${first.id}/reactions`, { emoji: "👍" });
  await ops.call("POST", `/api/events/${prod.id}/comments`, { body: "@e2e_admin la checklist avance, rollback testé en staging (`helm rollback`)." });
  return { prod, planning };
}

test("calendar, table and event pages with events, the wizard and the notifications dropdown as ADMIN", async ({ page }) => {
  const errors = watchConsole(page);
  const { prod, planning } = await seedWeek();
  await login(page, ADMIN, { recovery: true });
  for (const [name, viewport] of WIDTHS) {
    await page.setViewportSize(viewport);
    for (const [view, path, ready] of [
      ["calendar", "/calendar", ".fc-event"],
      ["table", "/table", ".data-table"],
      ["event", `/events/${prod.id}`, ".comment"],
    ]) {
      await page.goto(path);
      await expect(page.locator(ready).first()).toBeVisible();
      await settled(page);
      if (view === "calendar") await expect(page.locator(".calendar[aria-busy=false]")).toBeVisible();
      if (view === "event") await expect(page.locator(".timeline__item").first()).toBeVisible();
      expect(await seriousViolations(page), `${path} @${name}`).toEqual([]);
      await screenshot(page, `${view}-${name}`);
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`/events/${planning.id}`);
  await expect(page.locator(".markdown strong")).toHaveText("Engagements");
  expect(await seriousViolations(page), "meeting page").toEqual([]);

  await page.goto("/calendar");
  const dialog = await openWizard(page);
  await expect(dialog).toHaveAttribute("aria-modal", "true");
  expect(await seriousViolations(page), "wizard").toEqual([]);
  await screenshot(page, "wizard-desktop");
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("button", { name: /Nouvel événement/ })).toBeFocused();
  await page.getByRole("button", { name: /^Notifications/ }).click();
  await expect(page.locator("#notif-panel")).toBeVisible();
  expect(await seriousViolations(page), "notifications dropdown").toEqual([]);
  await screenshot(page, "notifications-desktop");
  expect(errors).toEqual([]);
});
