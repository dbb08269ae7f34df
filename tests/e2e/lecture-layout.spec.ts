import type { Page } from "@playwright/test";
import { expect, test } from "./persistent.ts";
import { hostState, shows } from "./ft.ts";

/**
 * The lecture's layouts (issue 18), measured on the page: no failover deadline, so `npm test` runs
 * this file two at a time (playwright.config.ts, SIDE_BY_SIDE); the tours' timing stays in lecture.spec.ts.
 */
/** Rendered size in CSS px of every text of the live Figure and of the plots' reference labels. */
function textSizes(page: Page) {
  return page.evaluate(() => {
    const out: { text: string; px: number }[] = [];
    for (const t of document.querySelectorAll<SVGTextElement>(".figure-1 text")) {
      if (!t.textContent?.trim()) continue;
      out.push({ text: t.textContent.trim(), px: parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement!.getScreenCTM()!.a });
    }
    for (const t of document.querySelectorAll<HTMLElement>(".ref-label")) out.push({ text: `plot reference: ${t.textContent}`, px: parseFloat(getComputedStyle(t).fontSize) });
    return out;
  });
}

test("projected at 1280×720: the Figure's host details and the plots' reference labels are at least 12 px", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto("/");
  // Host details (frame, epoch, lag, verified) are drawn once the hosts report.
  await shows(hostState(page, "B#1"), "replaying", { timeout: 120_000 });
  await expect(page.locator(".figure-1 text", { hasText: /^verified / })).toHaveCount(1);
  const sizes = await textSizes(page);
  expect(sizes.filter((s) => s.text.startsWith("plot reference")).length).toBeGreaterThanOrEqual(3);
  expect(sizes.length).toBeGreaterThan(20);
  expect(sizes.filter((s) => s.px < 12)).toEqual([]);
});

test("embedded at the documented 1000×720: the client sits beside the Figure, above the fold", async ({ page }) => {
  await page.setViewportSize({ width: 1000, height: 720 });
  await page.goto("/?embed=1");
  const figure = (await page.getByRole("region", { name: "Live Figure 1: the FT configuration" }).boundingBox())!;
  const client = (await page.getByRole("region", { name: "Client", exact: true }).boundingBox())!;
  expect(client.x).toBeGreaterThanOrEqual(figure.x + figure.width);
  // The client's console starts well above the frame's fold.
  const console = (await page.getByRole("application", { name: "Client console" }).boundingBox())!;
  expect(console.y + 150).toBeLessThan(720);
});
