import { expect, test } from "@playwright/test";
import { act, check, find } from "./fixtures/users-page";
import { arrange, lifecycle, newUser } from "./fixtures/lifecycle";

test("clicking a row opens a dialog for that user; Esc closes it", async ({ page }) => {
  await act.signIn(page);
  await find.statusLink(page, "Active").click();
  await check.settled(page);
  const row = find.bodyRows(page).nth(2);
  const name = await (await find.cell(page, row, "Name")).innerText();
  const email = await (await find.cell(page, row, "Email")).innerText();
  await act.openRow(page, row);

  const dialog = page.getByRole("dialog", { name });
  await expect(dialog).toBeVisible();
  await expect(page).toHaveURL(/\/users\/\d+\?status=active$/);
  await expect(dialog.getByLabel("Email", { exact: true })).toHaveValue(email);
  await expect(dialog.getByRole("heading", { name: "Tags" })).toBeVisible();
  await expect(dialog.getByRole("heading", { name: "Groups" })).toBeVisible();
  await expect(dialog.getByRole("heading", { name: "Devices" })).toBeVisible();

  await page.keyboard.press("Escape");
  await expect(find.dialog(page)).toHaveCount(0);
  await expect(page).toHaveURL(/\/users\?status=active$/);
});

test("Enter on a focused row opens it; the URL of an open user can be shared", async ({ page }) => {
  await act.signIn(page);
  const row = find.bodyRows(page).first();
  const name = await (await find.cell(page, row, "Name")).innerText();
  await row.focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("dialog", { name })).toBeVisible();
  const shared = page.url();

  await act.open(page, shared);
  await expect(page.getByRole("dialog", { name })).toBeVisible();
  await check.drawerReady(page);
  await page.getByRole("button", { name: "Close" }).click();
  await expect(find.dialog(page)).toHaveCount(0);
  await expect(page).toHaveURL(/\/users$/);
});

test("closing the drawer hands keyboard focus back to the row", async ({ page }) => {
  await act.signIn(page);
  const row = find.bodyRows(page).nth(4);
  await row.focus();
  await page.keyboard.press("Enter");
  await expect(find.dialog(page)).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(find.dialog(page)).toHaveCount(0);
  await expect(row).toBeFocused();
});

test("the open drawer is modal: Tab stays inside it", async ({ page }) => {
  await act.signIn(page);
  await act.openRow(page, find.bodyRows(page).first());
  const dialog = find.dialog(page);
  await expect(dialog.getByRole("heading", { name: "Tags" })).toBeVisible();
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press("Tab");
    const inside = await page.evaluate(() => document.activeElement?.closest('[role="dialog"]') !== null);
    expect(inside, `focus after ${i + 1} Tab presses`).toBeTruthy();
  }
  await expect(find.search(page)).not.toBeFocused();
  await page.getByRole("button", { name: "Close" }).click();
  await expect(find.dialog(page)).toHaveCount(0);
  await find.search(page).focus();
  await expect(find.search(page)).toBeFocused();
});

test("Ban and Activate in the drawer say in full what happened, above the drawer", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Drawerban");
  await arrange.users(page, [user]);
  const dialog = await lifecycle.openDrawer(page, user);
  const name = `${user.first} ${user.last}`;

  await dialog.getByRole("button", { name: "Ban" }).click();
  const notice = find.notices(page).getByText(`${name} is now banned.`);
  await expect(notice).toBeVisible();
  // Not covered by the drawer: the notice is what is hit at its own centre.
  const box = await notice.boundingBox();
  expect(box, "the notice has a box").not.toBeNull();
  const hit = await page.evaluate(
    ([x, y]) => document.elementFromPoint(x, y)?.closest("[aria-label=Notices]") !== null,
    [box!.x + box!.width / 2, box!.y + box!.height / 2],
  );
  expect(hit, "the notice is on top").toBe(true);
  await expect(dialog.getByRole("button", { name: "Activate" })).toBeVisible();

  await dialog.getByRole("button", { name: "Activate" }).click();
  await expect(find.notices(page).getByText(`${name} is now active.`)).toBeVisible();
  await expect(dialog.getByRole("button", { name: "Ban" })).toBeVisible();

  // The activation is undone from its notice, and the open drawer shows it.
  // (The newest notice is the last; the ban's own Undo is still above it.)
  await find.notices(page).getByRole("button", { name: "Undo" }).last().click();
  await expect(find.notices(page)).toContainText("The user has their previous status again.");
  await expect(dialog.getByRole("button", { name: "Activate" })).toBeVisible();
});
