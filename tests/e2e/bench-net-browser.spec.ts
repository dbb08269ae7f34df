import type { Page } from "@playwright/test";
import { expect, test } from "./persistent.ts";
import { hostState, shows, waitForLockstep } from "./ft.ts";
import { download, downloadView } from "./net.ts";

// bench:net's shape in Chromium, where primary and backup are two workers (not one Node thread):
// one GET of a MIB file and PINGS small GETs with FT on, then the backup killed (the primary
// alone: no log, no Output Rule wait) and the same again. Not in CI: LOCKSTEP_BENCH=1 runs it.
// Times are the client's own stamps (DownloadView.startedAt/doneAt, the page's clock).
const MIB = Number(process.env.MIB ?? 4);
const PINGS = Number(process.env.PINGS ?? 30);

test.skip(!process.env.LOCKSTEP_BENCH, "a benchmark: LOCKSTEP_BENCH=1");

async function get(page: Page, path: string) {
  const id = await download(page, path);
  await expect.poll(async () => (await downloadView(page, id)).state, { timeout: 120_000, intervals: [5] }).toBe("done");
  const d = await downloadView(page, id);
  return { ms: d.doneAt! - d.startedAt, bytes: d.received, text: d.text };
}

async function pass(page: Page, file: string) {
  const tx = await get(page, file);
  const lat: number[] = [];
  for (let i = 0; i < PINGS; i++) lat.push((await get(page, "/")).ms);
  lat.sort((a, b) => a - b);
  return { mibs: tx.bytes / 1048576 / (tx.ms / 1000), p50: lat[Math.floor(lat.length / 2)]!, p90: lat[Math.floor(lat.length * 0.9)]! };
}

test("bench: network FT on vs off in Chromium", async ({ page }) => {
  test.setTimeout(600_000);
  await page.goto("/");
  await waitForLockstep(page);
  const file = (await get(page, `/cgi-bin/mkfile?mib=${MIB}`)).text!.trim().split(" ")[0]!;
  await get(page, "/");
  const on = await pass(page, file);
  await page.getByRole("button", { name: "Kill backup" }).click();
  await shows(hostState(page, "A#1"), "alone", { timeout: 20_000 });
  const off = await pass(page, file);
  const f = (x: number) => x.toFixed(2);
  console.log(`browser-net-tx-mibs-on: ${f(on.mibs)} off: ${f(off.mibs)} ratio: ${f(on.mibs / off.mibs)}`);
  console.log(`browser-net-latency-ms p50 on: ${f(on.p50)} off: ${f(off.p50)} added: ${f(on.p50 - off.p50)}; p90 on ${f(on.p90)} off ${f(off.p90)}`);
});
