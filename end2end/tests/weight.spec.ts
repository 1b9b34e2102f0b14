import type { Response } from "@playwright/test";
import { test, expect, hydrated } from "./fixtures";

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
    expect(name).toMatch(/^\/pkg\/herald\.[A-Za-z0-9_-]{22}\.(js|wasm|css)$/);
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
