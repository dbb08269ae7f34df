import { describe, expect, it } from "vitest";
import { FrameIndex } from "../../../src/engine/replay/frame-index.ts";

describe("FrameIndex (the timeline's recall of boundaries a replay passed)", () => {
  it("keeps every boundary from the start on, past its first capacity, and only contiguous ones", () => {
    const ix = new FrameIndex(100);
    for (let f = 100; f < 3100; f++) ix.note({ frame: f, icount: f * 1000, guestMs: f / 2, consoleBytes: f * 3 });
    expect(ix.get(99)).toBeNull();
    expect(ix.get(100)).toEqual({ frame: 100, icount: 100_000, guestMs: 50, consoleBytes: 300 });
    expect(ix.get(3099)).toEqual({ frame: 3099, icount: 3_099_000, guestMs: 1549.5, consoleBytes: 9297 });
    expect(ix.get(3100)).toBeNull();
    // A boundary beyond the known ones (a gap) is not kept: a recall must never guess.
    ix.note({ frame: 3200, icount: 1, guestMs: 1, consoleBytes: 1 });
    expect(ix.get(3200)).toBeNull();
    // A second pass over a known boundary (a restart) leaves it as it was noted.
    ix.note({ frame: 100, icount: 100_000, guestMs: 50, consoleBytes: 300 });
    expect(ix.get(100)?.icount).toBe(100_000);
  });

  it("remembers the state hashes computed at boundaries", () => {
    const ix = new FrameIndex(0);
    ix.note({ frame: 0, icount: 0, guestMs: 0, consoleBytes: 0 });
    expect(ix.hash(0)).toBeNull();
    ix.setHash(0, "00000000deadbeef");
    expect(ix.hash(0)).toBe("00000000deadbeef");
  });
});
