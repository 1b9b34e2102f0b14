import { APIRequestContext, Page } from "@playwright/test";
import {
  test,
  expect,
  createMerchant,
  createEndpoint,
  logIn,
  logInAsAdmin,
  hydrated,
  snap,
  ApiMerchant,
} from "./fixtures";
import { PLATFORM_TOKEN } from "../playwright.config";

const operator = { authorization: `Bearer ${PLATFORM_TOKEN}` };

/** A suffix no other test (or run) uses, for tags that must find only this test's events. */
function unique(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Reports an event with tags, as the platform does; returns `{id, deliveries}`. */
async function ingestTagged(
  request: APIRequestContext,
  who: ApiMerchant,
  type: string,
  data: Record<string, unknown>,
  tags: string[],
): Promise<{ id: string; deliveries: number }> {
  const answer = await request.post("/api/v1/events", {
    headers: operator,
    data: { merchant_id: who.id, type, data, tags },
  });
  expect(answer.status(), await answer.text()).toBe(202);
  return answer.json();
}

/** The top bar's search box. */
function searchBox(page: Page) {
  return page.getByRole("searchbox", { name: "Search", exact: true });
}

test("a payment reference typed in the search box leads to its delivery, which shows the tag", async ({
  page,
  request,
  receiver,
}) => {
  const who = await createMerchant(request, "Search");
  await createEndpoint(request, who, { url: receiver.url() });
  const n = unique();
  const tag = `pay_123-${n}`;
  const event = await ingestTagged(request, who, "payin.succeeded", { clientTransactionId: tag }, [tag, `customer:cus_${n}`]);
  expect(event.deliveries).toBe(1);

  await logIn(page, who);
  await expect(searchBox(page)).toHaveAttribute("placeholder", "Payment reference or any id");
  await searchBox(page).fill(tag);
  await searchBox(page).press("Enter");

  await expect(page).toHaveURL(/\/deliveries\/dlv_[a-z0-9]+$/);
  await expect(page.getByTestId("tags")).toContainText(tag);
  await expect(page.getByTestId("tags")).toContainText(`customer:cus_${n}`);
  await expect(page.getByTestId("event-link")).toHaveText(event.id);
  await expect(page.getByTestId("payload")).toContainText(tag);
  await snap(page, "history-search-delivery");

  // On a phone the box folds into the menu; a search that finds nothing says what does find something.
  await page.setViewportSize({ width: 390, height: 844 });
  await hydrated(page);
  await expect(searchBox(page)).toBeHidden();
  await page.getByTestId("menu-toggle").click();
  await expect(searchBox(page)).toBeVisible();
  await searchBox(page).fill(`nothing-${n}`);
  await searchBox(page).press("Enter");
  await expect(page).toHaveURL(new RegExp(`/search\\?q=nothing-${n}$`));
  await expect(page.getByTestId("search-empty")).toContainText(
    `Nothing matches “nothing-${n}”: search by a payment reference (a tag the platform sent), an idempotency key, or an id such as evt_…, dlv_…`,
  );
  await snap(page, "history-search-empty-mobile");
  await hydrated(page);
  await page.getByTestId("menu-toggle").click();
  await expect(searchBox(page)).toHaveValue(`nothing-${n}`);
  await snap(page, "history-search-menu-mobile");
});

test("the Events page lists events newest first with tags, narrows by tag, and opens an event with its deliveries", async ({
  page,
  request,
  receiver,
}) => {
  const who = await createMerchant(request, "History");
  await createEndpoint(request, who, { url: receiver.url("/one") });
  await createEndpoint(request, who, { url: receiver.url("/two") });
  const n = unique();
  const first = await ingestTagged(request, who, "payin.succeeded", { n: 1, clientTransactionId: `pay_1-${n}` }, [`pay_1-${n}`]);
  const second = await ingestTagged(request, who, "payout.failed", { n: 2, payoutId: "po_7" }, [`pay_2-${n}`, `customer:cus_${n}`]);
  expect(first.deliveries).toBe(2);

  await logIn(page, who);
  await page.getByRole("link", { name: "Events", exact: true }).click();
  await expect(page).toHaveURL(/\/events$/);
  const rows = page.getByTestId("event-row");
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toHaveAttribute("data-event", second.id);
  await expect(rows.nth(1)).toHaveAttribute("data-event", first.id);
  await expect(rows.nth(0).getByTestId("tags")).toContainText(`pay_2-${n}`);
  await expect(rows.nth(0).getByTestId("tags")).toContainText(`customer:cus_${n}`);
  await expect(rows.nth(1).getByTestId("tags")).toHaveText(`pay_1-${n}`);
  await snap(page, "history-events");

  // The tag filter narrows the list, lives in the URL and survives a reload.
  await hydrated(page);
  await page.getByTestId("filter-tag").fill(`pay_1-${n}`);
  await page.getByTestId("filter-tag").press("Enter");
  await expect(page).toHaveURL(new RegExp(`tag=pay_1-${n}`));
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute("data-event", first.id);
  await page.reload();
  await expect(page.getByTestId("filter-tag")).toHaveValue(`pay_1-${n}`);
  await expect(rows).toHaveCount(1);
  await page.setViewportSize({ width: 390, height: 844 });
  await snap(page, "history-events-mobile");
  await page.setViewportSize({ width: 1280, height: 800 });

  // The event's page: its facts, payload, and one delivery per endpoint.
  await rows.first().getByTestId("event-link").click();
  await expect(page).toHaveURL(new RegExp(`/events/${first.id}$`));
  await expect(page.getByTestId("event-id")).toHaveText(first.id);
  await expect(page.getByTestId("tags")).toHaveText(`pay_1-${n}`);
  await expect(page.getByTestId("payload")).toContainText(`"clientTransactionId": "pay_1-${n}"`);
  const deliveries = page.getByTestId("event-delivery");
  await expect(deliveries).toHaveCount(2);
  await expect(deliveries.filter({ hasText: "/one" })).toHaveCount(1);
  await expect(deliveries.filter({ hasText: "/two" })).toHaveCount(1);
  await snap(page, "history-event");
  await deliveries.filter({ hasText: "/two" }).getByRole("link").click();
  await expect(page).toHaveURL(/\/deliveries\/dlv_[a-z0-9]+$/);
  await expect(page.getByTestId("event-link")).toHaveText(first.id);

  // The deliveries list shows tags and filters by them too.
  await page.goto(`/deliveries?tag=pay_2-${n}`);
  await expect(page.getByTestId("filter-tag")).toHaveValue(`pay_2-${n}`);
  const deliveryRows = page.getByTestId("delivery-row");
  await expect(deliveryRows).toHaveCount(2);
  await expect(deliveryRows.first().getByTestId("tags")).toContainText(`customer:cus_${n}`);

  // A tag whose one event went to two endpoints leads to the event.
  await searchBox(page).fill(`pay_2-${n}`);
  await searchBox(page).press("Enter");
  await expect(page).toHaveURL(new RegExp(`/events/${second.id}$`));
  await expect(page.getByTestId("event-delivery")).toHaveCount(2);
});

test("an operator's storage page shows what the database holds", async ({ page, request, receiver }) => {
  const who = await createMerchant(request, "Stored");
  await createEndpoint(request, who, { url: receiver.url() });
  await ingestTagged(request, who, "payin.succeeded", { n: 1 }, [`pay_s-${unique()}`]);
  const storage = async () => {
    const answer = await request.get("/api/v1/admin/storage", { headers: operator });
    expect(answer.status(), await answer.text()).toBe(200);
    return answer.json();
  };
  const before = await storage();
  expect(before.events).toBeGreaterThan(0);

  await logInAsAdmin(page);
  await page.getByRole("link", { name: "Storage", exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/storage$/);
  await expect(page.getByTestId("storage")).toBeVisible();
  const after = await storage();
  // Herald keeps working meanwhile (retries, its own events): the page's
  // counts are between what the API said before and after.
  const shown = async (testid: string) => Number((await page.getByTestId(testid).innerText()).replace(/\D/g, ""));
  for (const [testid, field] of [
    ["storage-events", "events"],
    ["storage-deliveries", "deliveries"],
    ["storage-attempts", "attempts"],
    ["storage-purged", "purged_events"],
  ]) {
    const count = await shown(testid);
    expect(count, testid).toBeGreaterThanOrEqual(before[field]);
    expect(count, testid).toBeLessThanOrEqual(after[field]);
  }
  await expect(page.getByTestId("storage-retention")).toContainText(after.retention === "off" ? "Off" : after.retention);
  await expect(page.getByTestId("storage-size")).toHaveText(
    after.database_bytes === null ? "Unknown" : /^\d+(\.\d)? (B|KB|MB|GB|TB)$/,
  );
  await expect(page.getByTestId("storage-oldest")).toContainText(after.oldest_event_at ? "UTC" : "None");
  await snap(page, "history-storage");
});

test("an operator finds any merchant's payment by its reference", async ({ page, request, receiver }) => {
  const who = await createMerchant(request, "Found");
  await createEndpoint(request, who, { url: receiver.url() });
  const tag = `pay_ops-${unique()}`;
  await ingestTagged(request, who, "payin.succeeded", { n: 1 }, [tag]);
  await ingestTagged(request, who, "payin.succeeded", { n: 2 }, [tag]);

  await logInAsAdmin(page);
  await page.getByRole("link", { name: "Search all accounts" }).click();
  await expect(page).toHaveURL(/\/admin\/search$/);
  const box = page.getByRole("searchbox", { name: "Search all merchants" });
  await box.fill(tag);
  await box.press("Enter");
  await expect(page.getByTestId("search-summary")).toHaveText(`2 events and 2 deliveries for “${tag}”`);
  await expect(page.getByTestId("events-table").getByTestId("merchant-cell").first()).toHaveText(who.name);
  await expect(page.getByTestId("deliveries-table").getByTestId("merchant-cell").first()).toHaveText(who.name);
  await snap(page, "history-admin-search");
  await page.getByTestId("event-link").first().click();
  await expect(page).toHaveURL(/\/admin\/events\/evt_[a-z0-9]+$/);
  await expect(page.getByTestId("event-delivery")).toHaveCount(1);
  await page.getByTestId("event-delivery").getByRole("link").click();
  await expect(page).toHaveURL(/\/admin\/deliveries\/dlv_[a-z0-9]+$/);
  await expect(page.getByTestId("tags")).toHaveText(tag);
});
