import { readFile } from "node:fs/promises";
import { expect, test } from "@playwright/test";
import { act, ADMIN } from "./fixtures/users-page";
import { arrange, newUser } from "./fixtures/lifecycle";

test("the audit log filters by target and action and downloads as CSV", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Audited");
  await arrange.users(page, [user]);

  await page.getByRole("link", { name: "Audit log" }).click();
  await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
  await act.open(page, "/audit");
  const filters = page.getByRole("search", { name: "Filter the audit log" });
  await filters.getByLabel("Target").fill(user.email);
  await filters.getByLabel("Action").fill("user.create");
  await filters.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/\/audit\?.*target=/);
  await act.open(page, page.url());

  const table = page.getByRole("table", { name: "Audit log" });
  await expect(table.getByRole("row")).toHaveCount(2);
  const row = table.getByRole("row").nth(1);
  await expect(row).toContainText(ADMIN.email);
  await expect(row).toContainText("user.create");
  await expect(row.getByRole("link", { name: user.email })).toBeVisible();
  // The change reads as words, one field a line; the stored JSON is behind "Raw data".
  const changes = row.getByRole("cell").nth(4);
  await expect(changes.getByRole("listitem").filter({ hasText: `Email: ${user.email}` })).toBeVisible();
  await expect(changes.getByRole("listitem").filter({ hasText: `First name: ${user.first}` })).toBeVisible();
  await expect(changes.getByText(/"email":/)).toBeHidden();
  await changes.getByText("Raw data", { exact: true }).click();
  await expect(changes.getByText(/"email":/)).toBeVisible();
  await expect(page.getByLabel("Target")).toHaveValue(user.email);

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download CSV" }).click()]);
  expect(download.suggestedFilename()).toBe("audit-log.csv");
  const lines = (await readFile(await download.path())).toString("utf8").replace(/^\uFEFF/, "").trim().split("\r\n");
  expect(lines[0]).toBe("at,actor,action,target_id,target,before,after");
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain(`user.create`);
  expect(lines[1]).toContain(user.email);

  await act.open(page, "/audit?actor=nobody-at-all");
  await expect(page.getByText("No entries match.")).toBeVisible();
});

test("a bulk action is one entry of the log, opened to each user's entry", async ({ page }) => {
  await act.signIn(page);
  const users = [newUser("Grouped"), newUser("Grouped")];
  const ids = await arrange.users(page, users);
  const tag = `grouped-${Date.now().toString(36)}`;
  const response = await page.request.post("/api/bulk_users", {
    headers: { "sec-fetch-site": "same-origin" },
    data: { selection: { Ids: ids }, action: { AddTag: tag } },
  });
  expect(response.status()).toBe(200);

  await act.open(page, "/audit?action=user.tag_add");
  const table = page.getByRole("table", { name: "Audit log" });
  const command = table.getByRole("row").filter({ hasText: tag });
  await expect(command).toHaveCount(1);
  await expect(command.getByRole("listitem")).toHaveText(`Tags: ${tag}`);
  await command.getByRole("link", { name: "2 users: show each entry" }).click();
  await page.waitForURL(/batch=\d+/);
  await expect(page.getByText("Each user's entry of one bulk action.")).toBeVisible();
  for (const u of users) await expect(table.getByRole("link", { name: u.email })).toBeVisible();
  await expect(table.getByRole("row")).toHaveCount(3);
});
