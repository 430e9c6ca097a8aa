// One-off: screenshots of the /password page (not committed).
import { chromium } from "playwright-core";
const [base, email, password] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
for (const [w, h] of [[1400, 900], [1024, 768]]) {
  const page = await (await browser.newContext({ viewport: { width: w, height: h } })).newPage();
  await page.goto(`${base}/login?next=%2Fusers`);
  await page.waitForTimeout(1500);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/password/);
  await page.waitForTimeout(1500);
  await page.getByLabel("New password", { exact: true }).fill("short");
  await page.getByLabel("New password again").fill("other");
  await page.getByRole("button", { name: "Save and continue" }).click();
  await page.waitForTimeout(500);
  await page.screenshot({ path: `/tmp/shots/password-${w}.png` });
}
await browser.close();
