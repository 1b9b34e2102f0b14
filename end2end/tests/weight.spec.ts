import type { Response } from "@playwright/test";
import { test, expect, hydrated, createMerchant, logIn } from "./fixtures";

// What a first visit moves over the wire: the site's files are named by
// their content, kept by the browser for a year, and sent compressed.

test("the site's files are named by their content, kept a year and sent compressed", async ({ page }) => {
  const files: Response[] = [];
  page.on("response", (response) => {
    if (new URL(response.url()).pathname.startsWith("/pkg/")) files.push(response);
  });
  await page.goto("/login");
  await hydrated(page);

  const names = files.map((response) => new URL(response.url()).pathname).sort();
  expect(names.some((name) => name.endsWith(".wasm")), names.join(", ")).toBe(true);
  expect(names.some((name) => name.endsWith(".css")), names.join(", ")).toBe(true);
  for (const response of files) {
    const name = new URL(response.url()).pathname;
    // The app's files, and with `--split` the loader of the split-off pages
    // (`__wasm_split`) and any of their parts the page preloads.
    expect(name).toMatch(/^\/pkg\/(herald|__wasm_split|split_\w+|chunk_\d+)\.[A-Za-z0-9_-]{22}\.(js|wasm|css)$/);
    const headers = await response.allHeaders();
    expect(headers["cache-control"], name).toBe("public, max-age=31536000, immutable");
    // Chromium asks for brotli over HTTPS only; over this test's plain HTTP, gzip.
    expect(["br", "gzip"], name).toContain(headers["content-encoding"]);
  }

  // The page itself is compressed too, and never cached.
  const page_ = await page.request.get("/login", { headers: { "accept-encoding": "gzip" } });
  expect(page_.headers()["content-encoding"]).toBe("gzip");
  expect(page_.headers()["cache-control"]).toBe("no-store");
});

test("before the app has loaded, a button that needs it says so instead of swallowing the click", async ({ page }) => {
  // The WebAssembly never arrives: the page stays as the server rendered it.
  await page.route(/\.wasm$/, () => {});
  await page.goto("/login", { waitUntil: "domcontentloaded" });
  await expect(page.locator("body")).not.toHaveAttribute("data-hydrated", "true");
  await page.getByTestId("toggle-password").click();
  await expect(page.getByTestId("app-loading")).toBeVisible();
  await expect(page.getByTestId("app-loading")).toContainText("still loading");
  await expect(page.locator("#password")).toHaveAttribute("type", "password");
  // The log-in form posts on its own, so it needs nothing to load first.
  await expect(page.locator("form[action]")).toHaveCount(1);
});

test("once the app has loaded, the same click works and nothing is said", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await page.getByTestId("toggle-password").click();
  await expect(page.locator("#password")).toHaveAttribute("type", "text");
  await expect(page.getByTestId("app-loading")).toHaveCount(0);
});

test("a first visit fetches the app's frame only; the dashboard's pages arrive together when the first is shown", async ({ page }) => {
  const wasm: string[] = [];
  page.on("response", (response) => {
    const name = new URL(response.url()).pathname;
    if (name.endsWith(".wasm")) wasm.push(name);
  });
  const who = await createMerchant(page.request, "Split");

  // The log-in page is in the main WASM: nothing else is fetched for it.
  await page.goto("/login");
  await hydrated(page);
  expect(wasm, "WASM fetched by the log-in page").toEqual([expect.stringMatching(/^\/pkg\/herald\.[A-Za-z0-9_-]{22}\.wasm$/)]);

  // Logging in shows the overview: the dashboard's pages come in their own file.
  await logIn(page, who);
  const dashboard = wasm.slice(1);
  expect(dashboard.length, wasm.join(", ")).toBeGreaterThan(0);

  // Moving to Endpoints and its form fetches nothing more, and they work.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Endpoints" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Endpoints" })).toBeVisible();
  await page.getByTestId("new-endpoint").click();
  await expect(page.getByRole("heading", { level: 1, name: "New endpoint" })).toBeVisible();
  await page.getByTestId("url-input").fill("ftp://files.example.com/hooks");
  await page.getByTestId("save-endpoint").click();
  await expect(page.getByTestId("url-error")).toContainText("https");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
  expect(wasm.slice(1 + dashboard.length), "WASM fetched after the first dashboard page").toEqual([]);
});
