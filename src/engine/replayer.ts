// The replayer (backup): runs the same guest from the same start, taking every event from the
// log, and checks for every frame that it is where the primary was: position, clone marker,
// JIT installs, disk completions against pending requests, every RDRAND read at its offset,
// the instruction count, the console output and the checkpoint. The first mismatch stops it
// with a DivergenceError (docs/engine-notes.md, "Divergence detection").

import type {
  DiskReadByBackupEntry,
  DiskReadCachedEntry,
  DiskReadEntry,
  FrameLog,
  IoDoneEntry,
  LogEntry,
  OutputEntry,
  NetTransmitEntry,
  CheckpointEntry,
  RdrandEntry,
} from "../ft/log/entries.ts";
import type { DiskRequests, InFlightRequest } from "./disk-requests.ts";
import type { FrameEndEntries, FrameResult, FrameRunner } from "./frame.ts";
import type { Observers } from "./observer.ts";
import type { EngineStats } from "./stats.ts";
import type { VirtualClock } from "./virtual-clock.ts";

export interface DivergenceReport {
  frame: number;
  icount: number;
  what: string;
  expected: string;
  actual: string;
}

export class DivergenceError extends Error {
  override name = "DivergenceError";
  constructor(readonly report: DivergenceReport) {
    super(
      `replay diverged at frame ${report.frame} (icount ${report.icount}): ${report.what}: expected ${report.expected}, got ${report.actual}`,
    );
  }
}

type DiskCompletionEntry = DiskReadEntry | DiskReadCachedEntry | DiskReadByBackupEntry | IoDoneEntry;
/** A clone marker: which snapshot, and the hash its bytes must have. */
export interface CloneMark {
  id: number;
  hash: number;
}

export interface ReplayerParts {
  frames: FrameRunner;
  clock: VirtualClock;
  disk: DiskRequests;
  stats: EngineStats;
  observers: Observers;
}

export class Replayer {
  private incoming: FrameLog[] = [];
  /** The clone marker the next frame must open with (after a restore from a snapshot, or followClone). */
  expectClone: CloneMark | null = null;
  private rdrandQueue: RdrandEntry[] = [];
  private rdrandCursor = 0;
  /** The logged length of the frame being replayed. */
  private loggedLength = 0;
  divergence: DivergenceReport | null = null;

  constructor(private readonly p: ReplayerParts) {}

  /** Appends decoded frame logs; they must continue the log exactly. */
  pushFrames(frames: readonly FrameLog[]): void {
    const last = this.incoming[this.incoming.length - 1];
    let nextFrame = last ? last.frame + 1 : this.p.frames.frame;
    let nextIcount = last ? last.startIcount + last.length : this.p.frames.boundaryIcount;
    for (const f of frames) {
      if (f.frame !== nextFrame || f.startIcount !== nextIcount) {
        throw new Error(`log gap: expected frame ${nextFrame} at icount ${nextIcount}, got frame ${f.frame} at ${f.startIcount}`);
      }
      nextFrame++;
      nextIcount += f.length;
    }
    for (const f of frames) this.incoming.push(f);
    this.p.observers.frames(frames);
  }

  /** Frames logged but not replayed yet. */
  get backlog(): number {
    return this.incoming.length;
  }

  /** The clone marker opening the next frame, if there is one. */
  cloneMarkerAhead(): CloneMark | null {
    const e = this.incoming[0]?.entries[0];
    return e?.k === "clone" ? { id: e.id, hash: e.hash } : null;
  }

  /** True if the next frame starts with a clone marker this engine has not followed yet. */
  get cloneAhead(): boolean {
    return this.cloneMarkerAhead() !== null && this.expectClone === null;
  }

  /** After followClone made its own snapshot at the marker: it must hash like the primary's. */
  cloneFollowed(marker: CloneMark, hash: number): void {
    if (hash !== marker.hash) this.fail("clone snapshot hash", String(marker.hash), String(hash));
    this.expectClone = { id: marker.id, hash };
  }

  /** Records the first divergence (later ones are consequences) and returns it. */
  note(what: string, expected: string, actual: string): DivergenceReport {
    this.divergence ??= { frame: this.p.frames.frame, icount: this.p.frames.icount, what, expected, actual };
    return this.divergence;
  }

  private fail(what: string, expected: string, actual: string): never {
    throw new DivergenceError(this.note(what, expected, actual));
  }

  private check(what: string, expected: unknown, actual: unknown): void {
    if (expected !== actual) this.fail(what, String(expected), String(actual));
  }

  /** Machine hook, inside a frame: the next logged RDRAND value, at the logged offset. */
  rdrand(): number {
    const at = this.p.frames.offsetInFrame;
    // Past the frame's logged end: the frame runs on where the primary's stopped (a `cut` whose
    // logged count is not at a chunk boundary here runs to the frame's natural end). What it does
    // there is outside the log; the divergence is the instruction count, checked at the frame's
    // end. Noting this read instead made the report depend on where real time had cut the frame.
    if (at > this.loggedLength) return 0;
    const e = this.rdrandQueue[this.rdrandCursor++];
    if (!e) {
      this.note("RDRAND read not in the log", "no RDRAND in this frame", `RDRAND at +${at}`);
      return 0;
    }
    if (e.at !== at) this.note("RDRAND position", `+${e.at}`, `+${at}`);
    return e.value | 0;
  }

  replayFrame(): FrameResult {
    const f = this.takeNextFrame();
    const es = f.entries;
    let i = this.checkCloneMarker(es, 0);
    i = this.applyFrameStart(es, i);
    i = this.checkJitInstalls(es, i);
    this.applyBoundaryEntries(es, i);
    this.rdrandQueue = es.filter((e): e is RdrandEntry => e.k === "rdrand");
    this.rdrandCursor = 0;
    this.loggedLength = f.length;
    // A frame the recorder cut short ends at the same instruction count here.
    const cut = es.some((e) => e.k === "cut");
    const res = this.p.frames.execute(cut ? { at: f.length } : null);
    this.checkFrame(f, res, cut);
    this.p.frames.advance();
    if (this.divergence) throw new DivergenceError(this.divergence);
    return res;
  }

  private takeNextFrame(): FrameLog {
    const f = this.incoming[0];
    if (!f) throw new Error("replay: no log for the next frame");
    if (this.cloneAhead) throw new Error("replay: clone marker ahead; call followClone() first");
    this.check("frame number", f.frame, this.p.frames.frame);
    this.check("instruction count at frame start", f.startIcount, this.p.frames.boundaryIcount);
    this.incoming.shift();
    return f;
  }

  private checkCloneMarker(es: readonly LogEntry[], i: number): number {
    const e = es[i];
    if (e?.k !== "clone") return i;
    const exp = this.expectClone;
    if (!exp) this.fail("clone marker", "none", "clone");
    this.check("clone id", e.id, exp.id);
    this.check("snapshot hash", e.hash, exp.hash);
    this.expectClone = null;
    return i + 1;
  }

  /** A logged start time (resync, early wake), else the predicted one. */
  private applyFrameStart(es: readonly LogEntry[], i: number): number {
    const e = es[i];
    const logged = e?.k === "clock" ? e.us : null;
    this.p.clock.startReplayedFrame(logged);
    return logged === null ? i : i + 1;
  }

  /** The JIT code this side compiled during the last frame must be what the primary installed. */
  private checkJitInstalls(es: readonly LogEntry[], i: number): number {
    const installed = this.p.frames.machine.installPendingJit();
    const logged: number[] = [];
    for (let e = es[i]; e?.k === "jit"; e = es[++i]) logged.push(e.index);
    this.p.stats.jitInstalls += installed.length;
    this.check("JIT installs at frame start", logged.join(","), installed.join(","));
    return i;
  }

  /** Disk completions and console input, in log order; entries of the frame's run and end are skipped. */
  private applyBoundaryEntries(es: readonly LogEntry[], from: number): void {
    for (let i = from; i < es.length; i++) {
      const e = es[i];
      switch (e.k) {
        case "disk-read":
        case "disk-read-cached":
        case "disk-read-by-backup":
        case "io-done":
          this.replayDiskCompletion(e);
          break;
        case "serial":
          this.p.stats.serialBytesIn += e.bytes.length;
          this.p.frames.machine.serialInput(e.bytes, this.p.clock.time);
          break;
        case "net-receive":
          this.p.stats.netPacketsIn++;
          this.p.stats.netBytesIn += e.frame.length;
          this.p.frames.machine.netReceive(e.frame, this.p.clock.time);
          break;
        case "rdrand":
        case "output":
        case "cut":
        case "net-transmit":
        case "checkpoint":
          break;
        case "clone":
        case "clock":
        case "jit":
          this.fail("boundary entry order", "disk, io, serial or net-receive", e.k);
        default:
          e satisfies never;
      }
    }
  }

  private replayDiskCompletion(e: DiskCompletionEntry): void {
    const req = this.p.disk.find(e.id);
    if (!req) this.fail(`disk completion ${e.id}`, "a pending request", "none");
    this.check(`disk request ${e.id} kind`, e.k === "io-done" ? "write" : "read", req.kind);
    this.p.disk.deliver(e.id, this.completionData(e, req));
  }

  /** The data a read completion delivers: from the log, the disk cache, or the backup's own read. */
  private completionData(e: DiskCompletionEntry, req: InFlightRequest): Uint8Array | undefined {
    switch (e.k) {
      case "io-done":
        return undefined;
      case "disk-read":
        this.check(`disk read ${e.id} length`, req.length, e.data.length);
        return e.data;
      case "disk-read-cached": {
        const data = req.expected;
        if (!data) this.fail(`disk read ${e.id} served from the backup's disk cache`, "cached", "not cached");
        this.p.stats.diskCacheHits++;
        this.p.stats.diskCacheHitBytes += data.length;
        return data;
      }
      case "disk-read-by-backup": {
        const data = this.p.disk.takeBackupRead(e.id);
        if (!data) this.fail(`disk read ${e.id} data read by the backup itself`, "provided", "missing");
        this.check(`disk read ${e.id} length`, req.length, data.length);
        return data;
      }
    }
  }

  /** After the frame ran: RDRAND reads used up, instruction count, output and checkpoint. */
  private checkFrame(f: FrameLog, res: FrameResult, cut: boolean): void {
    if (!this.divergence && this.rdrandCursor !== this.rdrandQueue.length) {
      this.note("RDRAND reads in frame", String(this.rdrandQueue.length), String(this.rdrandCursor));
    }
    if (!this.divergence && res.length !== f.length) {
      this.divergence = {
        frame: f.frame,
        icount: f.startIcount + Math.min(res.length, f.length),
        what: "instructions executed in frame",
        expected: String(f.length),
        actual: String(res.length),
      };
    }
    if (!this.divergence && res.cut !== cut) this.note("frame cut short", String(cut), String(res.cut));
    if (!this.divergence) this.checkFrameEnd(this.p.frames.frameEnd(), f);
  }

  private checkFrameEnd(mine: FrameEndEntries, logged: FrameLog): void {
    const loggedOut = logged.entries.find((e): e is OutputEntry => e.k === "output");
    const loggedCk = logged.entries.find((e): e is CheckpointEntry => e.k === "checkpoint");
    const fmt = (e: LogEntry | null | undefined) => (e ? JSON.stringify(e) : "none");
    if (fmt(mine.output) !== fmt(loggedOut)) {
      this.note("console output of the frame", fmt(loggedOut), fmt(mine.output));
      return;
    }
    const loggedTx = logged.entries.find((e): e is NetTransmitEntry => e.k === "net-transmit");
    if (fmt(mine.transmit) !== fmt(loggedTx)) {
      this.note("packets transmitted in the frame", fmt(loggedTx), fmt(mine.transmit));
      return;
    }
    const ck = mine.checkpoint;
    if (fmt(ck) === fmt(loggedCk)) return;
    const what = ck && loggedCk ? (ck.cpu !== loggedCk.cpu ? "checkpoint: CPU state hash" : `checkpoint: RAM slice ${loggedCk.slice} hash`) : "checkpoint presence";
    this.note(what, fmt(loggedCk), fmt(ck));
  }
}
