import { APIRequestContext, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { test, expect, Receiver, createMerchant, createEndpoint, hydrated, logIn, logInAsAdmin, snap } from "./fixtures";
import { PLATFORM_TOKEN } from "../playwright.config";

// Every page, merchant's and operator's: on a 390 × 844 phone nothing may be
// wider than the screen (no sideways panning), each page is screenshotted for
// people to look at; and axe-core finds nothing serious or critical.

/** What sticks out past the right edge of the screen, to say why a page is too wide. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll("body *"))) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.right <= width + 0.5) continue;
      // Inside a box that scrolls on its own is fine: that box is the one to report.
      let scroller: Element | null = el.parentElement;
      let contained = false;
      while (scroller && scroller !== document.body) {
        const style = getComputedStyle(scroller);
        if (/(auto|scroll|hidden)/.test(style.overflowX) && scroller.getBoundingClientRect().right <= width + 0.5) {
          contained = true;
          break;
        }
        scroller = scroller.parentElement;
      }
      if (contained) continue;
      const name = `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : ""}`;
      out.push(`${name} right=${Math.round(box.right)}`);
    }
    return out.slice(0, 8);
  });
}

async function fitsThePhone(page: Page, path: string, name: string) {
  await page.goto(path);
  await hydrated(page);
  await page.waitForLoadState("networkidle");
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  const culprits = scrollWidth > 390 ? await overflowing(page) : [];
  await snap(page, `phone-${name}`);
  expect(scrollWidth, `${path} is ${scrollWidth} px wide: ${culprits.join(", ")}`).toBeLessThanOrEqual(390);
}

/** A merchant with an endpoint, a tagged event and its delivery: something on every page. */
async function arrange(request: APIRequestContext, receiver: Receiver) {
  const who = await createMerchant(request, "Every page");
  const endpoint = await createEndpoint(request, who, {
    url: receiver.url("/a-rather-long-path/for-webhooks/that-goes-on-and-on/payments"),
    description: "Production payments receiver with a long description that must wrap on a phone",
  });
  // An RSA profile's endpoint: its page shows the public key in two forms.
  const rsaEndpoint = await createEndpoint(request, who, {
    url: receiver.url("/paysecure"),
    profile: "paysecure",
    event_types: ["purchase.*"],
  });
  const tag = `pay_${Date.now().toString(36)}-reference-that-is-quite-long`;
  const ingested = await request.post("/api/v1/events", {
    headers: { authorization: `Bearer ${PLATFORM_TOKEN}` },
    data: {
      merchant_id: who.id,
      type: "payin.succeeded",
      data: { clientTransactionId: tag, amount: 1250, currency: "INR", note: "x".repeat(120) },
      tags: [tag, "customer:cus_0123456789"],
      idempotency_key: `idem-${tag}`,
    },
  });
  expect(ingested.status()).toBe(202);
  const event = (await ingested.json()).id as string;
  let delivery = "";
  await expect(async () => {
    const list = await request.get(`/api/v1/deliveries?event_id=${event}`, {
      headers: { authorization: `Bearer ${who.apiKey}` },
    });
    const body = await list.json();
    expect(body.data.length).toBe(1);
    expect(body.data[0].status).toBe("succeeded");
    delivery = body.data[0].id;
  }).toPass();
  const invited = await request.post("/api/v1/invitations", {
    headers: { authorization: `Bearer ${who.apiKey}` },
    data: { email: `invited-${Date.now().toString(36)}@example.test`, role: "developer" },
  });
  expect(invited.status()).toBe(201);
  const invitation = new URL((await invited.json()).url).pathname;
  const merchantPages: [string, string][] = [
    ["/", "overview"],
    ["/endpoints", "endpoints"],
    ["/endpoints/new", "endpoint-new"],
    [`/endpoints/${endpoint.id}`, "endpoint"],
    [`/endpoints/${endpoint.id}/edit`, "endpoint-edit"],
    [`/endpoints/${rsaEndpoint.id}`, "endpoint-rsa"],
    ["/events", "events"],
    [`/events/${event}`, "event"],
    ["/deliveries", "deliveries"],
    [`/deliveries/${delivery}`, "delivery"],
    [`/search?q=${tag}`, "search"],
    ["/event-types", "event-types"],
    ["/api-keys", "api-keys"],
    ["/notifications", "notifications"],
    ["/audit-log", "audit-log"],
    ["/members", "members"],
    ["/account", "account"],
    ["/no-such-page", "not-found"],
  ];
  const operatorPages: [string, string][] = [
    ["/admin/deliveries", "admin-deliveries"],
    ["/admin/deliveries?status=succeeded", "admin-deliveries-succeeded"],
    [`/admin/deliveries/${delivery}`, "admin-delivery"],
    ["/admin/merchants", "admin-merchants"],
    ["/admin/endpoints", "admin-endpoints"],
    ["/admin/event-types", "admin-event-types"],
    [`/admin/events/${event}`, "admin-event"],
    [`/admin/search?q=${tag}`, "admin-search"],
    ["/admin/storage", "admin-storage"],
    ["/admin/audit-log", "admin-audit-log"],
    ["/admin/profiles", "admin-profiles"],
  ];
  const publicPages: [string, string][] = [
    ["/login", "login"],
    ["/signup", "signup"],
    ["/forgot-password", "forgot-password"],
    ["/reset-password/hpr_not-a-real-token", "reset-password"],
    [invitation, "invitation"],
  ];
  return { who, merchantPages, operatorPages, publicPages };
}

/** Visits each page of each kind, logged in as whom the kind needs, and checks it with `check`. */
async function visitAll(
  page: Page,
  pages: Awaited<ReturnType<typeof arrange>>,
  check: (path: string, name: string) => Promise<void>,
) {
  await logIn(page, pages.who);
  for (const [path, name] of pages.merchantPages) await check(path, name);
  await page.context().clearCookies();
  await logInAsAdmin(page);
  for (const [path, name] of pages.operatorPages) await check(path, name);
  await page.context().clearCookies();
  for (const [path, name] of pages.publicPages) await check(path, name);
}

async function opened(page: Page, path: string) {
  await page.goto(path);
  await hydrated(page);
  await page.waitForLoadState("networkidle");
}

test.describe("on a 390 px phone", () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test("every merchant and operator page fits the screen, menu open or closed", async ({ page, request, receiver }) => {
    test.setTimeout(120_000);
    const pages = await arrange(request, receiver);
    await visitAll(page, pages, async (path, name) => {
      await opened(page, path);
      const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      const culprits = scrollWidth > 390 ? await overflowing(page) : [];
      await snap(page, `phone-${name}`);
      expect(scrollWidth, `${path} is ${scrollWidth} px wide: ${culprits.join(", ")}`).toBeLessThanOrEqual(390);
    });

    // The menu opens over the page without widening it.
    await logIn(page, pages.who);
    await opened(page, "/deliveries");
    await page.getByTestId("menu-toggle").click();
    await expect(page.getByRole("link", { name: "Endpoints", exact: true })).toBeVisible();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await snap(page, "phone-menu");
  });
});

test("axe-core finds nothing serious or critical on any page", async ({ page, request, receiver }) => {
  test.setTimeout(180_000);
  const pages = await arrange(request, receiver);
  const findings: string[] = [];
  await visitAll(page, pages, async (path) => {
    await opened(page, path);
    const { violations } = await new AxeBuilder({ page }).analyze();
    for (const v of violations.filter((v) => v.impact === "serious" || v.impact === "critical")) {
      const where = v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ");
      findings.push(`${path}: ${v.impact} ${v.id} (${v.help}) at ${where}`);
    }
  });
  expect(findings, findings.join("\n")).toEqual([]);
});
