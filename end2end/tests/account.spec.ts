// The managed users' own sign-in (/account) against what admins do: ban, reset the
// password, log out everywhere, invite. The user works in a second browser context.
import { expect, test, type Browser, type Page } from "@playwright/test";
import { act, check, find } from "./fixtures/users-page";
import { account, userPage } from "./fixtures/account";
import { arrange, lifecycle, newUser } from "./fixtures/lifecycle";

const PASSWORD = "user-password-123";

/** The admin signs in and makes a user with a password, who signs in on /account. */
async function signedInUser(page: Page, browser: Browser, prefix: string) {
  await act.signIn(page);
  const user = newUser(prefix);
  await arrange.users(page, [user], { password: PASSWORD });
  const me = await userPage(browser);
  await account.open(me);
  await account.signIn(me, user.email, PASSWORD);
  await account.signedIn(me, user);
  return { user, me };
}

test("a banned user cannot sign in on /account; activated, they can", async ({ page, browser }) => {
  const { user, me } = await signedInUser(page, browser, "Banned");

  await lifecycle.showOnly(page, user);
  await find.statusMenus(page).first().selectOption("banned");
  await expect(find.notices(page)).toContainText("is now banned");

  // Their open session is refused at once, and so is a new sign-in.
  await account.open(me);
  await expect(me.getByRole("status").filter({ hasText: "Your session has ended. Sign in again." })).toBeVisible();
  await account.signIn(me, user.username, PASSWORD);
  await expect(me.getByRole("alert").filter({ hasText: "This account is banned." })).toBeVisible();

  await find.statusMenus(page).first().selectOption("active");
  await expect(find.notices(page)).toContainText("is now active");
  await account.signIn(me, user.username, PASSWORD);
  await account.signedIn(me, user);
});

test("a temporary password from the drawer ends sessions, stops the old password and must be changed", async ({ page, browser }) => {
  const { user, me } = await signedInUser(page, browser, "Temp");

  const drawer = await lifecycle.openDrawer(page, user);
  await drawer.getByRole("button", { name: "Reset password…" }).click();
  const dialog = page.getByRole("dialog", { name: `Reset the password of ${user.first} ${user.last}` });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("radio", { name: /^Set a temporary password/ }).check();
  await dialog.getByRole("button", { name: "Reset password" }).click();
  const shown = dialog.getByLabel("Temporary password", { exact: true });
  await expect(shown).toBeVisible();
  const temporary = await shown.inputValue();
  expect(temporary.length).toBeGreaterThanOrEqual(12);
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(drawer.getByText("Temporary (must be changed)")).toBeVisible();

  await account.open(me);
  await expect(me.getByText("Your session has ended. Sign in again.")).toBeVisible();
  await account.signIn(me, user.email, PASSWORD);
  await expect(me.getByRole("alert").filter({ hasText: "The login or password is not correct." })).toBeVisible();
  await account.signIn(me, user.email, temporary);
  await expect(me.getByRole("heading", { name: "Choose a new password" })).toBeVisible();
  // A too-short password is refused beside its field.
  await account.choosePassword(me, "short", "Change password");
  await expect(me.getByRole("alert").filter({ hasText: "Use at least 12 characters." })).toBeVisible();
  await account.choosePassword(me, "my own password 42", "Change password");
  await account.signedIn(me, user);
  await expect(me.getByText("Your password was changed.")).toBeVisible();

  await account.open(me);
  await account.signedIn(me, user);
});

test("log out everywhere from the row menu refuses the user's session", async ({ page, browser }) => {
  const { user, me } = await signedInUser(page, browser, "Logout");

  await lifecycle.showOnly(page, user);
  await page.getByRole("button", { name: `Actions for ${user.first} ${user.last}` }).click();
  await page.getByRole("menuitem", { name: "Log out everywhere" }).click();
  await expect(find.notices(page)).toContainText(`${user.first} ${user.last} was logged out of 1 session.`);

  await account.open(me);
  await expect(me.getByText("Your session has ended. Sign in again.")).toBeVisible();
  // The password still works: only the sessions ended.
  await account.signIn(me, user.email, PASSWORD);
  await account.signedIn(me, user);
});

test("an invitation link from the Outbox sets the password; a resent invitation replaces the first link", async ({ page, browser }) => {
  await act.signIn(page);
  const user = newUser("Invited");
  await arrange.users(page, [user]);

  const linkIn = async () => {
    await act.open(page, "/outbox");
    const email = page.getByRole("article", { name: `Your invitation to ${user.email}` }).first();
    await expect(email).toBeVisible();
    const body = await email.innerText();
    const url = body.match(/https?:\/\/\S+\/account\/set-password\?token=\S+/)?.[0];
    expect(url, body).toBeTruthy();
    return new URL(url!).pathname + new URL(url!).search;
  };
  const first = await linkIn();

  const drawer = await lifecycle.openDrawer(page, user);
  await drawer.getByRole("button", { name: "Send invitation" }).click();
  await expect(find.notices(page)).toContainText(`An invitation was emailed to ${user.first} ${user.last}`);
  const second = await linkIn();
  expect(second).not.toBe(first);

  const me = await userPage(browser);
  await account.open(me, first);
  await expect(me.getByRole("heading", { name: "This link cannot be used" })).toBeVisible();

  await account.open(me, second);
  await expect(me.getByRole("heading", { name: "Welcome: choose your password" })).toBeVisible();
  await expect(me.getByText(user.email)).toBeVisible();
  await account.choosePassword(me, "invited password 1", "Set password");
  await expect(me.getByRole("heading", { name: "Your password is set" })).toBeVisible();
  await me.getByRole("link", { name: "Sign in" }).click();
  await check.hydrated(me);
  await account.signIn(me, user.email, "invited password 1");
  await account.signedIn(me, user);

  // Invited → active.
  await lifecycle.showOnly(page, user);
  await expect(find.statusMenus(page).first()).toHaveValue("active");
});

test("a viewer sees no edit controls, and the server refuses their edits", async ({ page, browser }) => {
  await act.signIn(page);
  const viewer = newUser("Viewer");
  const target = newUser("Viewed");
  await arrange.users(page, [viewer], { role: "viewer", password: PASSWORD });
  const [targetId] = await arrange.users(page, [target], { password: PASSWORD });

  const context = await browser.newContext();
  const v = await context.newPage();
  await act.open(v, "/login?next=%2Fusers");
  await v.getByLabel("Email").fill(viewer.email);
  await v.getByLabel("Password").fill(PASSWORD);
  await v.getByRole("button", { name: "Sign in" }).click();
  await expect(find.table(v)).toBeVisible();
  await check.hydrated(v);
  await expect(v.getByRole("button", { name: "New user" })).toHaveCount(0);
  await expect(v.getByRole("link", { name: "Outbox" })).toHaveCount(0);

  await lifecycle.showOnly(v, target);
  await expect(find.statusMenus(v)).toHaveCount(0);
  await v.getByRole("button", { name: `Actions for ${target.first} ${target.last}` }).click();
  const menu = v.getByRole("menu", { name: `Actions for ${target.first} ${target.last}` });
  await expect(menu.getByRole("menuitem", { name: "Open" })).toBeVisible();
  await expect(menu.getByRole("menuitem")).toHaveCount(1);
  await v.keyboard.press("Escape");

  const drawer = await lifecycle.openDrawer(v, target);
  await expect(drawer.getByRole("group", { name: "User actions" })).toHaveCount(0);
  await expect(drawer.getByLabel("First name")).not.toBeEditable();
  await expect(drawer.getByRole("button", { name: "Save changes" })).toHaveCount(0);

  // The server refuses regardless of the UI.
  for (const [endpoint, data] of [
    ["set_user_status", { id: targetId, status: "Banned" }],
    ["reset_password", { id: targetId, mode: "Temporary" }],
    ["sign_out_everywhere", { id: targetId }],
    ["list_outbox", {}],
  ] as const) {
    const response = await v.request.post(`/api/${endpoint}`, { headers: { "sec-fetch-site": "same-origin" }, data });
    expect(response.status(), endpoint).toBe(403);
  }
  await context.close();
});
