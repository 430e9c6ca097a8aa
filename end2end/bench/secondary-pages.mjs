// The secondary pages as an admin meets them once the app is live, in Debian's
// Chromium against a running server: the audit log (reached from the users page, and
// loaded afresh), a 3-row CSV import to its preview, and the set-password page of a
// reset link to its form (the link is read from the Outbox in the SQLite file).
// p50 / max of RUNS runs, appended as JSON lines to bench-results/.
//
//   node end2end/bench/secondary-pages.mjs BASE_URL EMAIL PASSWORD SQLITE_FILE [RUNS]
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync } from "node:fs";
import { chromium } from "playwright";

const [base, email, password, db, runsArg] = process.argv.slice(2);
if (!base || !email || !password || !db) {
  console.error("usage: node end2end/bench/secondary-pages.mjs BASE_URL EMAIL PASSWORD SQLITE_FILE [RUNS]");
  process.exit(2);
}
const runs = Number(runsArg ?? 10);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
const hydrated = () => page.waitForFunction(() => document.documentElement.dataset.hydrated === "true");
await page.goto(`${base}/login?next=%2Fusers`);
await hydrated();
await page.getByLabel("Email").fill(email);
await page.getByLabel("Password").fill(password);
await page.getByRole("button", { name: "Sign in" }).click();
await page.getByRole("table", { name: "Users" }).waitFor();
await hydrated();

const api = async (name, data) => {
  const r = await page.request.post(`${base}/api/${name}`, { headers: { "sec-fetch-site": "same-origin" }, data });
  if (!r.ok()) throw new Error(`${name}: ${r.status()} ${await r.text()}`);
  return r.json();
};
const someone = (await api("list_users", { query: "status=active&per_page=25" })).rows.find((u) => u.email !== email);
await api("reset_password", { id: someone.id, mode: "Link" });
const body = execFileSync("sqlite3", [db, "SELECT body FROM outbox ORDER BY id DESC LIMIT 1"]).toString();
const link = body.match(/https?:\/\/\S+\/account\/set-password\?token=\S+/)[0].replace(/^https?:\/\/[^/]+/, base);

const times = { audit_nav: [], audit_load: [], csv_preview: [], set_password: [] };
const timed = async (key, f) => {
  const t = performance.now();
  await f();
  times[key].push(performance.now() - t);
};
for (let i = 0; i < runs; i++) {
  await page.goto(`${base}/users`);
  await hydrated();
  await timed("audit_nav", async () => {
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("table", { name: "Audit log" }).waitFor();
  });
  await timed("audit_load", async () => {
    await page.goto(`${base}/audit`);
    await page.getByRole("table", { name: "Audit log" }).waitFor();
  });
  await page.goto(`${base}/imports`);
  await hydrated();
  const stamp = `${Date.now()}${i}`;
  const rows = ["Email,First Name,Last Name", `bench.a.${stamp}@example.com,A,B`, `bench.b.${stamp}@example.com,C,D`, "not-an-email,E,F"];
  await timed("csv_preview", async () => {
    await page.getByLabel(/Choose a CSV or XLSX file/).setInputFiles({ name: "bench.csv", mimeType: "text/csv", buffer: Buffer.from(rows.join("\r\n")) });
    await page.getByRole("button", { name: "Upload and check" }).click();
    await page.getByText("Ready to apply", { exact: true }).waitFor();
  });
  await timed("set_password", async () => {
    await page.goto(link);
    await page.getByRole("heading", { name: /Choose a new password|Welcome/ }).waitFor();
  });
}
await browser.close();

const at = new Date().toISOString();
mkdirSync("../bench-results", { recursive: true });
const out = `../bench-results/${at.replace(/[:.]/g, "-")}-pages.jsonl`;
for (const [key, list] of Object.entries(times)) {
  const sorted = [...list].sort((a, b) => a - b);
  const p50 = sorted[Math.floor(sorted.length / 2)];
  const max = sorted[sorted.length - 1];
  console.log(`pages.${key}: p50 ${p50.toFixed(0)} ms, max ${max.toFixed(0)} ms (${list.length} runs)`);
  appendFileSync(out, JSON.stringify({ at, name: `pages.${key}.p50_ms`, value: Math.round(p50) }) + "\n");
  appendFileSync(out, JSON.stringify({ at, name: `pages.${key}.max_ms`, value: Math.round(max) }) + "\n");
}
