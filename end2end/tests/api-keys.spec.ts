import { test, expect, newMerchant, signUp, snap } from "./fixtures";

test("create an API key, use it, revoke it", async ({ page, request }) => {
  await signUp(page, newMerchant("Keys"));
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API keys" }).click();
  await expect(page).toHaveURL(/\/api-keys$/);
  await expect(page.getByTestId("keys-empty")).toBeVisible();

  await page.getByTestId("key-name").fill("CI deploys");
  await page.getByTestId("create-key").click();
  await expect(page.getByTestId("new-key")).toContainText("shown only once");
  const key = (await page.getByTestId("new-key-value").textContent()) ?? "";
  expect(key).toMatch(/^hk_/);
  await expect(page.getByTestId("key-row")).toHaveCount(1);
  await expect(page.getByTestId("key-row")).toContainText("CI deploys");
  await expect(page.getByTestId("key-row")).not.toContainText(key);
  await snap(page, "api-keys");

  const auth = { authorization: `Bearer ${key}` };
  expect((await request.get("/api/v1/endpoints", { headers: auth })).status()).toBe(200);

  await page.getByTestId("revoke-key").click();
  await page.getByTestId("confirm-revoke").click();
  await expect(page.getByTestId("keys-empty")).toBeVisible();
  expect((await request.get("/api/v1/endpoints", { headers: auth })).status()).toBe(401);
});
