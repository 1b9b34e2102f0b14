import { createHmac } from "node:crypto";
import { test as base, expect, APIRequestContext, Page } from "@playwright/test";
import * as path from "node:path";
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import { ADMIN, PLATFORM_TOKEN } from "../playwright.config";

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

/** Logs in as the operator account the test server was started with. */
export async function logInAsAdmin(page: Page) {
  await logIn(page, ADMIN);
}

/**
 * Arranging through the REST API, as the platform would: a merchant with a
 * password (to log in through the UI) and its API key (for the merchant API).
 */
export async function createMerchant(request: APIRequestContext, label: string) {
  const who = newMerchant(label);
  const answer = await request.post("/api/v1/admin/merchants", {
    headers: { authorization: `Bearer ${PLATFORM_TOKEN}` },
    data: { name: who.name, email: who.email, password: who.password },
  });
  expect(answer.status(), await answer.text()).toBe(201);
  const body = await answer.json();
  return { ...who, id: body.id as string, apiKey: body.api_key as string };
}

export type ApiMerchant = Awaited<ReturnType<typeof createMerchant>>;

/** Logs in through the UI as a merchant made with `createMerchant`. */
export async function logIn(page: Page, who: { email: string; password: string; name: string }) {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password", { exact: true }).fill(who.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("merchant-name")).toHaveText(who.name);
}

/** Creates an endpoint with the merchant's API key; returns its JSON (with `id` and `secret`). */
export async function createEndpoint(
  request: APIRequestContext,
  who: ApiMerchant,
  fields: { url: string; event_types?: string[]; description?: string; profile?: string },
) {
  const answer = await request.post("/api/v1/endpoints", {
    headers: { authorization: `Bearer ${who.apiKey}` },
    data: fields,
  });
  expect(answer.status(), await answer.text()).toBe(201);
  return answer.json();
}

/** Reports an event for the merchant, as the platform does; returns `{id, deliveries}`. */
export async function ingest(
  request: APIRequestContext,
  who: ApiMerchant,
  type: string,
  data: Record<string, unknown>,
) {
  const answer = await request.post("/api/v1/events", {
    headers: { authorization: `Bearer ${PLATFORM_TOKEN}` },
    data: { merchant_id: who.id, type, data },
  });
  expect(answer.status(), await answer.text()).toBe(202);
  return answer.json();
}

/** One request a receiver got. */
export interface Received {
  method: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A real HTTP server on 127.0.0.1 standing in for a merchant's endpoint.
 * `respond` picks the status for each request (default 200); `url` is what
 * to register as the endpoint URL.
 */
/** Verifies a delivery's Standard Webhooks signature with node's own HMAC. */
export function signedWith(secret: string, request: Received): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const id = request.headers["webhook-id"];
  const timestamp = request.headers["webhook-timestamp"];
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${request.body}`).digest("base64");
  return String(request.headers["webhook-signature"]).split(" ").includes(`v1,${expected}`);
}

export class Receiver {
  readonly requests: Received[] = [];
  respond: (req: Received, n: number) => number = () => 200;
  private server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const got = { method: req.method ?? "", headers: req.headers, body };
      this.requests.push(got);
      res.statusCode = this.respond(got, this.requests.length);
      res.setHeader("content-type", "text/plain");
      res.end(res.statusCode < 300 ? "ok" : "not today");
    });
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return this;
  }

  url(path = "/hooks"): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}${path}`;
  }

  async stop() {
    // close() alone waits for every open connection to end, and Herald may be
    // opening one for a retry right now: end them all, so teardown is prompt.
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/**
 * Fails the test on any console error or uncaught exception in the page.
 * A 4xx answer to a server function is how a refused form comes back (shown
 * to the user next to the field), and Chromium logs it; anything else fails.
 */
export const test = base.extend<{ consoleErrors: string[]; receiver: Receiver }>({
  receiver: async ({}, use) => {
    const receiver = await new Receiver().start();
    await use(receiver);
    await receiver.stop();
  },
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
