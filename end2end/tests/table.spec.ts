import { expect, test, type Page } from "@playwright/test";
import { act, check, find } from "./fixtures/users-page";
import { arrange, crowd, lifecycle, newUser, unique, type NewUser } from "./fixtures/lifecycle";

/** Calls a server function as the signed-in admin (as fixtures/lifecycle.ts does). */
async function call<T>(page: Page, endpoint: string, data: object): Promise<T> {
  const response = await page.request.post(`/api/${endpoint}`, { headers: { "sec-fetch-site": "same-origin" }, data });
  expect(response.status(), `${endpoint}: ${await response.text()}`).toBe(200);
  return await response.json();
}

const bulk = {
  bar: (page: Page) => page.getByRole("region", { name: "Selection" }),
  /** Checks the whole page, then widens the selection to every user matching the filters. */
  async selectAllMatching(page: Page, matching: number) {
    const onPage = await find.bodyRows(page).count();
    expect(onPage, "more users match than one page shows").toBeLessThan(matching);
    await page.getByRole("checkbox", { name: "Select all on this page" }).check();
    const bar = bulk.bar(page);
    await expect(bar.getByText(`${onPage} selected`)).toBeVisible();
    await bar.getByRole("button", { name: `Select all ${matching} matching` }).click();
    await expect(bar.getByText(`${matching} selected`)).toBeVisible();
    await expect(bar.getByText("All users matching the filters")).toBeVisible();
  },
  /** Picks a bulk action (and its tag or group name) and applies it. */
  async apply(page: Page, action: string, name?: { label: "Tag name" | "Group name"; value: string }) {
    const bar = bulk.bar(page);
    await bar.getByLabel("Bulk action").selectOption({ label: action });
    if (name) await bar.getByLabel(name.label).fill(name.value);
    await bar.getByRole("button", { name: "Apply" }).click();
  },
};

/** Shows exactly `users` (they share one last name) and checks how many match. */
async function showCrowd(page: Page, users: NewUser[], extra = "") {
  await act.open(page, `/users?q=${encodeURIComponent(users[0].last)}${extra}`);
  await check.settled(page);
  await check.totalIs(page, users.length);
}

test.describe("select all N matching", () => {
  test("bans every matching user, also those on the next page", async ({ page }) => {
    await act.signIn(page);
    const users = crowd(26, "Ban");
    await arrange.many(page, users);
    await showCrowd(page, users);

    await bulk.selectAllMatching(page, users.length);
    await bulk.apply(page, "Set status: Banned");
    // A status change of many users asks first.
    const confirm = page.getByRole("alertdialog", { name: `Ban ${users.length} users?` });
    await expect(confirm).toContainText("You can undo this");
    await confirm.getByRole("button", { name: "Ban", exact: true }).click();
    await expect(confirm).toHaveCount(0);
    // It goes on in the background (the test server answers at once), with its progress.
    await expect(find.notices(page).getByRole("progressbar", { name: "Bulk action progress" })).toBeVisible();
    await expect(find.notices(page)).toContainText(`Setting ${users.length} users to banned`);
    await expect(find.notices(page)).toContainText(`${users.length} users set to banned.`);
    await expect(find.notices(page).getByRole("progressbar")).toHaveCount(0);

    const last = encodeURIComponent(users[0].last);
    await act.open(page, `/users?status=banned&q=${last}`);
    await check.totalIs(page, users.length);
    await act.open(page, `/users?status=invited&q=${last}`);
    await check.totalIs(page, 0);
  });

  test("a ban of many users can be cancelled, and undone once done", async ({ page }) => {
    await act.signIn(page);
    const users = crowd(26, "Unban");
    await arrange.many(page, users);
    await showCrowd(page, users);

    // Cancelled: nothing changes.
    await bulk.selectAllMatching(page, users.length);
    await bulk.apply(page, "Set status: Banned");
    const confirm = page.getByRole("alertdialog", { name: `Ban ${users.length} users?` });
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await expect(confirm).toHaveCount(0);
    const last = users[0].last;
    await showCrowd(page, users, "&status=invited");

    // Done, then undone from its notice.
    await showCrowd(page, users);
    await bulk.selectAllMatching(page, users.length);
    await bulk.apply(page, "Set status: Banned");
    await confirm.getByRole("button", { name: "Ban", exact: true }).click();
    const done = find.notices(page).getByText(`${users.length} users set to banned.`);
    await expect(done).toBeVisible();
    await check.settled(page);
    await expect(find.statusMenus(page).first()).toHaveValue("banned");
    await find.notices(page).getByRole("button", { name: "Undo" }).click();
    await expect(find.notices(page)).toContainText(`${users.length} users have their previous status again.`);
    await check.settled(page);
    await expect(find.statusMenus(page).first()).toHaveValue("invited");
    await act.open(page, `/users?status=banned&q=${encodeURIComponent(last)}`);
    await check.totalIs(page, 0);
  });

  test("adds a tag to every matching user, then removes it again", async ({ page }) => {
    await act.signIn(page);
    const users = crowd(26, "Tag");
    await arrange.many(page, users);
    const tag = unique("crowd-");
    await showCrowd(page, users);

    await bulk.selectAllMatching(page, users.length);
    await bulk.apply(page, "Add tag…", { label: "Tag name", value: tag });
    await expect(find.notices(page)).toContainText(`Tag ${tag} added to ${users.length} users.`);
    await act.open(page, `/users?tags=${tag}`);
    await check.totalIs(page, users.length);

    await showCrowd(page, users, `&tags=${tag}`);
    await bulk.selectAllMatching(page, users.length);
    await bulk.apply(page, "Remove tag…", { label: "Tag name", value: tag });
    await expect(find.notices(page)).toContainText(`Tag ${tag} removed from ${users.length} users.`);
    await check.totalIs(page, 0);
    await act.open(page, `/users?tags=${tag}`);
    await check.totalIs(page, 0);
    await showCrowd(page, users);
  });

  test("adds every matching user to a group, then removes them from it", async ({ page }) => {
    await act.signIn(page);
    const users = crowd(26, "Grp");
    await arrange.many(page, users);
    const group = unique("Crowd group ");
    const members = (p: Page) => p.getByRole("table", { name: "Groups" }).getByRole("row", { name: new RegExp(group) }).getByRole("cell").nth(1);
    await showCrowd(page, users);

    await bulk.selectAllMatching(page, users.length);
    await bulk.apply(page, "Add to group…", { label: "Group name", value: group });
    await expect(find.notices(page)).toContainText(`${users.length} users added to group ${group}.`);
    await act.open(page, "/groups");
    await expect(members(page)).toHaveText(String(users.length));

    await showCrowd(page, users);
    await bulk.selectAllMatching(page, users.length);
    await bulk.apply(page, "Remove from group…", { label: "Group name", value: group });
    await expect(find.notices(page)).toContainText(`${users.length} users removed from group ${group}.`);
    await act.open(page, "/groups");
    await expect(members(page)).toHaveText("0");
  });

  test("sets the role of every matching user", async ({ page }) => {
    await act.signIn(page);
    const users = crowd(26, "Role");
    await arrange.many(page, users);
    await showCrowd(page, users);

    await bulk.selectAllMatching(page, users.length);
    const bar = bulk.bar(page);
    await bar.getByLabel("Bulk action").selectOption({ label: "Set role…" });
    await bar.getByLabel("Role", { exact: true }).selectOption({ label: "support" });
    await bar.getByRole("button", { name: "Apply" }).click();
    await expect(find.notices(page)).toContainText(`Role changed for ${users.length} users.`);

    // All of them on one page: every row now says support.
    await showCrowd(page, users, "&per_page=50");
    await expect(find.bodyRows(page)).toHaveCount(users.length);
    const roles: string[] = [];
    for (const row of await find.bodyRows(page).all()) roles.push((await (await find.cell(page, row, "Role")).innerText()).trim());
    expect(new Set(roles)).toEqual(new Set(["support"]));
  });

  test("deletes every matching user after confirming, and Undo brings them all back", async ({ page }) => {
    await act.signIn(page);
    const users = crowd(26, "Del");
    await arrange.many(page, users);
    await showCrowd(page, users);

    await bulk.selectAllMatching(page, users.length);
    await bulk.apply(page, "Delete…");
    const confirm = page.getByRole("alertdialog", { name: `Delete ${users.length} users?` });
    await expect(confirm).toBeVisible();
    await confirm.getByRole("button", { name: "Delete" }).click();
    await expect(confirm).toHaveCount(0);
    await expect(find.notices(page)).toContainText(`${users.length} users were deleted.`);
    await check.totalIs(page, 0);

    await find.notices(page).getByRole("button", { name: "Undo" }).click();
    await expect(find.notices(page)).toContainText(`${users.length} users are back.`);
    await check.totalIs(page, users.length);
    await showCrowd(page, users);
  });
});

test("j and k move the keyboard focus down and up the rows", async ({ page }) => {
  await act.signIn(page);
  const users = crowd(3, "Jk");
  await arrange.many(page, users);
  await showCrowd(page, users, "&sort=first_name");
  const row = (i: number) => find.row(page, `${users[i].first} ${users[i].last}`);

  await page.keyboard.press("j");
  await expect(row(0)).toBeFocused();
  await page.keyboard.press("j");
  await expect(row(1)).toBeFocused();
  await page.keyboard.press("j");
  await expect(row(2)).toBeFocused();
  // The last row stays focused: there is nothing below it.
  await page.keyboard.press("j");
  await expect(row(2)).toBeFocused();
  await page.keyboard.press("k");
  await expect(row(1)).toBeFocused();
  await page.keyboard.press("k");
  await expect(row(0)).toBeFocused();
  await page.keyboard.press("k");
  await expect(row(0)).toBeFocused();
});

test("Go to page shows that page and keeps it in the URL", async ({ page }) => {
  await act.signIn(page);
  const users = crowd(27, "Pg");
  await arrange.many(page, users);
  await showCrowd(page, users, "&sort=first_name");
  const pagination = page.getByRole("navigation", { name: "Pagination" });
  await expect(pagination.getByText(/^Page 1 of 2$/)).toBeVisible();
  const perPage = await find.bodyRows(page).count();
  const name = (u: NewUser) => `${u.first} ${u.last}`;

  await pagination.getByLabel("Go to page").fill("2");
  await pagination.getByLabel("Go to page").press("Enter");
  await check.urlHas(page, { page: "2", q: users[0].last, sort: "first_name" });
  await check.settled(page);
  await expect(pagination.getByText(/^Page 2 of 2$/)).toBeVisible();
  const rest = users.slice(perPage);
  await expect(find.bodyRows(page)).toHaveCount(rest.length);
  for (const u of rest) await expect(find.row(page, name(u))).toBeVisible();
  await expect(find.row(page, name(users[0]))).toHaveCount(0);

  await act.reload(page);
  await check.settled(page);
  await expect(pagination.getByLabel("Go to page")).toHaveValue("2");
  await expect(find.bodyRows(page)).toHaveCount(rest.length);

  await pagination.getByLabel("Go to page").fill("1");
  await pagination.getByLabel("Go to page").press("Enter");
  await expect.poll(() => new URL(page.url()).searchParams.get("page") ?? "1").toBe("1");
  await check.settled(page);
  await expect(pagination.getByText(/^Page 1 of 2$/)).toBeVisible();
  await expect(find.bodyRows(page)).toHaveCount(perPage);
  await expect(find.bodyRows(page).first()).toHaveAccessibleName(new RegExp(`^${name(users[0])} \\(`));
});

test("saving over a change made elsewhere is refused; Reload shows it and a later save works", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Stale");
  const [id] = await arrange.users(page, [user]);
  const dialog = await lifecycle.openDrawer(page, user);

  // Another admin saves the same user while the drawer is open.
  type Detail = { version: number; first_name: string; last_name: string; username: string | null; phone: string | null;
    job_title: string; company: string; address: string; language: string; role: { id: number }; balance: number;
    email_opt_in: boolean; note: string };
  const current = await call<Detail>(page, "get_user", { id });
  const cents = Math.abs(current.balance);
  await call(page, "update_user", { id, form: {
    version: current.version, first_name: current.first_name, last_name: current.last_name,
    username: current.username ?? "", phone: current.phone ?? "", job_title: "Changed elsewhere",
    company: current.company, address: current.address, language: current.language, role_id: current.role.id,
    balance: `${current.balance < 0 ? "-" : ""}${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`,
    email_opt_in: current.email_opt_in, note: current.note, attributes: {},
  } });

  await dialog.getByLabel("Company").fill("Mine");
  await dialog.getByRole("button", { name: "Save changes" }).click();
  const conflict = dialog.getByRole("alert").filter({ hasText: "was changed by someone else" });
  await expect(conflict).toContainText(`${user.email} was changed by someone else after you opened it.`);
  await expect(dialog.getByLabel("Job title")).toHaveValue("");

  await conflict.getByRole("button", { name: "Reload" }).click();
  await expect(conflict).toHaveCount(0);
  await expect(dialog.getByLabel("Job title")).toHaveValue("Changed elsewhere");
  await expect(dialog.getByLabel("Company")).toHaveValue(current.company);

  await dialog.getByLabel("Company").fill("Mine");
  await dialog.getByRole("button", { name: "Save changes" }).click();
  await expect(find.notices(page)).toContainText("Changes saved.");
  await expect(dialog.getByRole("alert").filter({ hasText: "was changed by someone else" })).toHaveCount(0);

  await act.reload(page);
  await check.drawerReady(page);
  const again = page.getByRole("dialog", { name: `${user.first} ${user.last}` });
  await expect(again.getByLabel("Job title")).toHaveValue("Changed elsewhere");
  await expect(again.getByLabel("Company")).toHaveValue("Mine");
});

test("deletes a group on the Groups page after confirming; its members no longer show it", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("GrpDel");
  const [id] = await arrange.users(page, [user]);
  const group = unique("Doomed group ");
  await call(page, "create_group", { name: group });
  await call(page, "set_user_groups", { id, names: [group] });

  await act.open(page, "/groups");
  const groups = page.getByRole("table", { name: "Groups" });
  const row = groups.getByRole("row", { name: new RegExp(group) });
  await expect(row.getByRole("cell").nth(1)).toHaveText("1");

  // Keep changes nothing.
  await row.getByRole("button", { name: `Delete ${group}` }).click();
  await expect(row.getByText(`Delete ${group}? Members leave the group.`)).toBeVisible();
  await row.getByRole("button", { name: "Keep" }).click();
  await expect(row.getByRole("button", { name: `Delete ${group}` })).toBeVisible();

  await row.getByRole("button", { name: `Delete ${group}` }).click();
  await row.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: `Group ${group} deleted.` })).toBeVisible();
  await expect(row).toHaveCount(0);
  await act.reload(page);
  await expect(groups).toBeVisible();
  await expect(groups.getByRole("row", { name: new RegExp(group) })).toHaveCount(0);

  const dialog = await lifecycle.openDrawer(page, user);
  await expect(dialog.getByRole("list", { name: "Groups" })).not.toContainText(group);
});

test("the drawer's timeline pages through more events than fit at once", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Page");
  await arrange.users(page, [user]);
  const key = await call<string>(page, "create_api_key", { name: unique("E2E paging ") });
  // 60 features, a minute apart: step-01 is the newest, step-60 the oldest.
  const now = Date.now();
  const names = Array.from({ length: 60 }, (_, i) => `step-${String(i + 1).padStart(2, "0")}`);
  const events = names.map((name, i) => ({ user: user.email, kind: "feature", name, at: new Date(now - (i + 1) * 60_000).toISOString() }));
  const response = await page.request.post("/api/v1/events", { headers: { Authorization: `Bearer ${key}` }, data: { events } });
  expect(await response.json()).toEqual({ accepted: names.length, rejected: [] });

  const dialog = await lifecycle.openDrawer(page, user);
  const activity = dialog.getByRole("region", { name: "Activity" });
  const entry = (name: string) => activity.getByRole("listitem").filter({ hasText: name });
  await expect(entry(names[0])).toBeVisible();
  const first = await activity.getByRole("listitem").count();
  expect(first).toBeLessThan(names.length);
  await expect(entry(names[names.length - 1])).toHaveCount(0);

  await activity.getByRole("button", { name: "Load more" }).click();
  await expect(entry(names[names.length - 1])).toBeVisible();
  for (const name of names) await expect(entry(name)).toHaveCount(1);
  await expect(activity.getByRole("button", { name: "Load more" })).toHaveCount(0);
  expect(await activity.getByRole("listitem").count()).toBeGreaterThan(first);
});
