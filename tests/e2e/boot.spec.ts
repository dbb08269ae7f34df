import { expect, test } from "@playwright/test";

test("boots the guest and runs the kv store from the console", async ({ page }) => {
  await page.goto("/?mode=plain");
  const status = page.locator(".status");
  await expect(status).toHaveAttribute("data-phase", "ready", { timeout: 120_000 });

  const term = page.getByRole("application", { name: "Guest serial console" });
  await term.click();
  // Each answer must appear on a line of its own, not merely inside the echo of what we typed.
  const lines = async () => (await term.innerText()).split("\n").map((l) => l.trim());
  await page.keyboard.type("kv set foo bar\n");
  await expect.poll(lines).toContain("OK");
  await page.keyboard.type("kv get foo\n");
  await expect.poll(lines).toContain("bar");
});

test("a corrupt image is refused by its checksum, by name", async ({ page }) => {
  await page.route("**/images/initrd.img", async (route) => {
    const res = await route.fetch();
    const body = Buffer.from(await res.body());
    body[body.length >> 1] ^= 0xff;
    await route.fulfill({ response: res, body });
  });
  await page.goto("/?mode=plain");
  await expect(page.getByRole("alert")).toContainText("initrd.img is corrupt");
});

test("a missing image gives a clear error on the page", async ({ page }) => {
  await page.goto("/?mode=plain&images=/no-such-images/");
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("manifest.json");
  await expect(page.locator(".status")).toHaveAttribute("data-phase", "failed");
});
