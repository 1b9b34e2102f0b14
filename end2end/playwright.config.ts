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
    command: `rm -rf "${dataDir}" && mkdir -p "${dataDir}" && exec "${herald}" serve`,
    cwd: root,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      HERALD_ADDR: `127.0.0.1:${port}`,
      HERALD_DATABASE_URL: `sqlite:${dataDir}/herald.db`,
      HERALD_PLATFORM_TOKEN: "hpt_e2e_0123456789abcdef0123456789abcdef",
      RUST_LOG: "warn",
    },
  },
});
