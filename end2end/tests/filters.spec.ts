import { expect, test } from "@playwright/test";
import { act, check, COUNT_UP_TO, find } from "./fixtures/users-page";

test("the status filter shows only that status and survives a reload", async ({ page }) => {
  await act.signIn(page);
  const all = await check.total(page);
  await find.statusLink(page, "Banned").click();
  await check.urlHas(page, { status: "banned" });
  await check.settled(page);
  const banned = await check.total(page);
  expect(banned).toBeGreaterThan(0);
  expect(banned).toBeLessThan(all);
  const statuses = await find.statusMenus(page).evaluateAll((menus) => menus.map((m) => (m as HTMLSelectElement).value));
  expect(statuses.length).toBeGreaterThan(0);
  expect(new Set(statuses)).toEqual(new Set(["banned"]));

  await act.reload(page);
  await expect(find.statusLink(page, "Banned")).toHaveAttribute("aria-current", "true");
  await check.totalIs(page, banned);

  await find.statusLink(page, "Active").click();
  await check.urlHas(page, { status: "active" });
  const active = await check.total(page);
  await find.statusLink(page, "Invited").click();
  const invited = await check.total(page);
  expect(active + banned + invited).toBe(all);
  await find.statusLink(page, "All").click();
  await check.totalIs(page, all);
});

test("tag filter: has all of, has any of, has none of", async ({ page }) => {
  await act.signIn(page);
  const all = await check.total(page);

  await act.chooseTags(page, ["vip"], "has any of");
  await check.urlHas(page, { tags: "vip", tag_mode: "any" });
  const vip = await check.total(page);
  expect(vip).toBeGreaterThan(0);
  // The first user listed carries the tag.
  await act.openRow(page, find.bodyRows(page).first());
  await expect(find.dialog(page).getByRole("list", { name: "Tags" })).toContainText("vip");
  await page.keyboard.press("Escape");
  await expect(find.dialog(page)).toHaveCount(0);

  await act.chooseTags(page, ["beta"], "has any of");
  await check.urlHas(page, { tags: "vip,beta", tag_mode: "any" });
  const vipOrBeta = await check.total(page);

  await page.getByLabel("Tag match").selectOption({ label: "has all of" });
  await check.urlHas(page, { tags: "vip,beta" });
  expect(new URL(page.url()).searchParams.get("tag_mode")).toBeNull();
  const vipAndBeta = await check.total(page);
  await act.openRow(page, find.bodyRows(page).first());
  const tags = find.dialog(page).getByRole("list", { name: "Tags" });
  await expect(tags).toContainText("vip");
  await expect(tags).toContainText("beta");
  await page.keyboard.press("Escape");

  await page.getByLabel("Tag match").selectOption({ label: "has none of" });
  await check.urlHas(page, { tags: "vip,beta", tag_mode: "none" });
  const neither = await check.total(page);

  expect(vipAndBeta).toBeLessThanOrEqual(vip);
  expect(vipOrBeta).toBeGreaterThanOrEqual(vip);
  expect(neither + vipOrBeta).toBe(all);

  await act.reload(page);
  await check.totalIs(page, neither);
  await page.getByRole("button", { name: "Remove tag vip" }).click();
  await page.getByRole("button", { name: "Remove tag beta" }).click();
  await check.totalIs(page, all);
});

test("sorting by a header and paging are kept in the URL", async ({ page }) => {
  await act.signIn(page);
  // Name is one column with two ways to sort it, not three headings.
  await expect(find.header(page, /^Name\b/)).toHaveText(/^Name\s*first\s*·\s*last\s*$/);
  await find.header(page, /^Name\b/).getByRole("button", { name: "Last name" }).click();
  await check.urlHas(page, { sort: "last_name" });
  await expect(find.header(page, /^Name\b/)).toHaveAttribute("aria-sort", "ascending");
  await check.settled(page);
  const names: string[] = [];
  for (const row of await find.bodyRows(page).all()) names.push(await (await find.cell(page, row, "Name")).innerText());
  // By last name, and people who share one by first name.
  const keys = names.map((n) => {
    const words = n.toLowerCase().split(" ");
    return `${words.at(-1)}\u0000${words.slice(0, -1).join(" ")}`;
  });
  expect(keys).toEqual([...keys].sort());

  await find.header(page, /^Name\b/).getByRole("button", { name: "Last name" }).click();
  await expect(find.header(page, /^Name\b/)).toHaveAttribute("aria-sort", "descending");

  const firstOnPage1 = await find.bodyRows(page).first().innerText();
  await page.getByRole("navigation", { name: "Pagination" }).getByRole("link", { name: "Next" }).click();
  await check.urlHas(page, { page: "2", sort: "last_name", dir: "desc" });
  await check.settled(page);
  expect(await find.bodyRows(page).first().innerText()).not.toEqual(firstOnPage1);
  await expect(page.getByText(/^Page 2 of/)).toBeVisible();

  await page.getByLabel("Rows per page").selectOption("50");
  await check.urlHas(page, { per_page: "50" });
  await check.settled(page);
  await expect(find.bodyRows(page)).toHaveCount(50);
});

test("the signup date range narrows the list and lives in the URL", async ({ page }) => {
  await act.signIn(page);
  const all = await check.total(page);
  await page.getByLabel("Signed up from").fill("2025-01-01");
  await check.urlHas(page, { from: "2025-01-01" });
  const since2025 = await check.total(page);
  expect(since2025).toBeLessThan(all);
  await page.getByLabel("Signed up to").fill("2025-06-30");
  await check.urlHas(page, { from: "2025-01-01", to: "2025-06-30" });
  const firstHalf = await check.total(page);
  expect(firstHalf).toBeLessThanOrEqual(since2025);
  for (const row of await find.bodyRows(page).all()) {
    const signup = await (await find.cell(page, row, "Signup date")).innerText();
    expect(signup >= "2025-01-01" && signup <= "2025-06-30", signup).toBeTruthy();
  }
  await act.reload(page);
  await expect(page.getByLabel("Signed up from")).toHaveValue("2025-01-01");
  await check.totalIs(page, firstHalf);
});

test("the tag list closes when focus moves away", async ({ page }) => {
  await act.signIn(page);
  await page.getByRole("button", { name: "Choose tags" }).click();
  const options = page.getByRole("group", { name: "Tags" });
  await expect(options).toBeVisible();
  await find.tagOption(page, "beta").check();
  await expect(options).toBeVisible();
  await find.search(page).click();
  await expect(options).toHaveCount(0);
  await check.urlHas(page, { tags: "beta" });
});

test("a wide filter stops counting at the limit; the exact total and select all count on request", async ({ page }) => {
  await act.signIn(page);
  const all = await check.total(page);
  expect(all, "the demo has more users than the e2e server's count limit").toBeGreaterThan(COUNT_UP_TO);
  // Everyone signed up after 2000: more match than the page counts.
  await page.getByLabel("Signed up from").fill("2000-01-01");
  await check.urlHas(page, { from: "2000-01-01" });
  await check.settled(page);
  await expect(find.total(page)).toHaveText(`More than ${COUNT_UP_TO} users`);
  const pagination = page.getByRole("navigation", { name: "Pagination" });
  const perPage = await find.bodyRows(page).count();
  await expect(pagination.getByText(`Page 1 of ${COUNT_UP_TO / perPage}+`)).toBeVisible();
  await expect(pagination.getByRole("link", { name: "Next" })).not.toHaveAttribute("aria-disabled", "true");

  // Counted on request: the header and the pager know the end.
  await page.getByRole("button", { name: "Count them all" }).click();
  await expect(find.total(page)).toHaveText(`${all.toLocaleString("en-US")} users`);
  await expect(page.getByRole("button", { name: "Count them all" })).toHaveCount(0);
  await expect(pagination.getByText(`Page 1 of ${Math.ceil(all / perPage)}`, { exact: true })).toBeVisible();

  // A fresh page counts only to the limit again; selecting every match counts them
  // before anything can be applied to them.
  await act.reload(page);
  await check.settled(page);
  await expect(find.total(page)).toHaveText(`More than ${COUNT_UP_TO} users`);
  await page.getByRole("checkbox", { name: "Select all on this page" }).check();
  const bar = page.getByRole("region", { name: "Selection" });
  await bar.getByRole("button", { name: `Select all matching (more than ${COUNT_UP_TO})` }).click();
  await expect(bar.getByText(`${all.toLocaleString("en-US")} selected`)).toBeVisible();
  await expect(bar.getByText("All users matching the filters")).toBeVisible();
  await expect(find.total(page)).toHaveText(`${all.toLocaleString("en-US")} users`);
  await bar.getByLabel("Bulk action").selectOption({ label: "Set status: Banned" });
  await bar.getByRole("button", { name: "Apply" }).click();
  // The confirmation names the exact number; nothing is changed here.
  const confirm = page.getByRole("alertdialog", { name: `Ban ${all.toLocaleString("en-US")} users?` });
  await expect(confirm).toBeVisible();
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(confirm).toHaveCount(0);
  await bar.getByRole("button", { name: "Clear selection" }).click();
  await expect(bar).toHaveCount(0);
});
