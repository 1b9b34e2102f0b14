import { test, expect, newMerchant, signUp, snap, hydrated } from "./fixtures";

test("sign up, log out, log in, and see the dashboard shell", async ({ page }) => {
  const who = newMerchant("Acme");
  await signUp(page, who);

  // The shell: navigation, the merchant's name, an empty endpoints page.
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  await expect(page.getByTestId("endpoints-empty")).toContainText("No endpoints yet");
  await snap(page, "dashboard-shell");

  await page.getByTestId("logout").click();
  await expect(page).toHaveURL(/\/login$/);

  // A logged-out visitor is sent to log in.
  await page.goto("/endpoints");
  await expect(page).toHaveURL(/\/login$/);
  await snap(page, "login");

  await hydrated(page);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password", { exact: true }).fill(who.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("merchant-name")).toHaveText(who.name);

  // A hard reload keeps the session.
  await page.reload();
  await expect(page.getByTestId("merchant-name")).toHaveText(who.name);
});

test("a wrong password gets a clear message that does not say whether the email exists", async ({ page }) => {
  const who = newMerchant("Beta");
  await signUp(page, who);
  await page.getByTestId("logout").click();
  await expect(page).toHaveURL(/\/login$/);
  await hydrated(page);

  for (const email of [who.email, `nobody-${Date.now()}@example.test`]) {
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password", { exact: true }).fill("not the password at all");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.getByTestId("form-error")).toHaveText(
      "That email and password do not match an account.",
    );
  }
  await expect(page).toHaveURL(/\/login$/);
});

test("sign-up errors show next to the field", async ({ page }) => {
  const who = newMerchant("Gamma");
  await signUp(page, who);
  await page.getByTestId("logout").click();
  await expect(page).toHaveURL(/\/login$/);

  await page.goto("/signup");
  await hydrated(page);
  await page.getByLabel("Company name").fill("Someone else");
  await page.getByLabel("Work email").fill(who.email);
  await page.getByLabel("Password", { exact: true }).fill(who.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("email-error")).toContainText("already exists");
  await snap(page, "signup-duplicate-email");
});

test("the page hydrates: the password toggle and the catalog work only with the WASM loaded", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  const password = page.getByLabel("Password", { exact: true });
  await expect(password).toHaveAttribute("type", "password");
  await page.getByTestId("toggle-password").click();
  await expect(password).toHaveAttribute("type", "text");
  await expect(page.getByTestId("toggle-password")).toHaveText("Hide");

  const who = newMerchant("Delta");
  await signUp(page, who);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Event types" }).click();
  await expect(page).toHaveURL(/\/event-types$/);
  const row = page.getByTestId("type-payin.succeeded");
  await expect(row).toContainText("payin.succeeded");
  await row.getByRole("button", { name: "Show example" }).click();
  await expect(row.getByTestId("example")).toBeVisible();
  await expect(page.getByTestId("verify-code")).toContainText("standardwebhooks");
  await page.getByTestId("verify-python").click();
  await expect(page.getByTestId("verify-code")).toContainText("pip install standardwebhooks");
  await page.getByTestId("verify-rust").click();
  await expect(page.getByTestId("verify-code")).toContainText("cargo add standardwebhooks");
  await snap(page, "event-types");
});

test("the dashboard works at a phone's width", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const who = newMerchant("Mobile");
  await signUp(page, who);
  await expect(page.getByRole("navigation", { name: "Main" })).toBeHidden();
  await page.getByTestId("menu-toggle").click();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  await snap(page, "dashboard-mobile");
});
