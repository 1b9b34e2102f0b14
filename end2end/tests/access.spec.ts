import { APIRequestContext, Page } from "@playwright/test";
import { test, expect, createMerchant, createEndpoint, hydrated, ingest, logIn, newMerchant, signUp, snap, ApiMerchant } from "./fixtures";
import { PLATFORM_TOKEN } from "../playwright.config";

// Who gets in: login links, teams (invite, accept, roles), passwords.

/** The path of a link Herald made (its host is HERALD_PUBLIC_URL's). */
function pathOf(url: string): string {
  return new URL(url).pathname;
}

/** An invitation made through the API with the merchant's key: its link. */
async function invitation(request: APIRequestContext, owner: ApiMerchant, email: string, role: string) {
  const answer = await request.post("/api/v1/invitations", {
    headers: { authorization: `Bearer ${owner.apiKey}` },
    data: { email, role },
  });
  expect(answer.status(), await answer.text()).toBe(201);
  return (await answer.json()).url as string;
}

/** Opens an invitation's link, chooses a password and joins. */
async function accept(page: Page, url: string, password: string) {
  await page.goto(pathOf(url));
  await hydrated(page);
  await page.getByLabel("Choose a password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Join and log in" }).click();
}

test("a login link opens the dashboard once", async ({ page, request }) => {
  const who = await createMerchant(request, "Linked");
  const answer = await request.post(`/api/v1/admin/merchants/${who.id}/login-links`, {
    headers: { authorization: `Bearer ${PLATFORM_TOKEN}` },
  });
  expect(answer.status(), await answer.text()).toBe(201);
  const link = pathOf((await answer.json()).url);

  await page.goto(link);
  await expect(page.getByTestId("merchant-name")).toHaveText(who.name);
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();

  await page.context().clearCookies();
  await page.goto(link);
  await expect(page).toHaveURL(/\/login\?link=used$/);
  await expect(page.getByTestId("login-link-refused")).toContainText("used already");
});

test("an owner invites a developer, who accepts and logs in", async ({ page, request }) => {
  const owner = await createMerchant(request, "Team");
  await logIn(page, owner);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Members" }).click();
  await expect(page).toHaveURL(/\/members$/);
  await hydrated(page);

  const dev = newMerchant("Dev");
  await page.getByLabel("Email", { exact: true }).fill(dev.email);
  await page.getByLabel("Role", { exact: true }).selectOption("developer");
  await page.getByRole("button", { name: "Invite" }).click();
  const url = (await page.getByTestId("invitation-url").textContent()) ?? "";
  expect(url).toContain("/invitations/hin_");
  await expect(page.getByTestId("invitation-row")).toContainText(dev.email);
  await snap(page, "members");

  await page.context().clearCookies();
  await accept(page, url, dev.password);
  await expect(page.getByTestId("merchant-name")).toHaveText(owner.name);

  // Logged out, the developer logs in with the new password.
  await page.getByTestId("logout").click();
  await expect(page).toHaveURL(/\/login$/);
  await logIn(page, { ...dev, name: owner.name });
  await page.goto("/members");
  await expect(page.getByTestId("members-table")).toContainText(dev.email);
  await expect(page.getByTestId("members-table")).toContainText(owner.email);
  // A developer sees the team but cannot change it.
  await expect(page.getByTestId("invite-form")).toHaveCount(0);
  await expect(page.getByTestId("remove-member")).toHaveCount(0);
});

test("a viewer sees no Reveal button and no way to change things", async ({ page, request }) => {
  const owner = await createMerchant(request, "Watched");
  const endpoint = await createEndpoint(request, owner, { url: "http://127.0.0.1:9/hooks" });
  const viewer = newMerchant("Viewer");
  await accept(page, await invitation(request, owner, viewer.email, "viewer"), viewer.password);
  await expect(page.getByTestId("merchant-name")).toHaveText(owner.name);

  await page.goto(`/endpoints/${endpoint.id}`);
  await hydrated(page);
  await expect(page.getByTestId("endpoint-url")).toHaveText("http://127.0.0.1:9/hooks");
  await expect(page.getByTestId("secret-hidden-for-role")).toBeVisible();
  await expect(page.getByTestId("reveal-secret")).toHaveCount(0);
  await expect(page.getByTestId("edit-endpoint")).toHaveCount(0);
  await snap(page, "viewer-endpoint");

  await page.goto("/endpoints");
  await hydrated(page);
  await expect(page.getByTestId("new-endpoint")).toHaveCount(0);
  await expect(page.getByTestId("reveal-callback-secret")).toHaveCount(0);
  await page.goto("/api-keys");
  await hydrated(page);
  await expect(page.getByTestId("create-key-form")).toHaveCount(0);
  await expect(page.getByTestId("revoke-key")).toHaveCount(0);

  // Deliveries: seen, never retried by a viewer.
  await ingest(request, owner, "payin.succeeded", { clientTransactionId: "pay_viewer" });
  const listed = await request.get("/api/v1/deliveries", {
    headers: { authorization: `Bearer ${owner.apiKey}` },
  });
  expect(listed.status(), await listed.text()).toBe(200);
  const delivery = (await listed.json()).data[0];
  await page.goto("/deliveries");
  await hydrated(page);
  await expect(page.getByTestId("delivery-row").first()).toBeVisible();
  await expect(page.getByTestId("retry-selected")).toHaveCount(0);
  await page.goto(`/deliveries/${delivery.id}`);
  await hydrated(page);
  await expect(page.getByText(delivery.id, { exact: true }).first()).toBeVisible();
  await expect(page.getByTestId("retry")).toHaveCount(0);
  // The tab says which delivery this is.
  await expect(page).toHaveTitle("Delivery of payin.succeeded to 127.0.0.1:9 · Herald");

  // Notifications: the settings are shown, not saved.
  await page.goto("/notifications");
  await hydrated(page);
  await expect(page.getByTestId("mail-settings")).toBeVisible();
  await expect(page.getByTestId("save-mail")).toHaveCount(0);
  await expect(page.getByTestId("mail-read-only")).toBeVisible();
});

test("a member changes their password; the old one stops working", async ({ page }) => {
  const who = newMerchant("Rotating");
  await signUp(page, who);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Account" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await hydrated(page);

  await page.getByLabel("Current password", { exact: true }).fill("not my password");
  await page.getByLabel("New password", { exact: true }).fill("a brand new passphrase");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByTestId("current_password-error")).toContainText("not your current password");

  await page.getByLabel("Current password", { exact: true }).fill(who.password);
  await page.getByLabel("New password", { exact: true }).fill("a brand new passphrase");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByTestId("password-changed")).toBeVisible();
  await snap(page, "account");

  await page.getByTestId("logout").click();
  await expect(page).toHaveURL(/\/login$/);
  await hydrated(page);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password", { exact: true }).fill(who.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("form-error")).toContainText("do not match");
  await logIn(page, { ...who, password: "a brand new passphrase" });
});

test("without SMTP the forgot-password page says how to get back in", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await expect(page).toHaveURL(/\/forgot-password$/);
  await expect(page.getByTestId("reset-unavailable")).toContainText("cannot send e-mail");
  await snap(page, "forgot-password");
});
