import { describe, expect, it } from "vitest";
import { StallFeed } from "../../../src/host/stall-feed.ts";

describe("host: the stalls the protocol hears of (stall-feed.ts)", () => {
  it("a tick that came late for something no section reported is a stall; one on time is not", () => {
    const f = new StallFeed(10, 20);
    f.ticksFrom(0);
    expect(f.tick(10)).toBeNull();
    expect(f.tick(25)).toBeNull(); // 5 ms late: a normal scheduling delay
    expect(f.tick(835)).toBe(800);
    expect(f.tick(845)).toBeNull();
  });

  it("a stall a section reported is not fed again by the late tick after it", () => {
    const f = new StallFeed(10, 20);
    f.ticksFrom(0);
    expect(f.section(5, 10)).toBeNull(); // short: not a stall, and the next late tick still counts
    expect(f.tick(100)).toBe(90);
    expect(f.section(700, 600)).toBe(600);
    expect(f.tick(710)).toBeNull();
    expect(f.tick(1000)).toBe(280); // a later stall of its own
  });
});
