import { readFile, writeFile } from "node:fs/promises";
import { expect, test, type Page } from "@playwright/test";
import { act, check, find } from "./fixtures/users-page";
import { arrange, newUser, unique } from "./fixtures/lifecycle";

async function download(page: Page, click: () => Promise<void>) {
  const [file] = await Promise.all([page.waitForEvent("download"), click()]);
  return { name: file.suggestedFilename(), bytes: await readFile(await file.path()) };
}

function csvLines(bytes: Buffer): string[] {
  return bytes.toString("utf8").replace(/^\uFEFF/, "").trim().split("\r\n");
}

test("downloads the template, previews a file with two bad rows, applies skipping them, downloads the rejected rows", async ({ page }, info) => {
  await act.signIn(page);
  await act.open(page, "/imports");

  const template = await download(page, () => page.getByRole("link", { name: "CSV template" }).click());
  expect(template.name).toBe("roster-import-template.csv");
  const [header, example] = csvLines(template.bytes);
  expect(header.split(",").slice(0, 4)).toEqual(["email", "username", "first_name", "last_name"]);
  expect(example).toContain("ada.lovelace@example.com");
  const xlsx = await download(page, () => page.getByRole("link", { name: /XLSX template/ }).click());
  expect(xlsx.name).toBe("roster-import-template.xlsx");
  expect(xlsx.bytes.subarray(0, 2).toString()).toBe("PK");

  // Two good users, then a bad email on line 4 and an unknown status on line 5.
  const last = unique("Imported");
  const good = [1, 2].map((n) => `${last.toLowerCase()}.${n}@e2e.test`);
  const file = info.outputPath("people.csv");
  await writeFile(
    file,
    [
      "Email,First Name,Last Name,Status,Groups",
      `${good[0]},Ann,${last},active,E2E importers`,
      `${good[1]},Ben,${last},banned,`,
      `not-an-email,Cid,${last},active,`,
      `cid.${last.toLowerCase()}@e2e.test,Cid,${last},sleeping,`,
    ].join("\r\n"),
  );
  await page.getByLabel(/Choose a CSV or XLSX file/).setInputFiles(file);
  await page.getByRole("button", { name: "Upload and check" }).click();
  await page.waitForURL(/\/imports\/\d+$/);
  await check.hydrated(page);

  // The preview names every bad row by line, column and reason; nothing is written yet.
  await expect(page.getByText("Ready to apply", { exact: true })).toBeVisible();
  const summary = page.getByRole("region", { name: "Summary" });
  await expect(summary).toContainText(/2\s*to create/);
  await expect(summary).toContainText(/2\s*rejected/);
  await expect(page.getByText("New groups: E2E importers")).toBeVisible();
  // The users it would create, by name.
  const toCreate = page.getByRole("table", { name: "Users to create" });
  await expect(toCreate.getByRole("row", { name: `2 ${good[0]} Ann ${last}` })).toBeVisible();
  await expect(toCreate.getByRole("row", { name: `3 ${good[1]} Ben ${last}` })).toBeVisible();
  const rejected = page.getByRole("table", { name: "Rejected rows" });
  await expect(rejected.getByRole("row", { name: /^4 not-an-email Email/ })).toContainText("is not a valid email address");
  await expect(rejected.getByRole("row", { name: /^5 .* Status/ })).toContainText('"sleeping" is not a status');
  await act.open(page, `/users?q=${last}`);
  await check.totalIs(page, 0);
  await page.goBack();
  await check.hydrated(page);

  // All-or-nothing is not possible with rejected rows; skipping them is.
  await expect(page.getByRole("button", { name: "Apply all" })).toBeDisabled();
  await page.getByRole("button", { name: "Apply, skipping 2 rejected rows" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Applied, skipping 2 rejected rows: 2 created, 0 updated, 0 unchanged." })).toBeVisible();
  // The report now says what was done, not what would be.
  await expect(summary).toContainText(/2\s*created/);
  await expect(summary).not.toContainText("to create");
  await expect(summary).toContainText(/2\s*rejected, skipped/);
  await expect(page.getByText("Groups created: E2E importers")).toBeVisible();
  await expect(page.getByRole("table", { name: "Created users" }).getByRole("row", { name: `2 ${good[0]} Ann ${last}` })).toBeVisible();

  const errors = await download(page, () => page.getByRole("link", { name: "Download rejected rows" }).click());
  expect(errors.name).toBe("people-rejected.csv");
  const lines = csvLines(errors.bytes);
  expect(lines[0]).toBe("Email,First Name,Last Name,Status,Groups,error");
  expect(lines).toHaveLength(3);
  expect(lines[1]).toMatch(/^not-an-email,Cid,.*Email: ""not-an-email"" is not a valid email address\./);
  expect(lines[2]).toContain('Status: ""sleeping"" is not a status');

  await act.open(page, `/users?q=${last}`);
  await check.settled(page);
  await check.totalIs(page, 2);
  await expect(find.row(page, `Ben ${last}`)).toBeVisible();

  // The import is listed with its counts.
  await act.open(page, "/imports");
  const past = page.getByRole("table", { name: "Past imports" });
  await expect(past.getByRole("row", { name: /people\.csv Applied 4 2 0 2/ })).toBeVisible();
});

test("a file dropped on the drop zone is uploaded and checked", async ({ page }) => {
  await act.signIn(page);
  await act.open(page, "/imports");
  const email = `${unique("dropped").toLowerCase()}@e2e.test`;
  const dropzone = page.getByText("Choose a CSV or XLSX file");
  const transfer = await page.evaluateHandle((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], "dropped.csv", { type: "text/csv" }));
    return dt;
  }, `email,first_name\r\n${email},Drop\r\n`);
  await dropzone.dispatchEvent("drop", { dataTransfer: transfer });
  await expect(page.getByText("dropped.csv")).toBeVisible();
  await page.getByRole("button", { name: "Upload and check" }).click();
  await page.waitForURL(/\/imports\/\d+$/);
  await expect(page.getByText("Ready to apply", { exact: true })).toBeVisible();
  await expect(page.getByRole("region", { name: "Summary" })).toContainText(/1\s*to create/);
  await page.getByRole("button", { name: "Apply all" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Applied: 1 created, 0 updated, 0 unchanged." })).toBeVisible();
});

test("exports the current view: its filters, sort and visible columns", async ({ page }) => {
  await act.signIn(page);
  const users = [newUser("Exp"), newUser("Exp"), newUser("Exp")];
  const last = users[0].last;
  users.forEach((u) => (u.last = last));
  users[1].first = "Bea";
  users[2].first = "Cato";
  await arrange.users(page, users);

  await act.open(page, `/users?q=${last}&sort=first_name&dir=desc&hide=phone,balance,tags`);
  await check.settled(page);
  await check.totalIs(page, 3);
  await page.getByRole("button", { name: "Export" }).click();
  const file = await download(page, () => page.getByRole("menuitem", { name: "Current view as CSV" }).click());
  expect(file.name).toMatch(/^users-\d{8}-\d{6}\.csv$/);
  expect(file.bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  const [header, ...rows] = csvLines(file.bytes);
  const columns = header.split(",");
  expect(columns).toContain("email");
  expect(columns).toContain("first_name");
  for (const hidden of ["phone", "balance", "tags"]) expect(columns).not.toContain(hidden);
  const email = columns.indexOf("email");
  expect(rows.map((r) => r.split(",")[email])).toEqual([users[0].email, users[2].email, users[1].email]);
  await expect(page.getByRole("status").filter({ hasText: "Export ready" })).toBeVisible();

  await page.getByRole("button", { name: "Export" }).click();
  const all = await download(page, () => page.getByRole("menuitem", { name: "All users as XLSX" }).click());
  expect(all.name).toMatch(/\.xlsx$/);
  expect(all.bytes.subarray(0, 2).toString()).toBe("PK");
});
