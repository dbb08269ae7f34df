import { afterEach, describe, expect, it } from "vitest";
import { InertWorker, withoutNestedWorkers } from "../../../src/engine/inert-worker.ts";
import { Machine, type MachineHooks } from "../../../src/engine/machine.ts";
import { loadGuest } from "../../../src/engine/node/host.ts";

// Issue 17: v86's nested scheduler worker hung Firefox host workers while a machine was built.
// Node has no Worker (v86 takes its setImmediate path there), so a browser's Worker is played by
// a class that counts constructions.
const g = globalThis as { Worker?: unknown };
let built = 0;
class CountingWorker {
  constructor() {
    built++;
  }
}

afterEach(() => {
  delete g.Worker;
  built = 0;
});

describe("withoutNestedWorkers", () => {
  it("makes new Worker(...) an inert object that v86's scheduler can post to and terminate, then restores the real one", () => {
    g.Worker = CountingWorker;
    const restore = withoutNestedWorkers();
    const W = g.Worker as new (url: string) => InertWorker;
    const w = new W("blob:v86-yield");
    expect(w).toBeInstanceOf(InertWorker);
    w.onmessage = () => {
      throw new Error("an inert worker never answers");
    };
    w.postMessage({ t: 0, tick: 1 });
    w.terminate();
    expect(built).toBe(0);
    restore();
    expect(g.Worker).toBe(CountingWorker);
  });

  it("does nothing where there is no Worker", () => {
    const restore = withoutNestedWorkers();
    expect(g.Worker).toBeUndefined();
    restore();
    expect(g.Worker).toBeUndefined();
  });

  it("is in place only while Machine.create builds: the page's Worker is back afterwards, none was started", async () => {
    g.Worker = CountingWorker;
    const guest = loadGuest();
    const hooks: { current: MachineHooks } = {
      current: { rdrand: () => 0, serialOut() {}, netSend() {}, diskRead() {}, diskWrite() {} },
    };
    const seen: unknown[] = [];
    // Seen from a task that runs while the construction awaits (v86's init is asynchronous).
    const probe = setInterval(() => seen.push(g.Worker), 0);
    const m = await Machine.create(guest.wasm, guest.images, { jit: false, clockMs: 0, epochMs: 1_700_000_000_000 }, hooks);
    clearInterval(probe);
    m.destroy();
    expect(g.Worker).toBe(CountingWorker);
    expect(built).toBe(0);
    expect(seen).toContain(InertWorker);
  });
});
