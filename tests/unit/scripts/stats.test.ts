import { describe, expect, it } from "vitest";
import { median, percentile } from "../../../scripts/lib/stats.ts";

describe("script statistics", () => {
  it("takes the middle sample, the upper one of an even count, without reordering the input", () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(median([7])).toBe(7);
  });

  it("sorts numerically, not as text", () => {
    expect(median([100, 9, 20])).toBe(20);
  });

  it("gives nearest-rank percentiles, the largest sample for a high one", () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100, reversed
    expect(percentile(xs, 50)).toBe(51);
    expect(percentile(xs, 99)).toBe(100);
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile([1, 2, 3], 99)).toBe(3);
  });

  it("refuses no samples and percentiles outside 0..100", () => {
    expect(() => median([])).toThrow(/no samples/);
    expect(() => percentile([1], 101)).toThrow(/outside/);
  });
});
