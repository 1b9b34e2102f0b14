// What a visit to Herald's log-in page (and, given an account, the logged-in
// overview) moves over the wire and how long its first click takes to work,
// on throttled networks, in Debian's Chromium.
//
// Usage (a Herald running, built by `cargo leptos build --release --precompress --split`):
//   cd end2end && HERALD_URL=http://127.0.0.1:3000 node bench/first-visit.mjs
// Env: HERALD_URL, CHROMIUM_PATH (/usr/bin/chromium), RUNS (3); with
// HERALD_EMAIL and HERALD_PASSWORD (a merchant's), also `/` logged in: the
// browser carries only the session cookie, its cache is empty.
//
// "Working" is the moment the page has hydrated (the app sets
// <body data-hydrated="true">): before it, the buttons do nothing. Bytes are
// what crossed the network (Chromium's encodedDataLength: compressed bodies
// plus headers); a repeat visit is the same page again in the same browser
// profile, its cache warm. The networks are WebPageTest's profiles, applied
// with DevTools' network emulation.
import { chromium } from "@playwright/test";

const base = process.env.HERALD_URL ?? "http://127.0.0.1:3000";
const runs = Number(process.env.RUNS ?? 3);
const networks = [
  { name: "unthrottled", conditions: null },
  // WebPageTest "4G": 9 Mbit/s down, 9 up, 170 ms RTT.
  { name: "4G", conditions: { latency: 170, downloadThroughput: (9000 * 1024) / 8, uploadThroughput: (9000 * 1024) / 8 } },
  // WebPageTest "3G": 1.6 Mbit/s down, 768 kbit/s up, 300 ms RTT.
  { name: "3G", conditions: { latency: 300, downloadThroughput: (1600 * 1024) / 8, uploadThroughput: (768 * 1024) / 8 } },
];

async function visit(page, cdp, path) {
  let bytes = 0;
  const files = new Map();
  const requests = new Map();
  const onResponse = (e) => requests.set(e.requestId, new URL(e.response.url).pathname);
  const onFinished = (e) => {
    bytes += e.encodedDataLength;
    const path = requests.get(e.requestId);
    if (path) files.set(path, (files.get(path) ?? 0) + e.encodedDataLength);
  };
  cdp.on("Network.responseReceived", onResponse);
  cdp.on("Network.loadingFinished", onFinished);
  const start = Date.now();
  await page.goto(`${base}${path}`, { waitUntil: "commit" });
  await page.waitForFunction(() => document.body?.dataset.hydrated === "true", null, { timeout: 120_000 });
  const working = Date.now() - start;
  await page.waitForLoadState("networkidle");
  cdp.off("Network.responseReceived", onResponse);
  cdp.off("Network.loadingFinished", onFinished);
  return { bytes, working, files };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic"],
});
/** The session cookie of a logged-in merchant, through the log-in form. */
async function logIn(email, password) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.waitForFunction(() => document.body?.dataset.hydrated === "true");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByTestId("merchant-name").waitFor();
  const state = await context.storageState();
  await context.close();
  return state;
}

const pages = [{ path: "/login", storageState: undefined }];
if (process.env.HERALD_EMAIL && process.env.HERALD_PASSWORD) {
  pages.push({ path: "/", storageState: await logIn(process.env.HERALD_EMAIL, process.env.HERALD_PASSWORD) });
}

for (const { path, storageState } of pages) {
  console.log(`\n${path}${storageState ? " (logged in)" : ""}\n`);
  console.log(`| network | first visit: bytes | first visit: first working click (ms, median of ${runs}) | repeat visit: bytes | repeat visit: first working click (ms) |`);
  console.log("| --- | --- | --- | --- | --- |");
  let detail = null;
  for (const network of networks) {
    const first = [];
    const repeat = [];
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext({ storageState });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable");
      if (network.conditions) {
        await cdp.send("Network.emulateNetworkConditions", { offline: false, ...network.conditions });
      }
      first.push(await visit(page, cdp, path));
      repeat.push(await visit(page, cdp, path));
      await context.close();
    }
    detail ??= first[0].files;
    console.log(
      `| ${network.name} | ${median(first.map((v) => v.bytes)).toLocaleString("en")} | ${median(first.map((v) => v.working))} | ${median(repeat.map((v) => v.bytes)).toLocaleString("en")} | ${median(repeat.map((v) => v.working))} |`,
    );
  }
  console.log(`\nFirst visit of ${path}, per file (bytes over the wire):`);
  for (const [file, n] of detail) console.log(`- ${file}: ${n.toLocaleString("en")}`);
}
await browser.close();
