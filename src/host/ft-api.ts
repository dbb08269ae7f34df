import type { AgentInit, ClientMsg, ToClientMsg } from "../ft/protocol/index.ts";
import type { LoadProgress } from "./images.ts";
import type { HostStatus } from "./status.ts";
import type { HostEvent } from "./events.ts";
import type { EtcdCredentials } from "../storage/etcd/auth.ts";

/**
 * A fault-tolerant host as the page sees it (one Web Worker = one physical server of the paper).
 * The page only wires things up and relays the outside world; the protocol runs in the worker.
 */
export interface FtHostApi {
  start(config: FtHostConfig, events: FtHostEvents): Promise<void>;
  /**
   * The logging channel to a peer (transferred: an RTCDataChannel must move at its creation).
   * A host has at most one peer at a time; a new channel replaces the old one.
   */
  attachLoggingChannel(peer: string, channel: RTCDataChannel | MessagePort): void;
  /** A message from the client panel (the "outside world"). Every host gets it; only a live primary acts. */
  client(msg: ClientMsg): void;
  /** A packet from the page's virtual switch for this host's VM (only a live primary takes it). */
  packet(frame: Uint8Array): void;
  control(c: HostControl): void;
  /** The session recording file (src/engine/recording.ts) of the VM this host runs. */
  recording(): Uint8Array;
  stop(): Promise<void>;
}

/** An etcd reachable from every computer of the cluster, through its JSON gateway. */
export interface EtcdLocation {
  endpoint: string;
  cluster: string;
  /** etcd's authentication is on: the user the page logged in as (memory only, never a URL). */
  credentials?: EtcdCredentials;
}

export interface FtHostConfig {
  hostId: string;
  role: "primary" | "backup" | "standby";
  /** The other host of a pair booted together. */
  peer?: string;
  /** Lock-record epoch the pair starts in (the page set it with test-and-set). */
  epoch: number;
  /** Virtual wall clock at boot: a pair booted together must agree on it to replay identically. */
  sessionEpochMs: number;
  imagesUrl: string;
  /** IndexedDB database that is the cluster's shared storage. */
  dbName: string;
  /**
   * Set when the shared storage is etcd (primary and backup on different computers, issue 14):
   * the lock record, the shared disk and the own copies live there, under `cluster`, and
   * IndexedDB is not used (it is not shared between computers).
   */
  etcd?: EtcdLocation;
  /** The VM's disk id: the shared disk inside dbName, or in non-shared mode the disk whose own
   * copy this host keeps in a database of its own (ownDiskDbName(dbName, diskId, hostId)). */
  diskId: string;
  /** Preset of protocol timeouts: workers in one page or separate tabs. */
  transport: "workers" | "tabs";
  diskMode: "shared" | "non-shared";
  readMode: "log" | "backup-reads";
  /**
   * How an FT VMotion snapshot reaches the new backup: in chunks on the logging channel, or
   * through shared storage (IndexedDB) with a reference on the channel. Default: storage for
   * tabs (a cross-tab data channel stalls on bulk data), channel for workers of one page.
   */
  snapshotVia?: "channel" | "storage";
  /** Teaching counterfactual only ("why the Output Rule"): release outputs without waiting for the ack. */
  noOutputRule?: boolean;
  /**
   * false: no engine disk cache (session.diskCacheBytes 0), so every disk read is a real read,
   * as in the paper; the disk-reads tour compares the two read modes this way. Default true.
   */
  diskCache?: boolean;
  /**
   * How a pair started together gets its guest running: "image" (default) restores the boot image
   * the build made (both sides, at its prompt, in about a second); "cold" boots the kernel (seconds).
   * Images without a boot image always boot cold. Both hosts of a pair must be given the same.
   */
  start?: "image" | "cold";
}

export type HostControl =
  | { t: "cut-channel" }
  | { t: "storage"; available: boolean }
  /**
   * The lecture's pause: the host's time stands still (VM, timers, failure detector; whatever
   * arrives waits) until `on: false`, and the frozen span never counts (Host.freezeWorld). The
   * cluster freezes every host and itself together; unlike "freeze" this is no failure.
   */
  | { t: "freeze-world"; on: boolean }
  /** Stall the host's event loop, as a hung machine would (issue: frozen primary). */
  | { t: "freeze"; ms: number }
  /** Cluster service (paper 3.1): clone this live primary into `target` over the current channel. */
  | { t: "start-clone"; target: string }
  /** Paper §3.3: power the VM off; a primary logs it as a control entry, so its backup stops too. */
  | { t: "power-off" }
  /**
   * Teaching control (the Output Rule tour): fail-stop right after the VM has produced a console
   * line equal to `line`, in the same step, so no timer or poll races the failure detectors.
   */
  | { t: "fail-after-output"; line: string }
  /** Cluster service: `host` left on purpose (its tab closed); a hint for the failure detector. */
  | { t: "peer-left"; host: string }
  /**
   * Teaching controls for the VM a live primary runs: stop it between frames, run exactly one
   * frame, pace it (factor of real time, or "max"). The host itself keeps running (heartbeats,
   * acks), so none of them looks like a failure; the backup follows through the log.
   */
  | { t: "vm-pause"; paused: boolean }
  | { t: "vm-step" }
  | { t: "vm-pace"; pace: number | "max" }
  /**
   * Teaching control (the §3.2 tour): make this backup host slow. Its replay gets `factor` of
   * the CPU (1 = full speed again); lag control then slows the primary down to match.
   */
  | { t: "replay-speed"; factor: number }
  /** Teaching control: a halted host tries a disk write at its old epoch; fencing must refuse it. */
  | { t: "zombie-write" }
  /** Teaching measurement: the Remus meter (checkpoint epoch in ms), or null to stop it. */
  | { t: "remus"; epochMs: number | null };

export interface FtHostEvents {
  progress(p: LoadProgress): void;
  toClient(msg: ToClientMsg): void;
  /** A packet the VM transmitted, released by the Output Rule: onto the page's virtual switch. */
  toNetwork?(frame: Uint8Array): void;
  status(s: HostStatus): void;
  event(e: HostEvent): void;
}

/** The protocol agent a host config starts: a primary (with its backup, if any), a backup of its primary, or a standby. */
export function agentInitOf(config: Pick<FtHostConfig, "role" | "epoch" | "peer">): AgentInit {
  if (config.role === "primary") return { role: "primary", epoch: config.epoch, backup: config.peer ?? null };
  if (config.role === "backup") return { role: "backup", epoch: config.epoch, primary: config.peer! };
  return { role: "standby" };
}
