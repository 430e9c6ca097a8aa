import { expect, test } from "@playwright/test";
import { act, check, find } from "./fixtures/users-page";

test("typing filters the rows without Enter, and the URL keeps the search", async ({ page }) => {
  await act.signIn(page);
  // Search for the last name of a user on the first page.
  const name = await (await find.cell(page, find.bodyRows(page).nth(3), "Name")).innerText();
  const lastName = name.split(" ").at(-1)!;
  const before = await check.total(page);

  await act.typeSearch(page, lastName);
  await check.urlHas(page, { q: lastName });
  await check.settled(page);
  const rows = await act.rowTexts(page);
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) expect(row.toLowerCase()).toContain(lastName.toLowerCase());
  const after = await check.total(page);
  expect(after).toBeLessThan(before);

  await act.reload(page);
  await expect(find.search(page)).toHaveValue(lastName);
  await check.settled(page);
  expect(await act.rowTexts(page)).toEqual(rows);
  await check.totalIs(page, after);
});

test("a slow, older response never replaces a newer one", async ({ page }) => {
  await act.signIn(page);
  const lastName = (await (await find.cell(page, find.bodyRows(page).nth(1), "Name")).innerText()).split(" ").at(-1)!;
  const prefix = lastName.slice(0, 2);
  // Hold back the first search response until the admin has typed on.
  let held = 0;
  await page.route("**/api/list_users", async (route) => {
    if (held++ === 0) await new Promise((r) => setTimeout(r, 2_000));
    await route.continue();
  });
  await act.typeSearch(page, prefix);
  await page.waitForTimeout(600); // the debounced request for the prefix is in flight
  await act.typeSearch(page, lastName.slice(2));
  await check.urlHas(page, { q: lastName });
  await check.settled(page);
  const settled = await act.rowTexts(page);
  expect(settled.length).toBeGreaterThan(0);
  for (const row of settled) expect(row.toLowerCase()).toContain(lastName.toLowerCase());
  // Nothing older arrives afterwards.
  await page.waitForTimeout(2_500);
  expect(await act.rowTexts(page)).toEqual(settled);
  await expect(find.search(page)).toHaveValue(lastName);
});

test("no match shows an empty state with a way out", async ({ page }) => {
  await act.signIn(page);
  await act.typeSearch(page, "qqqzzzxxy");
  await expect(page.getByText("No users match these filters.")).toBeVisible();
  await check.totalIs(page, 0);
  await page.getByRole("button", { name: "Clear filters" }).first().click();
  await expect(find.search(page)).toHaveValue("");
  await expect(find.bodyRows(page).first()).toBeVisible();
});
