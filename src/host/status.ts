import type { AgentState, FlowPauseState, Role } from "../ft/protocol/index.ts";
import type { StorageRefusal } from "../storage/index.ts";
import type { LoopGaps } from "./loop-probe.ts";
import type { RemusReport } from "./remus-meter.ts";

/**
 * What a host reports to the page about itself, several times a second. The UI renders it
 * directly; nothing here feeds back into the protocol.
 */
export type HostRole = Role;

export type HostState = AgentState | "stopped";

export interface HostStatus {
  hostId: string;
  role: HostRole;
  /** Protocol state named after the paper; `stopped`: the host stopped without halting (killed, diverged). */
  state: HostState;
  frame: number;
  /** 64-bit instruction count, as a decimal string (bigint does not cross every boundary). */
  icount: string;
  /** Backup only: how far its replay trails the primary, in guest milliseconds. */
  lagMs: number;
  /** Log bytes per second over the last second, sent (primary) or received (backup). */
  logBytesPerSec: number;
  /** Primary only: log bytes sent but not yet acknowledged (flow control watches this). */
  unackedBytes: number;
  /** Primary only: outputs held back by the Output Rule, waiting for an ack. */
  heldOutputs: number;
  epoch: number;
  /** Disk I/O the guest issued and has not seen complete (paper §3.4: what a promoted backup re-issues). */
  pendingIo?: number;
  /** Last position whose state hash the backup verified equal to the primary's. */
  verifiedFrame: number;
  /** Primary only: the speed factor lag control has set (1 = full speed). */
  speed: number;
  /**
   * Primary only: flow control (paper 3.2). `pausedBy`: the VM is stopped because the log buffer
   * (unacknowledged log bytes) or the outputs the Output Rule holds are over their bound; null:
   * it runs. `pauses`: how often it was stopped.
   */
  flowControl?: FlowPauseState;
  /** Cumulative traffic counters for the teaching figure (optional: older hosts omit it). */
  flow?: FlowCounters;
  /** The console stream as this host's VM sees it: bytes produced, next client input it expects. */
  console?: { produced: number; nextInputSeq: number };
  /** The disk this host uses: the shared one, or its own copy (non-shared, paper 4.1). */
  disk?: { mode: "shared" | "non-shared"; name: string; blocks: number };
  /** Primary only: bytes this host has put on the logging channel wire since it started. */
  logBytesSent?: number;
  /** Primary only: the guest's disk reads since start, by how their data reached the backup (paper 4.2). */
  reads?: ReadCounters;
  /** This host's logging channel: none, up, or cut (the teaching control: open, carrying nothing). */
  channel?: "none" | "up" | "cut";
  /** The lecture's pause: this host stands still (VM, timers, failure detector) until the thaw. */
  frozen?: boolean;
  /** A backup made slow by the teaching control (the §3.2 tour): the share of the CPU its replay gets. */
  replaySpeed?: number;
  /** A VM this host runs live (recording): the teaching controls' state. */
  vm?: { paused: boolean; pace: number | "max" };
  /** Primary with the Remus meter on: what shipping dirty pages would cost (remus-meter.ts). */
  remus?: RemusReport;
  /** While the browser refuses this host's storage operations (they wait and retry). */
  storageRefused?: StorageRefusal;
  /** The stall meter: how late this host's event loop came to a periodic timer (loop-probe.ts); real hosts only. */
  loop?: LoopGaps;
}

export interface ReadCounters {
  /** Reads completed to the guest, and their bytes. */
  count: number;
  bytes: number;
  /** Logged with their data (`disk-read`): the default design. */
  inLog: number;
  inLogBytes: number;
  /** Logged as a hash only; the backup read the shared disk itself (`disk-read-by-backup`). */
  byBackup: number;
  /** Logged as a reference to data both sides already held (Lockstep's disk cache). */
  cached: number;
}

/** What crossed the logging channel and reached the disk, counted since the host started. */
export interface FlowCounters {
  /** Log records sent (primary) by kind, and channel messages by type. */
  sent: FlowKinds;
  received: FlowKinds;
  /** Outputs released to the client (console messages, input acks and packets). */
  released: number;
  /** Of those, packets put on the network; and packets from the network injected into the VM (a live primary's). */
  packetsOut: number;
  packetsIn: number;
  /** Disk writes issued with the epoch they carried, and how many the store refused (fencing). */
  diskWrites: number;
  diskWritesRejected: number;
  lastWrite: { block: number; epoch: number } | null;
}

export interface FlowKinds {
  /** Log records inside `log` messages. */
  entry: number;
  frameEnd: number;
  control: number;
  entryBytes: number;
  /** Channel messages. */
  log: number;
  ack: number;
  heartbeat: number;
  clone: number;
}

export const emptyFlowKinds = (): FlowKinds => ({ entry: 0, frameEnd: 0, control: 0, entryBytes: 0, log: 0, ack: 0, heartbeat: 0, clone: 0 });

export type { ProtocolEvent } from "./events.ts";
