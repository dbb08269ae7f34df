import type {} from "../../src/ui/test-hook.ts";
import { expect, test } from "./persistent.ts";
import { replayToInput, typeAtFirstPrompt } from "./ft.ts";

// The README's screenshots (docs/screenshots/*.png): `npm run screenshots`. Not a test, so not
// in the suite (its file name does not match the test pattern).

const done = (page: import("@playwright/test").Page) =>
  expect(page.getByTestId("scenario-progress")).toHaveAttribute("data-status", "done", { timeout: 240_000 });

test("screenshot: normal operation at 1280×720, light", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto("/?scenario=normal&autoplay=1&pace=0.4&theme=light");
  await done(page);
  await page.getByRole("button", { name: "log entry" }).click();
  await page.screenshot({ path: "docs/screenshots/normal-1280x720.png" });
});

test("screenshot: the Output Rule counterfactual at 1280×720, dark", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto("/?scenario=output-rule&autoplay=1&pace=0.4&rule=off&theme=dark");
  await done(page);
  await page.screenshot({ path: "docs/screenshots/output-rule-off-1280x720-dark.png" });
});

test("screenshot: tablet portrait (820×1180)", async ({ page }) => {
  await page.setViewportSize({ width: 820, height: 1180 });
  await page.goto("/?scenario=split-brain&autoplay=1&pace=0.4&theme=light");
  await done(page);
  await page.screenshot({ path: "docs/screenshots/split-brain-tablet.png" });
});

test("screenshot: embed=1 compact layout", async ({ page }) => {
  await page.setViewportSize({ width: 960, height: 640 });
  await page.goto("/?embed=1&scenario=primary-failure&autoplay=1&pace=0.4&theme=light");
  await done(page);
  await page.screenshot({ path: "docs/screenshots/embed-compact.png" });
});

test("screenshot: the timeline, replaying the live run up to a failover, cursor at a typed command", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto("/?theme=light");
  await typeAtFirstPrompt(page, "kv set course ft");
  await expect(page.getByTestId("client-stream")).toContainText("bytes");
  await page.waitForTimeout(3000); // let the command finish and the run go on a little (a picture, not a test)
  await page.getByRole("button", { name: "Kill primary" }).click();
  await expect(page.getByRole("article", { name: "B#1 host" }).locator(".badge.state")).toHaveText("alone", { timeout: 60_000 });
  await replayToInput(page, "kv set course");
  await page.getByRole("region", { name: "Timeline" }).screenshot({ path: "docs/screenshots/timeline.png" });
});
