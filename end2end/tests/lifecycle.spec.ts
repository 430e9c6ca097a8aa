import { readFile } from "node:fs/promises";
import { expect, test } from "@playwright/test";
import { act, check, find } from "./fixtures/users-page";
import { arrange, lifecycle, newUser, unique } from "./fixtures/lifecycle";

test("creates two users at once, then downloads a CSV of them", async ({ page }) => {
  await act.signIn(page);
  const before = await check.total(page);
  const [a, b] = [newUser("Ana"), newUser("Bo")];

  await page.getByRole("button", { name: "New user" }).click();
  const dialog = page.getByRole("dialog", { name: "New users" });
  const first = dialog.getByRole("group", { name: "User 1" });
  await first.getByLabel("First name").fill(a.first);
  await first.getByLabel("Last name").fill(a.last);
  await first.getByLabel("Email", { exact: true }).fill(a.email);
  await first.getByLabel("Username").fill(a.username);
  await dialog.getByRole("button", { name: "Add another" }).click();
  const second = dialog.getByRole("group", { name: "User 2" });
  await second.getByLabel("First name").fill(b.first);
  await second.getByLabel("Last name").fill(b.last);
  await second.getByLabel("Email", { exact: true }).fill("not-an-email");
  await second.getByLabel("Login phone").fill("+46 70 555 01 23");
  await second.getByLabel("Generate a temporary password").check();

  // A bad row stops the whole batch, with the message beside the field.
  await dialog.getByRole("button", { name: "Create 2 users" }).click();
  await expect(second.getByText('"not-an-email" is not a valid email address.')).toBeVisible();
  await expect(second.getByLabel("Email", { exact: true })).toHaveAttribute("aria-invalid", "true");
  await second.getByLabel("Email", { exact: true }).fill(b.email);
  await dialog.getByRole("button", { name: "Create 2 users" }).click();

  const done = page.getByRole("dialog", { name: "2 users created" });
  await expect(done).toBeVisible();
  const created = done.getByRole("table", { name: "Created users" });
  await expect(created.getByRole("row")).toHaveCount(3);
  await expect(created).toContainText(a.email);
  await expect(created).toContainText("+46705550123");
  const passwordCell = created.getByRole("row").nth(2).getByRole("cell").last();
  const password = (await passwordCell.getByRole("code").innerText()).trim();
  expect(password).toMatch(/^[A-Za-z0-9]{16}$/);
  // Copy puts the password on the clipboard, once, and says so.
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await done.getByRole("button", { name: `Copy the temporary password of ${b.email}` }).click();
  await expect(passwordCell.getByRole("status")).toHaveText("Copied.");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(password);

  const [download] = await Promise.all([page.waitForEvent("download"), done.getByRole("link", { name: "Download CSV" }).click()]);
  expect(download.suggestedFilename()).toBe("created-users.csv");
  const csv = (await readFile(await download.path())).toString("utf8").replace(/^\uFEFF/, "");
  const lines = csv.trim().split("\r\n");
  expect(lines[0]).toBe("id,email,first_name,last_name,username,phone,role,status,groups,temporary_password");
  expect(lines).toHaveLength(3);
  expect(lines[1]).toContain(`${a.email},${a.first},${a.last},${a.username},,member,invited`);
  expect(lines[2]).toContain(`${b.email},${b.first},${b.last},,'+46705550123,member,active,,${password}`);

  await done.getByRole("button", { name: "Done" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await check.totalIs(page, before + 2);
  await lifecycle.showOnly(page, b);
  await expect(find.statusMenus(page).first()).toHaveValue("active");
});

test("edits a user in the drawer; the change survives a reload; email stays fixed", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Edit");
  await arrange.users(page, [user]);
  const dialog = await lifecycle.openDrawer(page, user);

  await expect(dialog.getByLabel("Email", { exact: true })).toHaveAttribute("readonly", "");
  await expect(dialog.getByLabel("Email", { exact: true })).toHaveValue(user.email);
  await expect(dialog.getByText("Fixed once created")).toBeVisible();
  await dialog.getByLabel("Job title").fill("Night nurse");
  await dialog.getByLabel("Company").fill("St. Elsewhere");
  await dialog.getByLabel("Balance").fill("12.5");
  await dialog.getByLabel("Receives email communication").check();
  await dialog.getByRole("button", { name: "Save changes" }).click();
  await expect(find.notices(page)).toContainText("Changes saved.");
  // The opt-in change is in the timeline, by the admin who made it.
  await expect(page.getByRole("dialog").getByRole("region", { name: "Activity" }).getByRole("listitem")
    .filter({ hasText: "Email communication: opted in" })).toContainText("e2e@roster.test");
  await expect(dialog.getByRole("button", { name: "Save changes" })).toBeDisabled();

  await act.reload(page);
  await check.drawerReady(page);
  const again = page.getByRole("dialog", { name: `${user.first} ${user.last}` });
  await expect(again.getByLabel("Job title")).toHaveValue("Night nurse");
  await expect(again.getByLabel("Company")).toHaveValue("St. Elsewhere");
  await expect(again.getByLabel("Balance")).toHaveValue("12.50");
  await expect(again.getByLabel("Receives email communication")).toBeChecked();
  await expect(again.getByText(/^Last changed: \d{4}-\d\d-\d\d \d\d:\d\d UTC by e2e@roster\.test$/)).toBeVisible();

  // A bad value is named next to its field and nothing is saved.
  await again.getByLabel("Phone").fill("070 123");
  await again.getByRole("button", { name: "Save changes" }).click();
  await expect(again.getByText("Start with + and the country code")).toBeVisible();
  await expect(again.getByLabel("Phone")).toHaveAttribute("aria-invalid", "true");
});

test("creates a group by typing its name in the drawer, then renames it on the Groups page", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Grp");
  await arrange.users(page, [user]);
  const group = unique("Night shift ");
  const dialog = await lifecycle.openDrawer(page, user);

  const picker = dialog.getByRole("combobox", { name: "Add group" });
  await picker.fill(group);
  await expect(dialog.getByRole("option", { name: `Create group “${group}”` })).toBeVisible();
  await picker.press("Enter");
  const chips = dialog.getByRole("list", { name: "Groups" });
  await expect(chips.getByText(group)).toBeVisible();
  await expect(dialog.getByRole("button", { name: `Remove group ${group}` })).toBeEnabled();

  await act.reload(page);
  await check.drawerReady(page);
  await expect(page.getByRole("dialog").getByRole("list", { name: "Groups" }).getByText(group)).toBeVisible();

  await act.open(page, "/groups");
  const groups = page.getByRole("table", { name: "Groups" });
  const row = groups.getByRole("row", { name: new RegExp(group) });
  await expect(row.getByRole("cell").nth(1)).toHaveText("1");
  await row.getByRole("button", { name: `Rename ${group}` }).click();
  const renamed = `${group} B`;
  await page.getByLabel(`New name for ${group}`).fill(renamed);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Group renamed to ${renamed}.` })).toBeVisible();
  await expect(groups.getByRole("row", { name: new RegExp(renamed) }).getByRole("cell").nth(1)).toHaveText("1");
});

test("tags a user from the table's tag cell", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Tag");
  await arrange.users(page, [user]);
  const tag = unique("e2e-");
  await lifecycle.showOnly(page, user);

  const name = `${user.first} ${user.last}`;
  await page.getByRole("button", { name: `Tags of ${name}: 0` }).click();
  const popover = page.getByRole("group", { name: `Tags of ${name}` });
  await popover.getByRole("combobox", { name: "Add tag" }).fill(tag);
  await popover.getByRole("option", { name: `Create tag “${tag}”` }).click();
  await expect(page.getByRole("button", { name: `Tags of ${name}: 1` })).toBeVisible();

  await act.open(page, `/users?tags=${tag}`);
  await check.totalIs(page, 1);
  await expect(find.row(page, name)).toBeVisible();
});

test("bans a user from the row's status menu", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Ban");
  await arrange.users(page, [user]);
  await lifecycle.showOnly(page, user);
  const name = `${user.first} ${user.last}`;

  await page.getByRole("combobox", { name: `Status of ${name}` }).selectOption("Banned");
  await expect(find.notices(page)).toContainText(`${name} is now banned.`);
  await act.open(page, `/users?status=banned&q=${encodeURIComponent(user.last)}`);
  await check.totalIs(page, 1);
  await expect(page.getByRole("combobox", { name: `Status of ${name}` })).toHaveValue("banned");
});

test("a ban from the row menu is undone from its notice", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Unban");
  await arrange.users(page, [user]);
  await lifecycle.showOnly(page, user);
  const name = `${user.first} ${user.last}`;
  const status = page.getByRole("combobox", { name: `Status of ${name}` });

  await status.selectOption("Banned");
  await expect(find.notices(page)).toContainText(`${name} is now banned.`);
  await check.settled(page);
  await expect(status).toHaveValue("banned");
  await find.notices(page).getByRole("button", { name: "Undo" }).click();
  await expect(find.notices(page)).toContainText("The user has their previous status again.");
  await check.settled(page);
  await expect(status).toHaveValue("invited");
  await act.reload(page);
  await expect(status).toHaveValue("invited");
});

test("deletes a user after confirming, then brings them back with Undo", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Del");
  const [id] = await arrange.users(page, [user]);
  await lifecycle.showOnly(page, user);
  const name = `${user.first} ${user.last}`;

  await page.getByRole("button", { name: `Actions for ${name}` }).click();
  await page.getByRole("menuitem", { name: "Delete…" }).click();
  const confirm = page.getByRole("alertdialog", { name: `Delete ${name}?` });
  await expect(confirm).toBeVisible();
  await confirm.getByRole("button", { name: "Delete" }).click();
  await expect(confirm).toHaveCount(0);
  await expect(find.notices(page)).toContainText(`${name} was deleted.`);
  await check.totalIs(page, 0);
  await expect(page.getByText("No users match these filters.")).toBeVisible();

  await find.notices(page).getByRole("button", { name: "Undo" }).click();
  await expect(find.notices(page)).toContainText("The user is back.");
  await check.totalIs(page, 1);
  await expect(find.row(page, name)).toHaveAttribute("id", `user-row-${id}`);
});

test("bulk: shift-click checks a range, then one action tags them all", async ({ page }) => {
  await act.signIn(page);
  const last = unique("Bulk");
  const users = [1, 2, 3, 4].map((i) => ({ first: `B${i}`, last, email: `b${i}.${last.toLowerCase()}@e2e.test`, username: `b${i}_${last.toLowerCase()}` }));
  await arrange.users(page, users);
  await act.open(page, `/users?q=${last}&sort=first_name`);
  await check.totalIs(page, 4);
  const tag = unique("bulk-");

  await page.getByRole("checkbox", { name: `Select B1 ${last}` }).click();
  await page.getByRole("checkbox", { name: `Select B3 ${last}` }).click({ modifiers: ["Shift"] });
  const bar = page.getByRole("region", { name: "Selection" });
  await expect(bar.getByText("3 selected")).toBeVisible();
  await expect(page.getByRole("checkbox", { name: `Select B2 ${last}` })).toBeChecked();
  await expect(page.getByRole("checkbox", { name: `Select B4 ${last}` })).not.toBeChecked();

  await bar.getByLabel("Bulk action").selectOption({ label: "Add tag…" });
  await bar.getByLabel("Tag name").fill(tag);
  await bar.getByRole("button", { name: "Apply" }).click();
  await expect(find.notices(page)).toContainText(`Tag ${tag} added to 3 users.`);

  await act.open(page, `/users?tags=${tag}`);
  await check.totalIs(page, 3);
  await expect(find.row(page, `B4 ${last}`)).toHaveCount(0);
});

test("keyboard: / searches, ↓ reaches the rows, Enter opens, Esc closes, x selects, ? lists the keys", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Key");
  await arrange.users(page, [user]);
  await act.open(page, "/users");
  await check.settled(page);

  await page.keyboard.press("/");
  await expect(find.search(page)).toBeFocused();
  await page.keyboard.type(user.last, { delay: 30 });
  await check.urlHas(page, { q: user.last });
  await check.settled(page);
  await check.totalIs(page, 1);
  await page.keyboard.press("ArrowDown");
  const row = find.row(page, `${user.first} ${user.last}`);
  await expect(row).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("dialog", { name: `${user.first} ${user.last}` })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(row).toBeFocused();

  await page.keyboard.press("x");
  await expect(page.getByRole("checkbox", { name: `Select ${user.first} ${user.last}` })).toBeChecked();
  await expect(page.getByRole("region", { name: "Selection" }).getByText("1 selected")).toBeVisible();

  await page.keyboard.press("?");
  const help = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await expect(help).toBeVisible();
  await expect(help.getByRole("row")).toHaveCount(7);
  await page.keyboard.press("Escape");
  await expect(help).toHaveCount(0);
});

test("the New user form shows every error of a submit at once: formats, duplicates and identities taken", async ({ page }) => {
  await act.signIn(page);
  const existing = newUser("Taken");
  await arrange.users(page, [existing]);
  const fresh = newUser("Fresh");

  await page.getByRole("button", { name: "New user" }).click();
  const dialog = page.getByRole("dialog", { name: "New users" });
  const first = dialog.getByRole("group", { name: "User 1" });
  await first.getByLabel("First name").fill(fresh.first);
  await first.getByLabel("Email", { exact: true }).fill(existing.email);
  await first.getByLabel("Username").fill(fresh.username);
  await first.getByLabel("Login phone").fill("12");
  await dialog.getByRole("button", { name: "Add another" }).click();
  const second = dialog.getByRole("group", { name: "User 2" });
  await second.getByLabel("First name").fill(fresh.first);
  await second.getByLabel("Email", { exact: true }).fill(fresh.email);
  await second.getByLabel("Username").fill(fresh.username.toUpperCase());
  await dialog.getByRole("button", { name: "Create 2 users" }).click();

  await expect(first.getByText("A user with this email already exists.")).toBeVisible();
  await expect(first.getByText("Start with + and the country code, e.g. +46 70 123 45 67.")).toBeVisible();
  await expect(second.getByText("Used twice in this form.")).toBeVisible();
  await expect(first.getByLabel("Email", { exact: true })).toHaveAttribute("aria-invalid", "true");
  await expect(second.getByLabel("Username")).toHaveAttribute("aria-invalid", "true");
});

test("the group picker offers close matches, a typo included, before creating a new group", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Pick");
  await arrange.users(page, [user]);
  const suffix = unique("").toLowerCase();
  const group = `Support crew ${suffix}`;
  const made = await page.request.post("/api/create_group", { headers: { "sec-fetch-site": "same-origin" }, data: { name: group } });
  expect(made.status(), await made.text()).toBe(200);
  const dialog = await lifecycle.openDrawer(page, user);

  const picker = dialog.getByRole("combobox", { name: "Add group" });
  const typo = `Suport crew ${suffix}`;
  await picker.fill(typo);
  const options = dialog.getByRole("listbox", { name: "Group suggestions" }).getByRole("option");
  await expect(options.first()).toHaveText(group);
  await expect(options.last()).toHaveText(`Create group “${typo}”`);
  // Enter takes the close match; nothing new is made by accident.
  await picker.press("Enter");
  const chips = dialog.getByRole("list", { name: "Groups" });
  await expect(chips.getByText(group)).toBeVisible();
  await expect(chips.getByText(typo)).toHaveCount(0);
});
