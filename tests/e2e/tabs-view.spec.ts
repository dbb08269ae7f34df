import type { BrowserContext, Page } from "@playwright/test";
import { clientText, poll } from "./ft.ts";
import { expect, test } from "./persistent.ts";
import { hostOf } from "./tabs-figure.ts";

/**
 * Issue 16: the guided kill-tab tour across tabs (pages of ONE persistent context: shared
 * BroadcastChannel and IndexedDB). What every tab shows of the cluster and of a failover is
 * checked on tabs.spec.ts's three-tab run (tabs-figure.ts): one setup of three tabs for both.
 */
async function openTab(context: BrowserContext, first = false): Promise<Page> {
  const page = first ? (context.pages()[0] ?? (await context.newPage())) : await context.newPage();
  await page.goto("/?mode=tabs");
  return page;
}

/** Whether the page scrolls (either way) at its viewport. */
const scrolls = (page: Page) =>
  page.evaluate(() => {
    const d = document.documentElement;
    return d.scrollHeight > innerHeight || d.scrollWidth > innerWidth;
  });

test("the guided kill-tab tour runs to its end: it opens the tabs it asks for, says which tab to close, and explains the go-live; presenter layout fits 1280x720", async ({ context }) => {
  const first = await openTab(context, true);
  await first.goto("/?mode=tabs&tour=kill-tab");
  const tour = (p: Page) => p.getByTestId("tab-tour");
  await expect(tour(first)).toHaveAttribute("data-step", "backup", { timeout: 120_000 });
  // The tour's button opens the second tab (a page of the same browser).
  const [second] = await Promise.all([context.waitForEvent("page"), tour(first).getByRole("button", { name: "Open a tab" }).click()]);
  await expect(tour(second)).toBeVisible({ timeout: 30_000 });
  await expect(tour(first)).toHaveAttribute("data-step", "standby", { timeout: 120_000 });
  const [third] = await Promise.all([context.waitForEvent("page"), tour(first).getByRole("button", { name: "Open a tab" }).click()]);
  await expect(tour(third)).toHaveAttribute("data-step", "standby");
  await expect(tour(first)).toHaveAttribute("data-step", "type", { timeout: 120_000 });
  await poll(() => clientText(first), { timeout: 120_000 }).toMatch(/lockstep# /);
  await tour(first).getByRole("button", { name: /^Type/ }).click();
  // Every tab is at the same step; the caption names the primary's tab (the first: this one).
  await expect(tour(third)).toHaveAttribute("data-step", "close", { timeout: 60_000 });
  const primaryHost = await hostOf(first);
  await expect(tour(third)).toContainText(`host ${primaryHost}`);
  await expect(tour(first)).toContainText("this tab");

  // The presenter layout in the standby's tab, for the projector: no scrolling at 1280x720.
  await third.setViewportSize({ width: 1280, height: 720 });
  await third.bringToFront();
  await third.keyboard.press("p");
  await expect(third.locator("main.present")).toHaveCount(1);
  expect(await scrolls(third)).toBe(false);

  for (const p of [second, third]) p.on("pageerror", (e) => console.log(`page error: ${e.message}\n${e.stack}`));
  await first.close();
  const storyOf = (p: Page) => p.evaluate(() => JSON.stringify(window.lockstep!.mode === "tabs" && { story: window.lockstep!.cluster.story, dep: window.lockstep!.cluster.departure }));
  await expect(tour(third), { message: "the tour's step after the close" }).toHaveAttribute("data-step", "live", { timeout: 30_000 }).catch(async (e: unknown) => {
    console.log(`third: ${await storyOf(third)}; caption ${await tour(third).innerHTML()}`);
    throw e;
  });
  await expect(tour(third)).toContainText(/went live \d+ ms after the close/);
  expect(await scrolls(third)).toBe(false);
  // Nothing clipped either: the Figure, the tour's caption, the failover story and the client whole.
  for (const part of [third.locator(".figure-1"), tour(third), third.getByTestId("failover"), third.getByRole("application", { name: "Client console" }), third.getByTestId("client-stream")])
    await expect(part).toBeInViewport({ ratio: 1 });
  await expect(tour(third)).toHaveAttribute("data-step", "restored", { timeout: 120_000 });
  await expect(tour(second)).toHaveAttribute("data-step", "restored");
  await expect(tour(third)).toContainText("is the new backup");
  expect(await scrolls(third)).toBe(false);
  // The teacher needs nothing but the tour's buttons: the last one asks the survivors for the key.
  await tour(third).getByRole("button", { name: "Type kv get tour" }).click();
  await poll(() => clientText(third), { timeout: 30_000 }).toMatch(/kv get tour\r\n42\r\n/);
  await tour(third).getByRole("button", { name: "End the tour" }).click();
  await expect(tour(second)).toHaveCount(0);
});
