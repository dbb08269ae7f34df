import type { AgentInit, FtAction, FtConfig, FtEvent, LockStore, ToClientMsg } from "../ft/protocol/index.ts";
import type { DiskBlock } from "../storage/index.ts";
import type { BulkStore } from "./channel-endpoint.ts";
import type { EngineFactory } from "./engine-port.ts";
import type { HostEvent } from "./events.ts";
import type { HostScheduler } from "./scheduler.ts";
import type { HostStatus } from "./status.ts";

/** What a host tells its page (or the simulator): client output, status, events. */
export interface RuntimeEvents {
  toClient(msg: ToClientMsg): void;
  /** A packet the live primary transmitted, cleared by the Output Rule: onto the virtual network. */
  toNetwork?(frame: Uint8Array): void;
  status(s: HostStatus): void;
  event(e: HostEvent): void;
}

/**
 * The disk a host writes: the shared disk (writes fenced by epoch: a stale one rejects with
 * StaleEpochError) or, with a non-shared disk (paper 4.1), this host's own copy. IdbBlockStore
 * implements it; the simulator has its own.
 */
export interface HostDisk {
  readonly sizeBytes: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  write(offset: number, data: Uint8Array, epoch: number): Promise<void>;
  exportBlocks(): Promise<DiskBlock[]>;
  /** Makes the disk exactly base + `blocks`. */
  importBlocks(blocks: DiskBlock[], epoch: number): Promise<void>;
  blockCount(): Promise<number>;
}

/**
 * The shared storage's lock record (paper 2.3), in the protocol's vocabulary: IdbLockRecord
 * implements `LockStore`, and so does the simulator's. Unreachable storage may reject.
 */
export interface HostStorage {
  lock: LockStore;
}

/** Real-time constants of a host, scaled down by the simulator (its failure timeout is 24 ms). */
export interface HostTiming {
  /** Real ms of guest execution between two looks at the event loop. */
  sliceMs: number;
  /** A batch of frames goes out at least this often even when nothing forces it. */
  batchMaxMs: number;
  batchMaxFrames: number;
  /** How often the agent gets a `tick`. */
  tickMs: number;
  /** Shorter spells without a look at the event loop are ordinary scheduling, not worth a `stalled` event. */
  stallMs: number;
  /** Real ms the Remus meter may spend per frame boundary (a sweep of RAM spans several). */
  remusBudgetMs: number;
  statusMs: number;
  /** How often the count of written disk blocks is refreshed for the UI. */
  diskCountMs: number;
  /** How long a host of a pair booted together waits for its peer before starting alone. */
  rendezvousMs: number;
  /** Heartbeats of the rendezvous. */
  rendezvousBeatMs: number;
  /** An idle frame loop looks again after this long even if nothing woke it. */
  idleMs: number;
  /** Period of the stall meter's probe timer (loop-probe.ts); 0: no probe (the simulator). */
  loopProbeMs: number;
}

export const REAL_TIMING: HostTiming = {
  sliceMs: 4,
  batchMaxMs: 5,
  batchMaxFrames: 64,
  tickMs: 10,
  stallMs: 20,
  remusBudgetMs: 3,
  statusMs: 200,
  diskCountMs: 1000,
  rendezvousMs: 15_000,
  rendezvousBeatMs: 50,
  idleMs: 50,
  loopProbeMs: 10,
};

/** Everything a host is made of. The worker and Node build it with v86 (runtime.ts); the simulator with its toys. */
export interface HostPorts {
  hostId: string;
  init: AgentInit;
  ft: FtConfig;
  engines: EngineFactory;
  storage: HostStorage;
  /** The shared disk, or with a non-shared disk (paper 4.1) this host's own copy. */
  disk: HostDisk;
  /** What the UI calls that disk (the shared disk's id, or the own copy's database). */
  diskName: string;
  /** Set when FT VMotion snapshots travel through shared storage rather than the data channel. */
  bulk?: BulkStore;
  events: RuntimeEvents;
  scheduler: HostScheduler;
  timing?: Partial<HostTiming>;
  /** Watches the agent driver (the simulator's checks, trace and faults). */
  observe?: HostObserver;
}

/** Sees every event the agent is fed, and every action just before the host performs it. */
export interface HostObserver {
  fed(ev: FtEvent): void;
  performing(a: FtAction): void;
}
