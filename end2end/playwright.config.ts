import { defineConfig, devices } from "@playwright/test";
import * as path from "node:path";

// The server under test: the release binary built by `cargo leptos build`,
// on its own port with a fresh SQLite database per run.
const root = path.resolve(__dirname, "..");
const port = Number(process.env.HERALD_E2E_PORT ?? 3210);
const herald =
  process.env.HERALD_BIN ??
  path.join(process.env.CARGO_TARGET_DIR ?? path.join(process.env.HOME ?? "", ".cache/herald-target"), "release/herald");
const dataDir = path.join(root, "target", "e2e");

export const baseURL = `http://127.0.0.1:${port}`;

/** The platform token the web server is started with (ingest and /api/v1/admin). */
export const PLATFORM_TOKEN = "hpt_e2e_0123456789abcdef0123456789abcdef";

/** The operator account the web server is started with (see `webServer`). */
export const ADMIN = { name: "Herald Ops", email: "ops@herald.test", password: "operator password 1" };

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        viewport: { width: 1280, height: 800 },
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--headless",
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
    },
  ],
  webServer: {
    // A fresh database, an operator account for the admin pages, then serve.
    command: [
      `rm -rf "${dataDir}" && mkdir -p "${dataDir}"`,
      `printf '%s\\n' "${ADMIN.password}" | "${herald}" admin create-merchant --name "Herald Ops" --email "${ADMIN.email}" --password-stdin --admin`,
      `exec "${herald}" serve`,
    ].join(" && "),
    cwd: root,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      HERALD_ADDR: `127.0.0.1:${port}`,
      HERALD_DATABASE_URL: `sqlite:${dataDir}/herald.db`,
      HERALD_PLATFORM_TOKEN: PLATFORM_TOKEN,
      RUST_LOG: "warn",
      // The tests' receivers listen on 127.0.0.1 over plain HTTP, and retry
      // quickly so a failing-then-passing delivery fits in a test.
      HERALD_ALLOWED_PRIVATE_CIDRS: "127.0.0.1/32",
      HERALD_ALLOW_HTTP: "true",
      HERALD_RETRY_SCHEDULE: "0s,2s,5s",
      // An endpoint is told failing a second after its first failure, so a
      // test sees it; it is disabled only after an hour, so none is by surprise.
      HERALD_FAILING_ALERT_AFTER: "1s",
      HERALD_AUTO_DISABLE_AFTER: "1h",
      // Every spec signs up its own merchants, all from 127.0.0.1: more than
      // the default 10 sign-ups an hour from one address.
      HERALD_SIGNUPS_PER_HOUR: "0",
    },
  },
});
