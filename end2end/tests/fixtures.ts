import { test as base, expect, Page } from "@playwright/test";
import * as path from "node:path";
import * as fs from "node:fs";

export const SCREENSHOTS = path.resolve(__dirname, "..", "screenshots");

/** A unique merchant for one test, so tests never share accounts. */
export function newMerchant(label: string) {
  const n = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  return {
    name: `${label} ${n}`,
    email: `${label.toLowerCase().replace(/\W+/g, "-")}-${n}@example.test`,
    password: "correct horse battery staple",
  };
}

/** Saves a full-page screenshot under end2end/screenshots/ for people to look at. */
export async function snap(page: Page, name: string) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Waits until the WASM bundle has hydrated the page (the app marks <body>). */
export async function hydrated(page: Page) {
  await page.waitForFunction(() => document.body.dataset.hydrated === "true");
}

export async function signUp(page: Page, who: ReturnType<typeof newMerchant>) {
  await page.goto("/signup");
  await hydrated(page);
  await page.getByLabel("Company name").fill(who.name);
  await page.getByLabel("Work email").fill(who.email);
  await page.getByLabel("Password", { exact: true }).fill(who.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("merchant-name")).toHaveText(who.name);
}

/**
 * Fails the test on any console error or uncaught exception in the page.
 * A 4xx answer to a server function is how a refused form comes back (shown
 * to the user next to the field), and Chromium logs it; anything else fails.
 */
export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("console", (msg) => {
        const expected = /Failed to load resource: the server responded with a status of 4\d\d/;
        if (msg.type() === "error" && !expected.test(msg.text())) errors.push(msg.text());
      });
      page.on("pageerror", (err) => errors.push(String(err)));
      await use(errors);
      expect(errors, "console errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
