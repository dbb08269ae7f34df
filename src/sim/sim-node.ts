import type { Host } from "../host/host.ts";
import type { EventQueue } from "./event-queue.ts";
import { SimThread } from "./sim-thread.ts";
import type { ToyEngine } from "./toy-engine.ts";

/**
 * One incarnation of a simulated machine (`A#2` is A restarted): its thread, its own disk copy
 * (non-shared mode), and the real host (src/host) running on it.
 */
export class SimNode {
  readonly thread: SimThread;
  host!: Host;
  /** Halted by its protocol (lost the test-and-set, fenced): waits to be recycled as a standby. */
  halted = false;
  /** Crash just before performing this many more protocol actions (a crash in the middle of a step). */
  crashAfterActions = -1;
  ownDisk = new Map<number, Uint8Array>();

  constructor(
    readonly q: EventQueue,
    /** The machine (A, B, C): partitions, slow disks and CPUs are per machine. */
    readonly name: string,
    /** The incarnation id the protocol knows it by. */
    readonly id: string,
  ) {
    this.thread = new SimThread(q);
  }

  get alive(): boolean {
    return this.thread.alive;
  }

  /** The toy engine of the VM this host runs now (null: none yet, or stopped). */
  get engine(): ToyEngine | null {
    return this.host.engine as ToyEngine | null;
  }
}
