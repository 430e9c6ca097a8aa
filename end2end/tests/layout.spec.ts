// The users table at the widths admins use: it fits, keeps the checkbox, the name and
// the row menu in place while the other columns scroll, keeps its scrollbar in sight,
// and its popovers are never cut off by it.
import { expect, test, type Locator, type Page } from "@playwright/test";
import { act, check, find } from "./fixtures/users-page";
import { arrange, lifecycle, newUser } from "./fixtures/lifecycle";

/** The element at the middle of `locator` is it (or inside it): nothing covers or clips it. */
async function expectUncovered(locator: Locator) {
  const hit = await locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return !!at && (el === at || el.contains(at));
  });
  expect(hit, "nothing covers or clips it").toBeTruthy();
}

/** The table's scroll box (the table's parent). */
const scrollBox = (page: Page) => find.table(page).locator("xpath=..");

for (const size of [{ width: 1024, height: 768 }, { width: 1400, height: 900 }]) {
  test(`at ${size.width}×${size.height} the table fits the window with its name and row menu in place`, async ({ page }) => {
    await page.setViewportSize(size);
    await act.signIn(page);
    const long = newUser("Maximiliana");
    long.last = `Vandenberghe-Oppenheimer${long.last}`;
    long.email = `maximiliana.vandenberghe-oppenheimer.${long.email}`;
    await arrange.users(page, [long]);
    await act.open(page, "/users?per_page=50");
    await check.settled(page);

    // The scroll box ends inside the window: its scrollbar is there without scrolling the page.
    const box = (await scrollBox(page).boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(size.height);
    await expect(page.getByRole("navigation", { name: "Pagination" })).toBeInViewport();

    const row = find.row(page, `${long.first} ${long.last}`);
    const menu = row.getByRole("button", { name: /^Actions for / });
    await expect(menu).toBeInViewport({ ratio: 1 });
    // A value cut to fit keeps its whole text as the cell's title.
    const email = await find.cell(page, row, "Email");
    await expect(email).toHaveAttribute("title", long.email);
    const name = await find.cell(page, row, "Name");
    await expect(name).toHaveAttribute("title", `${long.first} ${long.last}`);

    const overflow = await scrollBox(page).evaluate((e) => e.scrollWidth - e.clientWidth);
    if (size.width >= 1400) {
      // Every default column fits at 1400 px.
      expect(overflow).toBeLessThanOrEqual(0);
    } else {
      expect(overflow).toBeGreaterThan(0);
    }
    // Scrolled sideways to the end: the last column shows; the name stays next to the
    // checkbox (the columns before it pass under it) and the menu stays at the right.
    await scrollBox(page).evaluate((e) => { e.scrollLeft = e.scrollWidth; });
    await expect(find.header(page, "Last access")).toBeInViewport({ ratio: 1 });
    if (overflow > 0) {
      const checkbox = (await row.getByRole("cell").first().boundingBox())!;
      expect((await name.boundingBox())!.x).toBeCloseTo(checkbox.x + checkbox.width, 0);
    }
    await expectUncovered(row.getByRole("checkbox"));
    await expectUncovered(name);
    await expect(menu).toBeInViewport({ ratio: 1 });
    await expectUncovered(menu);
    await menu.click();
    await expect(page.getByRole("menu", { name: `Actions for ${long.first} ${long.last}` })).toBeVisible();
  });
}

test("the tag editor of the only row is not cut off by the table", async ({ page }) => {
  await page.setViewportSize({ width: 1024, height: 768 });
  await act.signIn(page);
  const user = newUser("Popover");
  await arrange.users(page, [user]);
  await lifecycle.showOnly(page, user);
  const name = `${user.first} ${user.last}`;
  await find.row(page, name).getByRole("button", { name: `Tags of ${name}: 0` }).click();
  const editor = page.getByRole("group", { name: `Tags of ${name}` });
  await expect(editor.getByText("No tags.")).toBeVisible();
  await expectUncovered(editor.getByText("No tags."));
  await expectUncovered(editor.getByRole("combobox"));
  // Below the table's box, yet whole and usable.
  const table = (await scrollBox(page).boundingBox())!;
  const popover = (await editor.boundingBox())!;
  expect(popover.y + popover.height).toBeGreaterThan(table.y + table.height);
  await editor.getByRole("combobox").fill("layout-check");
  await editor.getByRole("combobox").press("Enter");
  await expect(find.row(page, name).getByRole("button", { name: `Tags of ${name}: 1` })).toBeVisible();
});
