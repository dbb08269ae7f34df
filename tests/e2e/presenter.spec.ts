import type { Page } from "@playwright/test";
import { expect, test } from "./persistent.ts";
import { TEST_CONTEXT } from "../chromium.ts";

/**
 * Readability, measured: what a projected lecture, a zoomed browser, the documented embed size and
 * a phone show without scrolling, and how large the Figure's text is there (rendered CSS px).
 */
interface Layout {
  scroll: { width: number; height: number };
  viewport: { width: number; height: number };
  /** Bounding boxes of what must be on screen, by name. */
  boxes: Record<string, { x: number; y: number; right: number; bottom: number } | null>;
  /** Smallest rendered font size of the Figure's texts, and the caption's. */
  figureMinPx: number;
  captionPx: number;
  /** Elements reaching past the viewport's right or bottom edge (for the failure message). */
  outside: string[];
}

function measure(page: Page): Promise<Layout> {
  return page.evaluate(() => {
    const box = (sel: string) => {
      const el = document.querySelector(sel);
      if (!el) return null;
      const r = el.getBoundingClientRect();
      return { x: r.x, y: r.y, right: r.right, bottom: r.bottom };
    };
    let figureMinPx = Infinity;
    for (const t of document.querySelectorAll<SVGTextElement>(".figure-1 text")) {
      if (!t.textContent?.trim()) continue;
      figureMinPx = Math.min(figureMinPx, parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement!.getScreenCTM()!.a);
    }
    const caption = document.querySelector('[data-testid="scenario-caption"]');
    const root = document.scrollingElement!;
    const outside: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>("main *")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || el.closest(".fig-scroll svg")) continue;
      if (r.right > innerWidth + 1 || r.bottom > innerHeight + 1) outside.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")} [${Math.round(r.x)},${Math.round(r.y)} ${Math.round(r.width)}×${Math.round(r.height)}]`);
    }
    return {
      scroll: { width: root.scrollWidth, height: root.scrollHeight },
      viewport: { width: innerWidth, height: innerHeight },
      // The Figure's box is the drawing itself: its flex parent could squeeze it to nothing.
      boxes: {
        caption: box('[data-testid="scenario-caption"]'),
        controls: box('[aria-label="Failure controls"]'),
        figure: box(".figure-1 svg"),
        console: box('[aria-label="Client console"]'),
      },
      figureMinPx,
      outside: outside.slice(0, 12),
      captionPx: caption ? parseFloat(getComputedStyle(caption).fontSize) : 0,
    };
  });
}

/** Every named box lies inside the viewport (1 px of rounding allowed). */
function expectOnScreen(l: Layout, names: string[], minHeight: Record<string, number> = {}): void {
  for (const n of names) {
    const b = l.boxes[n];
    expect(b, n).not.toBeNull();
    // On screen and big enough to be seen, not squeezed to nothing.
    expect(b!.bottom - b!.y, `${n}'s height`).toBeGreaterThanOrEqual(minHeight[n] ?? 10);
    expect({ n, x: b!.x >= -1, y: b!.y >= -1, right: b!.right <= l.viewport.width + 1, bottom: b!.bottom <= l.viewport.height + 1 }).toEqual({ n, x: true, y: true, right: true, bottom: true });
  }
}

async function open(page: Page, url: string): Promise<Layout> {
  await page.goto(url);
  // The Figure's host details are drawn once the hosts report (the presenter layout has no host cards).
  await expect(page.locator(".figure-1 text", { hasText: /^verified / })).toHaveCount(1, { timeout: 120_000 });
  const l = await measure(page);
  console.log(`${url} at ${l.viewport.width}×${l.viewport.height}: page ${l.scroll.width}×${l.scroll.height}, Figure text ≥ ${l.figureMinPx.toFixed(1)} px, caption ${l.captionPx} px; past the edges: ${l.outside.join(", ") || "nothing"}`);
  return l;
}

const noScroll = (l: Layout) => expect({ width: l.scroll.width <= l.viewport.width, height: l.scroll.height <= l.viewport.height }).toEqual({ width: true, height: true });

test("presenter layout at 1280×720: no scrolling, tour, controls, Figure and client on screen, large type", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  const l = await open(page, "/?layout=presenter&scenario=normal&autoplay=1");
  noScroll(l);
  expectOnScreen(l, ["caption", "controls", "figure", "console"], { figure: 250, console: 300 });
  expect(l.figureMinPx).toBeGreaterThanOrEqual(12);
  expect(l.captionPx).toBeGreaterThanOrEqual(20);
  // The lecture controls work in it: the button takes the layout off again, no reload.
  await page.getByRole("button", { name: "▣ Presenter" }).click();
  await expect(page.getByRole("region", { name: "Timeline" })).toBeVisible();
  expect(new URL(page.url()).searchParams.get("layout")).toBeNull();
});

test("presenter layout at 150 % zoom (1280×720 screen: 853×480 CSS px at 1.5 device px each): no scrolling, all on screen", async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL, viewport: { width: 853, height: 480 }, deviceScaleFactor: 1.5, ...TEST_CONTEXT });
  const page = await context.newPage();
  try {
    const l = await open(page, "/?layout=presenter&scenario=normal&autoplay=1");
    noScroll(l);
    expectOnScreen(l, ["caption", "controls", "figure", "console"], { figure: 120, console: 100 });
    // 1.5 device pixels each: 8 CSS px is 12 px on the screen.
    expect(l.figureMinPx).toBeGreaterThanOrEqual(8);
  } finally {
    await context.close();
  }
});

test("embedded at the documented 1000×720: no horizontal scrolling, tour caption and Figure on screen, the client console starts well above the fold", async ({ page }) => {
  await page.setViewportSize({ width: 1000, height: 720 });
  const l = await open(page, "/?embed=1&scenario=normal&autoplay=1");
  expect(l.scroll.width).toBeLessThanOrEqual(1000);
  expectOnScreen(l, ["caption", "figure"]);
  expect(l.boxes.console!.y + 200).toBeLessThan(720);
  expect(l.figureMinPx).toBeGreaterThanOrEqual(9.5);
});

test("phone 390×844: the Figure's text is readable (it scrolls sideways in its frame instead of shrinking), the page does not", async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL, viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true, ...TEST_CONTEXT });
  const page = await context.newPage();
  try {
    const l = await open(page, "/");
    expect(l.scroll.width).toBeLessThanOrEqual(390);
    expect(l.figureMinPx).toBeGreaterThanOrEqual(11);
  } finally {
    await context.close();
  }
});
