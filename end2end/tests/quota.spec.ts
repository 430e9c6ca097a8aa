import { expect, test, type Page } from "@playwright/test";
import { act } from "./fixtures/users-page";
import { newUser, type NewUser } from "./fixtures/lifecycle";

// A server of its own with a seat quota of 3 users: playwright.config.ts starts it
// beside the main one, on the next port, and the Makefile gives it a database holding
// only the e2e admin.
const quotaPort = Number(process.env.E2E_PORT ?? 3210) + 1;
test.use({ baseURL: `http://127.0.0.1:${quotaPort}` });

async function fillUsers(page: Page, users: NewUser[]) {
  await page.getByRole("button", { name: "New user" }).click();
  const dialog = page.getByRole("dialog", { name: "New users" });
  for (const [i, user] of users.entries()) {
    if (i > 0) await dialog.getByRole("button", { name: "Add another" }).click();
    const group = dialog.getByRole("group", { name: `User ${i + 1}` });
    await group.getByLabel("First name").fill(user.first);
    await group.getByLabel("Last name").fill(user.last);
    await group.getByLabel("Email", { exact: true }).fill(user.email);
    await group.getByLabel("Username").fill(user.username);
  }
  return dialog;
}

test("the seat quota refuses a batch that would pass it and says how many more fit", async ({ page }) => {
  await act.signIn(page);
  const [a, b, c] = [newUser("Seat"), newUser("Seat"), newUser("Seat")];

  // Three more would make four of three seats: nothing is created.
  let dialog = await fillUsers(page, [a, b, c]);
  await dialog.getByRole("button", { name: "Create 3 users" }).click();
  await expect(
    dialog.getByText("The seat quota is 3 users and 1 exist, so 2 more can be created. Remove users or raise --max-users."),
  ).toBeVisible();
  await expect(dialog.getByRole("group", { name: "User 3" })).toBeVisible();

  // Two fit once the third is removed from the batch.
  await dialog.getByRole("button", { name: "Remove user 3" }).click();
  await dialog.getByRole("button", { name: "Create 2 users" }).click();
  const done = page.getByRole("dialog", { name: "2 users created" });
  await expect(done).toBeVisible();
  await done.getByRole("button", { name: "Done" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);

  // The quota is full now: even one more is refused.
  dialog = await fillUsers(page, [c]);
  await dialog.getByRole("button", { name: "Create user" }).click();
  await expect(
    dialog.getByText("The seat quota is 3 users and 3 exist, so 0 more can be created. Remove users or raise --max-users."),
  ).toBeVisible();
  await act.open(page, `/users?q=${encodeURIComponent(c.last)}`);
  await expect(page.getByText("No users match these filters.")).toBeVisible();
});
