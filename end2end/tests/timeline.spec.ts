import { execFileSync } from "node:child_process";
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
  // The note itself (the one entry that can be deleted), not the admin changes naming it.
  const note = activity.getByRole("listitem").filter({ has: page.getByRole("button", { name: /^Delete entry Notes Called about the invoice/ }) });
  await expect(note).toBeVisible();
  await expect(note).toContainText("Notes");
  await expect(activity.getByLabel("Add an entry")).toHaveValue("");

  // A change made elsewhere in the drawer shows up without reloading.
  await dialog.getByRole("combobox", { name: "Add tag" }).fill("timeline-tag");
  await dialog.getByRole("combobox", { name: "Add tag" }).press("Enter");
  const tagsChanged = activity.getByRole("listitem").filter({ hasText: "Tags changed" });
  await expect(tagsChanged).toBeVisible();
  // What changed, in words: the tags before and after, not the stored JSON.
  await expect(tagsChanged.getByRole("listitem").filter({ hasText: /^Tags: \(none\) → timeline-tag$/ })).toBeVisible();
  await expect(tagsChanged.getByText(/"tags":/)).toBeHidden();

  // Only notes: the admin change is filtered out.
  await activity.getByRole("checkbox", { name: "Admin changes" }).uncheck();
  await expect(activity.getByRole("listitem").filter({ hasText: "Tags changed" })).toHaveCount(0);
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
  const deleted = activity.getByRole("listitem").filter({ hasText: "Timeline entry deleted" });
  await expect(deleted).toBeVisible();
  // What was deleted, in words.
  await expect(deleted).toContainText("Called about the invoice, left a message → (removed)");
});

test("an event reported with curl and an API key appears in the open drawer", async ({ page, baseURL }) => {
  await act.signIn(page);
  const user = newUser("Ev");
  await arrange.users(page, [user]);

  // Settings → API keys: the new key is shown once.
  await act.open(page, "/settings");
  await page.getByLabel("Key name").fill("E2E shop");
  await page.getByRole("button", { name: "Create key" }).click();
  const keyBox = page.getByRole("textbox", { name: "New API key" });
  await expect(keyBox).toHaveValue(/^rk_/);
  const key = await keyBox.inputValue();
  await expect(page.getByRole("table", { name: "API keys" }).getByRole("row", { name: /E2E shop/ })).toBeVisible();

  const dialog = await lifecycle.openDrawer(page, user);
  const activity = dialog.getByRole("region", { name: "Activity" });
  await expect(activity.getByText("/checkout")).toHaveCount(0);

  const body = JSON.stringify({ events: [{ user: user.email, kind: "page_view", name: "/checkout", detail: { cart: 3 } }] });
  const out = execFileSync("curl", ["-sS", "-X", "POST", `${baseURL}/api/v1/events`,
    "-H", `Authorization: Bearer ${key}`, "-H", "Content-Type: application/json", "-d", body]).toString();
  expect(JSON.parse(out)).toEqual({ accepted: 1, rejected: [] });

  const entry = activity.getByRole("listitem").filter({ hasText: "/checkout" });
  await expect(entry).toBeVisible({ timeout: 15_000 });
  await expect(entry).toContainText("Pages");
  await expect(activity.getByText(/^Last access: .*\/checkout/)).toBeVisible();
});

test("a reminder added in the drawer is listed in Reminders with a count in the navigation", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Rem");
  await arrange.users(page, [user]);
  const dialog = await lifecycle.openDrawer(page, user);
  const reminders = dialog.getByRole("region", { name: "Reminders" });
  const text = `Call ${user.last} back`;
  // The navigation's badge: how many reminders are due, kept live without a reload.
  const badge = page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: /^Reminders/ });
  const dueNow = async () => Number((await badge.getAttribute("aria-label"))?.match(/(\d+) due/)?.[1] ?? 0);
  await expect(badge).toBeVisible();
  const before = await dueNow();

  await reminders.getByLabel("Reminder", { exact: true }).fill(text);
  await reminders.getByRole("button", { name: "Add reminder" }).click();
  await expect(reminders.getByText("Choose when the reminder is due.")).toBeVisible();
  const earlier = new Date(Date.now() - 60 * 60 * 1000).toISOString().slice(0, 16);
  await reminders.getByLabel("Due (UTC)", { exact: true }).fill(earlier);
  await reminders.getByRole("button", { name: "Add reminder" }).click();
  await expect(reminders.getByRole("list", { name: "Reminders" }).getByText(text)).toBeVisible();
  await expect(badge).toHaveAccessibleName(`Reminders, ${before + 1} due`);

  await act.open(page, "/reminders");
  await expect(page.getByRole("link", { name: /^Reminders, \d+ due$/ })).toBeVisible();
  const listed = await dueNow();
  const row = page.getByRole("table", { name: "Due reminders" }).getByRole("row", { name: new RegExp(text) });
  await expect(row).toContainText("(overdue)");
  await expect(row.getByRole("link", { name: `${user.first} ${user.last}` })).toHaveAttribute("href", /^\/users\/\d+$/);
  await row.getByRole("button", { name: `Mark done: ${text}` }).click();
  await expect(page.getByRole("status").filter({ hasText: `Done: ${text}` })).toBeVisible();
  await expect(row).toHaveCount(0);
  await expect(badge).toHaveAccessibleName(listed === 1 ? "Reminders" : `Reminders, ${listed - 1} due`);
});
