// Divergence checkpoints: after 256 frames or 250 ms of guest time (session parameters),
// whichever first, a hash of the CPU state and of one RAM slice, round robin, so a full sweep of
// memory costs ~1 % of CPU time instead of a whole-RAM hash per checkpoint (docs/engine-notes.md,
// "Divergence detection"). The recorder logs them, the replayer computes its own and compares.

import type { CheckpointEntry } from "../ft/log/entries.ts";
import type { Machine } from "./machine.ts";
import type { SessionInfo } from "./session.ts";
import type { EngineStats } from "./stats.ts";

export interface CheckpointInfo {
  /** The frame after which it was taken, and the instruction count there. */
  frame: number;
  icount: number;
  cpu: number;
  slice: number;
  ram: number;
}

/** Checkpoints so far, and the frame after the last one and its virtual time (travels in snapshots). */
export interface CheckpointSchedule {
  count: number;
  lastFrame: number;
  lastMs: number;
}

export class Checkpoints {
  private ck: CheckpointSchedule = { count: 0, lastFrame: 0, lastMs: 0 };

  constructor(
    private readonly session: SessionInfo,
    private readonly stats: EngineStats,
    private readonly emit: (c: CheckpointInfo) => void,
  ) {}

  /** After frame `frame` (ending at `icount`, virtual ms `endMs`): the checkpoint, if one is due. */
  afterFrame(machine: Machine, frame: number, icount: number, endMs: number): CheckpointEntry | null {
    const sinceFrames = frame + 1 - this.ck.lastFrame;
    const sinceMs = endMs - this.ck.lastMs;
    const due =
      (this.session.checkpointEvery > 0 && sinceFrames >= this.session.checkpointEvery) ||
      (this.session.checkpointMs > 0 && sinceMs >= this.session.checkpointMs);
    if (!due) return null;
    const sliceBytes = this.session.ramSliceBytes;
    const slices = Math.max(1, Math.ceil(machine.ramBytes / sliceBytes));
    const slice = this.ck.count % slices;
    const entry: CheckpointEntry = {
      k: "checkpoint",
      cpu: machine.cpuHash(),
      slice,
      ram: machine.ramHash(slice * sliceBytes, sliceBytes),
    };
    this.ck = { count: this.ck.count + 1, lastFrame: frame + 1, lastMs: endMs };
    this.stats.checkpoints++;
    this.emit({ frame, icount, cpu: entry.cpu, slice, ram: entry.ram });
    return entry;
  }

  get schedule(): CheckpointSchedule {
    return this.ck;
  }

  set schedule(s: CheckpointSchedule) {
    this.ck = { ...s };
  }
}
