// Trust boundaries seen from the browser: what a support agent's Outbox shows of mail
// to admins, and an admin's temporary password, which must be changed before anything.
import { expect, test, type Browser, type Page } from "@playwright/test";
import { act, check, find } from "./fixtures/users-page";
import { arrange, newUser, type NewUser } from "./fixtures/lifecycle";

const PASSWORD = "user-password-123";

/** Signs `who` in on a page of its own and waits for `next` to be ready. */
async function signInElsewhere(browser: Browser, who: NewUser, password: string, next: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await act.open(page, `/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  return page;
}

test("a support agent's Outbox shows that an admin was sent a link, never the link", async ({ page, browser }) => {
  await act.signIn(page);
  const admin = newUser("Invadmin");
  const member = newUser("Invmember");
  const support = newUser("Support");
  await arrange.users(page, [admin], { role: "admin" });
  await arrange.users(page, [member]);
  await arrange.users(page, [support], { role: "support", password: PASSWORD });

  const s = await signInElsewhere(browser, support, PASSWORD, "/outbox");
  await expect(s.getByRole("heading", { name: "Outbox", level: 1 })).toBeVisible();
  await check.hydrated(s);
  const toAdmin = s.getByRole("article", { name: `Your invitation to ${admin.email}` }).first();
  await expect(toAdmin).toBeVisible();
  await expect(toAdmin).toContainText("A link was sent. It is shown only to admins who may act on this user.");
  await expect(toAdmin).not.toContainText("set-password?token=");
  // Mail to an account support may act on keeps its link.
  const toMember = s.getByRole("article", { name: `Your invitation to ${member.email}` }).first();
  await expect(toMember).toContainText("/account/set-password?token=");
  await s.context().close();
});

test("an admin signed in with a temporary password must choose their own first", async ({ page, browser }) => {
  await act.signIn(page);
  const admin = newUser("Tempadmin");
  const [created] = await arrange.created(page, [admin], { role: "admin", password: "generate" });
  const temporary = created.temporary_password!;
  expect(temporary).toBeTruthy();

  const a = await signInElsewhere(browser, admin, temporary, "/audit");
  await expect(a).toHaveURL(/\/password\?next=%2Faudit$/);
  await expect(a.getByRole("heading", { name: "Choose your own password", level: 1 })).toBeVisible();
  await check.hydrated(a);
  // Nothing else opens meanwhile: the users page sends them back here.
  await act.open(a, "/users");
  await expect(a).toHaveURL(/\/password\?next=%2Fusers$/);
  await expect(a.getByRole("heading", { name: "Choose your own password", level: 1 })).toBeVisible();

  await a.getByLabel("Temporary password").fill(temporary);
  await a.getByLabel("New password", { exact: true }).fill("my-own-password-1");
  await a.getByLabel("New password again").fill("not-the-same-one");
  await a.getByRole("button", { name: "Save and continue" }).click();
  await expect(a.getByRole("alert").filter({ hasText: "The two new passwords are not the same." })).toBeVisible();

  await a.getByLabel("New password again").fill("my-own-password-1");
  await a.getByRole("button", { name: "Save and continue" }).click();
  await expect(find.table(a)).toBeVisible();
  await expect(a).toHaveURL(/\/users$/);
  await a.context().close();

  // The new password is the one that works now.
  const again = await signInElsewhere(browser, admin, "my-own-password-1", "/users");
  await expect(find.table(again)).toBeVisible();
  await again.context().close();
});
