import { defineConfig } from "@playwright/test";

// The Makefile builds the app, seeds target/e2e.db and creates the e2e admin first.
// E2E_PORT, E2E_DATABASE_URL and E2E_QUOTA_DATABASE_URL let a second run use servers
// and databases of its own (the quota server listens on E2E_PORT + 1).
const port = Number(process.env.E2E_PORT ?? 3210);
const database = process.env.E2E_DATABASE_URL ?? "sqlite://target/e2e.db?mode=rwc";
const quotaDatabase = process.env.E2E_QUOTA_DATABASE_URL ?? "sqlite://target/e2e-quota.db?mode=rwc";

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: [
    {
      command: `./target/debug/server serve --addr 127.0.0.1:${port} --demo-users 0`,
      cwd: "..",
      // Bulk actions on "all matching" answer at once and run as followed background jobs;
      // a filtered page counts 100 matches exactly (the demo's 300 users go past it).
      env: { DATABASE_URL: database, RUST_LOG: "warn", ROSTER_BULK_WAIT_MS: "0", ROSTER_EXACT_COUNT_UP_TO: "100" },
      url: `http://127.0.0.1:${port}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
    },
    {
      // The seat quota's server (quota.spec.ts): three users at most.
      command: `./target/debug/server serve --addr 127.0.0.1:${port + 1} --demo-users 0 --max-users 3`,
      cwd: "..",
      env: { DATABASE_URL: quotaDatabase, RUST_LOG: "warn" },
      url: `http://127.0.0.1:${port + 1}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
    },
  ],
});
