import { describe, expect, it } from "vitest";
import { ClientLink } from "../../../src/net/client-link.ts";

/** A clock whose timers run when the test advances it. */
function fakeTime() {
  let now = 0;
  const timers: { at: number; fn: () => void }[] = [];
  return {
    after: (ms: number, fn: () => void) => void timers.push({ at: now + ms, fn }),
    advance(ms: number) {
      now += ms;
      for (const t of timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at)) {
        timers.splice(timers.indexOf(t), 1);
        t.fn();
      }
    },
  };
}

const frame = (i: number) => new Uint8Array([i & 255, i >> 8]);

describe("the client's link", () => {
  it("loses about the set share of frames each way, the same ones for the same seed", () => {
    const seed = 0x5eed1;
    console.log(`client link loss seed ${seed}`);
    const run = () => {
      const link = new ClientLink(() => {}, seed);
      link.set({ lossPct: 25 });
      const got: number[] = [];
      for (let i = 0; i < 2000; i++) link.fromClient(frame(i), (f) => got.push(f[0]! | (f[1]! << 8)));
      for (let i = 0; i < 2000; i++) link.toClient(frame(i), () => {});
      return { got, stats: link.stats };
    };
    const a = run();
    expect(a.stats.lost).toBeGreaterThan(850);
    expect(a.stats.lost).toBeLessThan(1150);
    expect(a.stats.toSwitch + a.stats.toClient + a.stats.lost).toBe(4000);
    expect(run().got).toEqual(a.got);
  });

  it("delays every frame by the set time and keeps their order", () => {
    const t = fakeTime();
    const link = new ClientLink(t.after);
    link.set({ delayMs: 100 });
    const got: number[] = [];
    link.toClient(frame(1), (f) => got.push(f[0]!));
    t.advance(50);
    link.toClient(frame(2), (f) => got.push(f[0]!));
    t.advance(49);
    expect(got).toEqual([]);
    t.advance(1);
    expect(got).toEqual([1]);
    t.advance(50);
    expect(got).toEqual([1, 2]);
    expect(link.stats.delayed).toBe(2);
  });

  it("a pulled cable drops both ways, frames already on it included; plugged back, traffic flows", () => {
    const t = fakeTime();
    const link = new ClientLink(t.after);
    const got: string[] = [];
    link.set({ delayMs: 10 });
    link.fromClient(frame(1), () => got.push("in flight"));
    link.set({ up: false });
    t.advance(10);
    link.fromClient(frame(2), () => got.push("to switch"));
    link.toClient(frame(3), () => got.push("to client"));
    expect(got).toEqual([]);
    expect(link.stats.cut).toBe(3);
    link.set({ up: true, delayMs: 0 });
    link.toClient(frame(4), () => got.push("to client"));
    expect(got).toEqual(["to client"]);
  });

  it("refuses settings out of range and keeps the ones it had", () => {
    const link = new ClientLink(() => {});
    link.set({ lossPct: 5 });
    expect(() => link.set({ lossPct: 101 })).toThrow(RangeError);
    expect(() => link.set({ delayMs: -1 })).toThrow(RangeError);
    expect(() => link.set({ lossPct: Number.NaN })).toThrow(RangeError);
    expect(link.settings).toEqual({ up: true, lossPct: 5, delayMs: 0 });
  });
});
