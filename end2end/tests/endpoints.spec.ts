import { test, expect, hydrated, newMerchant, signUp, snap, signedWith } from "./fixtures";

test("create an endpoint for payin.*, reveal its secret, send a test event, rotate, edit, delete", async ({
  page,
  receiver,
}) => {
  await signUp(page, newMerchant("Hooks"));
  await page.getByTestId("new-endpoint").click();
  await expect(page).toHaveURL(/\/endpoints\/new$/);

  await page.getByTestId("url-input").fill(receiver.url());
  await page.getByTestId("description-input").fill("Orders service");
  await page.getByTestId("all-payin").check();
  await expect(page.getByTestId("type-payin.succeeded")).toBeChecked();
  await page.getByTestId("headers-input").fill("X-Merchant-Tag: blue");
  await snap(page, "endpoint-form");
  await page.getByTestId("save-endpoint").click();

  await expect(page).toHaveURL(/\/endpoints\/ep_[a-z0-9]+$/);
  await expect(page.getByTestId("endpoint-events")).toHaveText("payin.*");
  await expect(page.getByTestId("endpoint-headers")).toHaveText("x-merchant-tag: blue");

  // The secret is hidden until revealed.
  await expect(page.getByTestId("secret")).toContainText("••••");
  await page.getByTestId("reveal-secret").click();
  await expect(page.getByTestId("secret")).toHaveText(/^whsec_[A-Za-z0-9+/]+=*$/);
  const secret = (await page.getByTestId("secret").textContent()) ?? "";

  // The test payload starts as the type's example and can be edited; bad JSON
  // is refused in place and sends nothing.
  await expect(page.getByTestId("test-payload")).toHaveValue(/^\{/);
  const example = JSON.parse(await page.getByTestId("test-payload").inputValue());
  await page.getByTestId("test-payload").fill("{ not json");
  await page.getByTestId("send-test").click();
  await expect(page.getByTestId("test-error")).toContainText("not valid JSON");
  expect(receiver.requests).toHaveLength(0);
  await page.getByTestId("test-payload").fill(JSON.stringify({ ...example, note: "edited in the dashboard" }));

  // The test event arrives signed with the secret, and shows up as succeeded without a reload.
  await page.getByTestId("send-test").click();
  await expect(page.getByTestId("test-sent")).toBeVisible();
  const row = page.getByTestId("recent-deliveries").getByTestId("delivery-row").first();
  await expect(row.getByTestId("status")).toHaveText("succeeded", { timeout: 15_000 });
  expect(receiver.requests).toHaveLength(1);
  expect(receiver.requests[0].headers["x-merchant-tag"]).toBe("blue");
  expect(JSON.parse(receiver.requests[0].body).live_mode).toBe(false);
  expect(JSON.parse(receiver.requests[0].body).data).toEqual({ ...example, note: "edited in the dashboard" });
  expect(signedWith(secret, receiver.requests[0])).toBe(true);

  // Rotation: a new secret, the old one still valid for the grace period.
  await page.getByTestId("rotate-toggle").click();
  await page.getByTestId("grace-select").selectOption("3600");
  await page.getByTestId("rotate-secret").click();
  await expect(page.getByTestId("rotation-note")).toContainText("also signs until");
  await expect(page.getByTestId("secret")).not.toHaveText(secret);
  const rotated = (await page.getByTestId("secret").textContent()) ?? "";
  expect(rotated).toMatch(/^whsec_/);
  await snap(page, "endpoint-detail");

  // The next test event carries both signatures.
  await page.getByTestId("send-test").click();
  await expect.poll(() => receiver.requests.length, { timeout: 15_000 }).toBe(2);
  expect(signedWith(rotated, receiver.requests[1])).toBe(true);
  expect(signedWith(secret, receiver.requests[1])).toBe(true);

  // The list shows each endpoint's last delivery.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Endpoints" }).click();
  await expect(page.getByTestId("last-delivery")).toContainText("succeeded");
  await snap(page, "endpoints");
  await page.getByTestId("endpoint-row").getByRole("link").click();

  // Edit: the change survives a reload.
  await page.getByTestId("edit-endpoint").click();
  await expect(page).toHaveURL(/\/edit$/);
  await expect(page.getByTestId("url-input")).toHaveValue(receiver.url());
  await page.getByTestId("description-input").fill("Orders service (primary)");
  await page.getByTestId("save-endpoint").click();
  await expect(page).toHaveURL(/\/endpoints\/ep_[a-z0-9]+$/);
  await page.reload();
  await expect(page.getByTestId("endpoint-description")).toHaveText("Orders service (primary)");
  // Until the app has loaded, Reveal says so instead of revealing.
  await hydrated(page);
  // The rotation's grace period is still shown after the reload.
  await page.getByTestId("reveal-secret").click();
  await expect(page.getByTestId("secret")).toHaveText(rotated);
  await expect(page.getByTestId("rotation-note")).toContainText("also signs until");

  // Delete, after confirming.
  // The confirmation takes focus; Escape closes it and gives focus back.
  await page.getByTestId("delete-endpoint").click();
  await expect(page.getByTestId("confirm-delete")).toContainText(receiver.url());
  await expect(page.getByTestId("confirm-delete-button")).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("confirm-delete")).toHaveCount(0);
  await expect(page.getByTestId("delete-endpoint")).toBeFocused();
  await page.getByTestId("delete-endpoint").click();
  await expect(page.getByTestId("confirm-delete")).toContainText(receiver.url());
  await page.getByTestId("confirm-delete-button").click();
  await expect(page).toHaveURL(/\/endpoints$/);
  await expect(page.getByTestId("endpoints-empty")).toBeVisible();
});

test("a bad URL gets an error next to the field and creates nothing", async ({ page }) => {
  await signUp(page, newMerchant("BadUrl"));
  await page.goto("/endpoints/new");
  await hydrated(page);
  await page.getByTestId("url-input").fill("ftp://files.example.com/hooks");
  await page.getByTestId("save-endpoint").click();
  await expect(page.getByTestId("url-error")).toContainText("https");
  await expect(page).toHaveURL(/\/endpoints\/new$/);
  await page.goto("/endpoints");
  await expect(page.getByTestId("endpoints-empty")).toBeVisible();
});

test("several mistakes are all named at once, each next to its field, in plain words", async ({ page }) => {
  await signUp(page, newMerchant("Mistakes"));
  await page.goto("/endpoints/new");
  await hydrated(page);
  await page.getByTestId("url-input").fill("ftp://files.example.com/hooks");
  await page.getByTestId("headers-input").fill("no colon here");
  await page.getByTestId("rate-limit-input").fill("fast");
  await page.getByTestId("save-endpoint").click();
  await expect(page.getByTestId("form-error")).toContainText("3 fields need changing");
  await expect(page.getByTestId("url-error")).toContainText("https");
  await expect(page.getByTestId("rate_limit_per_s-error")).toContainText("whole number");
  await expect(page.getByTestId("headers-error")).toContainText("“Name: value”");
  await expect(page.getByTestId("headers-error")).not.toContainText("`");
  await snap(page, "endpoint-form-errors");
  await expect(page).toHaveURL(/\/endpoints\/new$/);
  // Fixing one leaves the others named.
  await page.getByTestId("url-input").fill("https://hooks.example.com/payments");
  await page.getByTestId("save-endpoint").click();
  await expect(page.getByTestId("form-error")).toContainText("2 fields need changing");
  await expect(page.getByTestId("url-error")).toBeEmpty();
  await page.goto("/endpoints");
  await expect(page.getByTestId("endpoints-empty")).toBeVisible();
});

test("the endpoint page works at a phone's width", async ({ page, receiver }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signUp(page, newMerchant("Phone"));
  await page.goto("/endpoints/new");
  await hydrated(page);
  await page.getByTestId("url-input").fill(receiver.url());
  await page.getByTestId("save-endpoint").click();
  await expect(page).toHaveURL(/\/endpoints\/ep_/);
  await page.getByTestId("reveal-secret").click();
  await expect(page.getByTestId("secret")).toHaveText(/^whsec_/);
  await snap(page, "endpoint-detail-mobile");
});
