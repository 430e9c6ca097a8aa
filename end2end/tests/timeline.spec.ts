import { readFile } from "node:fs/promises";
import { expect, test } from "@playwright/test";
import { act } from "./fixtures/users-page";
import { arrange, lifecycle, newUser } from "./fixtures/lifecycle";

test("adds a note to the open drawer's timeline, downloads it as CSV, then deletes it", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Tl");
  await arrange.users(page, [user]);
  const dialog = await lifecycle.openDrawer(page, user);
  const activity = dialog.getByRole("region", { name: "Activity" });

  await activity.getByLabel("Add an entry").fill("Called about the invoice, left a message");
  await activity.getByRole("button", { name: "Add entry" }).click();
  const note = activity.getByRole("listitem").filter({ hasText: "Called about the invoice, left a message" });
  await expect(note).toBeVisible();
  await expect(note).toContainText("Notes");
  await expect(activity.getByLabel("Add an entry")).toHaveValue("");

  // A change made elsewhere in the drawer shows up without reloading.
  await dialog.getByRole("combobox", { name: "Add tag" }).fill("timeline-tag");
  await dialog.getByRole("combobox", { name: "Add tag" }).press("Enter");
  await expect(activity.getByRole("listitem").filter({ hasText: "user.tags" })).toBeVisible();

  // Only notes: the admin change is filtered out.
  await activity.getByRole("checkbox", { name: "Admin changes" }).uncheck();
  await expect(activity.getByRole("listitem").filter({ hasText: "user.tags" })).toHaveCount(0);
  await expect(note).toBeVisible();
  await activity.getByRole("checkbox", { name: "Admin changes" }).check();

  const [download] = await Promise.all([page.waitForEvent("download"), activity.getByRole("link", { name: "Download CSV" }).click()]);
  expect(download.suggestedFilename()).toMatch(/^user-\d+-activity\.csv$/);
  const csv = (await readFile(await download.path())).toString("utf8").replace(/^\uFEFF/, "");
  expect(csv.split("\r\n")[0]).toBe("at,kind,name,detail,source");
  expect(csv).toContain(',manual,"Called about the invoice, left a message",,');
  expect(csv).toContain(",admin_change,user.tags,");

  await note.getByRole("button", { name: /^Delete entry Notes Called about the invoice/ }).click();
  await expect(note).toHaveCount(0);
  await expect(activity.getByRole("listitem").filter({ hasText: "activity.delete" })).toBeVisible();
});
