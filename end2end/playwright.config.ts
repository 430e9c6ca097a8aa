import { defineConfig } from "@playwright/test";

// The Makefile builds the app, seeds target/e2e.db and creates the e2e admin first.
// E2E_PORT and E2E_DATABASE_URL let a second run use a server and database of its own.
const port = Number(process.env.E2E_PORT ?? 3210);
const database = process.env.E2E_DATABASE_URL ?? "sqlite://target/e2e.db?mode=rwc";

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
  webServer: {
    command: `./target/debug/server serve --addr 127.0.0.1:${port} --demo-users 0`,
    cwd: "..",
    env: { DATABASE_URL: database, RUST_LOG: "warn" },
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
