// The deterministic engine: a v86 machine driven frame by frame, in one of two modes.
//
//   record (primary): runs the guest against real inputs, logs every non-deterministic event
//                     with its position, paces the virtual clock against real time;
//   replay (backup):  runs the same guest from the same start, taking every event from the log,
//                     and checks after every frame that it is where the primary was.
//
// A frame is one call of v86's `main_loop` (about 1 ms of virtual time, or until the guest
// halts). Nothing touches the machine except at frame boundaries. See README.md.

import { crc32 } from "../ft/log/crc32.ts";
import { decodeBatch } from "../ft/log/codec.ts";
import { BOUNDARY_KINDS, type FrameLog, type LogEntry } from "../ft/log/entries.ts";
import type { BlockDevice } from "./block-device.ts";
import { realNow as defaultRealNow, type TimeSource } from "./clock.ts";
import { hashBytes } from "./hash.ts";
import { CPU_REGION_END, CPU_REGION_START, Machine, type GuestImages, type MachineHooks } from "./machine.ts";
import type { SessionInfo } from "./session.ts";
import { decodeSnapshot, encodeSnapshot, type Snapshot, type SnapshotMeta } from "./snapshot.ts";

export type EngineMode = "record" | "replay";
/** Record-mode pacing: a factor of real time, or "max" (no waiting). */
export type Pace = number | "max";

export interface EngineOptions {
  mode: EngineMode;
  /** v86.wasm, compiled once by the host (WebAssembly.compile) and shared by all machines. */
  wasm: WebAssembly.Module;
  images: GuestImages;
  session: SessionInfo;
  /** The data disk (record mode). Replay never touches a disk: read data comes from the log. */
  disk?: BlockDevice;
  /** Start from this snapshot (encoded) instead of booting. */
  snapshot?: Uint8Array;
  /** Real monotonic ms (record mode pacing). Defaults to the unshimmed performance.now. */
  realNow?: () => number;
  /** Record: resync the virtual clock when it lags real time by more than this (ms). */
  maxLagMs?: number;
  /** Record: sleep when the virtual clock leads real time by more than this (ms). */
  maxLeadMs?: number;
  /**
   * FT hosts: the host performs disk I/O itself (the Output Rule holds writes, storage is fenced),
   * so the engine only reports requests and completions, in both modes, and record-mode
   * completions come back through complete(). Replaces `disk`.
   */
  external?: ExternalIo;
  /** Called with every checkpoint this engine computes (recorder: logged; replayer: checked). */
  onCheckpoint?: (c: CheckpointInfo) => void;
}

export interface CheckpointInfo {
  /** The frame after which it was taken, and the instruction count there. */
  frame: number;
  icount: number;
  cpu: number;
  slice: number;
  ram: number;
}

export interface ExternalIo {
  issued(req: PendingIo): void;
  completed(id: number): void;
}

/** Console bytes the guest wrote, with the position at which they became visible (frame end). */
export interface OutputChunk {
  /** Console offset of bytes[0]. */
  offset: number;
  bytes: Uint8Array;
  frame: number;
  icount: number;
}

export interface FrameResult {
  frame: number;
  startIcount: number;
  length: number;
  halted: boolean;
}

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

/** A disk request the guest issued and has not yet seen complete. */
export interface PendingIo {
  id: number;
  kind: "read" | "write";
  offset: number;
  length: number;
  data?: Uint8Array;
}

interface IoRequest extends PendingIo {
  readDone?: (data: Uint8Array) => void;
  writeDone?: () => void;
  /** Reads: what the disk cache says the read must return (both sides compute it at issue). */
  expected?: Uint8Array;
  /** Reads: the cache write generation at issue (read data is cached only if unchanged since). */
  writeGen?: number;
}

const SECTOR = 512;

/**
 * The sectors the guest wrote or read in this session, identical on both sides (updated only at
 * deterministic points: a write when the guest issues it, read data when it is delivered).
 * Bounded FIFO.
 */
class DiskCache {
  private readonly sectors = new Map<number, Uint8Array>();
  /** Bumped by every write: read data is cached only if no write was issued meanwhile. */
  generation = 0;

  constructor(private readonly capBytes: number) {}

  private put(sector: number, data: Uint8Array): void {
    this.sectors.delete(sector);
    this.sectors.set(sector, data);
  }

  private evict(): void {
    const max = Math.floor(this.capBytes / SECTOR);
    for (const k of this.sectors.keys()) {
      if (this.sectors.size <= max) break;
      this.sectors.delete(k);
    }
  }

  store(offset: number, data: Uint8Array): void {
    if (this.capBytes <= 0) return;
    if (offset % SECTOR !== 0 || data.length % SECTOR !== 0) {
      // Not sector aligned (never from the IDE): forget what it overlaps.
      for (let s = Math.floor(offset / SECTOR); s * SECTOR < offset + data.length; s++) this.sectors.delete(s);
      return;
    }
    for (let i = 0; i < data.length; i += SECTOR) this.put((offset + i) / SECTOR, data.slice(i, i + SECTOR));
    this.evict();
  }

  write(offset: number, data: Uint8Array): void {
    this.generation++;
    this.store(offset, data);
  }

  /** The bytes [offset, offset+length) if every sector is cached, else undefined. */
  lookup(offset: number, length: number): Uint8Array | undefined {
    if (this.capBytes <= 0 || offset % SECTOR !== 0 || length % SECTOR !== 0 || length === 0) return undefined;
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += SECTOR) {
      const s = this.sectors.get((offset + i) / SECTOR);
      if (!s) return undefined;
      out.set(s, i);
    }
    return out;
  }

  clear(): void {
    this.sectors.clear();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface CloneResult {
  cloneId: number;
  /** Encoded snapshot: what the new backup starts from. */
  snapshot: Uint8Array;
  hash: number;
  frame: number;
  icount: number;
  /** Guest-visible pause: from the frame boundary until the next frame can run (save + restore + encode/hash). */
  pauseMs: number;
  saveMs: number;
  restoreMs: number;
  /** Encoding the snapshot container and hashing it. */
  encodeMs: number;
  /** Fresh machine construction, when it was not prewarmed (included in pauseMs). */
  createMs: number;
  repairedOffsets: number[];
}

export interface EngineStats {
  frames: number;
  instructions: number;
  checkpoints: number;
  jitInstalls: number;
  rdrand: number;
  ioCompleted: number;
  serialBytesIn: number;
  consoleBytes: number;
  clockEntries: number;
  clones: number;
  /** Disk reads completed from the disk cache (no data in the log), and their bytes. */
  diskCacheHits: number;
  diskCacheHitBytes: number;
}

interface Pred {
  halted: boolean;
  t: number;
  endMs: number;
}

export class LockstepEngine {
  /** Replay until a backup is promoted (go-live), record from then on. */
  mode: EngineMode;
  readonly session: SessionInfo;
  private machine!: Machine;
  private readonly hooks: { current: MachineHooks };
  private readonly opts: EngineOptions;
  private readonly realNowFn: () => number;
  private readonly maxLagMs: number;
  private readonly maxLeadMs: number;
  private readonly clock: TimeSource;

  // position
  private frameNo = 0;
  private icountNow = 0;
  private running = false;
  private frameC0 = 0;
  private frameStartIcount = 0;

  // clock
  private anchorUs = 0;
  private anchorIcount = 0;
  private pred: Pred = { halted: false, t: 0, endMs: 0 };
  /** Checkpoint schedule: count so far, frame and virtual time of the last one. */
  private ck = { count: 0, lastFrame: 0, lastMs: 0 };
  /** Real time ↔ virtual time mapping (record pacing): virtual = virtualBase + (real − realBase) × pace. */
  private realBase = 0;
  private virtualBase = 0;
  private pace: Pace = 1;

  // console
  private consoleOffset = 0;
  private frameOut: number[] = [];
  private outputs: OutputChunk[] = [];

  // inputs (record)
  private serialQueue: Uint8Array[] = [];
  private ready: { id: number; data?: Uint8Array }[] = [];
  private ioChain: Promise<void> = Promise.resolve();
  private fatal: Error | null = null;
  private wakers: (() => void)[] = [];

  // disk requests (both modes)
  private nextIoId = 0;
  private readonly requests = new Map<number, IoRequest>();
  private readonly diskCache: DiskCache;
  private readonly backupReads = new Map<number, Uint8Array>();

  // log
  private current: LogEntry[] = [];
  private produced: FrameLog[] = [];
  private incoming: FrameLog[] = [];
  private replayFrame: FrameLog | null = null;
  private rdrandCursor = 0;
  private rdrandQueue: LogEntry[] = [];
  private pendingClone: { id: number; hash: number } | null = null;
  private cloneCounter = 0;
  private prewarmed: Promise<Machine> | null = null;

  divergence: DivergenceReport | null = null;
  readonly stats: EngineStats = {
    frames: 0,
    instructions: 0,
    checkpoints: 0,
    jitInstalls: 0,
    rdrand: 0,
    ioCompleted: 0,
    serialBytesIn: 0,
    consoleBytes: 0,
    clockEntries: 0,
    clones: 0,
    diskCacheHits: 0,
    diskCacheHitBytes: 0,
  };

  private constructor(opts: EngineOptions) {
    this.opts = opts;
    this.mode = opts.mode;
    this.session = opts.session;
    this.realNowFn = opts.realNow ?? defaultRealNow;
    this.maxLagMs = opts.maxLagMs ?? 25;
    this.maxLeadMs = opts.maxLeadMs ?? 2;
    this.diskCache = new DiskCache(opts.session.diskCacheBytes ?? 0);
    if (opts.mode === "record" && !opts.disk && !opts.external && opts.images.diskSize > 0) {
      throw new Error("record mode needs a disk (BlockDevice) when images.diskSize > 0");
    }
    if (opts.disk && opts.disk.sizeBytes !== opts.images.diskSize) {
      throw new Error(`disk is ${opts.disk.sizeBytes} bytes, images.diskSize says ${opts.images.diskSize}`);
    }
    const self = this;
    this.clock = {
      now: () => self.nowMs(),
      wallNow: () => self.session.epochMs + self.nowMs(),
    };
    this.hooks = {
      current: {
        rdrand: () => self.onRdrand(),
        serialOut: (b) => self.frameOut.push(b),
        diskRead: (start, len, done) => self.onDiskRequest({ id: 0, kind: "read", offset: start, length: len, readDone: done }),
        diskWrite: (start, data, done) =>
          self.onDiskRequest({ id: 0, kind: "write", offset: start, length: data.length, data, writeDone: done }),
      },
    };
  }

  /** Boots a new machine (or restores `opts.snapshot`) and returns the engine at frame 0 / the snapshot's frame. */
  static async create(opts: EngineOptions): Promise<LockstepEngine> {
    const e = new LockstepEngine(opts);
    if (opts.snapshot) {
      const snap = decodeSnapshot(opts.snapshot);
      e.checkSnapshotSession(snap.meta.session);
      e.machine = await e.newMachine();
      e.applySnapshot(snap, e.machine);
      if (opts.mode === "replay") {
        // The first frame of the log after a clone starts with the clone marker: expect it.
        e.expectClone = { id: snap.meta.cloneId, hash: hashBytes(opts.snapshot) };
      }
    } else {
      e.machine = await e.newMachine();
    }
    e.rebaseClock();
    return e;
  }

  private expectClone: { id: number; hash: number } | null = null;

  private checkSnapshotSession(s: SessionInfo): void {
    const mine = this.session;
    for (const k of ["epochMs", "ipms", "checkpointEvery", "checkpointMs", "ramSliceBytes", "jit", "diskCacheBytes", "diskReads"] as const) {
      if (s[k] !== mine[k]) throw new Error(`snapshot session ${k}=${String(s[k])} differs from engine session ${String(mine[k])}`);
    }
  }

  private newMachine(): Promise<Machine> {
    return Machine.create(
      this.opts.wasm,
      this.opts.images,
      { jit: this.session.jit, clockMs: 0, epochMs: this.session.epochMs },
      this.hooks,
    );
  }

  // ---------------------------------------------------------------- position and clock

  get frame(): number {
    return this.frameNo;
  }

  /** Instruction count now (live inside a frame). */
  get icount(): number {
    return this.running ? this.frameStartIcount + ((this.machine.counter() - this.frameC0) >>> 0) : this.icountNow;
  }

  /** Virtual ms: anchor + (icount - anchorIcount) / ipms. */
  nowMs(): number {
    return this.anchorUs / 1000 + (this.icount - this.anchorIcount) / this.session.ipms;
  }

  /** Real time mapped onto the virtual time line (what the virtual clock should read). */
  private realVirtualNow(): number {
    if (this.pace === "max") return this.nowMs();
    return this.virtualBase + (this.realNowFn() - this.realBase) * this.pace;
  }

  /**
   * Record: the virtual clock continues from where it stands now. Real time that passed while
   * the host kept the VM stopped (a user pause, a promotion) is not seen by the guest: without
   * this the next frame would log a resync that jumps the guest clock over the gap.
   */
  rebaseClock(): void {
    this.realBase = this.realNowFn();
    this.virtualBase = this.nowMs();
  }

  /**
   * Record: how virtual time is paced against real time. 1 = real time; 0.25 = slow motion
   * (guest timers and the CPU both run at a quarter of real time); "max" = never wait for a
   * guest timer (an idle guest's time races ahead). Only the pacing changes: every frame start
   * is logged or predicted as always, so the backup replays it unchanged.
   */
  setPace(pace: Pace): void {
    if (pace !== "max" && !(pace > 0)) throw new RangeError(`setPace: ${String(pace)}`);
    this.rebaseClock();
    this.pace = pace;
  }

  get currentPace(): Pace {
    return this.pace;
  }

  /**
   * Start time of the next frame if nothing intervenes: a µs anchor when the guest halted (its
   * next timer, and at least 1 µs later: v86's timers report 0 ms left while the deadline is
   * still a fraction of a tick away, and a halted guest must not spin at a frozen time), null
   * when it did not halt (the clock just continues).
   */
  private predictedAnchorUs(): number | null {
    if (!this.pred.halted) return null;
    const endUs = this.pred.endMs * 1000;
    return Math.max(Math.ceil(endUs + Math.max(0, this.pred.t) * 1000), Math.floor(endUs) + 1);
  }

  private hasInputs(): boolean {
    return this.serialQueue.length > 0 || this.ready.length > 0 || this.pendingClone !== null;
  }

  /**
   * Record mode: real ms to wait before the next frame should run (0 = now). While the guest
   * is halted this is the time to its next timer; inputs arriving earlier wake it (waitForWork).
   */
  nextFrameDelay(): number {
    if (this.mode !== "record") return 0;
    if (this.hasInputs() || this.pace === "max") return 0;
    const r = this.realVirtualNow();
    const p = this.pred.halted ? this.predictedAnchorUs()! / 1000 : this.nowMs();
    const lead = p - r;
    if (this.pred.halted) return lead > 0 ? lead : 0;
    return lead > this.maxLeadMs ? lead : 0;
  }

  /** Resolves after `ms` real ms or as soon as an input (serial, disk completion) arrives. */
  waitForWork(ms: number): Promise<void> {
    if (this.hasInputs() || ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(finish, Math.max(1, ms));
      this.wakers.push(finish);
    });
  }

  private wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const f of w) f();
  }

  // ---------------------------------------------------------------- inputs (record)

  /** Queues console input; it enters the guest at the next frame boundary. */
  sendSerial(bytes: Uint8Array | string): void {
    if (this.mode !== "record") throw new Error("sendSerial: only the recorder takes live input");
    const b = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes.slice();
    if (b.length === 0) return;
    this.serialQueue.push(b);
    this.wake();
  }

  private onDiskRequest(req: IoRequest): void {
    req.id = this.nextIoId++;
    this.requests.set(req.id, req);
    if (req.kind === "write") {
      this.diskCache.write(req.offset, req.data!);
    } else {
      req.expected = this.diskCache.lookup(req.offset, req.length);
      req.writeGen = this.diskCache.generation;
    }
    const ext = this.opts.external;
    if (ext) {
      const { id, kind, offset, length, data } = req;
      ext.issued({ id, kind, offset, length, data });
      return;
    }
    if (this.mode === "record") this.issue(req);
  }

  /** Record mode with an owned disk: sends a request once every earlier one has completed. */
  private issue(req: IoRequest): void {
    const disk = this.opts.disk!;
    const id = req.id;
    this.ioChain = this.ioChain.then(async () => {
      try {
        if (req.kind === "read") {
          const data = await disk.read(req.offset, req.length);
          if (data.length !== req.length) throw new Error(`disk read returned ${data.length} bytes, wanted ${req.length}`);
          this.ready.push({ id, data });
        } else {
          await disk.write(req.offset, req.data!);
          this.ready.push({ id });
        }
      } catch (err) {
        this.fatal = err instanceof Error ? err : new Error(String(err));
      }
      this.wake();
    });
  }

  /** Replay, backup-reads mode: data the host read from the shared disk for request `id`. */
  provideRead(id: number, data: Uint8Array): void {
    this.backupReads.set(id, data);
  }

  /** External I/O (FT hosts): the completion of request `id`, applied at the next frame boundary. */
  complete(id: number, data?: Uint8Array): void {
    if (this.mode !== "record") throw new Error("complete: completions enter only a recorder");
    if (!this.requests.has(id)) throw new Error(`complete: unknown disk request ${id}`);
    this.ready.push(data ? { id, data } : { id });
    this.wake();
  }

  /**
   * Go-live (paper 2.3): a backup that has replayed every logged frame leaves replay mode and
   * runs on as a recorder. Its virtual clock continues from where the replay left it; disk
   * requests still pending are the host's to re-issue (paper 3.4).
   */
  promote(): void {
    if (this.mode !== "replay") throw new Error("promote: not a replayer");
    if (this.incoming.length > 0) throw new Error(`promote: ${this.incoming.length} logged frames not yet replayed`);
    this.mode = "record";
    this.expectClone = null;
    this.rebaseClock();
  }

  /** Disk requests the guest issued and has not seen complete (re-issued on go-live). */
  pendingIo(): PendingIo[] {
    return [...this.requests.values()].map(({ id, kind, offset, length, data }) => ({ id, kind, offset, length, data }));
  }

  private onRdrand(): number {
    this.stats.rdrand++;
    if (!this.running) return 0;
    if (this.mode === "record") {
      const v = crypto.getRandomValues(new Uint32Array(1))[0];
      this.current.push({ k: "rdrand", at: this.icount - this.frameStartIcount, value: v });
      return v | 0;
    }
    const e = this.rdrandQueue[this.rdrandCursor++];
    const at = this.icount - this.frameStartIcount;
    if (!e || e.k !== "rdrand") {
      this.noteDivergence("RDRAND read not in the log", "no RDRAND in this frame", `RDRAND at +${at}`);
      return 0;
    }
    if (e.at !== at) this.noteDivergence("RDRAND position", `+${e.at}`, `+${at}`);
    return e.value | 0;
  }

  private noteDivergence(what: string, expected: string, actual: string): void {
    if (this.divergence) return;
    this.divergence = { frame: this.frameNo, icount: this.icount, what, expected, actual };
  }

  // ---------------------------------------------------------------- frames

  /** Record mode: runs one frame now (call nextFrameDelay/waitForWork first to pace it). */
  runFrame(): FrameResult {
    if (this.fatal) throw this.fatal;
    if (this.divergence) throw new DivergenceError(this.divergence);
    return this.mode === "record" ? this.recordFrame() : this.replayOneFrame();
  }

  private recordFrame(): FrameResult {
    const entries: LogEntry[] = [];
    this.current = entries;
    if (this.pendingClone) {
      entries.push({ k: "clone", ...this.pendingClone });
      this.pendingClone = null;
    }
    // Frame start time.
    const predicted = this.predictedAnchorUs();
    const pMs = predicted !== null ? predicted / 1000 : this.nowMs();
    const r = this.realVirtualNow();
    let chosen: number | null = null;
    if (this.pred.halted && (this.serialQueue.length > 0 || this.ready.length > 0) && r < pMs) {
      chosen = Math.max(Math.ceil(r * 1000), Math.ceil(this.pred.endMs * 1000));
    } else if (r - pMs > this.maxLagMs) {
      chosen = Math.ceil(r * 1000);
    }
    if (chosen !== null && chosen !== predicted) {
      entries.push({ k: "clock", us: chosen });
      this.stats.clockEntries++;
      this.setAnchor(chosen);
    } else if (predicted !== null) {
      this.setAnchor(predicted);
    }
    // JIT code compiled during the previous frame.
    for (const index of this.machine.installPendingJit()) {
      entries.push({ k: "jit", index });
      this.stats.jitInstalls++;
    }
    // Disk completions, with read data.
    if (this.ready.length > 0) {
      const ready = this.ready;
      this.ready = [];
      for (const c of ready) {
        const exp = this.requests.get(c.id)?.expected;
        if (!c.data) entries.push({ k: "io-done", id: c.id });
        else if (exp && sameBytes(exp, c.data)) {
          entries.push({ k: "disk-read-cached", id: c.id });
          this.stats.diskCacheHits++;
          this.stats.diskCacheHitBytes += c.data.length;
        } else if (this.session.diskReads === "backup") entries.push({ k: "disk-read-by-backup", id: c.id });
        else entries.push({ k: "disk-read", id: c.id, data: c.data });
        this.completeIo(c.id, c.data);
      }
    }
    // Console input.
    if (this.serialQueue.length > 0) {
      const parts = this.serialQueue;
      this.serialQueue = [];
      const bytes = concat(parts);
      entries.push({ k: "serial", bytes });
      this.stats.serialBytesIn += bytes.length;
      this.machine.serialInput(bytes, this.clock);
    }
    const res = this.execute();
    this.endOfFrame(entries, null);
    this.produced.push({ frame: res.frame, startIcount: res.startIcount, length: res.length, entries });
    this.frameNo++;
    return res;
  }

  private setAnchor(us: number): void {
    this.anchorUs = us;
    this.anchorIcount = this.icountNow;
  }

  private completeIo(id: number, data: Uint8Array | undefined): void {
    const req = this.requests.get(id);
    if (!req) throw new Error(`completion for unknown disk request ${id}`);
    this.requests.delete(id);
    this.stats.ioCompleted++;
    if (req.kind === "read" && data && req.writeGen === this.diskCache.generation) this.diskCache.store(req.offset, data);
    this.opts.external?.completed(id);
    this.machine.call(this.clock, () => {
      if (req.kind === "read") req.readDone!(data!);
      else req.writeDone!();
    });
  }

  private execute(): FrameResult {
    const m = this.machine;
    const frame = this.frameNo;
    const start = this.icountNow;
    this.frameStartIcount = start;
    this.frameC0 = m.counter();
    this.frameOut = [];
    this.running = true;
    let t: number;
    try {
      t = m.mainLoop(this.clock);
    } finally {
      this.icountNow = start + ((m.counter() - this.frameC0) >>> 0);
      this.running = false;
    }
    const halted = m.inHlt();
    this.pred = { halted, t, endMs: this.nowMs() };
    const length = this.icountNow - start;
    this.stats.frames++;
    this.stats.instructions += length;
    return { frame, startIcount: start, length, halted };
  }

  /** Output and checkpoint after a frame: appended (record) or checked against `logged` (replay). */
  private endOfFrame(entries: LogEntry[], logged: FrameLog | null): void {
    let outEntry: LogEntry | null = null;
    if (this.frameOut.length > 0) {
      const bytes = Uint8Array.from(this.frameOut);
      this.outputs.push({ offset: this.consoleOffset, bytes, frame: this.frameNo, icount: this.icountNow });
      this.consoleOffset += bytes.length;
      this.stats.consoleBytes += bytes.length;
      outEntry = { k: "output", end: this.consoleOffset, crc: crc32(bytes) };
      this.frameOut = [];
    }
    let ckEntry: LogEntry | null = null;
    const sinceFrames = this.frameNo + 1 - this.ck.lastFrame;
    const sinceMs = this.pred.endMs - this.ck.lastMs;
    if (
      (this.session.checkpointEvery > 0 && sinceFrames >= this.session.checkpointEvery) ||
      (this.session.checkpointMs > 0 && sinceMs >= this.session.checkpointMs)
    ) {
      const sliceBytes = this.session.ramSliceBytes;
      const slices = Math.max(1, Math.ceil(this.machine.ramBytes / sliceBytes));
      const slice = this.ck.count % slices;
      ckEntry = {
        k: "checkpoint",
        cpu: this.machine.cpuHash(),
        slice,
        ram: this.machine.ramHash(slice * sliceBytes, sliceBytes),
      };
      this.ck = { count: this.ck.count + 1, lastFrame: this.frameNo + 1, lastMs: this.pred.endMs };
      this.stats.checkpoints++;
      this.opts.onCheckpoint?.({ frame: this.frameNo, icount: this.icountNow, cpu: ckEntry.cpu, slice, ram: ckEntry.ram });
    }
    if (!logged) {
      if (outEntry) entries.push(outEntry);
      if (ckEntry) entries.push(ckEntry);
      return;
    }
    const loggedOut = logged.entries.find((e) => e.k === "output");
    const loggedCk = logged.entries.find((e) => e.k === "checkpoint");
    const fmt = (e: LogEntry | null | undefined) => (e ? JSON.stringify(e) : "none");
    if (fmt(outEntry) !== fmt(loggedOut)) this.noteDivergence("console output of the frame", fmt(loggedOut), fmt(outEntry));
    else if (fmt(ckEntry) !== fmt(loggedCk)) {
      const what =
        ckEntry && loggedCk && loggedCk.k === "checkpoint" && ckEntry.k === "checkpoint"
          ? ckEntry.cpu !== loggedCk.cpu
            ? "checkpoint: CPU state hash"
            : `checkpoint: RAM slice ${loggedCk.slice} hash`
          : "checkpoint presence";
      this.noteDivergence(what, fmt(loggedCk), fmt(ckEntry));
    }
  }

  /** Record mode: frame logs produced since the last call. */
  takeFrames(): FrameLog[] {
    const f = this.produced;
    this.produced = [];
    return f;
  }

  /** Console output since the last call. */
  takeOutput(): OutputChunk[] {
    const o = this.outputs;
    this.outputs = [];
    return o;
  }

  get consoleBytes(): number {
    return this.consoleOffset;
  }

  get halted(): boolean {
    return this.pred.halted;
  }

  // ---------------------------------------------------------------- replay

  /** Replay mode: appends decoded frame logs; they must continue the log exactly. */
  pushFrames(frames: readonly FrameLog[]): void {
    if (this.mode !== "replay") throw new Error("pushFrames: not a replayer");
    let nextFrame = this.incoming.length > 0 ? this.incoming[this.incoming.length - 1].frame + 1 : this.frameNo;
    let nextIcount =
      this.incoming.length > 0
        ? this.incoming[this.incoming.length - 1].startIcount + this.incoming[this.incoming.length - 1].length
        : this.icountNow;
    for (const f of frames) {
      if (f.frame !== nextFrame || f.startIcount !== nextIcount) {
        throw new Error(`log gap: expected frame ${nextFrame} at icount ${nextIcount}, got frame ${f.frame} at ${f.startIcount}`);
      }
      nextFrame++;
      nextIcount += f.length;
    }
    for (const f of frames) this.incoming.push(f);
  }

  /** Replay mode: decodes (all-or-nothing) and appends one encoded batch. */
  pushBatch(bytes: Uint8Array): void {
    this.pushFrames(decodeBatch(bytes));
  }

  /** Frames logged but not replayed yet. */
  get backlog(): number {
    return this.incoming.length;
  }

  /** Replay: true if the next frame starts with a clone marker (call followClone()). */
  get cloneAhead(): boolean {
    const f = this.incoming[0];
    return !!f && f.entries.length > 0 && f.entries[0].k === "clone" && this.expectClone === null;
  }

  private replayOneFrame(): FrameResult {
    const f = this.incoming[0];
    if (!f) throw new Error("replay: no log for the next frame");
    if (this.cloneAhead) throw new Error("replay: clone marker ahead; call followClone() first");
    const check = (what: string, expected: unknown, actual: unknown) => {
      if (expected !== actual) {
        this.noteDivergence(what, String(expected), String(actual));
        throw new DivergenceError(this.divergence!);
      }
    };
    check("frame number", f.frame, this.frameNo);
    check("instruction count at frame start", f.startIcount, this.icountNow);
    this.incoming.shift();
    let i = 0;
    const es = f.entries;
    if (es[0]?.k === "clone") {
      const exp = this.expectClone;
      if (!exp) check("clone marker", "none", "clone");
      check("clone id", es[0].id, exp!.id);
      check("snapshot hash", es[0].hash, exp!.hash);
      this.expectClone = null;
      i++;
    }
    if (es[i]?.k === "clock") {
      this.setAnchor((es[i] as { us: number }).us);
      i++;
    } else {
      const p = this.predictedAnchorUs();
      if (p !== null) this.setAnchor(p);
    }
    const installed = this.machine.installPendingJit();
    const loggedJit: number[] = [];
    while (es[i]?.k === "jit") loggedJit.push((es[i++] as { index: number }).index);
    this.stats.jitInstalls += installed.length;
    check("JIT installs at frame start", loggedJit.join(","), installed.join(","));
    for (; i < es.length; i++) {
      const e = es[i];
      if (!BOUNDARY_KINDS.has(e.k)) continue;
      switch (e.k) {
        case "disk-read":
        case "disk-read-cached":
        case "disk-read-by-backup":
        case "io-done": {
          const req = this.requests.get(e.id);
          if (!req) check(`disk completion ${e.id}`, "a pending request", "none");
          const kind = e.k === "io-done" ? "write" : "read";
          check(`disk request ${e.id} kind`, kind, req!.kind);
          let data: Uint8Array | undefined;
          if (e.k === "disk-read") {
            check(`disk read ${e.id} length`, req!.length, e.data.length);
            data = e.data;
          } else if (e.k === "disk-read-cached") {
            check(`disk read ${e.id} served from the backup's disk cache`, "cached", req!.expected ? "cached" : "not cached");
            data = req!.expected;
            this.stats.diskCacheHits++;
            this.stats.diskCacheHitBytes += data!.length;
          } else if (e.k === "disk-read-by-backup") {
            data = this.backupReads.get(e.id);
            check(`disk read ${e.id} data read by the backup itself`, "provided", data ? "provided" : "missing");
            check(`disk read ${e.id} length`, req!.length, data!.length);
            this.backupReads.delete(e.id);
          }
          this.completeIo(e.id, data);
          break;
        }
        case "serial":
          this.stats.serialBytesIn += e.bytes.length;
          this.machine.serialInput(e.bytes, this.clock);
          break;
        default:
          check("boundary entry order", "disk, io or serial", e.k);
      }
    }
    this.rdrandQueue = es.filter((e) => e.k === "rdrand");
    this.rdrandCursor = 0;
    this.replayFrame = f;
    const res = this.execute();
    this.replayFrame = null;
    if (!this.divergence && this.rdrandCursor !== this.rdrandQueue.length) {
      this.noteDivergence("RDRAND reads in frame", String(this.rdrandQueue.length), String(this.rdrandCursor));
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
    if (!this.divergence) this.endOfFrame([], f);
    this.frameNo++;
    if (this.divergence) throw new DivergenceError(this.divergence);
    return res;
  }

  /**
   * Replay: at a clone marker, make our own snapshot (which must hash like the primary's) and
   * continue from a fresh machine restored from it, exactly as the primary did.
   */
  async followClone(): Promise<CloneResult> {
    const f = this.incoming[0];
    if (!f || f.entries[0]?.k !== "clone") throw new Error("followClone: no clone marker ahead");
    const marker = f.entries[0];
    const res = await this.cloneInternal(marker.id);
    if (res.hash !== marker.hash) {
      this.noteDivergence("clone snapshot hash", String(marker.hash), String(res.hash));
      throw new DivergenceError(this.divergence!);
    }
    this.expectClone = { id: marker.id, hash: res.hash };
    return res;
  }

  // ---------------------------------------------------------------- go live

  /**
   * Go-live for an engine that owns its disk (Node tools, tests): promote() and then re-issue,
   * in order, the disk requests the guest issued and has not seen complete; their completions
   * are logged like any other. Returns the re-issued requests.
   */
  goLive(disk: BlockDevice): PendingIo[] {
    if (this.opts.external) throw new Error("goLive: this engine uses external I/O; use promote()");
    if (disk.sizeBytes !== this.opts.images.diskSize) throw new Error("goLive: disk size differs from the guest's");
    this.promote();
    this.opts.disk = disk;
    const pending = [...this.requests.values()].sort((a, b) => a.id - b.id);
    for (const req of pending) this.issue(req);
    return pending.map(({ id, kind, offset, length, data }) => ({ id, kind, offset, length, data }));
  }

  // ---------------------------------------------------------------- clone

  /** Builds the fresh machine for the next clone ahead of time (keeps it out of the pause). */
  prewarm(): Promise<void> {
    if (!this.prewarmed) this.prewarmed = this.newMachine();
    return this.prewarmed.then(() => undefined);
  }

  /** Record: runs frames (pacing as usual) until no disk request is in flight. */
  async quiesce(maxFrames = 100_000): Promise<void> {
    for (let i = 0; this.requests.size > 0; i++) {
      if (i >= maxFrames) throw new Error("quiesce: disk requests still in flight");
      const d = this.nextFrameDelay();
      if (d > 0) await this.waitForWork(d);
      else await Promise.resolve();
      this.runFrame();
    }
  }

  /**
   * Record: FT VMotion clone at the current frame boundary. Saves state, then continues from a
   * fresh machine restored from that snapshot; a backup created from `snapshot` (or a replayer
   * that reaches the clone marker) does the same, so both continue from identical instances.
   */
  async clone(): Promise<CloneResult> {
    if (this.mode !== "record") throw new Error("clone: only the recorder starts a clone");
    await this.quiesce();
    const res = await this.cloneInternal(++this.cloneCounter);
    this.pendingClone = { id: res.cloneId, hash: res.hash };
    return res;
  }

  private async cloneInternal(cloneId: number): Promise<CloneResult> {
    if (this.requests.size > 0) throw new Error("clone with disk requests in flight");
    this.cloneCounter = Math.max(this.cloneCounter, cloneId);
    const t0 = this.realNowFn();
    const old = this.machine;
    old.dropPendingJit();
    // The backup made from this snapshot starts with an empty disk cache: so do we.
    this.diskCache.clear();
    const { state, extra } = old.save(this.clock);
    const meta: SnapshotMeta = {
      session: this.session,
      cloneId,
      frame: this.frameNo,
      icount: this.icountNow,
      anchorUs: this.anchorUs,
      anchorIcount: this.anchorIcount,
      pred: this.pred,
      consoleOffset: this.consoleOffset,
      nextIoId: this.nextIoId,
      ck: this.ck,
      ps2: extra.ps2,
      uartInput: extra.uartInput,
    };
    const snap: Snapshot = { meta, extra, state };
    const t1 = this.realNowFn();
    let createMs = 0;
    let fresh: Machine;
    if (this.prewarmed) {
      fresh = await this.prewarmed;
      this.prewarmed = null;
    } else {
      const c0 = this.realNowFn();
      fresh = await this.newMachine();
      createMs = this.realNowFn() - c0;
    }
    const t2 = this.realNowFn();
    const repaired = this.applySnapshot(snap, fresh);
    const t3 = this.realNowFn();
    this.machine = fresh;
    old.destroy();
    const encoded = encodeSnapshot(snap);
    const hash = hashBytes(encoded);
    const t4 = this.realNowFn();
    // The guest does not run from t0 to t4; the next frame's resync logic sees the lag and logs
    // a clock resync, exactly as for any other stall, so the guest clock keeps tracking real time.
    this.stats.clones++;
    return {
      cloneId,
      snapshot: encoded,
      hash,
      frame: this.frameNo,
      icount: this.icountNow,
      pauseMs: t4 - t0 - (t2 - t1) + createMs,
      saveMs: t1 - t0,
      restoreMs: t3 - t2,
      encodeMs: t4 - t3,
      createMs,
      repairedOffsets: repaired,
    };
  }

  private applySnapshot(snap: Snapshot, m: Machine): number[] {
    const meta = snap.meta;
    this.frameNo = meta.frame;
    this.icountNow = meta.icount;
    this.anchorUs = meta.anchorUs;
    this.anchorIcount = meta.anchorIcount;
    this.pred = { ...meta.pred };
    this.consoleOffset = meta.consoleOffset;
    this.nextIoId = meta.nextIoId;
    this.ck = { ...meta.ck };
    this.cloneCounter = Math.max(this.cloneCounter, meta.cloneId);
    // Restore reads the clock (set_tsc): it must see the virtual time of the save.
    const atSave: TimeSource = { now: () => this.nowMs(), wallNow: () => this.session.epochMs + this.nowMs() };
    return m.restore(snap.state, snap.extra, atSave);
  }

  // ---------------------------------------------------------------- state

  /** Hash of CPU state and all of RAM, as hex (compare primary and backup at equal positions). */
  stateHash(): string {
    const cpu = this.machine.cpuHash().toString(16).padStart(8, "0");
    const ram = this.machine.ramHash().toString(16).padStart(8, "0");
    return `${cpu}${ram}`;
  }

  /**
   * Guest RAM as a live view, for read-only measurements at a frame boundary (the Remus meter,
   * `dirty-pages.ts`). Valid until the machine is replaced (clone) or memory grows: take it anew.
   */
  guestRam(): Uint8Array {
    return this.machine.ramView();
  }

  /** Bytes of CPU state (the wasm CPU region: registers, flags, segments, FPU/SSE). */
  get cpuStateBytes(): number {
    return CPU_REGION_END - CPU_REGION_START;
  }

  /** Current position (next frame boundary). */
  position(): { frame: number; icount: number } {
    return { frame: this.frameNo, icount: this.icountNow };
  }

  /** Test hook: flips bits of one guest RAM byte, as a non-deterministic fault would. */
  debugCorruptRam(offset: number, xor = 0x01): void {
    this.machine.pokeRam(offset, xor);
  }

  /** The machine's JIT compile count (diagnostics). */
  get jitCompiles(): number {
    return this.machine.compiles;
  }

  destroy(): void {
    this.machine?.destroy();
    void this.prewarmed?.then((m) => m.destroy());
    this.wake();
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
