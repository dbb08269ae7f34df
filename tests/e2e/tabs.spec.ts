import type { Page } from "@playwright/test";
import { clientText, poll, run, shows } from "./ft.ts";
import { expect, test } from "./persistent.ts";
import { feed, joinAsBackup, myHost, myRole, myState, openTab, startPrimary } from "./tabs.ts";
import { everyTabShowsAll, frameOf, hostOf, standbyTellsTheFailover, survivorsShowNewBackup, survivorsShowNewPrimary, timelineFromAnotherTab } from "./tabs-figure.ts";

/**
 * Kill-tab failover (issue 6): several pages (tabs) of ONE persistent context, so they share the
 * origin's BroadcastChannel and the on-disk IndexedDB that holds the shared disk and lock record.
 */

/**
 * How long a frozen host stalls: past the backup's detection, at most TAB_DEFAULTS' 3 s timeout plus
 * the peer's last reported stall (stallWindowMs, 3 s; measured: live 3.5 s after the click). The
 * clone grace no longer counts by then: it ends graceFrames (2) frames after the clone point
 * (config.ts), and the kv set before the freeze ran many frames past it. Every second more is
 * only waited out before the frozen host halts (the UI's default freeze is 6 s).
 */
const FREEZE_MS = 8000;

async function expectExactlyOnce(page: Page, keys: number[], prefix = "k"): Promise<void> {
  const text = await clientText(page);
  if (process.env.DUMP) console.log(JSON.stringify(text.slice(-3000)));
  for (const i of keys) expect(text.split(`kv set ${prefix}${i} v${i}\r\n`).length - 1, `echo of ${prefix}${i}`).toBe(1);
  await expect(page.getByTestId("client-stream")).toContainText("conflicts 0");
}

/**
 * Sets keys (typed in `typer`), then one more in flight, then closes `victim`; `atClose` runs at
 * once after the close (checks timed from it). Returns the acknowledged keys.
 */
async function loadThenClose(typer: Page, victim: Page, survivor: Page, from: number, n: number, atClose?: (closedAt: number) => Promise<void>): Promise<{ acked: number[]; closedAt: number }> {
  const acked: number[] = [];
  for (let i = from; i < from + n; i++) {
    await run(typer, `kv set k${i} v${i}`, "OK");
    acked.push(i);
  }
  const inflight = from + n;
  await typer.getByRole("application", { name: "Client console" }).click();
  await typer.keyboard.type(`kv set k${inflight} v${inflight}\n`);
  const closedAt = Date.now();
  await victim.close();
  await atClose?.(closedAt);
  // Acknowledged means: the survivor's client saw the OK (it may or may not have been released).
  await shows(myRole(survivor), "primary", { timeout: 30_000 });
  // Alone, or already recording again if a standby tab took the new backup's place that fast.
  await shows(myState(survivor), /^(alone|recording)$/);
  if ((await clientText(survivor)).includes(`kv set k${inflight} v${inflight}\r\nOK`)) acked.push(inflight);
  return { acked, closedAt };
}

test("two tabs: close the primary's tab under kv load; the backup tab goes live with every acknowledged key", async ({ context }) => {
  const a = await startPrimary(context);
  const b = await joinAsBackup(context, a);
  await run(a, "kv set before 0", "OK");
  await poll(() => clientText(b)).toContain("kv set before 0\r\nOK");

  // Typed in the tab that is about to die: the other tab's client mirrors the input.
  const { acked, closedAt } = await loadThenClose(a, a, b, 0, 3 + Math.floor(Math.random() * 3));
  const liveMs = Date.now() - closedAt;
  const t0 = Date.now();
  await run(b, "echo first-after", "first-after");
  console.log(`failover-ms-tabs (close → backup alone) ${liveMs}; first new output after ${Date.now() - closedAt} ms (command round trip ${Date.now() - t0} ms)`);

  for (const i of acked) await run(b, `kv get k${i}`, `v${i}`);
  await run(b, "kv get before", "0");
  await expectExactlyOnce(b, acked);
});

test("three tabs: the third becomes the backup after a failover by itself, then takes over; every tab shows the whole cluster and the failover", async ({ context }) => {
  const t = Date.now();
  const stage = (what: string) => console.log(`[${((Date.now() - t) / 1000).toFixed(1)} s] ${what}`);
  const a = await startPrimary(context);
  stage("primary up");
  const b = await joinAsBackup(context, a);
  stage("backup cloned");
  const c = await openTab(context);
  // While a backup exists, the third tab waits as a standby host.
  await shows(myRole(c), "standby", { timeout: 120_000 });
  await shows(myState(b), "replaying");
  stage("standby up");
  // Issue 16 (tabs-figure.ts) on the same three tabs: what each tab shows of the others.
  const ids = [(await hostOf(a))!, (await hostOf(b))!, (await hostOf(c))!];
  const [, hb] = ids;
  await everyTabShowsAll([a, b, c], ids);
  await run(b, "kv set a 1", "OK");
  const backupFrameBefore = await frameOf(b, hb!);

  const first = await loadThenClose(b, a, b, 0, 3, (closedAt) => survivorsShowNewPrimary([b, c], hb!, closedAt));
  stage("first failover");
  await standbyTellsTheFailover(c, ids);
  // Redundancy comes back without a click: the standby tab becomes the new backup.
  await shows(myState(c), "replaying", { timeout: 60_000 });
  stage("third tab is the backup");

  await shows(myState(b), "recording");
  await expect(c.getByTestId("client-stream")).toContainText("conflicts 0");
  const pause = await b.getByTestId("clone-pause").innerText();
  console.log(`clone across tabs: ${pause}`);
  await survivorsShowNewBackup([b, c], ids);
  await run(c, "kv get a", "1");
  await timelineFromAnotherTab(c, hb!, backupFrameBefore, "kv set a 1");
  stage("tab C replayed B's recording");

  const second = await loadThenClose(c, b, c, 10, 3);
  stage("second failover");
  for (const i of [...first.acked, ...second.acked]) await run(c, `kv get k${i}`, `v${i}`);
  await expectExactlyOnce(c, [...first.acked, ...second.acked]);
});

test("freeze the primary's host: the backup goes live; the frozen host halts on resume and is fenced", async ({ context }) => {
  const a = await startPrimary(context);
  const b = await joinAsBackup(context, a);
  await run(b, "kv set f 1", "OK");

  await a.getByRole("spinbutton", { name: "Freeze milliseconds" }).fill(String(FREEZE_MS));
  await a.getByRole("button", { name: "Freeze host", exact: true }).click();
  const frozenAt = Date.now();
  await shows(myRole(b), "primary", { timeout: 30_000 });
  await shows(myState(b), "alone");
  console.log(`freeze ${FREEZE_MS} ms: the backup tab went live ${Date.now() - frozenAt} ms after the click`);
  await run(b, "kv set g 2", "OK");

  // The frozen host wakes up, tries to go live, loses the test-and-set, and halts.
  await shows(myState(a), "halted", { timeout: 30_000 });
  await a.getByRole("button", { name: "Zombie write", exact: true }).click();
  await expect(feed(a)).toContainText("rejected: write fenced", { timeout: 10_000 });
  await expect(feed(a)).not.toContainText("ACCEPTED");
  // The halted host's tab still shows the client, following the live primary in the other tab.
  await run(a, "kv get f", "1");
  await run(a, "kv get g", "2");
  await expect(a.getByTestId("client-stream")).toContainText("conflicts 0");
});

test("non-shared disk: each tab keeps its own disk copy; close the primary's tab under kv load; nothing acknowledged is lost", async ({ context }) => {
  const url = "/?mode=tabs&disk=non-shared";
  const a = await startPrimary(context, url);
  await run(a, "kv set before 0", "OK");
  // The backup's copy is made by FT VMotion from the primary's, written before it (paper 4.1).
  const b = await joinAsBackup(context, a, url);
  await expect(feed(b)).toContainText("own disk copy synchronised", { timeout: 30_000 });
  await expect(feed(b)).toContainText("equals the primary's");
  await expect(b.getByTestId("disk-mode")).toContainText("non-shared");
  // Two disks a student can see: one own copy per host, each a database of its own.
  const diskOf = (p: Page) => myHost(p).getByTestId("host-disk");
  await expect(diskOf(a)).toHaveAttribute("data-disk-mode", "non-shared");
  await expect(diskOf(b)).toContainText("own copy");
  const [nameA, nameB] = [await diskOf(a).getAttribute("title"), await diskOf(b).getAttribute("title")];
  expect(nameA).toContain("/own-disk/");
  expect(nameA).not.toBe(nameB);
  await expect(diskOf(b)).toHaveText(/· [1-9][\d,]* blocks/);

  const { acked } = await loadThenClose(a, a, b, 0, 3 + Math.floor(Math.random() * 3));
  for (const i of acked) await run(b, `kv get k${i}`, `v${i}`);
  await run(b, "kv get before", "0");
  await expectExactlyOnce(b, acked);
  // The old primary's copy is out of sync and never used again: the new primary's tab deletes it.
  const databases = () => b.evaluate(async () => (await indexedDB.databases()).map((d) => d.name ?? ""));
  await poll(databases, { timeout: 30_000 }).not.toContain(nameA);
  expect(await databases()).toContain(nameB);
});

test("one tab with a standby worker: it becomes the backup by itself, and takes over when the primary's worker freezes", async ({ context }) => {
  const a = context.pages()[0] ?? (await context.newPage());
  await a.goto("/?mode=tabs&local=1");
  const sibling = a.getByTestId("sibling-host");
  // No standby tab, so the primary clones itself into a second worker of its own tab.
  await expect(sibling.locator(".badge.state")).toHaveText("replaying", { timeout: 120_000 });
  await shows(myState(a), "recording");
  const firstHost = await myHost(a).getByRole("heading").innerText();
  await poll(() => clientText(a), { timeout: 120_000 }).toMatch(/LOCKSTEP READY[\s\S]*lockstep# /);
  await run(a, "kv set w 1", "OK");

  await a.getByRole("spinbutton", { name: "Freeze milliseconds" }).fill(String(FREEZE_MS));
  await a.getByRole("button", { name: "Freeze host", exact: true }).click();
  // The second worker goes live and becomes this tab's host; the frozen one is taken out.
  await expect(myHost(a).getByRole("heading")).not.toHaveText(firstHost, { timeout: 30_000 });
  await shows(myRole(a), "primary");
  await expect(feed(a)).toContainText("becomes the tab's host");
  await run(a, "kv get w", "1");
  await run(a, "kv set x 2", "OK");
  await expectExactlyOnce(a, [], "k");
});

