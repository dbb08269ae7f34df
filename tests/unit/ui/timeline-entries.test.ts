import { describe, expect, it } from "vitest";
import { frameEntries, inputFrames, nearest } from "../../../src/ui/timeline/entries.ts";
import type { FrameLog } from "../../../src/ft/log/entries.ts";

const f = (frame: number, entries: FrameLog["entries"]): FrameLog => ({ frame, startIcount: frame * 1000, length: 900, entries });

describe("the timeline's log inspector", () => {
  it("places each entry where the engine applies it: boundary entries at the frame's start, RDRAND inside, outputs after", () => {
    const rows = frameEntries(f(7, [{ k: "serial", bytes: new TextEncoder().encode("k") }, { k: "rdrand", at: 12, value: 0xabc }, { k: "output", end: 99, crc: 1 }]));
    expect(rows.map((r) => [r.kind, r.frame, r.icount, r.when])).toEqual([
      ["serial", 7, 7000, "before the frame"],
      ["rdrand", 7, 7012, "during the frame"],
      ["output", 7, 7900, "after the frame"],
    ]);
    expect(rows[0]!.detail).toBe('"k"');
  });

  it("steps between frames whose log carries an input, not clock or JIT entries", () => {
    const frames = [f(1, [{ k: "clock", us: 5 }]), f(2, [{ k: "serial", bytes: new Uint8Array([104]) }]), f(3, [{ k: "jit", index: 4 }]), f(4, [{ k: "io-done", id: 3 }])];
    const inputs = inputFrames(frames);
    expect(inputs).toEqual([2, 4]);
    expect(nearest(inputs, 2, 1)).toBe(4);
    expect(nearest(inputs, 4, -1)).toBe(2);
    expect(nearest(inputs, 2, -1)).toBeNull();
  });
});
