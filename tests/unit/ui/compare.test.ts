import { describe, expect, it } from "vitest";
import { compareGroups, comparisonRatio } from "../../../src/ui/teach/compare.ts";
import { phaseMeasurement, readsVerdict, type ReadPhase } from "../../../src/ui/teach/disk-reads-tour.ts";
import { fmtRatio } from "../../../src/ui/teach/format.ts";

const m = (group: string, label: string, bitsPerSec: number) => ({ group, label, bitsPerSec, detail: "" });

describe("side-by-side comparisons", () => {
  it("draw bars on a linear scale: 203× apart looks 203× apart", () => {
    const [g] = compareGroups([m("Remus vs log, idle", "Remus (counted)", 203e6), m("Remus vs log, idle", "log (sent)", 1e6)]);
    expect(g!.width(203e6)).toBe(100);
    expect(g!.width(1e6)).toBeCloseTo(100 / 203);
    expect(g!.ratio).toBeCloseTo(203);
  });

  it("one ratio per comparison, the same function the tours quote", () => {
    expect(comparisonRatio(12e6, 3e6)).toBe(4);
    expect(comparisonRatio(3e6, 12e6)).toBe(4);
    expect(comparisonRatio(0, 3)).toBeNull();
    const gs = compareGroups([m("a", "x", 1), m("b", "y", 2), m("a", "z", 3)]);
    expect(gs.map((g) => [g.name, g.items.length, g.ratio])).toEqual([["a", 2, 3], ["b", 1, null]]);
  });
});


describe("the disk-reads comparison", () => {
  it("quotes in its verdict the ratio the metrics panel shows for its bars (one figure, not 82.9× and 103×)", () => {
    const reads = (inLogBytes: number, byBackup: number) => ({ count: 64, bytes: 262_144, inLog: inLogBytes ? 64 : 0, inLogBytes, byBackup, cached: 0 });
    // Bytes ratio 290,000 / 3,500 = 82.9×; over different durations the bandwidths differ by 103×.
    const log: ReadPhase = { mode: "log", ms: 2000, logBytes: 290_000, reads: reads(262_144, 0) };
    const bak: ReadPhase = { mode: "backup-reads", ms: 2486, logBytes: 3_500, reads: reads(0, 64) };
    const [g] = compareGroups([phaseMeasurement(log), phaseMeasurement(bak)]);
    const v = readsVerdict(log, bak);
    expect(v.ok).toBe(true);
    expect(fmtRatio(g!.ratio!)).toBe("103×");
    expect(v.text).toContain("103× less log bandwidth");
    expect(v.text).not.toContain("82.9×");
  });
});
