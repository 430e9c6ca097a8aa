import { expect, test } from "@playwright/test";
import { act, find } from "./fixtures/users-page";

test("a hidden column stays hidden after a reload and on the next visit", async ({ page }) => {
  await act.signIn(page);
  await expect(find.header(page, "Phone")).toBeVisible();
  await page.getByRole("button", { name: "Columns" }).click();
  const chooser = page.getByRole("group", { name: "Visible columns" });
  const hidden = page.waitForResponse((r) => r.url().includes("/api/save_hidden_columns") && r.ok());
  await chooser.getByRole("checkbox", { name: "Phone" }).uncheck();
  await hidden;
  await expect(find.header(page, "Phone")).toHaveCount(0);
  await expect(page).toHaveURL(/hide=phone/);

  await act.reload(page);
  await expect(find.table(page)).toBeVisible();
  await expect(find.header(page, "Phone")).toHaveCount(0);

  // A fresh visit without the URL parameter: the saved choice applies.
  await act.open(page, "/users");
  await expect(find.table(page)).toBeVisible();
  await expect(find.header(page, "Email")).toBeVisible();
  await expect(find.header(page, "Phone")).toHaveCount(0);

  // Show it again (and leave the admin's preference as it was). The choice is saved
  // in the background: wait for that save before leaving the page, as a person would
  // not notice and a navigation would cancel it.
  await page.getByRole("button", { name: "Columns" }).click();
  const saved = page.waitForResponse((r) => r.url().includes("/api/save_hidden_columns") && r.ok());
  await chooser.getByRole("checkbox", { name: "Phone" }).check();
  await saved;
  await expect(find.header(page, "Phone")).toBeVisible();
  await act.open(page, "/users");
  await expect(find.header(page, "Phone")).toBeVisible();
});
