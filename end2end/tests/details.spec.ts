// Details of the drawer, Settings, Profile fields, the users' own sign-in and public
// signup and the export, each arranged through the API and checked in the UI.
import { readFile } from "node:fs/promises";
import { expect, test, type Page } from "@playwright/test";
import { act, check, find } from "./fixtures/users-page";
import { account, userPage } from "./fixtures/account";
import { arrange, lifecycle, newUser, unique } from "./fixtures/lifecycle";

const PASSWORD = "user-password-123";
const SAME_ORIGIN = { "sec-fetch-site": "same-origin" };

type Field = { id: number; key: string; label: string };

/** Calls a server function as the signed-in admin. */
async function call(page: Page, endpoint: string, data: unknown) {
  return page.request.post(`/api/${endpoint}`, { headers: SAME_ORIGIN, data });
}

const fields = {
  /** Defines a field through the API. */
  async arrange(page: Page, form: { key: string; label: string; kind: string; choices?: string }): Promise<Field> {
    const created = await call(page, "create_field", { form: { choices: "", required: false, searchable: false, ...form } });
    expect(created.status(), await created.text()).toBe(200);
    return created.json();
  },
  /** Archives fields so other tests' pages are not crowded (their data is kept). */
  async archive(page: Page, ids: number[]) {
    for (const id of ids) await call(page, "archive_field", { id, archived: true });
  },
  /** Defines a field on the Profile fields page, which must be open. */
  async define(page: Page, form: { key: string; label: string; type: string; choices?: string }) {
    const editor = page.getByRole("region", { name: "New field" });
    await editor.getByLabel("Label").fill(form.label);
    await editor.getByLabel("Key").fill(form.key);
    await editor.getByLabel("Type").selectOption({ label: form.type });
    if (form.choices) await editor.getByLabel("Choices (one per line)").fill(form.choices);
    await editor.getByRole("button", { name: "Add field" }).click();
    await expect(page.getByRole("status").filter({ hasText: `Field ${form.label} added.` })).toBeVisible();
    await expect(page.getByRole("table", { name: "Profile fields" }).getByRole("row", { name: new RegExp(`^${form.label} ${form.key} ${form.type}`) })).toBeVisible();
  },
};

/** The path and query of the newest emailed link to `email` with `subject`, from the Outbox. */
async function linkFromOutbox(page: Page, subject: string, email: string): Promise<string> {
  await act.open(page, "/outbox");
  const message = page.getByRole("article", { name: `${subject} to ${email}` }).first();
  await expect(message).toBeVisible();
  // The link in the email is a link on the page too.
  const link = message.getByRole("link", { name: /\/account\/set-password\?token=/ });
  await expect(link).toHaveCount(1);
  const url = await link.getAttribute("href");
  expect(url).toBe(await link.innerText());
  return new URL(url!).pathname + new URL(url!).search;
}

async function download(page: Page, click: () => Promise<void>) {
  const [file] = await Promise.all([page.waitForEvent("download"), click()]);
  return { name: file.suggestedFilename(), bytes: await readFile(await file.path()) };
}

test("removes a device the user signed in with; it stays gone after a reload", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Dev");
  await arrange.users(page, [user], { password: PASSWORD });
  // The users' sign-in API records the user agent as a device.
  const phone = `E2E Phone ${unique("")} (iPhone; CPU iPhone OS 17_0 like Mac OS X)`;
  const tablet = `E2E Tablet ${unique("")} (Linux; Android 14)`;
  for (const agent of [phone, tablet]) {
    const signedIn = await page.request.post("/api/v1/auth/sign-in", { headers: { "user-agent": agent }, data: { login: user.email, password: PASSWORD } });
    expect(signedIn.status(), await signedIn.text()).toBe(200);
  }

  const dialog = await lifecycle.openDrawer(page, user);
  const devices = dialog.getByRole("table", { name: "Devices" });
  await expect(devices.getByRole("row", { name: new RegExp(`^${escape(phone)} iOS`) })).toBeVisible();
  await expect(devices.getByRole("row", { name: new RegExp(`^${escape(tablet)} Android`) })).toBeVisible();

  await dialog.getByRole("button", { name: `Remove device ${phone}` }).click();
  await expect(find.notices(page)).toContainText("Device removed.");
  await expect(devices.getByRole("row", { name: new RegExp(`^${escape(phone)}`) })).toHaveCount(0);

  await act.reload(page);
  await check.drawerReady(page);
  const again = page.getByRole("dialog", { name: `${user.first} ${user.last}` });
  await expect(again.getByRole("table", { name: "Devices" }).getByRole("row", { name: new RegExp(`^${escape(tablet)}`) })).toBeVisible();
  await expect(again.getByRole("table", { name: "Devices" }).getByRole("row", { name: new RegExp(`^${escape(phone)}`) })).toHaveCount(0);
});

test("a revoked API key is refused by the events API and shown as revoked", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Key");
  await arrange.users(page, [user]);
  const name = unique("E2E revoked ");

  await act.open(page, "/settings");
  await page.getByLabel("Key name").fill(name);
  await page.getByRole("button", { name: "Create key" }).click();
  const keyBox = page.getByRole("textbox", { name: "New API key" });
  await expect(keyBox).toHaveValue(/^rk_/);
  const key = await keyBox.inputValue();
  // Shown once, with a Copy button that puts exactly the key on the clipboard.
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.getByRole("button", { name: "Copy the new API key" }).click();
  await expect(page.getByRole("status").getByText("Copied.", { exact: true })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
  const row = page.getByRole("table", { name: "API keys" }).getByRole("row", { name: new RegExp(`^${name} `) });
  await expect(row).toBeVisible();

  const report = (bearer: string) => page.request.post("/api/v1/events", {
    headers: { authorization: `Bearer ${bearer}` },
    data: { events: [{ user: user.email, kind: "feature", name: "e2e-revoke" }] },
  });
  const before = await report(key);
  expect(before.status(), await before.text()).toBe(200);
  expect(await before.json()).toEqual({ accepted: 1, rejected: [] });

  await row.getByRole("button", { name: `Revoke ${name}` }).click();
  await expect(row).toContainText(/Revoked \S/);
  await expect(row.getByRole("button", { name: `Revoke ${name}` })).toHaveCount(0);

  const after = await report(key);
  expect(after.status()).toBe(401);
  expect((await after.json()).error).toBe("invalid_api_key");

  await act.reload(page);
  await expect(page.getByRole("table", { name: "API keys" }).getByRole("row", { name: new RegExp(`^${name} `) })).toContainText(/Revoked \S/);
});

test("number, date, yes/no and many-choice fields defined on the page keep their values in the drawer", async ({ page }) => {
  await act.signIn(page);
  const stem = unique("d").toLowerCase();
  const defs = {
    number: { key: `${stem}_seats`, label: `Seats ${stem}`, type: "Number" },
    date: { key: `${stem}_renews`, label: `Renews ${stem}`, type: "Date" },
    bool: { key: `${stem}_vip`, label: `VIP ${stem}`, type: "Yes / no" },
    many: { key: `${stem}_langs`, label: `Speaks ${stem}`, type: "Many of a list", choices: "Dutch\nFrench\nGerman" },
  };
  await act.open(page, "/fields");
  try {
    for (const def of Object.values(defs)) await fields.define(page, def);
    await expect(page.getByRole("table", { name: "Profile fields" }).getByRole("row", { name: new RegExp(`^${defs.many.label} .*Dutch, French, German`) })).toBeVisible();

    const user = newUser("Typed");
    await arrange.users(page, [user]);
    const dialog = await lifecycle.openDrawer(page, user);
    const seats = dialog.getByLabel(defs.number.label, { exact: true });
    await seats.fill("12a");
    await dialog.getByLabel(defs.date.label, { exact: true }).fill("2027-02-28");
    await dialog.getByLabel(defs.bool.label, { exact: true }).selectOption({ label: "Yes" });
    const langs = dialog.getByRole("group", { name: defs.many.label });
    await langs.getByRole("checkbox", { name: "Dutch" }).check();
    await langs.getByRole("checkbox", { name: "German" }).check();

    // A bad number is refused, with the message beside that field (its description).
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(seats).toHaveAttribute("aria-invalid", "true");
    await expect(seats).toHaveAccessibleDescription('"12a" is not a number.');
    await expect(dialog.getByLabel(defs.date.label, { exact: true })).toHaveAttribute("aria-invalid", "false");

    await seats.fill("1,250");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(find.notices(page)).toContainText("Changes saved.");

    await act.reload(page);
    await check.drawerReady(page);
    const again = page.getByRole("dialog", { name: `${user.first} ${user.last}` });
    await expect(again.getByLabel(defs.number.label, { exact: true })).toHaveValue("1250");
    await expect(again.getByLabel(defs.date.label, { exact: true })).toHaveValue("2027-02-28");
    await expect(again.getByLabel(defs.bool.label, { exact: true })).toHaveValue("yes");
    const langsAgain = again.getByRole("group", { name: defs.many.label });
    await expect(langsAgain.getByRole("checkbox", { name: "Dutch" })).toBeChecked();
    await expect(langsAgain.getByRole("checkbox", { name: "French" })).not.toBeChecked();
    await expect(langsAgain.getByRole("checkbox", { name: "German" })).toBeChecked();

    // A date input cannot hold a bad date, so the server's own check is asked directly:
    // the message is filed under that field.
    const id = Number(new URL(page.url()).pathname.split("/").pop());
    const current = await (await call(page, "get_user", { id })).json();
    const refused = await call(page, "update_user", { id, form: editForm(current, { [defs.date.key]: "2027-02-31" }) });
    expect(refused.status()).toBe(422);
    expect(JSON.stringify(await refused.json())).toContain(`"field.${defs.date.key}":["\\"2027-02-31\\" is not a date like 2026-11-22."]`);
  } finally {
    const list: Field[] = await (await call(page, "list_fields", { archived: false })).json();
    await fields.archive(page, list.filter((f) => f.key.startsWith(`${stem}_`)).map((f) => f.id));
  }
});

test("an impossible date typed in the drawer is refused beside its field, keeping the stored date", async ({ page }) => {
  await act.signIn(page);
  const key = unique("due").toLowerCase();
  const label = `Due ${key}`;
  const field = await fields.arrange(page, { key, label, kind: "date" });
  try {
    const user = newUser("Baddate");
    await arrange.users(page, [user]);
    const dialog = await lifecycle.openDrawer(page, user);
    const due = dialog.getByLabel(label, { exact: true });
    await due.fill("2027-03-10");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(find.notices(page)).toContainText("Changes saved.");

    // Typed segment by segment, as a person does: 02/31/2027 is no date.
    await due.focus();
    await page.keyboard.type("02312027");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(due).toHaveAttribute("aria-invalid", "true");
    await expect(due).toHaveAccessibleDescription(/unfinished or does not exist/);

    await act.reload(page);
    await check.drawerReady(page);
    await expect(page.getByRole("dialog").getByLabel(label, { exact: true })).toHaveValue("2027-03-10");
  } finally {
    await fields.archive(page, [field.id]);
  }
});

test("changing the type of a field that has values is refused, naming how many and which", async ({ page }) => {
  await act.signIn(page);
  const key = unique("ref").toLowerCase();
  const label = `Reference ${key}`;
  const field = await fields.arrange(page, { key, label, kind: "text" });
  try {
    const user = newUser("Retype");
    await arrange.users(page, [user]);
    const dialog = await lifecycle.openDrawer(page, user);
    await dialog.getByLabel(label, { exact: true }).fill("AB-12");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(find.notices(page)).toContainText("Changes saved.");

    await act.open(page, "/fields");
    const table = page.getByRole("table", { name: "Profile fields" });
    await table.getByRole("row", { name: new RegExp(`^${label} `) }).getByRole("button", { name: `Edit ${label}` }).click();
    const editor = page.getByRole("region", { name: `Edit ${label}` });
    await editor.getByLabel("Type").selectOption({ label: "Number" });
    await editor.getByRole("button", { name: "Save field" }).click();
    await expect(editor.getByRole("alert").filter({ hasText: "1 user has a value that does not convert to number" }))
      .toHaveText('1 user has a value that does not convert to number (for example "AB-12"). Change or clear those values first.');

    // Nothing changed: still text, and the value is kept.
    await act.reload(page);
    await expect(table.getByRole("row", { name: new RegExp(`^${label} ${key} Text`) })).toBeVisible();
    const again = await lifecycle.openDrawer(page, user);
    await expect(again.getByLabel(label, { exact: true })).toHaveValue("AB-12");
  } finally {
    await fields.archive(page, [field.id]);
  }
});

test("a reset link from the Outbox sets a new password the user then signs in with", async ({ page, browser }) => {
  await act.signIn(page);
  const user = newUser("Reset");
  await arrange.users(page, [user], { password: PASSWORD });
  const name = `${user.first} ${user.last}`;

  const drawer = await lifecycle.openDrawer(page, user);
  await drawer.getByRole("button", { name: "Reset password…" }).click();
  const dialog = page.getByRole("dialog", { name: `Reset the password of ${name}` });
  await expect(dialog.getByRole("radio", { name: /^Email a reset link/ })).toBeChecked();
  await dialog.getByRole("button", { name: "Reset password" }).click();
  await expect(dialog.getByRole("status")).toHaveText(`A reset link was emailed to ${name}. It works once, for 1 hour. Their old password no longer works and every session has ended.`);
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(dialog).toHaveCount(0);

  const link = await linkFromOutbox(page, "Reset your password", user.email);
  const me = await userPage(browser);
  await account.open(me, link);
  await expect(me.getByRole("heading", { name: "Choose a new password" })).toBeVisible();
  await expect(me.getByText(user.email)).toBeVisible();
  await me.getByLabel("New password", { exact: true }).fill("reset password 42");
  await me.getByLabel("New password again").fill("reset password 42");
  await me.getByRole("button", { name: "Set password" }).click();
  await expect(me.getByRole("heading", { name: "Your password is set" })).toBeVisible();

  await me.getByRole("link", { name: "Sign in" }).click();
  await check.hydrated(me);
  await account.signIn(me, user.email, PASSWORD);
  await expect(me.getByRole("alert").filter({ hasText: "The login or password is not correct." })).toBeVisible();
  await account.signIn(me, user.email, "reset password 42");
  await account.signedIn(me, user);

  // The link works once.
  await account.open(me, link);
  await expect(me.getByRole("heading", { name: "This link cannot be used" })).toBeVisible();
  await me.context().close();
});

test("the Excel-friendly option adds a BOM to the CSV export; without it there is none", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Bom");
  await arrange.users(page, [user]);
  await lifecycle.showOnly(page, user);

  await page.getByRole("button", { name: "Export" }).click();
  const excel = page.getByRole("menu", { name: "Export" }).getByRole("checkbox", { name: "Excel-friendly CSV (with BOM)" });
  await expect(excel).toBeChecked();
  const withBom = await download(page, () => page.getByRole("menuitem", { name: "Current view as CSV" }).click());
  expect([...withBom.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  expect(withBom.bytes.toString("utf8")).toContain(user.email);

  await page.getByRole("button", { name: "Export" }).click();
  await excel.uncheck();
  const plain = await download(page, () => page.getByRole("menuitem", { name: "Current view as CSV" }).click());
  expect([...plain.bytes.subarray(0, 3)]).not.toEqual([0xef, 0xbb, 0xbf]);
  // The same file otherwise: without the BOM, byte for byte.
  expect(plain.bytes.equals(withBom.bytes.subarray(3))).toBeTruthy();
});

test("a public signup becomes an invited user the admin finds, with its signup source", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Signup");

  // A bad email is refused with the field named; no user is made.
  const bad = await page.request.post("/api/v1/signup", { data: { email: `not-an-email-${user.username}`, last_name: user.last } });
  expect(bad.status()).toBe(422);
  const refused = await bad.json();
  expect(refused.error).toBe("validation");
  expect(Object.keys(refused.fields)).toEqual(["email"]);

  const signedUp = await page.request.post("/api/v1/signup", {
    data: { email: user.email, first_name: user.first, last_name: user.last, username: user.username, email_opt_in: true },
  });
  expect(signedUp.status(), await signedUp.text()).toBe(202);
  expect((await signedUp.json()).status).toBe("received");

  await lifecycle.showOnly(page, user);
  await expect(find.row(page, `${user.first} ${user.last}`)).toContainText(user.email);
  await expect(page.getByRole("combobox", { name: `Status of ${user.first} ${user.last}` })).toHaveValue("invited");
  const drawer = await lifecycle.openDrawer(page, user);
  await expect(drawer.getByText("self signup", { exact: true })).toBeVisible();
  await expect(drawer.getByLabel("Username")).toHaveValue(user.username);
  await expect(drawer.getByLabel("Receives email communication")).toBeChecked();
  await expect(drawer.getByText(/^Last changed: .* by the user, at signup$/)).toBeVisible();
  // The signup is the user's first and only timeline entry.
  const entries = drawer.getByRole("region", { name: "Activity" }).getByRole("listitem");
  await expect(entries).toHaveCount(1);
  await expect(entries).toContainText("signup");
  await expect(entries).toContainText('{"email_opt_in":true}');
});

test("adds a comment in the drawer, then deletes it", async ({ page }) => {
  await act.signIn(page);
  const user = newUser("Cmt");
  await arrange.users(page, [user]);
  const text = `Asked for a refund ${unique("")}`;

  const dialog = await lifecycle.openDrawer(page, user);
  const comments = dialog.getByRole("region", { name: "Comments" });
  await expect(comments.getByText("No comments yet.")).toBeVisible();
  await comments.getByLabel("New comment").fill(text);
  await comments.getByRole("button", { name: "Add comment" }).click();
  const comment = comments.getByRole("list", { name: "Comments" }).getByRole("listitem").filter({ hasText: text });
  await expect(comment).toBeVisible();
  // Signed with the admin's name as the top bar shows it ("Name · role"), and the time.
  const me = (await page.getByRole("banner").getByText(/ · /).innerText()).split(" · ")[0].trim();
  await expect(comment).toContainText(new RegExp(`^${escape(me)} · \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC`));
  await expect(comments.getByLabel("New comment")).toHaveValue("");

  await act.reload(page);
  await check.drawerReady(page);
  const again = page.getByRole("dialog", { name: `${user.first} ${user.last}` }).getByRole("region", { name: "Comments" });
  const kept = again.getByRole("listitem").filter({ hasText: text });
  await expect(kept).toBeVisible();
  await kept.getByRole("button", { name: "Delete comment" }).click();
  await expect(kept).toHaveCount(0);
  await expect(again.getByText("No comments yet.")).toBeVisible();

  await act.reload(page);
  await check.drawerReady(page);
  await expect(page.getByRole("dialog").getByRole("region", { name: "Comments" }).getByText("No comments yet.")).toBeVisible();
});

/** The drawer's edit form for a user as get_user returned it, with `attributes` typed in. */
function editForm(u: Record<string, any>, attributes: Record<string, string>) {
  return {
    version: u.version, first_name: u.first_name, last_name: u.last_name, username: u.username ?? "", phone: u.phone ?? "",
    job_title: u.job_title, company: u.company, address: u.address, language: u.language, role_id: u.role.id,
    balance: (u.balance / 100).toFixed(2), email_opt_in: u.email_opt_in, note: u.note, attributes,
  };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
