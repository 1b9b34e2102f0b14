import {
  test,
  expect,
  createMerchant,
  createEndpoint,
  ingest,
  logInAsAdmin,
  hydrated,
  snap,
  Receiver,
} from "./fixtures";
import { PLATFORM_TOKEN } from "../playwright.config";

const operator = { authorization: `Bearer ${PLATFORM_TOKEN}` };

test("the operators' endpoints page shows what is broken; merchants show their counts", async ({
  page,
  request,
  receiver,
}) => {
  const who = await createMerchant(request, "Console");
  const other = await createMerchant(request, "Bystander");
  const broken = await new Receiver().start();
  broken.respond = () => 500;
  try {
    const healthy = await createEndpoint(request, who, { url: receiver.url("/healthy") });
    const failing = await createEndpoint(request, who, { url: broken.url("/failing") });
    const bystander = await createEndpoint(request, other, { url: receiver.url("/bystander-hooks") });
    await ingest(request, who, "payout.failed", { payoutId: "po_1" });
    await ingest(request, other, "payout.failed", { payoutId: "po_2" });
    // The failing endpoint's delivery runs out of retries (0s, 2s, 5s).
    await expect
      .poll(
        async () => {
          const answer = await request.get(
            `/api/v1/admin/endpoints?merchant=${encodeURIComponent(who.name)}&sort=failure_rate`,
            { headers: operator },
          );
          return (await answer.json()).data[0]?.failed_24h;
        },
        { timeout: 20_000 },
      )
      .toBe(1);

    await logInAsAdmin(page);
    await page.getByRole("link", { name: "All endpoints" }).click();
    await expect(page).toHaveURL(/\/admin\/endpoints/);
    await hydrated(page);
    const merchantFilter = page.getByTestId("filter-merchant-name");
    await merchantFilter.fill(who.name.toUpperCase());
    await merchantFilter.press("Enter");
    await expect(page).toHaveURL(/merchant=CONSOLE/);
    const rows = page.getByTestId("admin-endpoint-row");
    await expect(rows).toHaveCount(2);
    await expect(page.getByTestId("showing")).toHaveText("Showing 1–2 of 2 endpoints");
    // Failure rate first: the failing endpoint on top, with what the rate is from.
    const top = rows.first();
    await expect(top).toHaveAttribute("data-endpoint", failing.id);
    await expect(top.getByTestId("failure-rate")).toHaveText("100%");
    await expect(top.getByTestId("failure-count")).toHaveText("1 of 1 failed");
    await expect(top.getByTestId("failing")).toBeVisible();
    await expect(top.getByTestId("last-delivery")).toContainText("failed");
    await expect(rows.nth(1)).toHaveAttribute("data-endpoint", healthy.id);
    await expect(rows.nth(1).getByTestId("failure-rate")).toHaveText("0%");
    await snap(page, "operator-endpoints");
    await page.setViewportSize({ width: 390, height: 844 });
    await snap(page, "phone-operator-endpoints");
    await page.setViewportSize({ width: 1280, height: 800 });

    // Sorted by URL instead: the server's order, kept in the URL.
    await page.getByTestId("sort-endpoints").selectOption("url");
    await expect(page).toHaveURL(/sort=url/);
    const byUrl = [healthy, failing].sort((a, b) => (a.url.toLowerCase() < b.url.toLowerCase() ? -1 : 1));
    await expect(rows.first()).toHaveAttribute("data-endpoint", byUrl[0].id);
    await expect(rows.nth(1)).toHaveAttribute("data-endpoint", byUrl[1].id);

    // By URL text, across merchants; a reload keeps the view.
    await page.getByTestId("clear-filters").click();
    await expect(page).not.toHaveURL(/merchant=/);
    await page.getByTestId("filter-url").fill("BYSTANDER-hooks");
    await page.getByTestId("filter-url").press("Enter");
    await expect(page).toHaveURL(/url=BYSTANDER-hooks/);
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toHaveAttribute("data-endpoint", bystander.id);
    await page.reload();
    await hydrated(page);
    await expect(rows).toHaveCount(1);
    await expect(page.getByTestId("filter-url")).toHaveValue("BYSTANDER-hooks");
    await expect(rows.first().getByTestId("endpoint-merchant")).toHaveText(other.name);

    // Merchants, with counts that open what they count.
    await page.getByRole("link", { name: "Merchants" }).click();
    const merchant = page.locator(`[data-merchant="${who.id}"]`);
    await expect(merchant.getByTestId("endpoints-enabled")).toHaveText("2 enabled");
    await expect(merchant.getByTestId("members")).toHaveText("1");
    await expect(merchant.getByTestId("deliveries-24h")).toHaveText("2");
    await expect(merchant.getByTestId("failed-24h")).toHaveText("1");
    await snap(page, "operator-merchants");
    await page.setViewportSize({ width: 390, height: 844 });
    await snap(page, "phone-operator-merchants");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 800 });
    await merchant.getByTestId("endpoints-enabled").click();
    await expect(page).toHaveURL(new RegExp(`merchant_id=${who.id}`));
    await expect(page.getByTestId("merchant-only")).toContainText(who.name);
    await expect(rows).toHaveCount(2);
    await page.goto("/admin/merchants");
    await page.locator(`[data-merchant="${who.id}"]`).getByTestId("failed-24h").click();
    await expect(page).toHaveURL(new RegExp(`/admin/deliveries\\?status=failed&merchant_id=${who.id}`));
    await expect(page.getByTestId("delivery-row")).toHaveCount(1);
  } finally {
    await broken.stop();
  }
});

test("an operator edits a type in place, and Archive asks first", async ({ page, request }) => {
  const name = `payout.console_${Date.now().toString(36)}`;
  const created = await request.post("/api/v1/admin/event-types", {
    headers: operator,
    data: { name, description: "A payout was recalled.", example: { payoutId: "po_1" } },
  });
  expect(created.status(), await created.text()).toBe(201);
  const current = async () => {
    const all = await (await request.get("/api/v1/admin/event-types", { headers: operator })).json();
    return all.data.find((t: { name: string }) => t.name === name);
  };

  await logInAsAdmin(page);
  await page.goto("/admin/event-types");
  await hydrated(page);
  const row = page.locator(`[data-type="${name}"]`);
  await row.getByTestId("edit-type").click();
  const form = page.getByTestId("edit-type-form");
  await expect(form.getByLabel("Description")).toHaveValue("A payout was recalled.");
  await form.getByLabel("Description").fill("A payout was recalled by the bank.");
  // Not an object: refused, naming the field, and nothing changes.
  await form.getByTestId("edit-example").fill("[1, 2]");
  await form.getByTestId("save-type").click();
  await expect(form.getByTestId("edit-example-error")).toContainText("JSON object");
  expect((await current()).description).toBe("A payout was recalled.");
  await form.getByTestId("edit-example").fill('{"payoutId": "po_9", "reason": "recalled"}');
  await form.getByTestId("save-type").click();
  await expect(page.getByTestId("type-saved")).toContainText(name);
  await expect(form).toHaveCount(0);
  await expect(row.getByTestId("type-description")).toHaveText("A payout was recalled by the bank.");
  const saved = await current();
  expect(saved.example).toEqual({ payoutId: "po_9", reason: "recalled" });

  // Archive says what it does and whom it reaches; Cancel changes nothing.
  const archiveButton = row.getByTestId("toggle-archive");
  await archiveButton.click();
  const ask = row.getByTestId("confirm-archive");
  await expect(ask).toContainText("The platform can no longer send it");
  await expect(row.getByTestId("archive-reach")).toHaveText(/endpoints? receives? it now|No endpoint receives it now/);
  await expect(row.getByTestId("confirm-archive-button")).toBeFocused();
  await snap(page, "operator-archive-asks");
  await row.getByTestId("cancel-archive").click();
  await expect(ask).toHaveCount(0);
  await expect(archiveButton).toBeFocused();
  await expect(row).toContainText("Active");
  expect((await current()).archived).toBe(false);
  // Escape closes it too; confirming archives.
  await archiveButton.click();
  await page.keyboard.press("Escape");
  await expect(ask).toHaveCount(0);
  expect((await current()).archived).toBe(false);
  await archiveButton.click();
  await row.getByTestId("confirm-archive-button").click();
  await expect(row).toContainText("Archived");
  expect((await current()).archived).toBe(true);
});
