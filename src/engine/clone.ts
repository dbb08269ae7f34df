// Clone (FT VMotion, docs/engine-notes.md "Clone"): at a frame boundary with no disk request in flight, save
// the machine plus the engine's own state (position, clock, console offset, request numbering,
// checkpoint schedule) into a snapshot, and continue from a fresh machine restored from it.
// The recorder does this when it starts a clone; a replayer does the same at the clone marker
// and must produce a snapshot with the same hash, so both sides continue from identical machines.

import { hashBytes } from "./hash.ts";
import type { Checkpoints } from "./checkpoints.ts";
import type { ConsoleOutput } from "./console-output.ts";
import type { NetTransmits } from "./net-device.ts";
import type { DiskRequests } from "./disk-requests.ts";
import type { FrameRunner } from "./frame.ts";
import type { Machine } from "./machine.ts";
import type { SessionInfo } from "./session.ts";
import { encodeSnapshot, type Snapshot, type SnapshotMeta } from "./snapshot.ts";
import type { EngineStats } from "./stats.ts";
import type { VirtualClock } from "./virtual-clock.ts";

export interface CloneResult {
  cloneId: number;
  /** Encoded snapshot: what the new backup starts from. */
  snapshot: Uint8Array;
  hash: number;
  frame: number;
  icount: number;
  /** Guest-visible pause: from the frame boundary until the next frame can run (save + restore + encode/hash). */
  pauseMs: number;
  saveMs: number;
  restoreMs: number;
  /** Encoding the snapshot container and hashing it. */
  encodeMs: number;
  /** Fresh machine construction, when it was not prewarmed (included in pauseMs). */
  createMs: number;
  repairedOffsets: number[];
}

/** Everything whose state goes into a snapshot. */
export interface CloneParts {
  session: SessionInfo;
  frames: FrameRunner;
  clock: VirtualClock;
  console: ConsoleOutput;
  net: NetTransmits;
  disk: DiskRequests;
  checkpoints: Checkpoints;
  stats: EngineStats;
  realNow(): number;
  newMachine(): Promise<Machine>;
}

export class Cloner {
  /** Highest clone id seen (made, followed or restored from): the recorder's next one is above it. */
  private counter = 0;
  private prewarmed: Promise<Machine> | null = null;

  constructor(private readonly p: CloneParts) {}

  /** Builds the fresh machine for the next clone ahead of time (keeps it out of the pause). */
  prewarm(): Promise<void> {
    if (!this.prewarmed) this.prewarmed = this.p.newMachine();
    return this.prewarmed.then(() => undefined);
  }

  nextCloneId(): number {
    return ++this.counter;
  }

  /** Snapshot at this boundary, then continue from a fresh machine restored from it. */
  async cloneAt(cloneId: number): Promise<CloneResult> {
    const { frames, realNow } = this.p;
    if (this.p.disk.count > 0) throw new Error("clone with disk requests in flight");
    this.counter = Math.max(this.counter, cloneId);
    const t0 = realNow();
    const old = frames.machine;
    old.dropPendingJit();
    // The backup made from this snapshot starts with an empty disk cache: so do we.
    this.p.disk.clearCache();
    const { state, extra } = old.save(this.p.clock.time);
    const snap: Snapshot = { meta: this.meta(cloneId, extra), extra, state };
    const t1 = realNow();
    let createMs = 0;
    let fresh: Machine;
    if (this.prewarmed) {
      fresh = await this.prewarmed;
      this.prewarmed = null;
    } else {
      const c0 = realNow();
      fresh = await this.p.newMachine();
      createMs = realNow() - c0;
    }
    const t2 = realNow();
    const repaired = this.restore(snap, fresh);
    const t3 = realNow();
    frames.machine = fresh;
    old.destroy();
    const encoded = encodeSnapshot(snap);
    const hash = hashBytes(encoded);
    const t4 = realNow();
    // The guest does not run from t0 to t4; the next frame's resync logic sees the lag and logs
    // a clock resync, exactly as for any other stall, so the guest clock keeps tracking real time.
    this.p.stats.clones++;
    return {
      cloneId,
      snapshot: encoded,
      hash,
      frame: frames.frame,
      icount: frames.boundaryIcount,
      pauseMs: t4 - t0 - (t2 - t1) + createMs,
      saveMs: t1 - t0,
      restoreMs: t3 - t2,
      encodeMs: t4 - t3,
      createMs,
      repairedOffsets: repaired,
    };
  }

  /** The engine's state at this boundary (key order is part of the snapshot bytes, hence of its hash). */
  private meta(cloneId: number, extra: Snapshot["extra"]): SnapshotMeta {
    const c = this.p.clock.state();
    return {
      session: this.p.session,
      cloneId,
      frame: this.p.frames.frame,
      icount: this.p.frames.boundaryIcount,
      anchorUs: c.anchorUs,
      anchorIcount: c.anchorIcount,
      pred: c.pred,
      consoleOffset: this.p.console.offset,
      netSent: this.p.net.count,
      nextIoId: this.p.disk.nextIoId,
      ck: this.p.checkpoints.schedule,
      ps2: extra.ps2,
      uartInput: extra.uartInput,
    };
  }

  /** Puts the engine at the snapshot's boundary and restores the machine `m` from it. */
  restore(snap: Snapshot, m: Machine): number[] {
    const meta = snap.meta;
    this.p.frames.frame = meta.frame;
    this.p.frames.boundaryIcount = meta.icount;
    this.p.clock.restore(meta);
    this.p.console.offset = meta.consoleOffset;
    this.p.net.count = meta.netSent ?? 0;
    this.p.disk.nextIoId = meta.nextIoId;
    this.p.checkpoints.schedule = meta.ck;
    this.counter = Math.max(this.counter, meta.cloneId);
    // Restore reads the clock (set_tsc): it must see the virtual time of the save.
    return m.restore(snap.state, snap.extra, this.p.clock.time);
  }

  destroy(): void {
    void this.prewarmed?.then((m) => m.destroy());
  }
}
