import { test, expect, createMerchant, createEndpoint, hydrated, ingest, logIn, snap } from "./fixtures";

test("a failed delivery shows its status and body; after the fix, retry succeeds", async ({
  page,
  request,
  receiver,
}) => {
  const who = await createMerchant(request, "Retry");
  receiver.respond = () => 500;
  await createEndpoint(request, who, { url: receiver.url(), event_types: ["payin.*"] });
  await ingest(request, who, "payin.succeeded", {
    clientTransactionId: "pay_42",
    note: "<script>window.__pwned = true</script>",
  });
  await logIn(page, who);

  // The e2e schedule (0s, 2s, 5s) gives up after about 7 s; the list refreshes itself.
  await page.goto("/deliveries?status=failed");
  await expect(page.getByTestId("delivery-row")).toHaveCount(1, { timeout: 20_000 });
  await expect(page.getByTestId("filter-status")).toHaveValue("failed");
  await snap(page, "deliveries");
  await page.getByTestId("delivery-row").getByRole("link").click();
  await expect(page).toHaveURL(/\/deliveries\/dlv_/);

  await expect(page.getByTestId("attempt")).toHaveCount(3);
  await expect(page.getByTestId("attempt-outcome").first()).toHaveText("HTTP 500");
  await expect(page.getByTestId("response-body").first()).toHaveText("not today");
  // A payload is shown as text, never run.
  await expect(page.getByTestId("payload")).toContainText("<script>window.__pwned = true</script>");
  expect(await page.evaluate(() => (window as unknown as { __pwned?: boolean }).__pwned)).toBeUndefined();

  receiver.respond = () => 200;
  await page.getByTestId("retry").click();
  await expect(page.getByTestId("attempt")).toHaveCount(4, { timeout: 15_000 });
  await expect(page.getByTestId("attempt-outcome").first()).toHaveText("HTTP 200");
  await expect(page.locator(".page-header").getByTestId("status")).toHaveText("succeeded");
  await snap(page, "delivery-detail");
});

test("a category filter, a picked time range and clearing the filters", async ({ page, request, receiver }) => {
  const who = await createMerchant(request, "Ranges");
  await createEndpoint(request, who, { url: receiver.url() });
  await ingest(request, who, "payin.succeeded", { n: 1 });
  await ingest(request, who, "payout.failed", { n: 2 });
  await ingest(request, who, "payout.succeeded", { n: 3 });
  await logIn(page, who);
  await page.goto("/deliveries");
  await hydrated(page);
  await expect(page.getByTestId("delivery-row")).toHaveCount(3);
  await expect(page.getByTestId("clear-filters")).toHaveCount(0);

  // `payout.*`, as subscriptions write it: every payout type. The catalog's
  // categories and types are offered as choices.
  await expect(page.locator("#event-type-choices option[value='payout.*']")).toHaveCount(1);
  await page.getByTestId("filter-type").fill("payout.*");
  await page.getByTestId("filter-type").press("Enter");
  await expect(page).toHaveURL(/event_type=payout\.\*/);
  await expect(page.getByTestId("delivery-row")).toHaveCount(2);

  // A time picked in the browser's own zone: since an hour from now, nothing.
  await page.getByTestId("filter-since").selectOption("custom");
  const later = await page.evaluate(() => {
    const d = new Date(Date.now() + 3_600_000);
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  });
  await page.getByTestId("filter-since-at").fill(later);
  await expect(page).toHaveURL(/since=\d{4}-\d\d-\d\dT/);
  await expect(page.getByTestId("deliveries-empty")).toBeVisible();
  await expect(page.getByTestId("filter-since")).toHaveValue("custom");
  await expect(page.getByTestId("filter-since-at")).toHaveValue(later);
  // Until an hour from now: all of them are before it.
  await page.getByTestId("filter-since").selectOption("");
  await page.getByTestId("filter-until").selectOption("custom");
  await page.getByTestId("filter-until-at").fill(later);
  await expect(page).toHaveURL(/until=\d{4}-/);
  await expect(page.getByTestId("delivery-row")).toHaveCount(2);
  await snap(page, "deliveries-filtered");

  await page.getByTestId("clear-filters").click();
  await expect(page).toHaveURL(/\/deliveries$/);
  await expect(page.getByTestId("delivery-row")).toHaveCount(3);
  await expect(page.getByTestId("clear-filters")).toHaveCount(0);

  // A wildcard anywhere else is refused with the reason, through the API too.
  const refused = await request.get("/api/v1/deliveries?event_type=pay*", {
    headers: { authorization: `Bearer ${who.apiKey}` },
  });
  expect(refused.status()).toBe(422);
  expect((await refused.json()).error.message).toContain("payin.*");
});

test("filters live in the URL, survive a reload, and new deliveries appear on their own", async ({
  page,
  request,
  receiver,
}) => {
  const who = await createMerchant(request, "Filters");
  await createEndpoint(request, who, { url: receiver.url() });
  await ingest(request, who, "payin.succeeded", { n: 1 });
  await ingest(request, who, "payout.failed", { n: 2 });
  await logIn(page, who);

  await page.goto("/deliveries");
  await expect(page.getByTestId("delivery-row")).toHaveCount(2);
  await page.getByTestId("filter-type").fill("payout.failed");
  await page.getByTestId("filter-type").press("Enter");
  await expect(page).toHaveURL(/event_type=payout\.failed/);
  await expect(page.getByTestId("delivery-row")).toHaveCount(1);

  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("filter-type")).toHaveValue("payout.failed");
  await expect(page.getByTestId("delivery-row")).toHaveCount(1);

  await ingest(request, who, "payout.failed", { n: 3 });
  await expect(page.getByTestId("delivery-row")).toHaveCount(2, { timeout: 10_000 });

  await page.getByTestId("filter-status").selectOption("failed");
  await expect(page).toHaveURL(/status=failed/);
  await expect(page.getByTestId("deliveries-empty")).toBeVisible();
  await page.goBack();
  await expect(page.getByTestId("delivery-row")).toHaveCount(2);
});

test("another merchant's delivery is not found", async ({ page, request, receiver }) => {
  const owner = await createMerchant(request, "Owner");
  await createEndpoint(request, owner, { url: receiver.url() });
  await ingest(request, owner, "payin.succeeded", {});
  const list = await request.get("/api/v1/deliveries", { headers: { authorization: `Bearer ${owner.apiKey}` } });
  const id = (await list.json()).data[0].id;
  const other = await createMerchant(request, "Other");
  await logIn(page, other);
  await page.goto(`/deliveries/${id}`);
  await expect(page.getByTestId("not-found")).toBeVisible();
});

test("the overview shows each endpoint's health, the chart and the latest failure", async ({
  page,
  request,
  receiver,
}) => {
  const who = await createMerchant(request, "Overview");
  receiver.respond = (req) => (JSON.parse(req.body).type === "payout.failed" ? 500 : 200);
  await createEndpoint(request, who, { url: receiver.url("/ok"), event_types: ["payin.*"] });
  await createEndpoint(request, who, { url: receiver.url("/bad"), event_types: ["payout.*"] });
  await ingest(request, who, "payin.succeeded", { n: 1 });
  await ingest(request, who, "payin.succeeded", { n: 2 });
  await ingest(request, who, "payout.failed", { n: 3 });
  const auth = { authorization: `Bearer ${who.apiKey}` };
  await expect
    .poll(
      async () => (await (await request.get("/api/v1/deliveries?status=failed", { headers: auth })).json()).data.length,
      { timeout: 20_000 },
    )
    .toBe(1);

  await logIn(page, who);
  await expect(page.getByTestId("chart")).toHaveAttribute("aria-label", "3 deliveries in the last 24 hours");
  await expect(page.getByTestId("chart").locator("rect.bar-ok")).toHaveCount(1);
  await expect(page.getByTestId("chart").locator("rect.bar-failed")).toHaveCount(1);
  const rates = page.getByTestId("success-rate");
  await expect(rates).toHaveCount(2);
  await expect(page.getByTestId("health-row").filter({ hasText: "/ok" }).getByTestId("success-rate")).toHaveText("100.0%");
  await expect(page.getByTestId("health-row").filter({ hasText: "/bad" }).getByTestId("success-rate")).toHaveText("0.0%");
  await expect(page.getByTestId("failure")).toHaveCount(1);
  await snap(page, "overview");
  await page.setViewportSize({ width: 390, height: 844 });
  await snap(page, "overview-mobile");
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByTestId("failure").getByRole("link").click();
  await expect(page).toHaveURL(/\/deliveries\/dlv_/);
  await expect(page.getByTestId("attempt").first()).toContainText("HTTP 500");
});
