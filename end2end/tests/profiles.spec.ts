import crypto from "node:crypto";
import { test, expect, hydrated, logInAsAdmin, newMerchant, signUp, snap } from "./fixtures";
import type { Page } from "@playwright/test";

/**
 * Screenshots of a page at the desktop and the phone width. At 390 px the page
 * must not pan sideways, and each of `parts` (this page's own content) must sit
 * within the screen; a table wider than that scrolls inside its own box, as on
 * every page (every-page.spec.ts).
 */
async function snapBoth(page: Page, name: string, parts: string[]) {
  await page.setViewportSize({ width: 1280, height: 800 });
  await snap(page, `${name}-1280`);
  await page.setViewportSize({ width: 390, height: 844 });
  const pans = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(pans, `${name} is wider than a 390 px screen`).toBeLessThanOrEqual(0);
  for (const part of parts) {
    const past = await page
      .getByTestId(part)
      .evaluate((el) => el.getBoundingClientRect().right - window.innerWidth);
    expect(past, `${part} on ${name} sticks out of a 390 px screen`).toBeLessThanOrEqual(0.5);
  }
  await snap(page, `${name}-390`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

test("choosing a profile in the endpoint form, and seeing it with its timeout on the endpoint page", async ({
  page,
  receiver,
}) => {
  await signUp(page, newMerchant("Profiles"));
  await page.goto("/endpoints/new");
  await hydrated(page);
  const select = page.getByTestId("endpoint-profile-select");
  await expect(select).toHaveValue("standard");
  await select.selectOption("payvost");
  await expect(page.getByTestId("endpoint-profile-description")).toContainText("Payvost-Signature");
  await page.getByTestId("url-input").fill(receiver.url());
  await page.getByTestId("timeout-input").fill("30s");
  await snapBoth(page, "endpoint-form-profile", ["endpoint-form"]);
  await page.getByTestId("save-endpoint").click();
  await expect(page).toHaveURL(/\/endpoints\/ep_[a-z0-9]+$/);
  await expect(page.getByTestId("endpoint-profile")).toContainText("payvost");
  await expect(page.getByTestId("endpoint-timeout")).toHaveText("30s per attempt");
  await expect(page).toHaveTitle(/^Endpoint 127\.0\.0\.1:\d+ · Herald$/);

  // The form shows the choice back; a timeout outside 1s–60s is refused in place.
  await page.getByTestId("edit-endpoint").click();
  await hydrated(page);
  await expect(page.getByTestId("endpoint-profile-select")).toHaveValue("payvost");
  await expect(page.getByTestId("timeout-input")).toHaveValue("30s");
  await page.getByTestId("timeout-input").fill("90s");
  await page.getByTestId("save-endpoint").click();
  await expect(page.getByTestId("timeout-error")).toContainText("60s");
  await expect(page).toHaveURL(/\/edit$/);
});

test("an RSA profile's endpoint shows its public key as PEM and as base64 X.509", async ({ page, receiver }) => {
  await signUp(page, newMerchant("Rsa"));
  await page.goto("/endpoints/new");
  await hydrated(page);
  await page.getByTestId("endpoint-profile-select").selectOption("paysecure");
  await expect(page.getByTestId("profile-key-note")).toContainText("RSA");
  await page.getByTestId("url-input").fill(receiver.url());
  await page.getByTestId("save-endpoint").click();
  await expect(page).toHaveURL(/\/endpoints\/ep_[a-z0-9]+$/);
  await expect(page.getByTestId("endpoint-profile")).toContainText("paysecure");
  await expect(page.getByTestId("endpoint-signature")).toHaveText("RSA-SHA256, in the headers of the paysecure profile");

  const pem = (await page.getByTestId("rsa-public-key-pem").textContent()) ?? "";
  const base64 = (await page.getByTestId("rsa-public-key-base64").textContent()) ?? "";
  expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n?$/);
  // Both forms are the same key, of at least 2048 bits, as Java's X509EncodedKeySpec reads the second.
  const fromPem = crypto.createPublicKey(pem);
  const fromDer = crypto.createPublicKey({ key: Buffer.from(base64.trim(), "base64"), format: "der", type: "spki" });
  expect(fromDer.export({ format: "pem", type: "spki" })).toBe(fromPem.export({ format: "pem", type: "spki" }));
  expect(fromPem.asymmetricKeyDetails?.modulusLength ?? 0).toBeGreaterThanOrEqual(2048);
  await expect(page.getByTestId("copy-rsa-pem")).toBeVisible();
  await expect(page.getByTestId("copy-rsa-base64")).toBeVisible();
  await snapBoth(page, "endpoint-rsa-key", ["rsa-key-panel", "secret-panel"]);
});

test("the Event types page shows a bundled profile's verify code in four languages, and its own type names", async ({
  page,
}) => {
  await signUp(page, newMerchant("Snippets"));
  await page.goto("/event-types");
  await hydrated(page);
  const section = page.getByTestId("profile-snippets");
  await expect(section.getByTestId("snippet-code")).toContainText('"standard" profile');

  await page.getByTestId("snippet-profile").selectOption("paysecure");
  const code = section.getByTestId("snippet-code");
  await expect(code).toContainText('"paysecure" profile');
  await expect(code).toContainText("paysecure_sign");
  await expect(code).toContainText("purchaseId|status|brandId");
  await page.getByTestId("snippet-lang-java").click();
  await expect(code).toContainText('Signature.getInstance("SHA256withRSA")');
  await expect(code).toContainText("X509EncodedKeySpec");
  await page.getByTestId("snippet-lang-php").click();
  await expect(code).toContainText("openssl_verify(");
  await page.getByTestId("snippet-lang-python").click();
  await expect(code).toContainText("padding.PKCS1v15()");
  await expect(page.getByTestId("snippet-type-note")).toContainText("does not send the type");

  // Picking another profile keeps the language; its own type names are listed.
  await page.getByTestId("snippet-profile").selectOption("event-envelope");
  await expect(code).toContainText('"event-envelope" profile');
  await expect(code).toContainText("def verify_webhook(headers, payload: bytes):");
  await expect(page.getByTestId("renamed-payin.succeeded")).toHaveText("payin.succeeded → PAYIN_SUCCESS");
  await page.getByTestId("snippet-lang-node").click();
  await expect(code).toContainText('headers["webhook-signature"]');
  await snapBoth(page, "event-types-snippets", ["profile-snippets"]);
});

test("an operator adds a profile: a mistake is named next to the JSON, then the fixed one is listed", async ({
  page,
}) => {
  await logInAsAdmin(page);
  await page.goto("/admin/profiles");
  await hydrated(page);
  await expect(page.getByTestId("profiles-table")).toContainText("paysecure");
  await expect(page.locator('[data-testid="profile-row"][data-profile="standard"]')).toContainText("Bundled");

  const name = `acme-${Date.now().toString(36)}`;
  const profile = {
    name,
    description: "Acme's format",
    envelope: { kind: "standard" },
    signatures: [
      { header: "X Acme Signature", algorithm: "hmac-sha256", encoding: "hex", signed: { kind: "body" }, hmac_key: "text" },
    ],
  };
  await page.getByTestId("profile-json").fill(JSON.stringify(profile, null, 2));
  await page.getByTestId("save-profile").click();
  await expect(page.getByTestId("profile-error-field")).toHaveText("signatures[0].header");
  await expect(page.getByTestId("profile-error")).toContainText("not an HTTP header name");
  await snapBoth(page, "admin-profiles-error", ["profile-editor", "profiles-table"]);

  profile.signatures[0].header = "X-Acme-Signature";
  await page.getByTestId("profile-json").fill(JSON.stringify(profile, null, 2));
  await page.getByTestId("save-profile").click();
  await expect(page.getByTestId("profile-saved")).toContainText(name);
  await expect(page.getByTestId("profile-error")).toBeEmpty();
  const row = page.locator(`[data-testid="profile-row"][data-profile="${name}"]`);
  await expect(row).toContainText("hmac-sha256");
  await expect(row).toContainText("Operators'");

  // Opening it puts it back in the editor to change it.
  await row.getByTestId("open-profile").click();
  await expect(page.getByTestId("profile-editor-title")).toHaveText(`Edit ${name}`);
  await expect(page.getByTestId("profile-json")).toHaveValue(new RegExp(`"name": "${name}"`));
  await snapBoth(page, "admin-profiles", ["profile-editor", "profiles-table"]);
});

test("callbacks are sent in a profile chosen on the Endpoints page, among those the callback secret can sign", async ({
  page,
}) => {
  await signUp(page, newMerchant("Callback profile"));
  await page.goto("/endpoints");
  await hydrated(page);
  const select = page.getByTestId("callback-profile-select");
  await expect(select).toHaveValue("standard");
  // The callback secret is an HMAC key: RSA profiles are not offered.
  await expect(select.locator("option[value=paysecure]")).toHaveCount(0);
  await expect(select.locator("option[value=paywize]")).toHaveCount(1);
  await select.selectOption("paywize");
  await page.getByTestId("save-callback-profile").click();
  await expect(page.getByTestId("callback-profile-saved")).toContainText("sent as paywize");
  await snapBoth(page, "callback-profile", ["callback-secret-panel"]);

  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("callback-profile-select")).toHaveValue("paywize");
});
