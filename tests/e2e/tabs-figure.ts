import type { Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { decodeBatch } from "../../src/ft/log/codec.ts";
import { decodeRecording } from "../../src/engine/recording.ts";
import { BOOT_IMAGE_FRAME, poll } from "./ft.ts";
import { expect } from "./persistent.ts";

/**
 * Issue 16's checks (every tab shows the whole cluster, the survivors show the failover, a tab's
 * timeline replays another tab's recording), made on tabs.spec's three-tab run: the same three
 * tabs and failover the kill-tab test sets up, so it is set up once for both.
 */
const figureHosts = (page: Page) => page.locator(".figure-1 [data-testid=figure-host]");
const events = (page: Page) => page.getByRole("region", { name: "Protocol events" });

/** The Figure's hosts in a tab, as "id role" sorted by id. */
export async function rolesIn(page: Page): Promise<string[]> {
  const all = figureHosts(page);
  const n = await all.count();
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${await all.nth(i).getAttribute("data-host")} ${await all.nth(i).getAttribute("data-role")}`);
  return out.sort();
}

/** This tab's own host id (from the test hook). */
export const hostOf = (page: Page) => page.evaluate(() => (window.lockstep!.mode === "tabs" ? window.lockstep!.cluster.hostId : null));

/** The frame of host `id` as the tab `p` knows it. */
export const frameOf = (p: Page, id: string) =>
  p.evaluate((h) => (window.lockstep!.mode === "tabs" ? (window.lockstep!.cluster.hosts.find((x) => x.id === h)?.status?.frame ?? 0) : 0), id);

/** Before the failure: every tab's Figure shows all three hosts; the standby's metrics and feed come from the other tabs. */
export async function everyTabShowsAll([a, b, c]: Page[], [ha, hb, hc]: string[]): Promise<void> {
  const before = [`${ha} primary`, `${hb} backup`, `${hc} standby`].sort();
  for (const p of [a!, b!, c!]) {
    await poll(() => rolesIn(p), { timeout: 10_000 }).toEqual(before);
    // This tab's host is highlighted and labelled with its tab; the others with theirs.
    await expect(p.locator(".figure-1 .host.me")).toHaveCount(1);
    await expect(p.locator(".figure-1")).toContainText("this tab");
    await expect(p.locator(".figure-1")).toContainText(`owner ${ha}`);
  }
  // The metrics come from every tab's host: the backup's lag and the in-sync state hash.
  await expect(c!.getByTestId("in-sync")).toContainText("in sync", { timeout: 30_000 });
  // The feed's normal-operation lines come from the two other tabs' hosts.
  await expect(events(c!)).toContainText(`${ha} → ${hb}`);
}

/** Right after the primary's tab closed: within 5 s the survivors show the new primary and the lock record's new owner. */
export async function survivorsShowNewPrimary(survivors: Page[], hb: string, closedAt: number): Promise<void> {
  for (const p of survivors) {
    await expect(p.locator(".figure-1 [data-testid=figure-host][data-role=primary]")).toHaveAttribute("data-host", hb, { timeout: 5_000 });
    await expect(p.locator(".figure-1")).toContainText(`owner ${hb}`, { timeout: 5_000 });
  }
  console.log(`tabs-view: survivors show the new primary and lock owner ${Date.now() - closedAt} ms after close`);
}

/** After the failover, in the standby's tab: the failed host's slot, the failover story, the feed. */
export async function standbyTellsTheFailover(c: Page, [ha, hb, hc]: string[]): Promise<void> {
  // The failed host stays drawn, failed, in the backup's slot until the standby is cloned (on a
  // quiet machine that may already have happened: then the slot shows the new backup).
  const slot = async () =>
    (await c.locator(`.figure-1 [data-host="${ha}"][data-role=failed]`).count()) === 1 ? "failed host" : (await c.locator(`.figure-1 [data-host="${hc}"][data-role=backup]`).count()) === 1 ? "new backup" : "neither";
  await poll(slot).not.toBe("neither");
  await expect(c.getByTestId("failover").locator("[data-step=live]")).toContainText(`${hb} went live`);
  // The feed of the standby's tab has the event of the host in another tab.
  await expect(events(c)).toContainText("went live in epoch");
  const failoverMs = Number(await c.getByTestId("failover-ms").innerText().then((t) => t.replace(/\D/g, "")));
  console.log(`tabs-view: failover ${failoverMs} ms as the standby tab measured`);
  expect(failoverMs).toBeLessThan(3000);
}

/** Once the standby is the new backup: every survivor's Figure says so, and the story's last step is done. */
export async function survivorsShowNewBackup([b, c]: Page[], [ha, hb, hc]: string[]): Promise<void> {
  for (const p of [b!, c!]) await poll(() => rolesIn(p), { timeout: 10_000 }).toEqual([`${hb} primary`, `${hc} backup`].sort());
  await expect(c!.getByTestId("failover").locator("[data-step=backup]")).toHaveAttribute("data-done", "true");
  // Tab C opened after B was cloned: its feed has what happened before it, from the other tabs
  // (the FT VMotion snapshot A's host took for B), under a line that says where it came from.
  const earlier = await c!.evaluate((h) => (window.lockstep!.mode === "tabs" ? window.lockstep!.cluster.events.filter((e) => e.hostId === h && e.kind === "clone-snapshot").length : 0), ha);
  expect(earlier, "the snapshot event of the first primary, from before tab C opened").toBeGreaterThan(0);
  await expect(events(c!)).toContainText("the feed before this tab joined");
}

/**
 * The timeline in tab mode: C's own host is the backup; the live primary's recording comes from
 * B's tab over the cluster transport, and covers the run from its start (the boot image) across
 * the failover: B was cloned from A, and its recording continues the one A's snapshot carried
 * (A's frames from the boot image on, with `typed`, typed while A was the primary).
 */
export async function timelineFromAnotherTab(c: Page, hb: string, backupFrameBefore: number, typed: string): Promise<void> {
  await expect(c.getByTestId("live-clock")).toContainText(`(${hb})`);
  const [download] = await Promise.all([c.waitForEvent("download"), c.getByRole("button", { name: "Export recording" }).click()]);
  const rec = decodeRecording(new Uint8Array(readFileSync(await download.path())));
  expect(rec.meta).toMatchObject({ hostId: hb, origin: "image", start: { frame: BOOT_IMAGE_FRAME }, truncated: null });
  expect(rec.meta.end.frame).toBeGreaterThan(backupFrameBefore);
  const serial = rec.batches.flatMap((x) => decodeBatch(x)).flatMap((f) => f.entries).map((e) => (e.k === "serial" ? new TextDecoder().decode(e.bytes) : "")).join("");
  expect(serial).toContain(typed);
  // Replayed in C's own replay worker from the boot image, through the clone point: every recorded checkpoint identical.
  await c.getByRole("button", { name: "Replay the live run so far" }).click();
  await expect(c.getByTestId("replay-check")).toContainText(/Checkpoints replayed: (\d+) of \1,/, { timeout: 120_000 });
  await expect(c.getByTestId("replay-check")).toHaveAttribute("data-ok", "true");
  await expect(c.getByTestId("replay-summary")).toContainText(`live run of ${hb}`);
  console.log(`tabs-view: tab C replayed ${hb}'s recording (frames ${rec.meta.start.frame}–${rec.meta.end.frame}, ${rec.checkpoints.length} checkpoints, from B's tab)`);
}
