// Screenshots of every page as an admin sees it, at the widths admins use (1024×768
// and 1400×900), for a person to look at before a UI change is called done. It adds
// one crowded user (long name, long email, 30 tags) through the API, then visits each
// page and its dialogs. `make screenshots` prepares the database and the server.
//
//   node end2end/screenshots/shoot.mjs BASE_URL EMAIL PASSWORD OUT_DIR
import { mkdirSync } from "node:fs";
import { chromium } from "playwright";

const [base, email, password, out] = process.argv.slice(2);
if (!base || !email || !password || !out) {
  console.error("usage: node end2end/screenshots/shoot.mjs BASE_URL EMAIL PASSWORD OUT_DIR");
  process.exit(2);
}
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
const sizes = [
  { width: 1024, height: 768 },
  { width: 1400, height: 900 },
];
const hydrated = (page) => page.waitForFunction(() => document.documentElement.dataset.hydrated === "true");
const settled = (page) => page.waitForFunction(() => document.querySelector('table[aria-label="Users"]')?.getAttribute("aria-busy") === "false");
const api = async (page, name, data) => {
  const r = await page.request.post(`${base}/api/${name}`, { headers: { "sec-fetch-site": "same-origin" }, data });
  if (!r.ok()) throw new Error(`${name}: ${r.status()} ${await r.text()}`);
  return r.json();
};

const context = await browser.newContext({ viewport: sizes[1] });
const page = await context.newPage();
await page.goto(`${base}/login?next=%2Fusers`);
await hydrated(page);
await page.getByLabel("Email").fill(email);
await page.getByLabel("Password").fill(password);
await page.getByRole("button", { name: "Sign in" }).click();
await page.getByRole("table", { name: "Users" }).waitFor();

// The crowded user, once per database.
const crowdedEmail = "maximiliana.vandenberghe-oppenheimer.longaddress@department.example-enterprise.com";
const found = await api(page, "list_users", { query: "q=vandenberghe" }).catch(() => null);
let crowdedId = found?.rows?.[0]?.id;
if (!crowdedId) {
  const roles = await api(page, "list_roles", {});
  const [created] = await api(page, "create_users", {
    users: [{
      first_name: "Maximiliana Alexandrina", last_name: "Vandenberghe-Oppenheimer", email: crowdedEmail,
      username: "maximiliana_vandenberghe_oppenheimer", phone: "", role_id: roles.find((r) => r.name === "member").id,
      groups: [], language: "en", password_choice: "Invite", password: "",
    }],
  });
  crowdedId = created.id;
  const tags = Array.from({ length: 30 }, (_, i) => `customer-segment-${String(i + 1).padStart(2, "0")}`);
  await api(page, "set_user_tags", { id: crowdedId, names: tags });
}

const shots = [
  ["users", async (p) => { await p.goto(`${base}/users`); await settled(p); }],
  ["users-crowded", async (p) => { await p.goto(`${base}/users?q=vandenberghe`); await settled(p); }],
  ["users-tags-popover", async (p) => {
    await p.goto(`${base}/users?q=vandenberghe`); await settled(p);
    await p.getByRole("button", { name: /^Tags of / }).first().click();
  }],
  ["users-row-menu", async (p) => {
    await p.goto(`${base}/users`); await settled(p);
    await p.getByRole("button", { name: /^Actions for / }).first().click();
  }],
  ["users-scrolled-right", async (p) => {
    await p.goto(`${base}/users`); await settled(p);
    await p.locator(".table-scroll").evaluate((e) => { e.scrollLeft = e.scrollWidth; });
  }],
  // A wide filter: the page counts 1,000 matches, the rest on request.
  ["users-uncounted", async (p) => { await p.goto(`${base}/users?from=2000-01-01`); await settled(p); }],
  ["users-select-all-counted", async (p) => {
    await p.goto(`${base}/users?from=2000-01-01`); await settled(p);
    await p.getByLabel("Select all on this page").check();
    await p.getByRole("button", { name: /^Select all matching/ }).click();
    await p.getByText(/^[\d,]+ selected$/).waitFor();
  }],
  ["users-selected", async (p) => {
    await p.goto(`${base}/users`); await settled(p);
    await p.getByLabel("Select all on this page").check();
  }],
  ["bulk-ban-confirm", async (p) => {
    await p.goto(`${base}/users`); await settled(p);
    await p.getByLabel("Select all on this page").check();
    await p.getByLabel("Bulk action").selectOption({ label: "Set status: Banned" });
    await p.getByRole("button", { name: "Apply" }).click();
    await p.getByRole("alertdialog").waitFor();
  }],
  ["status-undo-notice", async (p) => {
    await p.goto(`${base}/users?status=active`); await settled(p);
    await p.getByRole("combobox", { name: /^Status of / }).nth(1).selectOption("Banned");
    await p.getByRole("button", { name: "Undo" }).waitFor();
  }],
  ["drawer", async (p) => { await p.goto(`${base}/users/${crowdedId}`); await p.getByRole("dialog").waitFor(); await hydrated(p); }],
  ["drawer-timeline", async (p) => {
    await p.goto(`${base}/users/${crowdedId}`); await p.getByRole("dialog").waitFor(); await hydrated(p);
    const activity = p.getByRole("region", { name: "Activity" });
    await activity.getByRole("listitem").first().waitFor();
    await activity.scrollIntoViewIfNeeded();
  }],
  ["new-user", async (p) => {
    await p.goto(`${base}/users`); await settled(p);
    await p.getByRole("button", { name: "New user" }).click();
  }],
  ["audit", async (p) => { await p.goto(`${base}/audit`); await hydrated(p); }],
  ["audit-grouped", async (p) => {
    const page1 = await api(p, "list_users", { query: "status=active&per_page=25" });
    await api(p, "bulk_users", { selection: { Ids: page1.rows.slice(2, 6).map((u) => u.id) }, action: { AddTag: "screenshot" } });
    await p.goto(`${base}/audit?action=user.tag_add`); await hydrated(p);
    await p.getByRole("table", { name: "Audit log" }).waitFor();
  }],
  ["groups", async (p) => { await p.goto(`${base}/groups`); await hydrated(p); }],
  ["roles", async (p) => { await p.goto(`${base}/roles`); await hydrated(p); }],
  ["fields", async (p) => { await p.goto(`${base}/fields`); await hydrated(p); }],
  ["imports", async (p) => { await p.goto(`${base}/imports`); await hydrated(p); }],
  ["import-preview", async (p) => {
    await p.goto(`${base}/imports`); await hydrated(p);
    const rows = ["Email,First Name,Last Name,Tags", "shots.new.1@example.com,Nadia,Okonkwo-Bergström,vip",
      "shots.new.2@example.com,Tomás,Álvarez,", "not-an-email,Bad,Row,", "shots@roster.test,Admin,Renamed,"];
    await p.getByLabel(/Choose a CSV or XLSX file/).setInputFiles({ name: "people.csv", mimeType: "text/csv", buffer: Buffer.from(rows.join("\r\n")) });
    await p.getByRole("button", { name: "Upload and check" }).click();
    await p.waitForURL(/\/imports\/\d+$/); await hydrated(p);
    await p.getByText("Ready to apply", { exact: true }).waitFor();
  }],
  ["reminders", async (p) => { await p.goto(`${base}/reminders`); await hydrated(p); }],
  ["outbox", async (p) => { await p.goto(`${base}/outbox`); await hydrated(p); }],
  ["settings", async (p) => { await p.goto(`${base}/settings`); await hydrated(p); }],
  ["account", async (p) => { await p.goto(`${base}/account`); await hydrated(p); }],
];
const only = process.env.SHOTS ? process.env.SHOTS.split(",") : null;
for (const size of sizes) {
  await page.setViewportSize(size);
  for (const [name, go] of shots) {
    if (only && !only.includes(name)) continue;
    await go(page);
    await page.waitForTimeout(300);
    const file = `${out}/${name}-${size.width}x${size.height}.png`;
    await page.screenshot({ path: file });
    console.log(file);
  }
}
await browser.close();
