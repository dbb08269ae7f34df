import type { BrowserContext, Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { decodeBatch } from "../../src/ft/log/codec.ts";
import { decodeRecording } from "../../src/engine/recording.ts";
import { BOOT_IMAGE_FRAME, clientText, poll, run } from "./ft.ts";
import { expect, test } from "./persistent.ts";

/**
 * Issue 16: every tab shows the whole cluster (Figure 1 with every tab's host, metrics, feed), and
 * the survivors show the failover. Tabs are pages of ONE persistent context (shared
 * BroadcastChannel and IndexedDB), as in tabs.spec.ts.
 */
const myState = (page: Page) => page.getByTestId("my-host").locator(".badge.state");
const figureHosts = (page: Page) => page.locator(".figure-1 [data-testid=figure-host]");

/** The Figure's hosts in a tab, as "id role" sorted by id. */
async function rolesIn(page: Page): Promise<string[]> {
  const all = figureHosts(page);
  const n = await all.count();
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${await all.nth(i).getAttribute("data-host")} ${await all.nth(i).getAttribute("data-role")}`);
  return out.sort();
}

async function openTab(context: BrowserContext, first = false): Promise<Page> {
  const page = first ? (context.pages()[0] ?? (await context.newPage())) : await context.newPage();
  await page.goto("/?mode=tabs");
  return page;
}

/** This tab's own host id (from the test hook). */
const hostOf = (page: Page) => page.evaluate(() => (window.lockstep!.mode === "tabs" ? window.lockstep!.cluster.hostId : null));

test("three tabs: every tab's Figure shows all three hosts; after the primary's tab closes the survivors show the new roles and lock owner", async ({ context }) => {
  const a = await openTab(context, true);
  await expect(myState(a)).toHaveText("alone", { timeout: 120_000 });
  await poll(() => clientText(a), { timeout: 120_000 }).toMatch(/LOCKSTEP READY[\s\S]*lockstep# /);
  const b = await openTab(context);
  await expect(myState(b)).toHaveText("replaying", { timeout: 120_000 });
  const c = await openTab(context);
  await expect(c.getByTestId("my-host").locator(".badge.role")).toHaveText("standby", { timeout: 120_000 });
  const [ha, hb, hc] = [await hostOf(a), await hostOf(b), await hostOf(c)];

  const before = [`${ha} primary`, `${hb} backup`, `${hc} standby`].sort();
  for (const p of [a, b, c]) {
    await poll(() => rolesIn(p), { timeout: 10_000 }).toEqual(before);
    // This tab's host is highlighted and labelled with its tab; the others with theirs.
    await expect(p.locator(".figure-1 .host.me")).toHaveCount(1);
    await expect(p.locator(".figure-1")).toContainText("this tab");
    await expect(p.locator(".figure-1")).toContainText(`owner ${ha}`);
  }
  // The metrics come from every tab's host: the backup's lag and the in-sync state hash.
  await expect(c.getByTestId("in-sync")).toContainText("in sync", { timeout: 30_000 });
  // The feed's normal-operation lines come from the two other tabs' hosts.
  await expect(c.getByRole("region", { name: "Protocol events" })).toContainText(`${ha} → ${hb}`);

  await run(b, "kv set a 1", "OK");
  const frameOf = (p: Page, id: string) => p.evaluate((h) => (window.lockstep!.mode === "tabs" ? (window.lockstep!.cluster.hosts.find((x) => x.id === h)?.status?.frame ?? 0) : 0), id);
  const backupFrameBefore = await frameOf(b, hb!);
  const closedAt = Date.now();
  await a.close();
  // Within the failover time the survivors show the new primary and the lock record's new owner.
  for (const p of [b, c]) {
    await expect(p.locator(".figure-1 [data-testid=figure-host][data-role=primary]")).toHaveAttribute("data-host", hb!, { timeout: 5_000 });
    await expect(p.locator(".figure-1")).toContainText(`owner ${hb}`, { timeout: 5_000 });
  }
  const shownMs = Date.now() - closedAt;
  // The failed host stays drawn, failed, in the backup's slot until the standby is cloned (on a
  // quiet machine that may already have happened: then the slot shows the new backup).
  const slot = async () =>
    (await c.locator(`.figure-1 [data-host="${ha}"][data-role=failed]`).count()) === 1 ? "failed host" : (await c.locator(`.figure-1 [data-host="${hc}"][data-role=backup]`).count()) === 1 ? "new backup" : "neither";
  await poll(slot).not.toBe("neither");
  const story = c.getByTestId("failover");
  await expect(story.locator("[data-step=live]")).toContainText(`${hb} went live`);
  // The feed of the standby's tab has the event of the host in another tab.
  await expect(c.getByRole("region", { name: "Protocol events" })).toContainText("went live in epoch");
  const failoverMs = Number(await c.getByTestId("failover-ms").innerText().then((t) => t.replace(/\D/g, "")));
  console.log(`tabs-view: survivors show the new primary and lock owner ${shownMs} ms after close; failover ${failoverMs} ms as the standby tab measured`);
  expect(failoverMs).toBeLessThan(3000);
  // Then the standby becomes the new backup by itself, and every survivor's Figure says so (the
  // failed host was drawn in the backup's slot until then).
  await expect(myState(c)).toHaveText("replaying", { timeout: 60_000 });
  for (const p of [b, c]) await poll(() => rolesIn(p), { timeout: 10_000 }).toEqual([`${hb} primary`, `${hc} backup`].sort());
  await expect(story.locator("[data-step=backup]")).toHaveAttribute("data-done", "true");
  await run(c, "kv get a", "1");

  // Tab C opened after B was cloned: its feed has what happened before it, from the other tabs
  // (the FT VMotion snapshot A's host took for B), under a line that says where it came from.
  const earlier = await c.evaluate((h) => (window.lockstep!.mode === "tabs" ? window.lockstep!.cluster.events.filter((e) => e.hostId === h && e.kind === "clone-snapshot").length : 0), ha);
  expect(earlier, "the snapshot event of the first primary, from before tab C opened").toBeGreaterThan(0);
  await expect(c.getByRole("region", { name: "Protocol events" })).toContainText("the feed before this tab joined");

  // The timeline in tab mode: C's own host is the backup; the live primary's recording comes from
  // B's tab over the cluster transport, and covers the run from its start (the boot image) across
  // the failover: B was cloned from A, and its recording continues the one A's snapshot carried
  // (A's frames from the boot image on, with the command typed while A was the primary).
  await expect(c.getByTestId("live-clock")).toContainText(`(${hb})`);
  const [download] = await Promise.all([c.waitForEvent("download"), c.getByRole("button", { name: "Export recording" }).click()]);
  const rec = decodeRecording(new Uint8Array(readFileSync(await download.path())));
  expect(rec.meta).toMatchObject({ hostId: hb, origin: "image", start: { frame: BOOT_IMAGE_FRAME }, truncated: null });
  expect(rec.meta.end.frame).toBeGreaterThan(backupFrameBefore);
  const typed = rec.batches.flatMap((x) => decodeBatch(x)).flatMap((f) => f.entries).map((e) => (e.k === "serial" ? new TextDecoder().decode(e.bytes) : "")).join("");
  expect(typed).toContain("kv set a 1");
  // Replayed in C's own replay worker from the boot image, through the clone point: every recorded checkpoint identical.
  await c.getByRole("button", { name: "Replay the live run so far" }).click();
  await expect(c.getByTestId("replay-check")).toContainText(/Checkpoints replayed: (\d+) of \1,/, { timeout: 120_000 });
  await expect(c.getByTestId("replay-check")).toHaveAttribute("data-ok", "true");
  await expect(c.getByTestId("replay-summary")).toContainText(`live run of ${hb}`);
  console.log(`tabs-view: tab C replayed ${hb}'s recording (frames ${rec.meta.start.frame}–${rec.meta.end.frame}, ${rec.checkpoints.length} checkpoints, from B's tab)`);
});

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
