import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../../src/engine/virtual-clock.ts";

/** A clock whose instruction count stands still: every frame is a zero-length halted frame. */
function haltedAt(anchorUs: number, exactHaltEnd: boolean): VirtualClock {
  const counter = { icount: 5000 };
  const clock = new VirtualClock({ ipms: 1_000_000, epochMs: 0, realNow: () => 0, maxLagMs: 25, maxLeadMs: 2, exactHaltEnd }, counter);
  clock.setPace("max"); // no resyncs: only the prediction moves the anchor
  clock.restore({ anchorUs, anchorIcount: counter.icount, pred: { halted: false, t: 0, endMs: 0 } });
  return clock;
}

describe("VirtualClock: a halted guest whose timer reports 0 ms left", () => {
  // 16,571,045 µs / 1000 * 1000 = 16,571,044.999999998 in floating point: measured in an idle
  // guest, where the ms round trip left the next frame at the same µs for ~1,000 frames.
  const stuck = 16_571_045;

  it("moves on by at least 1 µs per zero-length frame (session haltClock 2)", () => {
    const c = haltedAt(stuck, true);
    const starts: number[] = [];
    for (let i = 0; i < 3; i++) {
      c.frameEnded(true, 0);
      expect(c.startRecordedFrame(false)).toBeNull(); // predicted: nothing logged
      starts.push(c.state().anchorUs);
    }
    expect(starts).toEqual([stuck + 1, stuck + 2, stuck + 3]);
  });

  it("keeps the old prediction for sessions recorded before (haltClock absent): it repeats the same µs", () => {
    const c = haltedAt(stuck, false);
    c.frameEnded(true, 0);
    c.startRecordedFrame(false);
    expect(c.state().anchorUs).toBe(stuck);
  });

  it("predicts a halted frame's successor from its timer", () => {
    const c = haltedAt(1_000_000, true);
    c.frameEnded(true, 27.5);
    c.startReplayedFrame(null);
    expect(c.state().anchorUs).toBe(1_027_500);
  });
});
