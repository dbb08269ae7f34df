import { expect, test } from "@playwright/test";

// URL parameters that choose what the page runs (docs/embedding.md): mode= and guest=.
// Workers fetch the guest's images; the page-level request log sees those fetches too.

test("guest= and mode= select the guest's images and the mode", async ({ page }) => {
  const manifests: string[] = [];
  page.context().on("request", (r) => {
    if (r.url().endsWith("/manifest.json")) manifests.push(new URL(r.url()).pathname);
  });
  await page.goto("/?mode=plain&guest=busybox");
  await expect(page.locator(".launch")).toHaveAttribute("data-mode", "plain");
  await expect(page.locator(".launch")).toHaveAttribute("data-guest", "busybox");
  await expect(page.getByRole("application", { name: "Guest serial console" })).toBeVisible();
  await expect.poll(() => manifests).toContain("/images/manifest.json");

  await page.goto("/?mode=ft&guest=busybox&embed=1");
  await expect(page.locator(".launch")).toHaveAttribute("data-mode", "ft");
  await expect(page.getByRole("region", { name: "Guided scenario" })).toBeVisible();
  await expect(page.getByRole("alert")).toHaveCount(0);
});

test("an unknown guest gives a clear error listing the available guests", async ({ page }) => {
  await page.goto("/?guest=windows95&scenario=normal&autoplay=1");
  const alert = page.getByTestId("launch-error");
  await expect(alert).toContainText("Unknown guest “windows95”");
  await expect(alert.getByRole("listitem")).toContainText(["guest=busybox"]);
  // Nothing started: no tour, no hosts.
  await expect(page.getByRole("region", { name: "Guided scenario" })).toHaveCount(0);
});

test("an unknown mode gives a clear error listing the modes", async ({ page }) => {
  await page.goto("/?mode=remus-only");
  const alert = page.getByTestId("launch-error");
  await expect(alert).toContainText("Unknown mode “remus-only”");
  await expect(alert.getByRole("listitem")).toContainText(["mode=ft", "mode=tabs", "mode=plain"]);
});
