// The recorder (primary): runs frames against real inputs and logs every non-deterministic
// event with its position. A frame's log is built in the order the replayer applies it:
// clone marker, frame start time, JIT installs, disk completions, console input, received
// packets (all at the boundary, before the frame runs), RDRAND values (during it), console
// output, transmitted packets and checkpoint (after it).

import type { FrameLog, LogEntry } from "../ft/log/entries.ts";
import { sameBytes } from "./disk-cache.ts";
import type { Completion, DiskRequests } from "./disk-requests.ts";
import type { FrameResult, FrameRunner } from "./frame.ts";
import { checkReceivedFrame, RxQueue } from "./net-device.ts";
import type { Observers } from "./observer.ts";
import type { SessionInfo } from "./session.ts";
import type { EngineStats } from "./stats.ts";
import type { VirtualClock } from "./virtual-clock.ts";

export interface RecorderParts {
  session: SessionInfo;
  frames: FrameRunner;
  clock: VirtualClock;
  disk: DiskRequests;
  stats: EngineStats;
  observers: Observers;
  wake(): void;
  realNow(): number;
  /** Real ms a frame may run before it is cut short (null: never). */
  frameBudgetMs: number | null;
  /** Where RDRAND values come from (logged either way). */
  entropy: () => number;
}

/** RDRAND's source in a recorder: the platform's cryptographic random numbers. */
export const cryptoEntropy = (): number => crypto.getRandomValues(new Uint32Array(1))[0]!;

export class Recorder {
  private serialQueue: Uint8Array[] = [];
  private readonly netQueue = new RxQueue();
  /** A clone taken at this boundary: its marker opens the next frame's log. */
  private pendingClone: { id: number; hash: number } | null = null;
  /** The log of the frame being built (RDRAND values are added while it runs). */
  private current: LogEntry[] = [];
  private produced: FrameLog[] = [];

  constructor(private readonly p: RecorderParts) {}

  /** Queues console input; it enters the guest at the next frame boundary. */
  sendSerial(bytes: Uint8Array | string): void {
    const b = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes.slice();
    if (b.length === 0) return;
    this.serialQueue.push(b);
    this.p.wake();
  }

  /**
   * Queues a received Ethernet frame (copied); it reaches the NIC at the next frame boundary.
   * A truncated or oversize frame is refused and counted: it never enters the log, so it
   * cannot make the pair diverge. Returns whether it was queued.
   */
  receivePacket(frame: Uint8Array): boolean {
    if (checkReceivedFrame(frame)) {
      this.p.stats.netRejected++;
      return false;
    }
    if (!this.netQueue.push(frame)) {
      this.p.stats.netDropped++;
      return false;
    }
    this.p.wake();
    return true;
  }

  markClone(id: number, hash: number): void {
    this.pendingClone = { id, hash };
  }

  /** Something must enter the guest at the next boundary: the next frame runs now. */
  get hasInputs(): boolean {
    return this.serialQueue.length > 0 || this.netQueue.length > 0 || this.p.disk.hasReady || this.pendingClone !== null;
  }

  /** Machine hook, inside a frame: a fresh random value, logged at its offset in the frame. */
  rdrand(): number {
    const v = this.p.entropy() >>> 0;
    this.current.push({ k: "rdrand", at: this.p.frames.offsetInFrame, value: v });
    return v | 0;
  }

  recordFrame(): FrameResult {
    const entries: LogEntry[] = [];
    this.current = entries;
    this.logCloneMarker(entries);
    this.logFrameStart(entries);
    this.installJit(entries);
    this.deliverDiskCompletions(entries);
    this.deliverSerialInput(entries);
    this.deliverPackets(entries);
    const budget = this.p.frameBudgetMs;
    const res = this.p.frames.execute(budget === null ? null : { deadline: this.p.realNow() + budget, realNow: this.p.realNow });
    const end = this.p.frames.frameEnd();
    if (res.cut) entries.push({ k: "cut" });
    if (end.output) entries.push(end.output);
    if (end.transmit) entries.push(end.transmit);
    if (end.checkpoint) entries.push(end.checkpoint);
    const log: FrameLog = { frame: res.frame, startIcount: res.startIcount, length: res.length, entries };
    this.produced.push(log);
    this.p.frames.advance();
    this.p.observers.frames([log]);
    return res;
  }

  private logCloneMarker(entries: LogEntry[]): void {
    if (!this.pendingClone) return;
    entries.push({ k: "clone", ...this.pendingClone });
    this.pendingClone = null;
  }

  /** The frame's start time, logged only when it is not the predicted one. */
  private logFrameStart(entries: LogEntry[]): void {
    const us = this.p.clock.startRecordedFrame(this.serialQueue.length > 0 || this.netQueue.length > 0 || this.p.disk.hasReady);
    if (us === null) return;
    entries.push({ k: "clock", us });
    this.p.stats.clockEntries++;
  }

  /** JIT code compiled during the previous frame. */
  private installJit(entries: LogEntry[]): void {
    for (const index of this.p.frames.machine.installPendingJit()) {
      entries.push({ k: "jit", index });
      this.p.stats.jitInstalls++;
    }
  }

  private deliverDiskCompletions(entries: LogEntry[]): void {
    if (!this.p.disk.hasReady) return;
    for (const c of this.p.disk.takeReady()) {
      entries.push(this.completionEntry(c));
      this.p.disk.deliver(c.id, c.data);
    }
  }

  /** How the log carries a completion: write done, read the backup holds, reads itself, or read data. */
  private completionEntry(c: Completion): LogEntry {
    if (!c.data) return { k: "io-done", id: c.id };
    const expected = this.p.disk.find(c.id)?.expected;
    if (expected && sameBytes(expected, c.data)) {
      this.p.stats.diskCacheHits++;
      this.p.stats.diskCacheHitBytes += c.data.length;
      return { k: "disk-read-cached", id: c.id };
    }
    if (this.p.session.diskReads === "backup") {
      this.p.observers.readData(c.id, c.data);
      return { k: "disk-read-by-backup", id: c.id };
    }
    return { k: "disk-read", id: c.id, data: c.data };
  }

  private deliverSerialInput(entries: LogEntry[]): void {
    if (this.serialQueue.length === 0) return;
    const bytes = concat(this.serialQueue);
    this.serialQueue = [];
    entries.push({ k: "serial", bytes });
    this.p.stats.serialBytesIn += bytes.length;
    this.p.frames.machine.serialInput(bytes, this.p.clock.time);
  }

  /** Each received packet is its own entry: the NIC takes them one by one, in arrival order. */
  private deliverPackets(entries: LogEntry[]): void {
    if (this.netQueue.length === 0) return;
    for (const frame of this.netQueue.take()) {
      entries.push({ k: "net-receive", frame });
      this.p.stats.netPacketsIn++;
      this.p.stats.netBytesIn += frame.length;
      this.p.frames.machine.netReceive(frame, this.p.clock.time);
    }
  }

  /** Frame logs produced since the last call. */
  takeFrames(): FrameLog[] {
    const f = this.produced;
    this.produced = [];
    return f;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
