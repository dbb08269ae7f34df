import { describe, expect, it } from "vitest";
import { DirtyPageTracker, PAGE_BYTES } from "../../../src/engine/dirty-pages.ts";

describe("DirtyPageTracker (Remus meter)", () => {
  it("takes a baseline first, then counts each changed page once", () => {
    const ram = new Uint8Array(8 * PAGE_BYTES);
    const t = new DirtyPageTracker();
    expect(t.epoch(ram)).toBeNull();
    expect(t.epoch(ram)).toEqual({ dirtyPages: 0, pages: 8 });
    ram[0] = 1; // page 0, first byte
    ram[PAGE_BYTES * 3 + 100] = 7; // page 3
    ram[PAGE_BYTES * 3 + 4000] = 9; // page 3 again: still one page
    ram[PAGE_BYTES * 8 - 1] = 5; // last byte of the last page
    expect(t.epoch(ram)).toEqual({ dirtyPages: 3, pages: 8 });
    // Nothing changed since: the copy was updated, including bytes after the first difference.
    expect(t.epoch(ram)).toEqual({ dirtyPages: 0, pages: 8 });
  });

  it("a page written back to its old value is not dirty (content compare, not write tracking)", () => {
    const ram = new Uint8Array(2 * PAGE_BYTES);
    const t = new DirtyPageTracker();
    t.epoch(ram);
    ram[10] = 3;
    ram[10] = 0;
    expect(t.epoch(ram)!.dirtyPages).toBe(0);
  });

  it("works on an unaligned view and with other page sizes", () => {
    const buf = new Uint8Array(1 + 4 * 512);
    const ram = buf.subarray(1);
    const t = new DirtyPageTracker(512);
    t.epoch(ram);
    ram[513] = 1;
    expect(t.epoch(ram)).toEqual({ dirtyPages: 1, pages: 4 });
  });

  it("reset() starts over with a new baseline", () => {
    const ram = new Uint8Array(PAGE_BYTES);
    const t = new DirtyPageTracker();
    t.epoch(ram);
    ram[1] = 1;
    t.reset();
    expect(t.epoch(ram)).toBeNull();
    expect(t.epoch(ram)!.dirtyPages).toBe(0);
  });
});

describe("DirtyPageTracker split sweeps", () => {
  it("compare() over page ranges counts the same as one epoch", () => {
    const ram = new Uint8Array(16 * PAGE_BYTES);
    const whole = new DirtyPageTracker();
    const split = new DirtyPageTracker();
    whole.epoch(ram);
    split.baseline(ram);
    for (const p of [0, 5, 6, 15]) ram[p * PAGE_BYTES + 17] = 1;
    expect(whole.epoch(ram)!.dirtyPages).toBe(4);
    expect(split.compare(ram, 0, 6) + split.compare(ram, 6, 10) + split.compare(ram, 10, 99)).toBe(4);
    // Compared pages were remembered: a second sweep finds nothing.
    expect(split.compare(ram, 0, 16)).toBe(0);
  });

  it("refuses to compare without a baseline", () => {
    expect(() => new DirtyPageTracker().compare(new Uint8Array(PAGE_BYTES), 0, 1)).toThrow(/baseline/);
  });
});
