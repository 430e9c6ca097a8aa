// An automated accessibility check (axe-core, WCAG 2 A and AA rules) on every page
// and the users page's dialogs: no serious or critical finding.
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { act, check, find } from "./fixtures/users-page";
import { arrange, lifecycle, newUser } from "./fixtures/lifecycle";

async function expectAccessible(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const serious = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("\n  ")}`);
  expect(results.passes.length, `${what}: the rules ran`).toBeGreaterThan(10);
  expect(serious, `${what}:\n${serious.join("\n")}`).toEqual([]);
}

test("the sign-in page", async ({ page }) => {
  await act.open(page, "/login");
  await expectAccessible(page, "sign-in");
});

test("the users page, its drawer and its dialogs", async ({ page }) => {
  await act.signIn(page);
  await expectAccessible(page, "users");
  await page.getByLabel("Select all on this page").check();
  await expectAccessible(page, "users with a selection");
  await page.getByLabel("Select all on this page").uncheck();
  await page.getByRole("button", { name: "New user" }).click();
  await expect(page.getByRole("dialog")).toBeVisible();
  await expectAccessible(page, "new user");
  await page.keyboard.press("Escape");
  const user = newUser("Axe");
  await arrange.users(page, [user]);
  await lifecycle.openDrawer(page, user);
  await expectAccessible(page, "drawer");
});

test("the users page at 1024 px, its table scrolling sideways", async ({ page }) => {
  await page.setViewportSize({ width: 1024, height: 768 });
  await act.signIn(page);
  await check.settled(page);
  await expect(find.table(page)).toBeVisible();
  await expectAccessible(page, "users at 1024 px");
});

for (const path of ["/groups", "/imports", "/fields", "/audit", "/reminders", "/outbox", "/roles", "/settings", "/account"]) {
  test(`the page ${path}`, async ({ page }) => {
    await act.signIn(page);
    await act.open(page, path);
    await expect(page.getByRole("main")).toBeVisible();
    await expectAccessible(page, path);
  });
}
