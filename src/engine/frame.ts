// One frame: a call of v86's `main_loop` (about 1 ms of virtual time, or until the guest halts),
// and the position it leaves behind: the next frame's number and its 64-bit instruction count
// (v86's counter is 32 bits and wraps every few seconds). The machine is touched only here and
// at frame boundaries; the recorder and the replayer decide what happens around each frame.

import type { CheckpointEntry, NetTransmitEntry, OutputEntry } from "../ft/log/entries.ts";
import type { Checkpoints } from "./checkpoints.ts";
import type { ConsoleOutput } from "./console-output.ts";
import type { Machine } from "./machine.ts";
import type { NetTransmits } from "./net-device.ts";
import type { EngineStats } from "./stats.ts";
import { VirtualClock, type ClockOptions } from "./virtual-clock.ts";

export interface FrameResult {
  frame: number;
  startIcount: number;
  length: number;
  halted: boolean;
  /** Cut short (a `cut` entry): the recorder's real-time budget ran out, or the log said so. */
  cut: boolean;
}

/** Where a frame may end early: a real-time deadline (record), or a logged length (replay of a `cut` frame). */
export type FrameCut = { deadline: number; realNow: () => number } | { at: number } | null;

/** What a frame's end shows: its console output, the packets it sent, and the checkpoint, when one is due. */
export interface FrameEndEntries {
  output: OutputEntry | null;
  transmit: NetTransmitEntry | null;
  checkpoint: CheckpointEntry | null;
}

export interface FrameParts {
  console: ConsoleOutput;
  net: NetTransmits;
  checkpoints: Checkpoints;
  stats: EngineStats;
}

export class FrameRunner {
  /** Replaced by a fresh one at every clone. */
  machine!: Machine;
  /** Next frame to run, and the instruction count at its start. */
  frame = 0;
  boundaryIcount = 0;
  private running = false;
  private counterAtStart = 0;
  private startIcount = 0;

  /** Virtual time is a function of the position: the runner owns the clock that derives it. */
  readonly clock: VirtualClock;

  constructor(
    private readonly p: FrameParts,
    clock: ClockOptions,
  ) {
    this.clock = new VirtualClock(clock, this);
  }

  /** Instruction count now (live inside a frame). */
  get icount(): number {
    return this.running ? this.startIcount + ((this.machine.counter() - this.counterAtStart) >>> 0) : this.boundaryIcount;
  }

  get inFrame(): boolean {
    return this.running;
  }

  /** Instructions executed so far in the running frame. */
  get offsetInFrame(): number {
    return this.icount - this.startIcount;
  }

  execute(cut: FrameCut = null): FrameResult {
    const m = this.machine;
    const frame = this.frame;
    const start = this.boundaryIcount;
    this.startIcount = start;
    this.counterAtStart = m.counter();
    this.p.console.startFrame();
    this.p.net.startFrame();
    this.running = true;
    let r: { t: number; cut: boolean };
    // Only after an instruction ran: a frame that starts halted runs v86's timers first.
    const shouldCut =
      cut === null ? null : "at" in cut ? () => this.offsetInFrame === cut.at : () => this.offsetInFrame > 0 && cut.realNow() >= cut.deadline;
    try {
      r = m.mainLoop(this.clock.time, shouldCut);
    } finally {
      this.boundaryIcount = start + ((m.counter() - this.counterAtStart) >>> 0);
      this.running = false;
    }
    const halted = m.inHlt();
    this.clock.frameEnded(halted, r.t);
    const length = this.boundaryIcount - start;
    this.p.stats.frames++;
    this.p.stats.instructions += length;
    if (r.cut) this.p.stats.cutFrames++;
    return { frame, startIcount: start, length, halted, cut: r.cut };
  }

  /** After execute(), before advance(): the frame's output and checkpoint entries. */
  frameEnd(): FrameEndEntries {
    const output = this.p.console.endFrame(this.frame, this.boundaryIcount);
    const transmit = this.p.net.endFrame(this.frame, this.boundaryIcount);
    const checkpoint = this.p.checkpoints.afterFrame(this.machine, this.frame, this.boundaryIcount, this.clock.lastFrameEndMs);
    return { output, transmit, checkpoint };
  }

  advance(): void {
    this.frame++;
  }
}
