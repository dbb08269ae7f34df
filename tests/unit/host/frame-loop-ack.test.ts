// The primary reads the backup's acks only between slices: while the Output Rule holds outputs,
// a slice must be a single frame, so an ack that arrived during it is read at the next frame
// boundary (bench:net's hold; see README "Where a transmitted packet's 13-25 ms go").
import { describe, expect, it } from "vitest";
import type { HostEngine } from "../../../src/host/engine-port.ts";
import type { HostContext } from "../../../src/host/host-context.ts";
import { FrameLoop, type LoopWork } from "../../../src/host/frame-loop.ts";
import { REAL_TIMING } from "../../../src/host/ports.ts";

/** A recording loop on a fake clock where every frame takes 1 ms; counts frames per turn of the event loop. */
function run(awaitingAck: () => boolean, turns: number): number[] {
  let now = 0;
  const queue: (() => void)[] = [];
  const engine = { mode: "record", halted: false, nextFrameDelay: () => 0 } as unknown as HostEngine;
  const ctx = {
    timing: REAL_TIMING,
    scheduler: {
      now: () => now,
      yield: (fn: () => void) => (queue.push(fn), { cancel: () => {} }),
      after: (_ms: number, fn: () => void) => (queue.push(fn), { cancel: () => {} }),
    },
    engine,
    stopped: false,
    frozen: false,
    stalledSince: () => {},
    fail: (e: unknown) => {
      throw e;
    },
  } as unknown as HostContext;
  let frames = 0;
  const work: LoopWork = {
    live: () => true,
    recordFrame: () => {
      frames++;
      now += 1;
    },
    awaitingAck,
    batchDue: () => false,
    flush: () => {},
    remusEpoch: () => {},
    cloneDue: () => false,
    takeClone: async () => {},
    replaySlice: () => {},
  };
  new FrameLoop(ctx, work).start();
  const perTurn: number[] = [];
  for (let i = 0; i < turns; i++) {
    const before = frames;
    queue.shift()!();
    perTurn.push(frames - before);
  }
  return perTurn.slice(1); // the first turn only starts the loop
}

describe("frame loop: acks are read at the next frame boundary while outputs are held", () => {
  it("runs one frame per slice while the Output Rule holds outputs", () => {
    expect(run(() => true, 6)).toEqual([1, 1, 1, 1, 1]);
  });

  it("runs a whole slice (sliceMs of 1 ms frames) when nothing waits for an ack", () => {
    expect(run(() => false, 6)).toEqual(Array(5).fill(REAL_TIMING.sliceMs));
  });
});
