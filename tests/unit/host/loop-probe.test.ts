import { describe, expect, it } from "vitest";
import { latePercentile, LoopProbe } from "../../../src/host/loop-probe.ts";
import type { HostScheduler } from "../../../src/host/scheduler.ts";

/** A scheduler whose `every` is driven by hand: `turn(at)` runs the probe at time `at`. */
function manual() {
  let now = 0;
  let fn: (() => void) | null = null;
  const s = {
    now: () => now,
    every: (_ms: number, f: () => void) => ((fn = f), { cancel: () => (fn = null) }),
  } as unknown as HostScheduler;
  return { s, turn: (at: number) => ((now = at), fn?.()) };
}

describe("LoopProbe (the stall meter)", () => {
  it("notes how late each turn of its timer came, keeping those at or above the tail one by one", () => {
    const m = manual();
    const p = new LoopProbe(m.s, 10, 5);
    p.start();
    for (const at of [10, 20, 33, 43, 300, 310]) m.turn(at); // late: 0, 0, 3, 0, 247, 0
    const r = p.report();
    expect(r.turns).toBe(6);
    expect(r.late).toEqual([247]);
    expect(r.maxMs).toBe(247);
    p.stop();
    m.turn(1000);
    expect(p.report().turns).toBe(6);
  });

  it("blames a late turn on the longest section reported since the turn before (if it explains half the lateness), else on what the host is doing, else 'other'", () => {
    const m = manual();
    const p = new LoopProbe(m.s, 10, 5);
    p.start();
    p.ran("record", 4);
    p.ran("replay", 90);
    p.ran("record", 30);
    m.turn(100); // 90 late: the 90 ms replay slice, not the later, shorter record slice
    p.doing("clone-restore");
    m.turn(400); // 290 late, no section ended: inside the restore
    p.ran("record", 5);
    m.turn(450); // 40 late: a 5 ms slice ended, then the restore went on: still the restore's
    p.doing(null);
    m.turn(520); // 60 late: the restore's synchronous tail ended it before this turn came: still its
    m.turn(590); // 60 late: nothing reported since (GC, a message handler)
    p.ran("record", 3);
    m.turn(600); // on time: not kept, and its section does not leak into the next turn
    m.turn(650);
    const r = p.report();
    expect(r.late).toEqual([90, 290, 40, 60, 60, 40]);
    expect(r.lateBy).toEqual(["replay", "clone-restore", "clone-restore", "clone-restore", "other", "other"]);
  });

  it("drops the oldest late turns beyond its cap and counts them", () => {
    const m = manual();
    const p = new LoopProbe(m.s, 10, 5, 3);
    p.start();
    let t = 0;
    for (const late of [6, 7, 8, 9]) m.turn((t += 10 + late));
    expect(p.report().late).toEqual([7, 8, 9]);
    expect(p.report().lateBy).toEqual(["other", "other", "other"]);
    expect(p.report().lateDropped).toBe(1);
  });
});

describe("latePercentile", () => {
  it("counts the turns below the tail as on time", () => {
    expect(latePercentile(100, [50], 99)).toBe(0);
    expect(latePercentile(100, [50, 60], 99)).toBe(50);
    expect(latePercentile(100, [50, 60], 100)).toBe(60);
    expect(latePercentile(0, [], 99)).toBe(0);
  });
});
