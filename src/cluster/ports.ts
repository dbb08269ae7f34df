import type { ClientMsg } from "../ft/protocol/index.ts";
import type { FtHostConfig, FtHostEvents, HostControl } from "../host/ft-api.ts";
import type { LockRecord, TasResult } from "../storage/index.ts";
import type { BusMsg } from "./messages.ts";

/**
 * What the cluster service needs from the world, as interfaces: time, the hosts it runs, the
 * other members it talks to, shared storage and the disk copies it collects. The browser
 * provides them with Web Workers, BroadcastChannel, WebRTC and IndexedDB; the unit tests (and
 * later the simulator) with fakes. Nothing in the service reads a clock or sets a timer itself.
 */

export type Cancel = () => void;

export interface ClusterClock {
  /** Page clock in ms (monotonic): the time of protocol events. */
  now(): number;
  /** Wall-clock ms, comparable between tabs: who joined first, a new disk's id, the VM's boot time. */
  wallNow(): number;
  every(ms: number, fn: () => void): Cancel;
  after(ms: number, fn: () => void): Cancel;
}

/** One end of a logging channel, handed to a host at once (see src/channel/webrtc-pair.ts). */
export type LoggingChannelEnd = RTCDataChannel | MessagePort;

/** The service's handle on one host (one physical server of the paper). */
export interface HostHandle {
  readonly id: string;
  attachLoggingChannel(peer: string, end: LoggingChannelEnd): void;
  /** The outside world: every host hears the client; only a live primary acts on it. */
  client(msg: ClientMsg): void;
  /** A packet from the page's virtual switch (hosts without a network card ignore it). */
  packet?(frame: Uint8Array): void;
  control(c: HostControl): void;
  /** The session recording of the VM this host runs. */
  recording(): Promise<Uint8Array>;
  /** Pulls the plug: the host fails (fail-stop) and reports nothing any more. */
  kill(): void;
}

/** A logging channel between two hosts of this member. */
export interface LocalLink {
  /** Resolves once both ends are in their hosts and the channel is up. */
  readonly connected: Promise<void>;
  /** Resolves with a line for the feed when the channel came up another way than asked (a fallback). */
  readonly fellBack?: Promise<string>;
  close(): void;
}

/** Where hosts run: the servers of this member (workers of a page, or simulated hosts). */
export interface HostMachines {
  /** Boots a host; it reports through `events`. `started` settles once it runs, or failed to. */
  spawn(config: FtHostConfig, events: FtHostEvents): { handle: HostHandle; started: Promise<void> };
  link(a: HostHandle, b: HostHandle): LocalLink;
}

/** A logging channel to a host of another member (its signalling crosses the transport). */
export interface RemoteLink {
  readonly id: string;
  close(): void;
}

/** Another member asks to open a logging channel to our host: answering hands us its end. */
export interface LinkOffer {
  readonly link: string;
  readonly from: string;
  /** The host it is for: a tab whose host changed since (a VM lost, a new standby) refuses it. */
  readonly host: string;
  answer(hand: (end: LoggingChannelEnd) => void): RemoteLink;
}

/**
 * How the members of a cluster (tabs of an origin; the one page; later machines behind a
 * server) reach each other: messages to all, logging channels between two, one mutual lock.
 */
export interface ClusterTransport {
  /** This member's id (a tab's id). */
  readonly self: string;
  /** To every other member, in order per sender. */
  post(msg: BusMsg): void;
  on<T extends BusMsg["t"]>(t: T, handler: (m: Extract<BusMsg, { t: T }>) => void): void;
  /** Runs `fn` while no other member runs one under the same name. */
  exclusive(name: string, fn: () => Promise<void>): Promise<void>;
  /**
   * Holds lock `name` in shared mode until cancelled or this member ends (a closed or crashed tab
   * lets go: Web Locks). Members of a running VM hold one, so a tab opening knows of the VM even
   * before any of its beats has reached it.
   */
  holdShared(name: string): Cancel;
  /** Whether a live member holds lock `name`. */
  isHeld(name: string): Promise<boolean>;
  /** Takes lock `name` for this member alone, if nobody holds it now (released as holdShared's are); null if taken. */
  tryHold(name: string): Promise<Cancel | null>;
  /** Opens a logging channel to member `peer`: our end goes to `hand` at once. */
  offerLink(peer: string, host: string, hand: (end: LoggingChannelEnd) => void): RemoteLink;
  onLinkOffer(fn: (offer: LinkOffer) => void): void;
  close(): void;
}

/** The shared storage as the service uses it: the lock record only (shown, and a new VM's). */
export interface ClusterStorage {
  readonly lock: {
    /** The record as stored, for display only (never a decision); null if never written. */
    peek(): Promise<LockRecord | null>;
    reset(): Promise<void>;
    /** Unreachable storage rejects: every answer has a record. */
    testAndSet(expectEpoch: number, owner: string): Promise<Exclude<TasResult, { reason: "unavailable" }>>;
  };
  close(): void;
}

/** Non-shared disk (paper 4.1): the hosts' own disk copies, which the service deletes. */
export interface DiskCopies {
  delete(diskId: string, hostId: string): Promise<void>;
  /** A fresh VM: every copy earlier VMs of this origin left. */
  clearAll(): Promise<void>;
}

export interface ClusterPorts {
  clock: ClusterClock;
  machines: HostMachines;
  transport: ClusterTransport;
  openStorage(dbName: string): Promise<ClusterStorage>;
  disks: DiskCopies;
}
