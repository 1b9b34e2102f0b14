import {
  test,
  expect,
  createMerchant,
  createEndpoint,
  ingest,
  logInAsAdmin,
  newMerchant,
  signUp,
  snap,
} from "./fixtures";

test("an operator sees another merchant's failed delivery and bulk-retries it", async ({
  page,
  request,
  receiver,
}) => {
  const who = await createMerchant(request, "Shop");
  receiver.respond = () => 500;
  await createEndpoint(request, who, { url: receiver.url() });
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
  await expect(page.getByTestId("queued")).toContainText("1 deliveries queued");
  await expect.poll(() => receiver.requests.length, { timeout: 15_000 }).toBe(before + 1);
  await expect
    .poll(
      async () => (await (await request.get("/api/v1/deliveries?status=succeeded", { headers: auth })).json()).data.length,
      { timeout: 15_000 },
    )
    .toBe(1);
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
