import { APIRequestContext, Page } from "@playwright/test";
import { test, expect, createMerchant, createEndpoint, ingest, logIn, hydrated, snap, ApiMerchant } from "./fixtures";

// The server under test tells an endpoint failing a second after its first
// failure and would disable it only after an hour (see playwright.config.ts).

/** An endpoint as the merchant API shows it. */
async function readEndpoint(request: APIRequestContext, who: ApiMerchant, id: string) {
  const answer = await request.get(`/api/v1/endpoints/${id}`, {
    headers: { authorization: `Bearer ${who.apiKey}` },
  });
  expect(answer.status(), await answer.text()).toBe(200);
  return answer.json();
}

/** A time as the dashboard shows it (UTC, to the second). */
function shown(at: string): string {
  return `${new Date(at).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** Opens `path` again and again (a page shows what was true when it loaded) until `check` passes; 20 s at most. */
async function openUntil(page: Page, path: string, check: () => Promise<void>) {
  await expect(async () => {
    await page.goto(path);
    await hydrated(page);
    await check();
  }).toPass({ timeout: 20_000, intervals: [500, 1_000] });
}

test("a failing endpoint is warned about on its page and on the overview, with when it will be disabled", async ({
  page,
  request,
  receiver,
}) => {
  const who = await createMerchant(request, "Failing");
  receiver.respond = () => 500;
  const url = receiver.url("/down");
  const endpoint = await createEndpoint(request, who, { url });
  // Subscribed to nothing that is sent: it stays healthy, with no warning.
  await createEndpoint(request, who, { url: receiver.url("/quiet"), event_types: ["payout.*"] });
  await ingest(request, who, "payin.succeeded", { n: 1 });

  // Failing from the first failed attempt on.
  await expect
    .poll(async () => (await readEndpoint(request, who, endpoint.id)).failing_since ?? null, { timeout: 20_000 })
    .not.toBeNull();
  const failing = await readEndpoint(request, who, endpoint.id);
  expect(failing.enabled).toBe(true);
  expect(failing.disables_at, "an enabled failing endpoint says when it will be disabled").toEqual(expect.any(String));
  const hour = new Date(failing.disables_at).getTime() - new Date(failing.failing_since).getTime();
  expect(Math.abs(hour - 3_600_000)).toBeLessThan(60_000);

  await logIn(page, who);
  await page.goto(`/endpoints/${endpoint.id}`);
  await hydrated(page);
  await expect(page.getByTestId("endpoint-status")).toHaveText("Enabled");
  const warning = page.getByTestId("failing-warning");
  await expect(warning).toBeVisible();
  await expect(warning).toHaveText(
    `Failing since ${shown(failing.failing_since)}, will be disabled on ${shown(failing.disables_at)} unless it recovers.`,
  );
  await snap(page, "notifications-endpoint-failing");

  // The overview: one warning, for the failing endpoint, linking to it.
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByTestId("failing-warning")).toHaveCount(1);
  await expect(warning).toContainText(url);
  await expect(warning).toContainText("will be disabled on");
  await snap(page, "notifications-overview-failing");
  await warning.getByRole("link", { name: url }).click();
  await expect(page).toHaveURL(new RegExp(`/endpoints/${endpoint.id}$`));
  await expect(page.getByTestId("failing-warning")).toBeVisible();

  // Failing for longer than a second: the merchant is told.
  const told = page.getByTestId("alert-row").filter({ hasText: "Endpoint failing" }).filter({ hasText: url });
  await openUntil(page, "/notifications", () => expect(told).toHaveCount(1, { timeout: 1_000 }));
  await expect(told).toContainText(`Deliveries to ${url} are failing`);
});

test("mail settings: the boxes say what is mailed, and keep what was saved", async ({ page, request }) => {
  const who = await createMerchant(request, "Mail");
  await logIn(page, who);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Notifications", exact: true }).click();
  await expect(page).toHaveURL(/\/notifications$/);
  await expect(page.getByRole("heading", { name: "Notifications", level: 1 })).toBeVisible();

  await expect(page.getByTestId("mail-address")).toHaveText(who.email);
  await expect(page.getByTestId("mail-not-configured")).toHaveText(
    "This Herald has no mail server configured (HERALD_SMTP_URL), so nothing is mailed; " +
      "the events below are still delivered to endpoints subscribed to them.",
  );
  await expect(page.getByTestId("no-alerts")).toHaveText(
    "Nothing to tell yet: Herald tells you here when an endpoint starts failing, is disabled or recovers.",
  );
  await expect(page.getByTestId("as-events").getByRole("link", { name: "event types" })).toHaveAttribute(
    "href",
    "/event-types",
  );

  // The defaults: every change of an endpoint, not each failed delivery.
  const box = (label: string) => page.getByLabel(label, { exact: true });
  await expect(box("Endpoint failing")).toBeChecked();
  await expect(box("Endpoint disabled")).toBeChecked();
  await expect(box("Endpoint recovered")).toBeChecked();
  await expect(box("Delivery failed for good")).not.toBeChecked();

  await box("Endpoint disabled").uncheck();
  await box("Delivery failed for good").check();
  await expect(page.getByRole("status")).toHaveText("");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status")).toHaveText("Saved.");
  await snap(page, "notifications-mail-settings");

  await page.reload();
  await hydrated(page);
  await expect(box("Endpoint failing")).toBeChecked();
  await expect(box("Endpoint disabled")).not.toBeChecked();
  await expect(box("Endpoint recovered")).toBeChecked();
  await expect(box("Delivery failed for good")).toBeChecked();
  await expect(page.getByRole("status")).toHaveText("");

  // A change after saving is not "Saved." until saved.
  await box("Endpoint recovered").uncheck();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status")).toHaveText("Saved.");
  await box("Endpoint failing").uncheck();
  await expect(page.getByRole("status")).toHaveText("");
});

test("the notifications list tells that Herald disabled an endpoint that answered 410", async ({
  page,
  request,
  receiver,
}) => {
  const who = await createMerchant(request, "Gone");
  receiver.respond = () => 410;
  const url = receiver.url("/gone");
  const endpoint = await createEndpoint(request, who, { url });
  await ingest(request, who, "payin.succeeded", { n: 1 });

  await logIn(page, who);
  const disabled = page.getByTestId("alert-row").filter({ hasText: "Endpoint disabled" }).filter({ hasText: url });
  await openUntil(page, "/notifications", () => expect(disabled).toHaveCount(1, { timeout: 1_000 }));
  await expect(page.getByTestId("no-alerts")).toHaveCount(0);
  await expect(disabled).toContainText(`${url} was disabled`);
  await expect(disabled).toContainText("410");
  // No mail server: nothing is mailed.
  await expect(disabled.getByTestId("alert-told")).toContainText("mailed: no");
  await snap(page, "notifications");

  // At a phone's width, for a look (every-page.spec.ts asserts the width).
  await page.setViewportSize({ width: 390, height: 844 });
  await snap(page, "notifications-mobile");
  await page.setViewportSize({ width: 1280, height: 800 });

  // Its page says it is disabled, and why; a failing warning would be moot.
  await disabled.getByRole("link", { name: url }).click();
  await expect(page).toHaveURL(new RegExp(`/endpoints/${endpoint.id}$`));
  await expect(page.getByTestId("endpoint-status")).toHaveText("Disabled");
  await expect(page.getByText("410 Gone")).toBeVisible();
  await expect(page.getByTestId("failing-warning")).toHaveCount(0);
});
