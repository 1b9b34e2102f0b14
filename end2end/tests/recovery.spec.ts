import { APIRequestContext } from "@playwright/test";
import {
  test,
  expect,
  createMerchant,
  createEndpoint,
  ingest,
  logIn,
  hydrated,
  snap,
  ApiMerchant,
  Received,
  signedWith,
} from "./fixtures";
import { PLATFORM_TOKEN } from "../playwright.config";

/** The merchant's API key as a header. */
function auth(who: ApiMerchant) {
  return { authorization: `Bearer ${who.apiKey}` };
}

/** Creates an endpoint with any of the API's fields (mode, retry_schedule…); returns its JSON. */
async function newEndpoint(request: APIRequestContext, who: ApiMerchant, data: Record<string, unknown>) {
  const answer = await request.post("/api/v1/endpoints", { headers: auth(who), data });
  expect(answer.status(), await answer.text()).toBe(201);
  return answer.json();
}

/** The merchant's deliveries with this query string, through the REST API. */
async function deliveries(
  request: APIRequestContext,
  who: ApiMerchant,
  query = "",
): Promise<Array<Record<string, unknown>>> {
  const answer = await request.get(`/api/v1/deliveries${query}`, { headers: auth(who) });
  expect(answer.status(), await answer.text()).toBe(200);
  return (await answer.json()).data;
}

/** How many events `recover` would send this endpoint from an hour ago (a dry run). */
async function wouldRecover(request: APIRequestContext, who: ApiMerchant, endpointId: string) {
  const answer = await request.post(`/api/v1/endpoints/${endpointId}/recover`, {
    headers: auth(who),
    data: { since: new Date(Date.now() - 3_600_000).toISOString(), dry_run: true },
  });
  expect(answer.status(), await answer.text()).toBe(200);
  return (await answer.json()).would_queue as number;
}

/** The event ids of these requests (`webhook-id`), sorted. */
function eventIds(requests: Received[]): string[] {
  return requests.map((r) => String(r.headers["webhook-id"])).sort();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("an endpoint created in test mode says so in the list and on its page", async ({ page, request, receiver }) => {
  const who = await createMerchant(request, "Sandbox Form");
  await createEndpoint(request, who, { url: receiver.url("/live") });
  await logIn(page, who);

  await page.goto("/endpoints/new");
  await hydrated(page);
  const mode = page.getByLabel("Mode", { exact: true });
  await expect(mode).toHaveValue("live");
  await expect(mode.locator("option")).toHaveText(["Live", "Test (sandbox)"]);
  await page.getByTestId("url-input").fill(receiver.url("/sandbox"));
  await mode.selectOption("test");
  await snap(page, "recovery-endpoint-form-mode");
  await page.getByTestId("save-endpoint").click();

  await expect(page).toHaveURL(/\/endpoints\/ep_[a-z0-9]+$/);
  await expect(page.getByTestId("endpoint-mode-fact")).toHaveText("Test (sandbox)");
  const id = new URL(page.url()).pathname.split("/").pop() ?? "";
  const saved = await (await request.get(`/api/v1/endpoints/${id}`, { headers: auth(who) })).json();
  expect(saved.mode).toBe("test");

  await page.goto("/endpoints");
  const rows = page.getByTestId("endpoint-row");
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: "/sandbox" }).getByTestId("endpoint-mode-badge")).toHaveText("test");
  await expect(rows.filter({ hasText: "/live" }).getByTestId("endpoint-mode-badge")).toHaveText("live");
  await snap(page, "recovery-endpoints-mode-badges");

  // The edit form shows the choice back.
  await page.goto(`/endpoints/${id}/edit`);
  await hydrated(page);
  await expect(page.getByTestId("endpoint-mode")).toHaveValue("test");
});

test("enabling an endpoint offers to send the events it missed, and sends them once", async ({
  page,
  request,
  receiver,
}) => {
  const who = await createMerchant(request, "Missed");
  const endpoint = await createEndpoint(request, who, { url: receiver.url(), event_types: ["payin.*"] });
  const off = await request.patch(`/api/v1/endpoints/${endpoint.id}`, {
    headers: auth(who),
    data: { enabled: false },
  });
  expect(off.status(), await off.text()).toBe(200);
  const missed = [
    await ingest(request, who, "payin.succeeded", { n: 1 }),
    await ingest(request, who, "payin.succeeded", { n: 2 }),
  ];
  for (const event of missed) expect(event.deliveries).toBe(0);

  await logIn(page, who);
  await page.goto(`/endpoints/${endpoint.id}`);
  await hydrated(page);
  await expect(page.getByTestId("endpoint-status")).toHaveText("Disabled");
  await expect(page.getByTestId("missed-offer")).toHaveCount(0);
  await page.getByTestId("enable-endpoint").click();
  await expect(page.getByTestId("endpoint-status")).toHaveText("Enabled");
  await expect(page.getByTestId("disable-endpoint")).toBeVisible();
  await expect(page.getByTestId("missed-offer")).toContainText("It missed 2 events since ");
  await expect(page.getByTestId("send-missed")).toHaveText("Send the 2 missed events");
  await snap(page, "recovery-missed-offer");
  expect(receiver.requests, "enabling alone sends nothing").toHaveLength(0);

  await page.getByTestId("send-missed").click();
  await expect(page.getByTestId("recover-result")).toHaveText("2 events queued.");
  await expect.poll(() => receiver.requests.length, { timeout: 15_000 }).toBe(2);
  expect(eventIds(receiver.requests)).toEqual(missed.map((e) => e.id).sort());
  expect(signedWith(endpoint.secret, receiver.requests[0])).toBe(true);
  await snap(page, "recovery-missed-sent");
  expect(await wouldRecover(request, who, endpoint.id), "nothing is left to send").toBe(0);

  // Disabling from the page works too.
  await page.getByTestId("disable-endpoint").click();
  await expect(page.getByTestId("endpoint-status")).toHaveText("Disabled");
  await expect(page.getByTestId("enable-endpoint")).toBeVisible();
  const seen = await (await request.get(`/api/v1/endpoints/${endpoint.id}`, { headers: auth(who) })).json();
  expect(seen.enabled).toBe(false);
  expect(seen.disabled_at).toEqual(expect.any(String));
  await sleep(500);
  expect(receiver.requests).toHaveLength(2);
});

test("replay failed deliveries and recover events from before the endpoint existed, from its page", async ({
  page,
  request,
  receiver,
}) => {
  const who = await createMerchant(request, "Replay");
  // Three events before the endpoint exists, with a whole second marked
  // between the first and the other two.
  const outside = await ingest(request, who, "payout.failed", { n: 1 });
  const from = new Date(Math.ceil((Date.now() + 50) / 1000) * 1000);
  await sleep(from.getTime() - Date.now() + 200);
  const early = [
    await ingest(request, who, "payout.failed", { n: 2 }),
    await ingest(request, who, "payout.failed", { n: 3 }),
  ];
  for (const e of [outside, ...early]) expect(e.deliveries).toBe(0);

  // An endpoint that fails fast: one attempt, answered 500.
  receiver.respond = () => 500;
  const endpoint = await newEndpoint(request, who, {
    url: receiver.url(),
    event_types: ["payout.*"],
    retry_schedule: ["0s"],
  });
  const failing: Array<{ id: string }> = [];
  for (const n of [4, 5, 6]) failing.push(await ingest(request, who, "payout.failed", { n }));
  await expect
    .poll(async () => (await deliveries(request, who, "?status=failed")).length, { timeout: 15_000 })
    .toBe(3);
  expect(receiver.requests).toHaveLength(3);

  receiver.respond = () => 200;
  await logIn(page, who);
  await page.goto(`/endpoints/${endpoint.id}`);
  await hydrated(page);
  const panel = page.getByTestId("recovery-panel");
  await expect(panel.getByRole("heading", { name: "Replay and recover" })).toBeVisible();

  // Replay: the three failures go again, with their event ids.
  await expect(panel.getByTestId("replay-since")).toHaveValue("24h");
  await panel.getByTestId("replay-failed").click();
  await expect(page.getByTestId("replay-result")).toHaveText("3 deliveries queued again.");
  await expect.poll(() => receiver.requests.length, { timeout: 15_000 }).toBe(6);
  expect(eventIds(receiver.requests.slice(3))).toEqual(failing.map((e) => e.id).sort());
  await expect
    .poll(async () => (await deliveries(request, who, "?status=succeeded")).length, { timeout: 15_000 })
    .toBe(3);

  // Recover: the events it never got, from the marked second on.
  await expect(panel.getByTestId("recover-since")).toHaveValue("24h");
  await expect(panel.getByTestId("recover-until")).toHaveValue("");
  await panel.getByLabel("From", { exact: true }).fill(from.toISOString());
  await panel.getByTestId("count-missed").click();
  await expect(page.getByTestId("recover-count")).toHaveText("2 events missed in this window.");
  await expect(page.getByTestId("recover-missed")).toHaveText("Send 2 events");
  await snap(page, "recovery-panel");
  await sleep(500);
  expect(receiver.requests, "counting sends nothing").toHaveLength(6);

  await page.getByTestId("recover-missed").click();
  await expect(page.getByTestId("recover-result")).toHaveText("2 events queued.");
  await expect.poll(() => receiver.requests.length, { timeout: 15_000 }).toBe(8);
  expect(eventIds(receiver.requests.slice(6))).toEqual(early.map((e) => e.id).sort());
  await snap(page, "recovery-panel-sent");
  // The one before the window is still there to recover; the rest are not.
  expect(await wouldRecover(request, who, endpoint.id)).toBe(1);
});

test("the callback signing secret: reveal it, callbacks verify with it, rotate it", async ({
  page,
  request,
  receiver,
}) => {
  const who = await createMerchant(request, "Callback");
  const read = await request.get("/api/v1/callback-secret", { headers: auth(who) });
  expect(read.status(), await read.text()).toBe(200);
  const secret = (await read.json()).secret as string;
  expect(secret).toMatch(/^whsec_/);

  await logIn(page, who);
  await page.goto("/endpoints");
  await hydrated(page);
  const panel = page.getByTestId("callback-secret-panel");
  await expect(panel.getByRole("heading", { name: "Callback signing secret" })).toBeVisible();
  await expect(panel.getByTestId("callback-secret")).toContainText("••••");
  await expect(panel.getByTestId("callback-secret")).not.toContainText(secret);
  await panel.getByTestId("reveal-callback-secret").click();
  await expect(panel.getByTestId("callback-secret")).toHaveText(secret);
  await expect(panel.getByTestId("copy-callback-secret")).toBeVisible();
  await snap(page, "recovery-callback-secret");

  // The platform sends an event to its own callback URL: signed with this secret.
  const callback = async (n: number) => {
    const answer = await request.post("/api/v1/events", {
      headers: { authorization: `Bearer ${PLATFORM_TOKEN}` },
      data: { merchant_id: who.id, type: "payin.succeeded", data: { n }, callback_url: receiver.url("/callback") },
    });
    expect(answer.status(), await answer.text()).toBe(202);
  };
  await callback(1);
  await expect.poll(() => receiver.requests.length, { timeout: 15_000 }).toBe(1);
  expect(signedWith(secret, receiver.requests[0])).toBe(true);

  // Rotate with an hour's grace: a new secret, shown at once; the old one still signs.
  await panel.getByTestId("rotate-callback-toggle").click();
  await panel.getByTestId("callback-grace-select").selectOption("3600");
  await panel.getByTestId("rotate-callback-secret").click();
  await expect(panel.getByTestId("callback-rotation-note")).toBeVisible();
  await expect(panel.getByTestId("callback-secret")).not.toHaveText(secret);
  await expect(panel.getByTestId("callback-secret")).toHaveText(/^whsec_[A-Za-z0-9+/]+=*$/);
  const rotated = (await panel.getByTestId("callback-secret").textContent()) ?? "";
  const reread = await (await request.get("/api/v1/callback-secret", { headers: auth(who) })).json();
  expect(reread.secret).toBe(rotated);
  await snap(page, "recovery-callback-secret-rotated");

  await callback(2);
  await expect.poll(() => receiver.requests.length, { timeout: 15_000 }).toBe(2);
  expect(signedWith(rotated, receiver.requests[1])).toBe(true);
  expect(signedWith(secret, receiver.requests[1])).toBe(true);

  // The deliveries page lists callbacks apart.
  await createEndpoint(request, who, { url: receiver.url("/endpoint") });
  await ingest(request, who, "payin.succeeded", { n: 3 });
  await expect.poll(() => receiver.requests.length, { timeout: 15_000 }).toBe(3);
  await page.goto("/deliveries");
  await hydrated(page);
  await expect(page.getByTestId("delivery-row")).toHaveCount(3);
  await page.getByTestId("filter-endpoint").selectOption("callbacks");
  await expect(page.getByTestId("delivery-row")).toHaveCount(2);
  for (const row of await page.getByTestId("delivery-row").all()) {
    await expect(row).toContainText(receiver.url("/callback"));
  }
  await page.reload();
  await expect(page.getByTestId("delivery-row")).toHaveCount(2);
});

test("a merchant retries failed deliveries in bulk: the ticked ones, then all that match", async ({
  page,
  request,
  receiver,
}) => {
  const who = await createMerchant(request, "Bulk");
  receiver.respond = () => 500;
  await newEndpoint(request, who, { url: receiver.url(), retry_schedule: ["0s"] });
  for (const n of [1, 2, 3]) await ingest(request, who, "payout.failed", { n });
  await expect
    .poll(async () => (await deliveries(request, who, "?status=failed")).length, { timeout: 15_000 })
    .toBe(3);
  expect(receiver.requests).toHaveLength(3);

  await logIn(page, who);
  await page.goto("/deliveries");
  await hydrated(page);
  const rows = page.getByTestId("delivery-row");
  await expect(rows).toHaveCount(3);
  await expect(page.getByTestId("select-delivery")).toHaveCount(3);

  // Tick two: which events they are, from their links.
  const ticked: string[] = [];
  for (const i of [0, 1]) {
    await rows.nth(i).getByTestId("select-delivery").check();
    const href = (await rows.nth(i).getByRole("link").first().getAttribute("href")) ?? "";
    const id = href.split("/").pop() ?? "";
    const detail = await (await request.get(`/api/v1/deliveries/${id}`, { headers: auth(who) })).json();
    ticked.push(detail.event_id as string);
  }
  await expect(page.getByTestId("retry-selected")).toHaveText("Retry selected (2)");
  await page.getByTestId("retry-selected").click();
  await expect(page.getByTestId("confirm-retry")).toContainText("Retry 2 deliveries?");
  await expect(page.getByTestId("confirm-retry-button")).toHaveText("Retry 2 deliveries");
  await snap(page, "recovery-bulk-retry-confirm");
  await sleep(300);
  expect(receiver.requests, "nothing is sent before confirming").toHaveLength(3);
  await page.getByTestId("confirm-retry-button").click();
  await expect(page.getByTestId("queued")).toHaveText("2 deliveries queued for a new attempt now.");
  await expect.poll(() => receiver.requests.length, { timeout: 15_000 }).toBe(5);
  expect(eventIds(receiver.requests.slice(3))).toEqual([...ticked].sort());
  // Still answered 500: all three are failed again.
  await expect
    .poll(async () => (await deliveries(request, who, "?status=failed")).length, { timeout: 15_000 })
    .toBe(3);

  // All that match the filter: cancel first, then confirm.
  await page.getByTestId("filter-status").selectOption("failed");
  await expect(page).toHaveURL(/status=failed/);
  await expect(rows).toHaveCount(3);
  await expect(page.getByTestId("retry-matching")).toHaveText("Retry all matching (3)");
  await page.getByTestId("retry-matching").click();
  await expect(page.getByTestId("confirm-retry")).toContainText("Retry 3 deliveries?");
  await page.getByTestId("confirm-retry").getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByTestId("confirm-retry")).not.toBeVisible();
  await sleep(300);
  expect(receiver.requests, "a cancelled retry sends nothing").toHaveLength(5);

  receiver.respond = () => 200;
  await page.getByTestId("retry-matching").click();
  await expect(page.getByTestId("confirm-retry-button")).toHaveText("Retry 3 deliveries");
  await page.getByTestId("confirm-retry-button").click();
  await expect(page.getByTestId("queued")).toHaveText("3 deliveries queued for a new attempt now.");
  await expect.poll(() => receiver.requests.length, { timeout: 15_000 }).toBe(8);
  await expect
    .poll(async () => (await deliveries(request, who, "?status=succeeded")).length, { timeout: 15_000 })
    .toBe(3);
  await snap(page, "recovery-bulk-retry-done");
});
