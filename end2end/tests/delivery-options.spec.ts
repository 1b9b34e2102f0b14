import crypto from "node:crypto";
import { test, expect, createMerchant, createEndpoint, hydrated, ingest, logIn, newMerchant, signUp, snap, Received } from "./fixtures";

/** The DER prefix of an Ed25519 public key (RFC 8410); the 32 key bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** Verifies a delivery's `v1a,` signature with node's own Ed25519, as a merchant would. */
function signedWithPublicKey(whpk: string, request: Received): boolean {
  const key = crypto.createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(whpk.replace(/^whpk_/, ""), "base64")]),
    format: "der",
    type: "spki",
  });
  const id = request.headers["webhook-id"];
  const timestamp = request.headers["webhook-timestamp"];
  const signed = Buffer.from(`${id}.${timestamp}.${request.body}`);
  return String(request.headers["webhook-signature"])
    .split(" ")
    .filter((s) => s.startsWith("v1a,"))
    .some((s) => crypto.verify(null, signed, key, Buffer.from(s.slice(4), "base64")));
}

/** Decrypts `{"data","iv"}` with node's own AES-256-CBC. */
function decrypt(encryptionKey: string, body: string) {
  const { data, iv } = JSON.parse(body);
  const decipher = crypto.createDecipheriv(
    "aes-256-cbc",
    Buffer.from(encryptionKey, "base64"),
    Buffer.from(iv, "base64"),
  );
  return JSON.parse(Buffer.concat([decipher.update(data, "base64"), decipher.final()]).toString());
}

test("an endpoint that signs with Ed25519 and encrypts: its keys on its page, a test event that verifies and decrypts", async ({
  page,
  receiver,
}) => {
  await signUp(page, newMerchant("Keys"));
  await page.goto("/endpoints/new");
  // Typed before hydration, the fields would be reset to the form's state.
  await hydrated(page);
  await page.getByTestId("url-input").fill(receiver.url());
  await page.getByTestId("signature-scheme-select").selectOption("ed25519");
  await page.getByTestId("encrypted-input").check();
  await page.getByTestId("retry-schedule-input").fill("0s, 30s, 5m");
  await page.getByTestId("save-endpoint").click();
  await expect(page).toHaveURL(/\/endpoints\/ep_[a-z0-9]+$/);

  await expect(page.getByTestId("endpoint-signature")).toHaveText("Ed25519 (v1a)");
  await expect(page.getByTestId("endpoint-encryption")).toHaveText("Encrypted (AES-256-CBC)");
  await expect(page.getByTestId("endpoint-retry-schedule")).toHaveText("0s, 30s, 5m");
  const panel = page.getByTestId("secret-panel");
  await expect(panel.getByRole("heading")).toHaveText("Public key");
  await page.getByTestId("reveal-secret").click();
  await expect(page.getByTestId("secret")).toHaveText(/^whpk_[A-Za-z0-9+/]{43}=$/);
  await expect(page.getByTestId("encryption-key")).toHaveText(/^[A-Za-z0-9+/]{43}=$/);
  const whpk = (await page.getByTestId("secret").textContent()) ?? "";
  const encryptionKey = (await page.getByTestId("encryption-key").textContent()) ?? "";
  await snap(page, "endpoint-ed25519-encrypted");

  await page.getByTestId("send-test").click();
  await expect.poll(() => receiver.requests.length, { timeout: 15_000 }).toBe(1);
  const got = receiver.requests[0];
  expect(Object.keys(JSON.parse(got.body))).toEqual(["data", "iv"]);
  expect(signedWithPublicKey(whpk, got)).toBe(true);
  const envelope = decrypt(encryptionKey, got.body);
  expect(envelope.type).toBe("payin.succeeded");
  expect(envelope.live_mode).toBe(false);

  // The form shows the choices back, and legacy signing beside Ed25519 is refused in place.
  await page.getByTestId("edit-endpoint").click();
  await expect(page.getByTestId("signature-scheme-select")).toHaveValue("ed25519");
  await expect(page.getByTestId("encrypted-input")).toBeChecked();
  await page.getByTestId("legacy-signature-input").check();
  await page.getByTestId("save-endpoint").click();
  await expect(page.getByTestId("legacy_signature-error")).toContainText("hmac");
  await expect(page).toHaveURL(/\/edit$/);
});

test("test-mode events can be left out of the deliveries list and the overview", async ({
  page,
  request,
  receiver,
}) => {
  const who = await createMerchant(request, "Sandbox");
  const endpoint = await createEndpoint(request, who, { url: receiver.url() });
  await ingest(request, who, "payin.succeeded", { live: "yes" });
  const sent = await request.post(`/api/v1/endpoints/${endpoint.id}/test`, {
    headers: { authorization: `Bearer ${who.apiKey}` },
    data: { event_type: "payout.failed" },
  });
  expect(sent.status(), await sent.text()).toBe(202);
  await logIn(page, who);

  await page.goto("/deliveries");
  await expect(page.getByTestId("delivery-row")).toHaveCount(2);
  await expect(page.getByTestId("delivery-row").locator(".badge.test")).toHaveCount(1);
  await page.getByTestId("filter-mode").selectOption("live");
  await expect(page).toHaveURL(/mode=live/);
  await expect(page.getByTestId("delivery-row")).toHaveCount(1);
  await expect(page.getByTestId("delivery-row")).toContainText("payin.succeeded");
  await page.getByTestId("filter-mode").selectOption("test");
  await expect(page.getByTestId("delivery-row")).toHaveCount(1);
  await expect(page.getByTestId("delivery-row")).toContainText("payout.failed");
  await snap(page, "deliveries-test-mode");

  await page.goto("/");
  await expect(page.getByTestId("chart")).toHaveAttribute("aria-label", /^2 deliveries/);
  await page.getByTestId("toggle-test-events").click();
  await expect(page).toHaveURL(/\?mode=live$/);
  await expect(page.getByTestId("chart")).toHaveAttribute("aria-label", /^1 deliveries/);
  await expect(page.getByTestId("toggle-test-events")).toHaveText("Include test events");
});
