import type { Host } from "../host/host.ts";
import type { EventQueue } from "./event-queue.ts";
import type { StorageClient } from "./sim-storage.ts";
import { SimThread } from "./sim-thread.ts";
import type { ToyEngine } from "./toy-engine.ts";

/**
 * One host incarnation on a simulated machine (`A2#1` is the host of the machine's second
 * tab): its thread, its own disk copy (non-shared mode), and the real host (src/host) on it.
 */
export class SimNode implements StorageClient {
  readonly thread: SimThread;
  host!: Host;
  /** Halted by its protocol (lost the test-and-set, fenced): its tab waits to be reloaded. */
  halted = false;
  /** Since when its agent is in its current role and state (a standby: since it started). */
  stateSince: number;
  /** Crash just before performing this many more protocol actions (a crash in the middle of a step). */
  crashAfterActions = -1;
  ownDisk = new Map<number, Uint8Array>();
  /** The cluster service deleted the own copy (collected as garbage): its operations fail. */
  ownDiskDeleted = false;

  constructor(
    readonly q: EventQueue,
    /** The machine (A, B, C): partitions, slow disks and CPUs are per machine. */
    readonly name: string,
    /** The host id the protocol and the cluster service know it by. */
    readonly id: string,
    /** The VM it is a host of (its disk): a run may see a VM lost and a new one started. */
    readonly vm: string,
  ) {
    this.thread = new SimThread(q);
    this.stateSince = q.now;
  }

  get alive(): boolean {
    return this.thread.alive;
  }

  now(): number {
    return this.thread.now();
  }

  receive(fn: () => void): void {
    this.thread.run(fn);
  }

  /** The toy engine of the VM this host runs now (null: none yet, or stopped). */
  get engine(): ToyEngine | null {
    return this.host.engine as ToyEngine | null;
  }
}
