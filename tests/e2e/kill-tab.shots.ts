import type {} from "../../src/ui/test-hook.ts";
import type { BrowserContext, Page } from "@playwright/test";
import { expect, test } from "./persistent.ts";
import { shows } from "./ft.ts";

// The README's kill-tab screenshot (docs/screenshots/kill-tab-failover.png): `npm run screenshots`.
// Three tabs; the primary's closes; a survivor in the presenter layout at 1280×720, mid-failover
// (the backup live, the failed host still drawn, the standby about to be cloned).

const myState = (page: Page) => page.getByTestId("my-host").locator(".badge.state");

async function tab(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

test("screenshot: a surviving tab mid-failover, presenter layout, 1280×720", async ({ context }) => {
  const a = context.pages()[0] ?? (await context.newPage());
  await a.goto("/?mode=tabs&theme=light");
  await shows(myState(a), "alone", { timeout: 120_000 });
  await expect.poll(() => a.evaluate(() => /lockstep# /.test(window.lockstep!.clientText())), { timeout: 120_000 }).toBe(true);
  const b = await tab(context, "/?mode=tabs&theme=light");
  await shows(myState(b), "replaying", { timeout: 120_000 });
  const c = await tab(context, "/?mode=tabs&theme=light&layout=presenter");
  await expect(c.getByTestId("my-host").locator(".badge.role")).toHaveText("standby", { timeout: 120_000 });
  await c.setViewportSize({ width: 1280, height: 720 });
  await c.bringToFront();
  await c.getByRole("application", { name: "Client console" }).click();
  await c.keyboard.type("kv set a 1\n");
  await expect.poll(() => c.evaluate(() => window.lockstep!.clientText().includes("kv set a 1\r\nOK")), { timeout: 30_000 }).toBe(true);
  await a.close();
  // Mid-failover: the backup went live; the failed primary is still drawn until the clone is done.
  await expect(c.getByTestId("failover").locator("[data-step=live]")).toBeVisible({ timeout: 30_000 });
  await c.screenshot({ path: "docs/screenshots/kill-tab-failover.png" });
});
