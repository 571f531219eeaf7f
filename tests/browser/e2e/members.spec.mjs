// Members page against the real /api/users, /api/teams and /api/invitations: an ADMIN creates a user
// (the server's field errors shown in French next to the fields), edits its role, invites someone who
// then registers through the link, manages a team and deletes the user; a PROJET sees its own team.
import { expect, test } from "@playwright/test";
import { ADMIN, USERS, login, logout, settled, watchConsole } from "./helpers.mjs";
import { TEAM } from "./seed.mjs";

const NEW_USER = { username: "e2e_created", email: "e2e_created@example.org", display_name: "Cora Created", password: "Quartz-Meadow-Falcon-73" };

test("ADMIN creates a user, changes its role and deletes it", async ({ page }) => {
  // 409/422 are provoked on purpose (taken username, weak password).
  const errors = watchConsole(page, { allow: [/status of (409|422)/] });
  await login(page, ADMIN);
  await page.getByRole("link", { name: "Membres", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Membres" })).toBeVisible();
  await settled(page);
  const table = page.locator("table.data-table").first();
  for (const u of [ADMIN, USERS.projet, USERS.ops, USERS.dev]) await expect(table.getByRole("row").filter({ hasText: u.username })).toBeVisible();
  await expect(table.getByRole("row").filter({ hasText: USERS.projet.username })).toContainText(TEAM.name);

  await page.getByRole("button", { name: "+ Ajouter un membre" }).click();
  const dialog = page.getByRole("dialog", { name: "Ajouter un membre" });
  await expect(dialog).toBeVisible();
  // Client-side checks first.
  await dialog.getByRole("button", { name: "Créer" }).click();
  await expect(dialog.getByText("3 à 100 caractères : lettres, chiffres, point, tiret, souligné.").last()).toBeVisible();
  // The server's checks: a taken username (409), then a common password (422), in French.
  await dialog.getByLabel(/^Identifiant/).fill(USERS.dev.username);
  await dialog.getByLabel(/^Nom affiché/).fill(NEW_USER.display_name);
  await dialog.getByLabel(/^E-mail/).fill(NEW_USER.email);
  await dialog.getByLabel(/^Mot de passe initial/).fill(NEW_USER.password);
  await dialog.getByLabel(/^Rôle/).selectOption("DEV");
  await dialog.getByLabel(/^Équipe/).selectOption({ label: TEAM.name });
  await dialog.getByRole("button", { name: "Créer" }).click();
  await expect(dialog.getByText("Cet identifiant est déjà pris.")).toBeVisible();
  await dialog.getByLabel(/^Identifiant/).fill(NEW_USER.username);
  await dialog.getByLabel(/^Mot de passe initial/).fill("password1234");
  await dialog.getByRole("button", { name: "Créer" }).click();
  await expect(dialog.getByText(/figure dans les listes de mots de passe courants|ne doit contenir ni votre identifiant/)).toBeVisible();
  await dialog.getByLabel(/^Mot de passe initial/).fill(NEW_USER.password);
  await dialog.getByRole("button", { name: "Créer" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("status").filter({ hasText: "Membre créé." })).toBeVisible();
  const row = table.getByRole("row").filter({ hasText: NEW_USER.username });
  await expect(row).toContainText(NEW_USER.display_name);
  await expect(row).toContainText("Dev");
  await expect(row).toContainText(TEAM.name);

  // Edit: only the changed field is sent (PUT /api/users/{id} {role}).
  await row.getByRole("button", { name: `Modifier ${NEW_USER.display_name}` }).click();
  const edit = page.getByRole("dialog", { name: `Modifier ${NEW_USER.display_name}` });
  await edit.getByLabel(/^Rôle/).selectOption("OPS");
  const put = page.waitForRequest((r) => r.method() === "PUT" && /\/api\/users\/\d+$/.test(r.url()));
  await edit.getByRole("button", { name: "Enregistrer" }).click();
  expect((await put).postDataJSON()).toEqual({ role: "OPS" });
  await expect(edit).toBeHidden();
  await expect(row.locator(".role-badge")).toHaveText("Ops");

  // An ADMIN cannot change their own role: the field is locked in their own form.
  await table.getByRole("row").filter({ hasText: ADMIN.username }).getByRole("button", { name: `Modifier ${ADMIN.display_name}` }).click();
  const self = page.getByRole("dialog", { name: `Modifier ${ADMIN.display_name}` });
  await expect(self.getByLabel(/^Rôle/)).toBeDisabled();
  await self.getByRole("button", { name: "Annuler" }).click();
  await expect(table.getByRole("row").filter({ hasText: ADMIN.username }).getByRole("button", { name: /^Supprimer/ })).toHaveCount(0);

  // Delete, with a confirmation dialog.
  await row.getByRole("button", { name: `Supprimer ${NEW_USER.display_name}` }).click();
  const confirm = page.getByRole("dialog", { name: `Supprimer ${NEW_USER.display_name}` });
  await confirm.getByRole("button", { name: "Supprimer" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Membre supprimé." })).toBeVisible();
  await expect(table.getByRole("row").filter({ hasText: NEW_USER.username })).toHaveCount(0);
  expect(errors).toEqual([]);
});

test("ADMIN manages teams and invites someone who registers with the link", async ({ page, browser }) => {
  const errors = watchConsole(page);
  await login(page, ADMIN);
  await page.goto("/members");
  await settled(page);
  const teams = page.getByRole("region", { name: "Équipes" });
  await page.getByRole("button", { name: "+ Nouvelle équipe" }).click();
  const create = page.getByRole("dialog", { name: "Nouvelle équipe" });
  await create.getByLabel(/^Nom/).fill("Mobile");
  await create.getByLabel(/^Description/).fill("Applications mobiles");
  await create.getByLabel(/^Responsable/).selectOption({ label: `${USERS.projet.display_name} (${USERS.projet.username})` });
  await create.getByRole("button", { name: "Créer" }).click();
  await expect(create).toBeHidden();
  const mobile = teams.getByRole("row").filter({ hasText: "Mobile" });
  await expect(mobile).toContainText(USERS.projet.display_name);
  await mobile.getByRole("button", { name: "Modifier l'équipe Mobile" }).click();
  const rename = page.getByRole("dialog", { name: "Modifier l'équipe Mobile" });
  await rename.getByLabel(/^Nom/).fill("Mobile & Web");
  await rename.getByRole("button", { name: "Enregistrer" }).click();
  await expect(teams.getByRole("row").filter({ hasText: "Mobile & Web" })).toBeVisible();

  // Invitation: the link is shown once; a new visitor registers with it and gets the invited role.
  await page.getByRole("button", { name: "Inviter" }).click();
  const invite = page.getByRole("dialog", { name: "Inviter" });
  await invite.getByLabel(/^E-mail/).fill("e2e_invited@example.org");
  await invite.getByLabel(/^Rôle/).selectOption("OPS");
  await invite.getByLabel(/^Équipe/).selectOption({ label: "Mobile & Web" });
  await invite.getByRole("button", { name: "Créer l'invitation" }).click();
  const link = invite.getByLabel("Lien d'inscription");
  await expect(link).toHaveValue(/\/register\?invitation=/);
  const url = await link.inputValue();
  await invite.getByRole("button", { name: "Fermer" }).first().click();

  const visitor = await browser.newContext();
  try {
    const guest = await visitor.newPage();
    await guest.goto(url);
    await expect(guest.getByText("Vous avez été invité")).toBeVisible();
    await guest.getByLabel(/^Identifiant/).fill("e2e_invited");
    await guest.getByLabel(/^Nom affiché/).fill("Ivy Invited");
    await guest.getByLabel(/^E-mail/).fill("e2e_invited@example.org");
    await guest.getByLabel(/^Mot de passe \*|^Mot de passe$/).fill("Cobalt-River-Sparrow-19");
    await guest.getByLabel(/^Confirmer le mot de passe/).fill("Cobalt-River-Sparrow-19");
    await guest.getByRole("button", { name: "Créer mon compte" }).click();
    await expect(guest).toHaveURL(/\/login$/);
    await login(guest, { username: "e2e_invited", password: "Cobalt-River-Sparrow-19" });
    await expect(guest.locator(".app-header .role-badge")).toHaveText("Ops");
    // The same link cannot be used twice.
    await logout(guest);
    await guest.goto(url);
    await guest.getByLabel(/^Identifiant/).fill("e2e_invited2");
    await guest.getByLabel(/^E-mail/).fill("e2e_invited2@example.org");
    await guest.getByLabel(/^Mot de passe \*|^Mot de passe$/).fill("Cobalt-River-Sparrow-19");
    await guest.getByLabel(/^Confirmer le mot de passe/).fill("Cobalt-River-Sparrow-19");
    await guest.getByRole("button", { name: "Créer mon compte" }).click();
    await expect(guest.locator(".form-alert")).toHaveText(/invitation est inconnue, déjà utilisée ou expirée/);
  } finally {
    await visitor.close();
  }

  await page.reload();
  await settled(page);
  await expect(page.locator("table.data-table").first().getByRole("row").filter({ hasText: "e2e_invited" })).toContainText("Mobile & Web");
  // Delete the team: its members stay, without a team.
  await teams.getByRole("row").filter({ hasText: "Mobile & Web" }).getByRole("button", { name: "Supprimer l'équipe Mobile & Web" }).click();
  await page.getByRole("dialog", { name: "Supprimer l'équipe Mobile & Web" }).getByRole("button", { name: "Supprimer" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Équipe supprimée." })).toBeVisible();
  await expect(teams.getByRole("row").filter({ hasText: "Mobile & Web" })).toHaveCount(0);
  expect(errors).toEqual([]);
});

test("a PROJET sees the members of its own team", async ({ page }) => {
  const errors = watchConsole(page);
  await login(page, USERS.projet);
  await page.getByRole("link", { name: "Membres", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Mon équipe" })).toBeVisible();
  await settled(page);
  const table = page.locator("table.data-table");
  for (const u of [USERS.projet, USERS.ops, USERS.dev]) await expect(table.getByRole("row").filter({ hasText: u.username })).toBeVisible();
  await expect(table.getByRole("row").filter({ hasText: ADMIN.username })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "+ Ajouter un membre" })).toHaveCount(0);
  expect(errors).toEqual([]);
});
