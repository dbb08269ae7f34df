import type { OnePageHook } from "../../src/ui/test-hook.ts";
import type { Page } from "@playwright/test";
import { expect, test } from "./persistent.ts";
import { runTour } from "./ft.ts";

/** The measured bars of one comparison group in the metrics panel: label → bits per second. */
async function measured(page: Page, group: RegExp): Promise<Map<string, number>> {
  const rows = page.getByTestId("measurement");
  const out = new Map<string, number>();
  for (const r of await rows.all()) {
    if (!group.test((await r.getAttribute("data-group")) ?? "")) continue;
    out.set((await r.getAttribute("data-label"))!, Number(await r.getAttribute("data-bps")));
  }
  return out;
}

test("tour: disk reads by the backup use less log than read data in the log", async ({ page }) => {
  // diskcache=off: the first pair already runs as the tour's first phase needs (no extra boot).
  const result = await runTour(page, "disk-reads", "&diskcache=off");
  await expect(result).toHaveAttribute("data-verdict", "reads-compared");
  console.log(`disk-reads tour: ${await result.innerText()}`);
  await expect(result).toHaveAttribute("data-ok", "true");
  await expect(result).toContainText("read data in the log");
  await expect(result).toContainText("reads done by the backup itself");
  const bars = await measured(page, /Disk reads/);
  expect([...bars.keys()].sort()).toEqual(["backup reads the disk", "read data in the log"]);
  expect(bars.get("backup reads the disk")!).toBeGreaterThan(0);
  expect(bars.get("backup reads the disk")!).toBeLessThan(bars.get("read data in the log")!);
  // The second pair really runs in backup-reads mode and did the reads itself.
  const reads = await page.evaluate(() => {
    const c = (window.lockstep as OnePageHook).cluster;
    const p = c.hosts.find((h) => !h.dead && h.status?.role === "primary");
    return { mode: c.config.readMode, ...p?.status?.reads };
  });
  expect(reads.mode).toBe("backup-reads");
  expect(reads.byBackup).toBeGreaterThan(0);
  expect(reads.inLog).toBe(0);
});

test("tour: shipping state (Remus) needs more bandwidth than the log, idle and busy", async ({ page }) => {
  const result = await runTour(page, "remus");
  await expect(result).toHaveAttribute("data-verdict", "remus-compared");
  console.log(`remus tour: ${await result.innerText()}`);
  await expect(result).toHaveAttribute("data-ok", "true");
  await expect(result).toContainText("Idle: Remus");
  await expect(result).toContainText("Busy: Remus");
  for (const when of ["idle", "busy"]) {
    const bars = await measured(page, new RegExp(`^Remus vs log.*, ${when}$`));
    const remus = bars.get("Remus (counted)")!;
    const log = bars.get("log (sent)")!;
    expect(log).toBeGreaterThan(0);
    expect(remus / log).toBeGreaterThan(1);
  }
  // The meter is off again once the tour is over (it costs the primary CPU time).
  await expect(page.getByTestId("remus-meter")).toHaveCount(0);
  await expect(page.getByRole("checkbox", { name: "Remus meter" })).not.toBeChecked();
});
