import type { Page } from "@playwright/test";
import { expect } from "./persistent.ts";

/**
 * Records what the live Figure draws as it changes: whether the channel was ever drawn cut, any
 * token put on a channel lane while it was, and the most held outputs drawn lost. `reset` starts
 * the record again (one per tour of a lecture).
 */
export async function watchFigure(page: Page): Promise<void> {
  await page.locator(".figure-1 svg").waitFor();
  await page.evaluate(() => {
    const w = window as unknown as { figureSeen: { cutSeen: boolean; tokensOnCutChannel: number; lostMax: number }; figureObserver?: MutationObserver };
    const seen = { cutSeen: false, tokensOnCutChannel: 0, lostMax: 0 };
    w.figureSeen = seen;
    w.figureObserver?.disconnect();
    const svg = document.querySelector(".figure-1 svg")!;
    w.figureObserver = new MutationObserver((records) => {
      const cut = svg.querySelector<SVGElement>("[data-channel]")?.dataset.channel === "cut";
      seen.cutSeen ||= cut;
      seen.lostMax = Math.max(seen.lostMax, Number(svg.querySelector<SVGElement>('[data-testid="held-outputs"]')?.dataset.lost ?? 0));
      for (const r of records)
        for (const n of r.addedNodes) {
          const lane = n instanceof SVGElement ? n.dataset.lane : undefined;
          if (cut && lane && ["log", "hbOut", "ack", "hbIn"].includes(lane)) seen.tokensOnCutChannel++;
        }
    });
    w.figureObserver.observe(svg, { subtree: true, childList: true, attributes: true });
  });
}

export const figureSeen = (page: Page) =>
  page.evaluate(() => (window as unknown as { figureSeen: { cutSeen: boolean; tokensOnCutChannel: number; lostMax: number } }).figureSeen);

/** The tour on screen ends, without an error, with this verdict, as expected; returns its result line. */
export async function expectGreen(page: Page, verdict: string, timeout = 240_000) {
  await expect(page.getByTestId("scenario-progress")).toHaveAttribute("data-status", /done|failed/, { timeout });
  expect(await page.getByTestId("scenario-error").allInnerTexts(), "the tour's error").toEqual([]);
  const result = page.getByTestId("scenario-result");
  await expect(result).toHaveAttribute("data-verdict", verdict);
  await expect(result).toHaveAttribute("data-ok", "true");
  return result;
}

/** The measured bars of one comparison group in the metrics panel: label → bits per second. */
export async function measured(page: Page, group: RegExp): Promise<Map<string, number>> {
  const rows = page.getByTestId("measurement");
  const out = new Map<string, number>();
  for (const r of await rows.all()) {
    if (!group.test((await r.getAttribute("data-group")) ?? "")) continue;
    out.set((await r.getAttribute("data-label"))!, Number(await r.getAttribute("data-bps")));
  }
  return out;
}
