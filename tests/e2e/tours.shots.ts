import type {} from "../../src/ui/test-hook.ts";
import type { OnePageHook } from "../../src/ui/test-hook.ts";
import type { Page } from "@playwright/test";
import { expect, test } from "./persistent.ts";
import { replayToInput, typeAtFirstPrompt } from "./ft.ts";

// Screenshots of the tours issue 18 added (docs/screenshots/*.png, linked from the README's tour
// list): `npm run screenshots`. Pictures, not tests: each waits for its tour's key moment.

/** The tour is at step `index` (0-based) or later, its caption up. */
const atStep = (page: Page, index: number) =>
  expect.poll(() => page.evaluate(() => (window.lockstep as OnePageHook).runner.step), { timeout: 240_000 }).toBeGreaterThanOrEqual(index);

test("screenshot: §3.2 flow and lag control, the slow backup's lag past the bound and the primary slowed", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("/?scenario=lag-control&autoplay=1&theme=light");
  // Step 4 ("Lag control: …") is over once the primary ran at half speed or slower: the picture
  // is taken while the next caption waits, the backup still slow.
  await expect(page.getByTestId("primary-speed")).toHaveAttribute("data-speed", /^0\.([0-4]|5$)/, { timeout: 240_000 });
  await atStep(page, 3);
  await page.screenshot({ path: "docs/screenshots/tour-lag-control.png" });
});

test("screenshot: §3.4 re-issue of pending disk I/O, the promoted backup issuing the I/O again", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("/?scenario=reissue&autoplay=1&theme=light");
  await atStep(page, 4);
  await expect(page.getByTestId("scenario-note")).toContainText("re-issued", { timeout: 120_000 });
  await page.screenshot({ path: "docs/screenshots/tour-reissue.png" });
});

test("screenshot: §2.2 the network tour, the download finished on one TCP connection after the failover", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("/?scenario=network&autoplay=1&theme=light");
  // Step 7 (the guest's RetransSegs) starts once the download completed after the failover: the
  // picture shows the switch's move, the client's resends and duplicates, the new primary alone.
  await atStep(page, 6);
  await page.screenshot({ path: "docs/screenshots/tour-network.png" });
});

test("screenshot: the log inspector, the entries of a frame with their kind and position, at the same instruction", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("/?theme=light");
  await typeAtFirstPrompt(page, "kv set course ft");
  await expect.poll(() => page.evaluate(() => window.lockstep!.clientText().includes("kv set course ft\r\nOK")), { timeout: 60_000 }).toBe(true);
  await replayToInput(page, "kv set course");
  await expect(page.getByTestId("same-instruction")).toHaveAttribute("data-same", "true");
  await page.getByRole("region", { name: "Timeline" }).locator(".replay").screenshot({ path: "docs/screenshots/log-inspector.png" });
});
