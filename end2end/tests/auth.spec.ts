import { expect, test } from "@playwright/test";
import { ADMIN, act, check, find } from "./fixtures/users-page";

test("signed-out visitors are sent to sign-in and come back after", async ({ page }) => {
  await act.open(page, "/users?status=banned");
  await expect(page).toHaveURL(/\/login\?next=%2Fusers%3Fstatus%3Dbanned$/);
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/users\?status=banned$/);
  await expect(find.table(page)).toBeVisible();
  await expect(find.statusLink(page, "Banned")).toHaveAttribute("aria-current", "true");
});

test("a wrong password is refused with a message at the field", async ({ page }) => {
  await act.open(page, "/login");
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("The email or password is not correct.")).toBeVisible();
  await expect(page.getByLabel("Password")).toHaveAttribute("aria-invalid", "true");
  await expect(page).toHaveURL(/\/login/);
});

test("signing out ends the session", async ({ page }) => {
  await act.signIn(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await act.open(page, "/users");
  await expect(page).toHaveURL(/\/login\?next=/);
});

test("the sign-in page forwards an admin who is already signed in", async ({ page }) => {
  await act.signIn(page);
  await act.open(page, "/login?next=%2Fusers%3Fstatus%3Dinvited");
  await expect(page).toHaveURL(/\/users\?status=invited$/);
  await expect(find.table(page)).toBeVisible();
});

test("the signed-in admin's own row shows their last access, not Never", async ({ page }) => {
  await act.signIn(page);
  await act.open(page, `/users?q=${encodeURIComponent(ADMIN.email)}`);
  await check.settled(page);
  await check.totalIs(page, 1);
  const lastAccess = await find.cell(page, find.bodyRows(page).first(), "Last access");
  await expect(lastAccess).not.toHaveText("Never");
  await expect(lastAccess).toHaveAttribute("title", /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
});
