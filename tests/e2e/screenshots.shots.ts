import type {} from "../../src/ui/test-hook.ts";
import type { Page } from "@playwright/test";
import { expect, test } from "./persistent.ts";
import { replayToInput, typeAtFirstPrompt } from "./ft.ts";

// The README's screenshots (docs/screenshots/*.png): `npm run screenshots`. Not a test, so not
// in the suite (its file name does not match the test pattern).

const done = (page: Page) =>
  expect(page.getByTestId("scenario-progress")).toHaveAttribute("data-status", "done", { timeout: 240_000 });

/** Tours run to their end, one picture each: name, viewport, URL, file (under docs/screenshots). */
const TOUR_SHOTS: { name: string; size: [number, number]; url: string; file: string; before?: (page: Page) => Promise<void> }[] = [
  {
    name: "normal operation at 1280×720, light",
    size: [1280, 720],
    url: "/?scenario=normal&autoplay=1&pace=0.4&theme=light",
    file: "normal-1280x720.png",
    before: (page) => page.getByRole("button", { name: "log entry" }).click(),
  },
  { name: "the Output Rule counterfactual at 1280×720, dark", size: [1280, 720], url: "/?scenario=output-rule&autoplay=1&pace=0.4&rule=off&theme=dark", file: "output-rule-off-1280x720-dark.png" },
  { name: "tablet portrait (820×1180)", size: [820, 1180], url: "/?scenario=split-brain&autoplay=1&pace=0.4&theme=light", file: "split-brain-tablet.png" },
  { name: "embed=1 compact layout", size: [960, 640], url: "/?embed=1&scenario=primary-failure&autoplay=1&pace=0.4&theme=light", file: "embed-compact.png" },
];

for (const shot of TOUR_SHOTS) {
  test(`screenshot: ${shot.name}`, async ({ page }) => {
    await page.setViewportSize({ width: shot.size[0], height: shot.size[1] });
    await page.goto(shot.url);
    await done(page);
    await shot.before?.(page);
    await page.screenshot({ path: `docs/screenshots/${shot.file}` });
  });
}

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
