import { expect, test } from "@playwright/test";
import { act, check, find } from "./fixtures/users-page";
import { arrange, lifecycle, newUser, unique } from "./fixtures/lifecycle";

test("defines a choice field, changes its choices, moves it and archives it", async ({ page }) => {
  await act.signIn(page);
  await page.getByRole("link", { name: "Profile fields" }).click();
  await expect(page.getByRole("heading", { name: "Profile fields" })).toBeVisible();
  await act.open(page, "/fields");
  const key = unique("plan").toLowerCase();
  const label = `Plan ${key}`;

  const form = page.getByRole("region", { name: "New field" });
  // A bad key is named beside its field; nothing is created.
  await form.getByLabel("Label").fill(label);
  await form.getByLabel("Key").fill("email");
  await form.getByLabel("Type").selectOption({ label: "One of a list" });
  await form.getByLabel("Choices (one per line)").fill("Free\nPro");
  await form.getByRole("button", { name: "Add field" }).click();
  await expect(form.getByText('"email" is a built-in column; choose another key.')).toBeVisible();
  await expect(form.getByLabel("Key")).toHaveAttribute("aria-invalid", "true");

  await form.getByLabel("Key").fill(key);
  await form.getByRole("button", { name: "Add field" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Field ${label} added.` })).toBeVisible();
  const table = page.getByRole("table", { name: "Profile fields" });
  const row = table.getByRole("row", { name: new RegExp(`^${label} ${key} One of a list Free, Pro`) });
  await expect(row).toBeVisible();

  await row.getByRole("button", { name: `Edit ${label}` }).click();
  const editor = page.getByRole("region", { name: `Edit ${label}` });
  await expect(editor.getByLabel("Key")).toHaveAttribute("readonly", "");
  await editor.getByLabel("Choices (one per line)").fill("Free\nPro\nTeam");
  await editor.getByRole("button", { name: "Save field" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Field ${label} saved.` })).toBeVisible();
  await expect(table.getByRole("row", { name: new RegExp(`^${label} .*Free, Pro, Team`) })).toBeVisible();

  // A second field goes last; moving it up puts it before the first.
  const second = `Birthday ${key}`;
  await form.getByLabel("Label").fill(second);
  await form.getByLabel("Key").fill(`${key}_born`);
  await form.getByLabel("Type").selectOption({ label: "Date" });
  await form.getByRole("button", { name: "Add field" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Field ${second} added.` })).toBeVisible();
  const labels = () => table.getByRole("rowheader").allInnerTexts();
  await expect.poll(async () => (await labels()).indexOf(second)).toBe((await labels()).indexOf(label) + 1);
  await page.getByRole("button", { name: `Move ${second} up` }).click();
  await expect(page.getByRole("status").filter({ hasText: `Moved ${second}.` })).toBeVisible();
  await expect.poll(async () => (await labels()).indexOf(second)).toBe((await labels()).indexOf(label) - 1);

  await table.getByRole("row", { name: new RegExp(`^${label} `) }).getByRole("button", { name: "Archive" }).click();
  await expect(page.getByRole("status").filter({ hasText: `${label} archived` })).toBeVisible();
  await expect(table.getByRole("row", { name: new RegExp(`^${label} `) })).toHaveCount(0);
  await page.getByLabel("Show archived fields").check();
  await expect(page.getByRole("table", { name: "Profile fields" }).getByRole("row", { name: new RegExp(`^${label} \\(archived\\)`) })).toBeVisible();
});

test("sets a choice field on a user in the drawer; the value survives a reload", async ({ page }) => {
  await act.signIn(page);
  const key = unique("tier").toLowerCase();
  const label = `Tier ${key}`;
  const created = await page.request.post("/api/create_field", { headers: { "sec-fetch-site": "same-origin" },
    data: { form: { key, label, kind: "choice", choices: "Bronze\nSilver\nGold", required: false, searchable: true } },
  });
  expect(created.status(), await created.text()).toBe(200);
  const field = await created.json();
  const user = newUser("Field");
  await arrange.users(page, [user]);

  const dialog = await lifecycle.openDrawer(page, user);
  await dialog.getByLabel(label).selectOption("Silver");
  await dialog.getByRole("button", { name: "Save changes" }).click();
  await expect(find.notices(page)).toContainText("Changes saved.");

  await act.reload(page);
  await check.drawerReady(page);
  const again = page.getByRole("dialog", { name: `${user.first} ${user.last}` });
  await expect(again.getByLabel(label)).toHaveValue("Silver");

  // Archived, the field leaves the drawer (its value is kept).
  const archived = await page.request.post("/api/archive_field", { headers: { "sec-fetch-site": "same-origin" }, data: { id: field.id, archived: true } });
  expect(archived.status()).toBe(200);
  await act.reload(page);
  await check.drawerReady(page);
  await expect(page.getByRole("dialog").getByLabel("First name")).toHaveValue(user.first);
  await expect(page.getByRole("dialog").getByLabel(label)).toHaveCount(0);
});

test("the New user form asks for a required field and names it when it is missing", async ({ page }) => {
  await act.signIn(page);
  const key = unique("region").toLowerCase();
  const label = `Region ${key}`;
  const created = await page.request.post("/api/create_field", { headers: { "sec-fetch-site": "same-origin" },
    data: { form: { key, label, kind: "choice", choices: "EU\nUS", required: true, searchable: true } },
  });
  expect(created.status(), await created.text()).toBe(200);
  const field = await created.json();
  try {
    const user = newUser("Req");
    await page.getByRole("button", { name: "New user" }).click();
    const dialog = page.getByRole("dialog", { name: "New users" });
    const first = dialog.getByRole("group", { name: "User 1" });
    await first.getByLabel("First name").fill(user.first);
    await first.getByLabel("Last name").fill(user.last);
    await first.getByLabel("Email", { exact: true }).fill(user.email);
    await first.getByLabel("Username").fill(user.username);
    await dialog.getByRole("button", { name: "Create user" }).click();
    await expect(first.getByText("Enter a value: this field is required.")).toBeVisible();
    await expect(first.getByLabel(`${label} (required)`)).toHaveAttribute("aria-invalid", "true");

    await first.getByLabel(`${label} (required)`).selectOption("US");
    await dialog.getByRole("button", { name: "Create user" }).click();
    await expect(page.getByRole("dialog", { name: "1 user created" })).toBeVisible();
  } finally {
    await page.request.post("/api/archive_field", { headers: { "sec-fetch-site": "same-origin" }, data: { id: field.id, archived: true } });
  }
});

test("a choice field set in the drawer becomes a column, a filter, a sort and a template column", async ({ page }) => {
  await act.signIn(page);
  const key = unique("level").toLowerCase();
  const label = `Level ${key}`;
  const created = await page.request.post("/api/create_field", { headers: { "sec-fetch-site": "same-origin" },
    data: { form: { key, label, kind: "choice", choices: "Bronze\nSilver\nGold", required: false, searchable: true } },
  });
  expect(created.status(), await created.text()).toBe(200);
  const field = await created.json();
  try {
    // One shared last-name stem finds both; each full last name finds one.
    const stem = unique("Lvl");
    const gold = { ...newUser("Goldie"), last: `${stem}g` };
    const bronze = { ...newUser("Bronzie"), last: `${stem}b` };
    await arrange.users(page, [gold, bronze]);
    for (const [user, value] of [[gold, "Gold"], [bronze, "Bronze"]] as const) {
      const dialog = await lifecycle.openDrawer(page, user);
      await dialog.getByLabel(label).selectOption(value);
      await dialog.getByRole("button", { name: "Save changes" }).click();
      await expect(find.notices(page)).toContainText("Changes saved.");
    }

    // Both users, with the field shown as a column.
    await act.open(page, `/users?q=${encodeURIComponent(stem)}`);
    await check.settled(page);
    await check.totalIs(page, 2);
    await page.getByRole("button", { name: "Columns" }).click();
    await page.getByRole("group", { name: "Profile fields" }).getByRole("checkbox", { name: label }).check();
    await page.getByRole("button", { name: "Columns" }).click();
    const goldRow = find.row(page, `${gold.first} ${gold.last}`);
    await expect(await find.cell(page, goldRow, label)).toHaveText("Gold");

    // Sorted by the field, ascending: Bronze before Gold; again: descending.
    await find.header(page, label).getByRole("button", { name: label }).click();
    await check.settled(page);
    await expect(find.header(page, label)).toHaveAttribute("aria-sort", "ascending");
    await expect(find.bodyRows(page).first()).toContainText(bronze.first);
    await find.header(page, label).getByRole("button", { name: label }).click();
    await check.settled(page);
    await expect(find.header(page, label)).toHaveAttribute("aria-sort", "descending");
    await expect(find.bodyRows(page).first()).toContainText(gold.first);

    // Filtered to Gold: one user, named on a chip that removes the filter.
    await page.getByRole("button", { name: "Profile fields" }).click();
    await page.getByLabel(`${label} value`).selectOption("Gold");
    await check.settled(page);
    await check.totalIs(page, 1);
    await expect(goldRow).toBeVisible();
    await check.urlHas(page, { [`f.${key}`]: "is:Gold" });
    await page.getByLabel(`${label} match`).selectOption("is not");
    await check.settled(page);
    await check.totalIs(page, 1);
    await expect(find.row(page, `${bronze.first} ${bronze.last}`)).toBeVisible();
    await page.keyboard.press("Escape");
    const chip = page.getByRole("list", { name: "Profile field filters" }).getByRole("listitem");
    await expect(chip).toHaveText(new RegExp(`^${label} is not Gold`));
    await chip.getByRole("button", { name: `Remove filter ${label} is not Gold` }).click();
    await check.settled(page);
    await check.totalIs(page, 2);

    // The import template gains the field's column.
    await act.open(page, "/imports");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "CSV template" }).click(),
    ]);
    const text = await (await import("node:fs/promises")).readFile(await download.path(), "utf8");
    expect(text.split(/\r?\n/)[0].replace(/^\uFEFF/, "").split(",")).toContain(key);
  } finally {
    await page.request.post("/api/archive_field", { headers: { "sec-fetch-site": "same-origin" }, data: { id: field.id, archived: true } });
  }
});
