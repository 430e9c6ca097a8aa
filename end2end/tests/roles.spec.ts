// The Roles page: make a custom role by picking permissions, change it, give it to
// a team member in the drawer, and delete it once nobody has it.
import { expect, test } from "@playwright/test";
import { act } from "./fixtures/users-page";
import { arrange, lifecycle, newUser, unique } from "./fixtures/lifecycle";

test("makes a custom role, changes it, gives it to a user, and deletes it when unused", async ({ page }) => {
  await act.signIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Roles" }).click();
  await expect(page.getByRole("heading", { name: "Roles", level: 1 })).toBeVisible();
  const table = page.getByRole("table", { name: "Roles" });
  await expect(table.getByRole("rowheader", { name: /^viewer built-in/ })).toBeVisible();

  // A bad name is refused beside the field, and nothing is made.
  const name = unique("desk").toLowerCase();
  await page.getByLabel("Name").fill("help desk");
  await page.getByRole("button", { name: "Create role" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Use letters a–z, digits, - and _ only." })).toBeVisible();
  await expect(page.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");

  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Description").fill("Front line support");
  const permissions = page.getByRole("group", { name: "Permissions" });
  await permissions.getByRole("checkbox", { name: /^admin\.access/ }).check();
  await permissions.getByRole("checkbox", { name: /^users\.read/ }).check();
  await page.getByRole("button", { name: "Create role" }).click();
  await expect(page.getByText(`Role ${name} saved.`)).toBeVisible();
  const row = table.getByRole("row").filter({ has: page.getByRole("rowheader", { name: new RegExp(`^${name}`) }) });
  await expect(row).toContainText("admin.access, users.read");
  await expect(row.getByRole("cell").nth(1)).toHaveText("0");

  await row.getByRole("button", { name: `Edit ${name}` }).click();
  await expect(page.getByRole("heading", { name: `Edit role ${name}` })).toBeVisible();
  await permissions.getByRole("checkbox", { name: /^users\.sessions/ }).check();
  await page.getByRole("button", { name: "Save role" }).click();
  await expect(row).toContainText("admin.access, users.read, users.sessions");

  // Given to a user in the drawer, the role cannot be deleted.
  const user = newUser("Roled");
  await arrange.users(page, [user]);
  const drawer = await lifecycle.openDrawer(page, user);
  await drawer.getByLabel("Role").selectOption({ label: name });
  await drawer.getByRole("button", { name: "Save changes" }).click();
  await expect(drawer.getByRole("button", { name: "Save changes" })).toBeDisabled();
  await act.open(page, "/roles");
  await expect(row.getByRole("cell").nth(1)).toHaveText("1");
  await row.getByRole("button", { name: `Delete ${name}` }).click();
  await page.getByRole("alertdialog", { name: `Delete role ${name}?` }).getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("alert").filter({ hasText: `1 user has the role ${name}: give them another role first.` })).toBeVisible();

  const back = await lifecycle.openDrawer(page, user);
  await back.getByLabel("Role").selectOption({ label: "member" });
  await back.getByRole("button", { name: "Save changes" }).click();
  await expect(back.getByRole("button", { name: "Save changes" })).toBeDisabled();
  await act.open(page, "/roles");
  await row.getByRole("button", { name: `Delete ${name}` }).click();
  await page.getByRole("alertdialog", { name: `Delete role ${name}?` }).getByRole("button", { name: "Delete" }).click();
  await expect(page.getByText(`Role ${name} deleted.`)).toBeVisible();
  await expect(row).toHaveCount(0);
});
