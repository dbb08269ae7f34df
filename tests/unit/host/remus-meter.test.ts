import { describe, expect, it } from "vitest";
import { PAGE_BYTES } from "../../../src/engine/dirty-pages.ts";
import { RemusMeter } from "../../../src/host/remus-meter.ts";

describe("RemusMeter", () => {
  it("counts dirty pages × 4 KiB + CPU state per epoch, beside the log bytes of the same window", () => {
    let t = 0;
    const ram = new Uint8Array(1024 * PAGE_BYTES); // 4 MiB, 4 chunks of 256 pages
    const m = new RemusMeter(100, 1000, () => t, 5000);
    m.step(ram); // baseline, not an epoch
    expect(m.report(5000)).toMatchObject({ epochs: 0, totalBytes: 0 });
    ram[3 * PAGE_BYTES] = 1;
    ram[900 * PAGE_BYTES] = 1;
    t = 50;
    m.step(ram); // not due yet
    expect(m.report(5000).epochs).toBe(0);
    t = 100;
    m.step(ram);
    expect(m.report(5600)).toMatchObject({ epochs: 1, lastDirtyPages: 2, pages: 1024, totalBytes: 2 * PAGE_BYTES + 1000, logBytes: 600 });
  });

  it("spreads a sweep over several steps when the budget is spent, and counts each change once", () => {
    let t = 0;
    const ram = new Uint8Array(1024 * PAGE_BYTES);
    // Every clock read advances 1 ms: a 0.5 ms budget allows one 256-page chunk per step.
    const m = new RemusMeter(10, 0, () => t++, 0);
    m.step(ram, 0.5);
    ram[10] = 1; // page 0
    ram[1000 * PAGE_BYTES] = 1; // page 1000 (last chunk)
    t += 20;
    const steps = [1, 2, 3, 4].map(() => (m.step(ram, 0.5), m.report(0).epochs));
    expect(steps).toEqual([0, 0, 0, 1]);
    expect(m.report(0).lastDirtyPages).toBe(2);
    t += 20;
    for (let i = 0; i < 4; i++) m.step(ram, 0.5);
    expect(m.report(0)).toMatchObject({ epochs: 2, lastDirtyPages: 0, totalBytes: 2 * PAGE_BYTES });
  });
});
