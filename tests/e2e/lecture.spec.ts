import type { Page } from "@playwright/test";
import type { OnePageHook } from "../../src/ui/test-hook.ts";
import { expect, test } from "./persistent.ts";
import { hostState } from "./ft.ts";

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
  await expect(hostState(page, "B#1")).toHaveText("replaying", { timeout: 120_000 });
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

test("lecture controls: previous and next caption, the step list, caption pace in the URL, the transcript", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  // Normal pace: the second caption (21 words) stays at least 6.25 s, time enough to pause on it.
  await page.goto("/?scenario=normal&autoplay=1");
  const progress = page.getByTestId("scenario-progress");
  const caption = page.getByTestId("scenario-caption");
  const steps = page.getByRole("list", { name: "Steps of this tour" }).getByRole("button");
  await expect(steps).toHaveCount(4);
  await expect(steps.first()).toHaveAttribute("aria-current", "step");
  await expect(progress).toContainText("step 2/4", { timeout: 240_000 });
  await page.getByRole("button", { name: "Pause tour" }).click();
  await expect(progress).toHaveAttribute("data-status", "paused");
  await expect(progress).toContainText("step 2/4");
  await expect(progress).toContainText("world frozen");
  const second = await caption.innerText();

  // Back one caption: the first one again while the tour waits at step 2; Next comes back.
  await page.getByRole("button", { name: "◀ Previous" }).click();
  await expect(caption).toContainText("Two hosts boot the same Linux VM");
  await expect(page.getByRole("status").filter({ hasText: "Earlier caption, step 1 of 4" })).toBeVisible();
  await page.getByRole("button", { name: "Next caption ▶" }).click();
  await expect(caption).toHaveText(second);
  await page.getByRole("button", { name: "Resume tour" }).click();
  await expect(progress).toHaveAttribute("data-status", /running|done/);

  // Normal operation shows in the feed as lines that update.
  await expect(page.getByRole("list", { name: "Normal operation, live" })).toContainText("log entries and");

  // Pace in the panel, kept in the URL.
  const pace = page.getByRole("combobox", { name: "Caption pace" });
  await pace.selectOption({ label: "slow" });
  await expect.poll(() => new URL(page.url()).searchParams.get("pace")).toBe("1.5");
  await pace.selectOption({ label: "fast" });
  await expect.poll(() => new URL(page.url()).searchParams.get("pace")).toBe("0.6");
  expect(new URL(page.url()).searchParams.get("scenario")).toBe("normal");

  // Skip ahead to the last step (the steps between still wait for their events).
  await steps.nth(3).click();
  await expect(progress).toHaveAttribute("data-status", "done", { timeout: 120_000 });
  await expect(page.getByTestId("scenario-result")).toHaveAttribute("data-ok", "true");

  // The transcript: every caption, copyable.
  const transcript = page.getByTestId("scenario-transcript").getByRole("listitem");
  await expect(transcript).toHaveCount(4);
  await expect(transcript.nth(2)).toContainText("kv set course ft");
  await page.getByRole("button", { name: "Copy transcript" }).click();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toContain("Lockstep tour: Normal operation");
  expect(copied).toContain("4. [");
  expect(copied).toContain("Result (as expected): The client got OK");
  // After the run any caption can be shown again.
  await steps.first().click();
  await expect(caption).toContainText("Two hosts boot the same Linux VM");
});

test("a lecture in one page: a 5 s pause at the Output Rule tour's key moment freezes the world (no failover, green); split brain and power off then run back to back, each on a new pair (green)", async ({ page }) => {
  await page.goto("/?scenario=output-rule&autoplay=1&pace=0.2");
  await watchFigure(page);
  // Pause the instant the logging channel is cut (a lecturer pressing Space at the key caption):
  // from here both failure detectors would fire within 1 s if time ran on.
  await page.waitForFunction(
    () => {
      const r = (window.lockstep as OnePageHook).runner;
      // Step 2's event is the cut; its caption is then read in slow motion (a frozen world).
      if (r.step > 1) throw new Error(`the tour passed the cut (step ${r.step + 1}) unseen`);
      if (!(r.step === 1 && r.frozen)) return false;
      r.pause();
      return true;
    },
    undefined,
    { timeout: 240_000, polling: 20 },
  );
  const progress = page.getByTestId("scenario-progress");
  await expect(progress).toHaveAttribute("data-status", "paused");
  await expect(progress).toContainText("world frozen");
  await expect(page.getByRole("article", { name: "B#1 host" }).locator(".badge.frozen")).toBeVisible();
  // The Figure shows what the caption says: the channel drawn cut, not "in sync".
  await expect(page.locator(".figure-1 [data-channel]")).toHaveAttribute("data-channel", "cut");
  await expect(page.getByTestId("figure-frozen")).toBeVisible();
  // (The primary may already have run the command and failed: its worker can take a slice
  // before the freeze message arrives. Either way, nothing may claim the pair is in sync.)
  await expect(page.getByTestId("in-sync")).not.toContainText("in sync");
  const pausedAt = await page.evaluate(() => performance.now());
  const step = await page.evaluate(() => (window.lockstep as OnePageHook).runner.step);

  // The pause itself is what is tested: 5 s, more than twice the hosts' failure timeout (1 s).
  await page.waitForTimeout(5000);
  const during = await page.evaluate(
    (since) =>
      (window.lockstep as OnePageHook).cluster.events
        .filter((e) => e.at >= since && (e.kind === "go-live" || e.kind === "halt" || e.kind === "state"))
        .map((e) => `${e.hostId}: ${e.text}`),
    pausedAt,
  );
  expect(during, "protocol state changes while the world was frozen").toEqual([]);
  await expect(hostState(page, "B#1")).toHaveText("replaying");
  expect(await page.evaluate(() => (window.lockstep as OnePageHook).runner.step)).toBe(step);

  await page.getByRole("button", { name: "Resume tour" }).click();
  await expectGreen(page, "consistent");
  await expect(page.getByRole("region", { name: "Protocol events" })).toContainText("world running again after");
  // The primary failed holding the answer: the Figure drew those outputs lost with it.
  expect(await figureSeen(page)).toMatchObject({ cutSeen: true, tokensOnCutChannel: 0 });
  expect((await figureSeen(page)).lostMax).toBeGreaterThan(0);

  // Back to back: the Output Rule tour ended with its primary dead. The next tour starts from
  // the panel, no reload, and boots a new pair by itself.
  await page.getByRole("combobox", { name: "Scenario" }).selectOption("split-brain");
  await page.getByRole("button", { name: "Restart tour" }).click();
  await expect(progress).toHaveAttribute("data-status", "running");
  await expectGreen(page, "split-brain-prevented");
  await expect(page.getByRole("region", { name: "Protocol events" })).toContainText("booting a new pair");
  // The zombie write is drawn at the disk, refused; no token crossed the cut channel.
  await expect(page.getByTestId("zombie-write")).toHaveAttribute("data-fenced", "true");
  expect((await figureSeen(page)).tokensOnCutChannel).toBe(0);

  // A third, by its key: §3.3, power off travels in the log and the backup stops too.
  await page.locator("h1").click();
  await page.keyboard.press("9");
  await expect(progress).toHaveAttribute("data-status", "running");
  await expectGreen(page, "powered-off");
});

test("the Output Rule switch during another tour: a new pair without the rule, no reload, the tour picked stays; the Output Rule tour then runs the counterfactual (green)", async ({ page }) => {
  await page.goto("/?scenario=normal&autoplay=1&pace=0.2");
  const progress = page.getByTestId("scenario-progress");
  await expect(progress).toHaveAttribute("data-status", "running");
  // A reload would lose this mark.
  await page.evaluate(() => ((window as unknown as { samePage: boolean }).samePage = true));
  const rule = page.getByRole("checkbox", { name: "Output Rule" });
  await rule.uncheck();
  await expect(page.getByRole("note")).toContainText("without the Output Rule");
  await expect(page.getByRole("region", { name: "Protocol events" })).toContainText("Output Rule OFF");
  expect(await page.evaluate(() => (window as unknown as { samePage?: boolean }).samePage)).toBe(true);
  const url = new URL(page.url());
  expect(url.searchParams.get("rule")).toBe("off");
  expect(url.searchParams.get("scenario")).toBe("normal");
  // The tour that ran lost its pair and stopped; the picker still shows it, not tour 5.
  await expect(page.getByRole("combobox", { name: "Scenario" })).toHaveValue("normal");
  expect(await page.evaluate(() => (window.lockstep as OnePageHook).runner.status)).toBe("idle");

  // The Output Rule tour now runs without the rule, on the pair the switch booted.
  await page.getByRole("combobox", { name: "Scenario" }).selectOption("output-rule");
  await page.getByRole("button", { name: /Start tour|Restart tour/ }).click();
  await expect(progress).toHaveAttribute("data-status", "running");
  await expectGreen(page, "inconsistent");
  await expect(page.getByRole("region", { name: "Protocol events" })).not.toContainText("booting a new pair");

  // And back on: no reload either, and the note goes.
  await rule.check();
  await expect(page.getByRole("note").filter({ hasText: "without the Output Rule" })).toHaveCount(0);
  expect(new URL(page.url()).searchParams.get("rule")).toBeNull();
  expect(await page.evaluate(() => (window as unknown as { samePage?: boolean }).samePage)).toBe(true);
});

/**
 * Records what the live Figure draws as it changes: whether the channel was ever drawn cut, any
 * token put on a channel lane while it was, and the most held outputs drawn lost.
 */
async function watchFigure(page: Page): Promise<void> {
  await page.locator(".figure-1 svg").waitFor();
  await page.evaluate(() => {
    const seen = { cutSeen: false, tokensOnCutChannel: 0, lostMax: 0 };
    (window as unknown as { figureSeen: typeof seen }).figureSeen = seen;
    const svg = document.querySelector(".figure-1 svg")!;
    new MutationObserver((records) => {
      const cut = svg.querySelector<SVGElement>("[data-channel]")?.dataset.channel === "cut";
      seen.cutSeen ||= cut;
      seen.lostMax = Math.max(seen.lostMax, Number(svg.querySelector<SVGElement>('[data-testid="held-outputs"]')?.dataset.lost ?? 0));
      for (const r of records)
        for (const n of r.addedNodes) {
          const lane = n instanceof SVGElement ? n.dataset.lane : undefined;
          if (cut && lane && ["log", "hbOut", "ack", "hbIn"].includes(lane)) seen.tokensOnCutChannel++;
        }
    }).observe(svg, { subtree: true, childList: true, attributes: true });
  });
}

const figureSeen = (page: Page) => page.evaluate(() => (window as unknown as { figureSeen: { cutSeen: boolean; tokensOnCutChannel: number; lostMax: number } }).figureSeen);

/** The tour on screen ends, without an error, with this verdict, as expected. */
async function expectGreen(page: Page, verdict: string): Promise<void> {
  await expect(page.getByTestId("scenario-progress")).toHaveAttribute("data-status", /done|failed/, { timeout: 240_000 });
  expect(await page.getByTestId("scenario-error").allInnerTexts(), "the tour's error").toEqual([]);
  const result = page.getByTestId("scenario-result");
  await expect(result).toHaveAttribute("data-verdict", verdict);
  await expect(result).toHaveAttribute("data-ok", "true");
}
