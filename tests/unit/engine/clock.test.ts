import { describe, expect, it } from "vitest";
import { frozenClock, installTimeShim, realDateNow, realNow, setFallbackClock, withClock, type TimeSource } from "../../../src/engine/clock.ts";

installTimeShim();

describe("time shim", () => {
  it("passes real time through when no engine clock is active", () => {
    const a = performance.now();
    const r = realNow();
    expect(Math.abs(a - r)).toBeLessThan(1000);
    expect(Math.abs(Date.now() - realDateNow())).toBeLessThan(1000);
    expect(Math.abs(new Date().getTime() - realDateNow())).toBeLessThan(1000);
  });

  it("returns the active virtual clock inside withClock, for all three globals", () => {
    let t = 1234.5;
    const src: TimeSource = { now: () => t, wallNow: () => 1_700_000_000_000 + t };
    withClock(src, () => {
      expect(performance.now()).toBe(1234.5);
      expect(Date.now()).toBe(1_700_000_001_234);
      expect(new Date().getTime()).toBe(1_700_000_001_234);
      t = 2000;
      expect(performance.now()).toBe(2000);
      // Date with arguments is untouched.
      expect(new Date(0).getTime()).toBe(0);
      expect(Date.UTC(2024, 0, 1)).toBe(1704067200000);
      expect(new Date() instanceof Date).toBe(true);
    });
    expect(Math.abs(performance.now() - realNow())).toBeLessThan(1000);
  });

  it("nests and restores, and the fallback applies only outside withClock", () => {
    const a = frozenClock(1, 0);
    const b = frozenClock(2, 0);
    const c = frozenClock(3, 0);
    const unset = setFallbackClock(c);
    try {
      expect(performance.now()).toBe(3);
      withClock(a, () => {
        expect(performance.now()).toBe(1);
        withClock(b, () => expect(performance.now()).toBe(2));
        expect(performance.now()).toBe(1);
      });
      expect(performance.now()).toBe(3);
    } finally {
      unset();
    }
    expect(performance.now()).not.toBe(3);
  });

  it("keeps Date callable without new (returns a string)", () => {
    const s = (Date as unknown as () => string)();
    expect(typeof s).toBe("string");
  });
});
