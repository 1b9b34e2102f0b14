import {
  test,
  expect,
  createMerchant,
  createEndpoint,
  ingest,
  logIn,
  logInAsAdmin,
  newMerchant,
  signUp,
  snap,
  hydrated,
} from "./fixtures";
import { PLATFORM_TOKEN } from "../playwright.config";

test("an operator sees another merchant's failed delivery and bulk-retries it", async ({
  page,
  request,
  receiver,
}) => {
  const who = await createMerchant(request, "Shop");
  receiver.respond = () => 500;
  const endpoint = await createEndpoint(request, who, { url: receiver.url() });
  await ingest(request, who, "payout.failed", { payoutId: "po_7" });
  const auth = { authorization: `Bearer ${who.apiKey}` };
  await expect
    .poll(
      async () => (await (await request.get("/api/v1/deliveries?status=failed", { headers: auth })).json()).data.length,
      { timeout: 20_000 },
    )
    .toBe(1);

  await logInAsAdmin(page);
  await expect(page.getByTestId("ops-nav")).toBeVisible();
  await page.getByRole("link", { name: "Failed deliveries" }).click();
  await expect(page).toHaveURL(/\/admin\/deliveries/);
  await page.getByTestId("filter-merchant").selectOption(who.id);
  await expect(page).toHaveURL(new RegExp(`merchant_id=${who.id}`));
  await expect(page.getByTestId("delivery-row")).toHaveCount(1);
  await expect(page.getByTestId("merchant-cell")).toHaveText(who.name);
  await snap(page, "admin-deliveries");

  receiver.respond = () => 200;
  const before = receiver.requests.length;
  await page.getByTestId("select-delivery").check();
  await page.getByTestId("retry-selected").click();
  await expect(page.getByTestId("confirm-retry")).toContainText("Retry 1 deliveries?");
  await page.getByTestId("confirm-retry-button").click();
  await expect(page.getByTestId("queued")).toContainText("1 deliveries queued");
  await expect.poll(() => receiver.requests.length, { timeout: 15_000 }).toBe(before + 1);
  await expect
    .poll(
      async () => (await (await request.get("/api/v1/deliveries?status=succeeded", { headers: auth })).json()).data.length,
      { timeout: 15_000 },
    )
    .toBe(1);
  // Disable the endpoint with a reason the merchant sees, then enable it again.
  await page.getByRole("link", { name: "All endpoints" }).click();
  await hydrated(page);
  // Every test's endpoints are in this list: narrow it to this merchant's.
  await page.getByTestId("filter-merchant-name").fill(who.name);
  await page.getByTestId("filter-merchant-name").press("Enter");
  const row = page.locator(`[data-endpoint="${endpoint.id}"]`);
  await row.getByTestId("disable-endpoint").click();
  await row.getByTestId("disable-reason").fill("answers 500 to everything since Tuesday");
  await row.getByTestId("confirm-disable").click();
  await expect(row.getByTestId("disabled-reason")).toContainText("answers 500 to everything since Tuesday");
  await snap(page, "admin-endpoints");
  const seen = await (await request.get(`/api/v1/endpoints/${endpoint.id}`, { headers: auth })).json();
  expect(seen.enabled).toBe(false);
  expect(seen.disabled_reason).toContain("answers 500 to everything since Tuesday");
  await row.getByTestId("enable-endpoint").click();
  await expect(row.getByTestId("disable-endpoint")).toBeVisible();
  expect((await (await request.get(`/api/v1/endpoints/${endpoint.id}`, { headers: auth })).json()).enabled).toBe(true);

  // The catalog: add a type, merchants can subscribe; archive it, they cannot.
  await page.getByRole("link", { name: "Event-type catalog" }).click();
  // The old page stays until the new one's code has arrived.
  await expect(page.getByRole("heading", { level: 1, name: "Event-type catalog" })).toBeVisible();
  await page.getByLabel("Name").fill("payout.clawed_back");
  await page.getByLabel("Description").fill("A payout was recalled by the bank.");
  await page.getByTestId("example-input").fill('{"payoutId": "po_9"}');
  await page.getByTestId("create-type").click();
  await expect(page.getByTestId("type-created")).toContainText("payout.clawed_back");
  const typeRow = page.locator('[data-type="payout.clawed_back"]');
  await expect(typeRow).toContainText("Active");
  const subscribe = () =>
    request.post("/api/v1/endpoints", {
      headers: auth,
      data: { url: receiver.url("/other"), event_types: ["payout.clawed_back"] },
    });
  expect((await subscribe()).status()).toBe(201);
  await typeRow.getByTestId("toggle-archive").click();
  await typeRow.getByTestId("confirm-archive-button").click();
  await expect(typeRow).toContainText("Archived");
  await snap(page, "admin-event-types");
  expect((await subscribe()).status()).toBe(422);

  await page.getByRole("link", { name: "Merchants" }).click();
  await expect(page.getByTestId("merchant-row").filter({ hasText: who.name })).toBeVisible();
  await snap(page, "admin-merchants");
});

test("a merchant is refused the admin pages and the admin server functions", async ({ page }) => {
  await signUp(page, newMerchant("Curious"));
  await expect(page.getByTestId("ops-nav")).toHaveCount(0);
  await page.goto("/admin/deliveries");
  await expect(page.getByTestId("refused")).toBeVisible();
  await snap(page, "admin-refused");
  const answer = await page.request.post("/_fn/admin/merchants", { form: {} });
  expect(answer.status()).toBe(403);
});

test("a merchant cannot undo an operator's disable and is told why", async ({ page, request, receiver }) => {
  const who = await createMerchant(request, "Sticky");
  const endpoint = await createEndpoint(request, who, { url: receiver.url() });
  const operator = { authorization: `Bearer ${PLATFORM_TOKEN}` };
  const disabled = await request.post(`/api/v1/admin/endpoints/${endpoint.id}/disable`, {
    headers: operator,
    data: { reason: "sends card numbers in clear text" },
  });
  expect(disabled.status(), await disabled.text()).toBe(200);

  await logIn(page, who);
  await page.goto(`/endpoints/${endpoint.id}/edit`);
  await hydrated(page);
  await page.getByTestId("enabled-input").check();
  await page.getByTestId("save-endpoint").click();
  const refusal = page.getByTestId("form-error");
  await expect(refusal).toHaveText(
    "Disabled by an operator: sends card numbers in clear text. Only an operator can enable this endpoint again.",
  );
  await snap(page, "operator-disable-sticks");
  const auth = { authorization: `Bearer ${who.apiKey}` };
  const seen = await (await request.get(`/api/v1/endpoints/${endpoint.id}`, { headers: auth })).json();
  expect(seen.enabled).toBe(false);

  // Once an operator enables it, it is the merchant's again.
  const enabled = await request.post(`/api/v1/admin/endpoints/${endpoint.id}/enable`, { headers: operator });
  expect(enabled.status(), await enabled.text()).toBe(200);
  await page.goto(`/endpoints/${endpoint.id}`);
  await expect(page.getByTestId("endpoint-status")).toHaveText("Enabled");
});

test("an operator retries one delivery from its page, and is told when it cannot be", async ({
  page,
  request,
  receiver,
}) => {
  const who = await createMerchant(request, "Retry one");
  receiver.respond = () => 500;
  const endpoint = await createEndpoint(request, who, { url: receiver.url() });
  await ingest(request, who, "payout.failed", { payoutId: "po_11" });
  const auth = { authorization: `Bearer ${who.apiKey}` };
  let delivery = "";
  await expect(async () => {
    const body = await (await request.get("/api/v1/deliveries?status=failed", { headers: auth })).json();
    expect(body.data.length).toBe(1);
    delivery = body.data[0].id;
  }).toPass({ timeout: 20_000 });

  await logInAsAdmin(page);
  await page.goto(`/admin/deliveries/${delivery}`);
  await hydrated(page);
  const attempts = page.getByTestId("attempt");
  await expect(attempts.first()).toBeVisible();
  const before = await attempts.count();
  receiver.respond = () => 200;
  await page.getByTestId("retry").click();
  // The new attempt appears on the page on its own, and it succeeded.
  await expect(attempts).toHaveCount(before + 1, { timeout: 15_000 });
  await expect(page.getByTestId("attempt-outcome").first()).toHaveText("HTTP 200");
  await expect(page.getByTestId("attempt").first()).toContainText("manual retry");
  await snap(page, "admin-delivery-retried");

  // With the endpoint disabled, the retry is refused with the reason, and the
  // merchant's page says why "Send test event" cannot be used.
  const operator = { authorization: `Bearer ${PLATFORM_TOKEN}` };
  const disabled = await request.post(`/api/v1/admin/endpoints/${endpoint.id}/disable`, {
    headers: operator,
    data: { reason: "under investigation" },
  });
  expect(disabled.status(), await disabled.text()).toBe(200);
  await page.reload();
  await hydrated(page);
  await page.getByTestId("retry").click();
  await expect(page.getByTestId("retry-error")).toHaveText(
    "The delivery is being attempted right now, or its endpoint is disabled.",
  );
  await expect(attempts).toHaveCount(before + 1);

  await page.context().clearCookies();
  await logIn(page, who);
  await page.goto(`/endpoints/${endpoint.id}`);
  await hydrated(page);
  await expect(page.getByTestId("send-test")).toBeDisabled();
  await expect(page.getByTestId("send-test-unavailable")).toHaveText(
    "A disabled endpoint gets nothing, tests included: enable it to send a test event.",
  );
});
