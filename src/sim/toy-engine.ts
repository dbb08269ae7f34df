import { crc32 } from "../ft/log/crc32.ts";
import { decodeBatch } from "../ft/log/codec.ts";
import type { FrameLog, LogEntry } from "../ft/log/entries.ts";
import { blockHash } from "../ft/protocol/index.ts";
import type { CloneSnapshot, EngineHooks, FrameResult, HostEngine, OutputChunk, PacketChunk, DiskRequest } from "../host/engine-port.ts";
import { Observers, type EngineObserver } from "../engine/observer.ts";
import { RxQueue } from "../engine/net-device.ts";
import { decodeToySnapshot, encodeToySnapshot } from "./toy-snapshot.ts";
import { concat, divergence, endKey, FrameEffects, inputs, sameEnd } from "./toy-frame.ts";
import { blockData, GUEST_MS_PER_FRAME, ToyVm, type StartEvent } from "./toy-vm.ts";

/** What the toy engine needs from the simulated world. */
export interface ToyEnv {
  /** Where the disk read data comes from in the log (the session's `diskReads` in src/engine). */
  diskReads: "log" | "backup";
  /** A non-deterministic value (RDRAND): the recorder draws it, the replayer reads it from the log. */
  draw(): number;
  /** The thread's time passes: `ms` of work. */
  burn(ms: number): void;
  /** Host ms a frame costs on this machine (record; a replay costs a little less). */
  frameCostMs: number;
  /** A promise of the world, settled now (the simulator drains continuations after the event). */
  settled<T>(value: T): Promise<T>;
  /** Every frame run: the world compares the states of primary and backup. */
  frameRun(engine: ToyEngine, digest: number): void;
}

/** Replaying costs less than recording (no waiting for inputs): a backup with a backlog catches up. */
const REPLAY_COST = 0.8;
const BLOCK_BYTES = 4;

/**
 * The toy VM (toy-vm.ts) behind the engine interface of src/host (engine-port.ts), so the
 * simulator runs the real host driver: it records frames in src/ft/log's entry format (serial
 * input, disk completions with or without data, RDRAND values, console output, a checkpoint per
 * frame), replays them and reports a divergence as the real engine does, by throwing.
 */
export class ToyEngine implements HostEngine {
  private readonly observers = new Observers();
  mode: "record" | "replay";
  readonly halted = false;
  readonly cloneAhead = false;
  readonly cpuStateBytes = 0;
  vm: ToyVm;
  /** The next frame burns this much extra time (an injected stall), then reports it. */
  stallNext = 0;
  /** Where this VM's history in this engine starts (0, or the clone's frame). */
  readonly startFrame: number;
  /** Facts the checker reads: which frame produced each console byte, consumed each input, issued each I/O. */
  readonly consoleEnds: { end: number; frame: number }[] = [];
  readonly inputFrame = new Map<number, number>();
  readonly ioFrame = new Map<number, number>();
  /** Which frame transmitted each packet (the bytes handed to the host are the keys). */
  readonly packetFrame = new WeakMap<Uint8Array, number>();
  destroyed = false;

  private consoleOffset = 0;
  private serial: Uint8Array[] = [];
  private ready: { id: number; data?: Uint8Array }[] = [];
  private produced: FrameLog[] = [];
  private outputs: OutputChunk[] = [];
  private packets: PacketChunk[] = [];
  /** Received packets for the next frame boundary (a live primary's: the protocol injects only there). */
  private readonly received = new RxQueue();
  private incoming: FrameLog[] = [];
  private backupReads = new Map<number, Uint8Array>();
  private pendingClone: { id: number; hash: number } | null = null;
  private expectClone: { id: number; hash: number } | null = null;
  private cloneCounter = 0;

  constructor(
    mode: "record" | "replay",
    private readonly env: ToyEnv,
    private readonly hooks: EngineHooks,
    from?: { snapshot: Uint8Array },
  ) {
    this.mode = mode;
    if (from) {
      const s = decodeToySnapshot(from.snapshot);
      this.vm = ToyVm.restore(s.vm);
      this.consoleOffset = s.consoleOffset;
      this.cloneCounter = s.cloneId;
      this.expectClone = { id: s.cloneId, hash: blockHash(from.snapshot) };
    } else {
      this.vm = new ToyVm();
    }
    this.startFrame = this.vm.frame;
  }

  get backlog(): number {
    return this.incoming.length;
  }

  position(): { frame: number; icount: number } {
    return { frame: this.vm.frame, icount: this.vm.icount };
  }

  nowMs(): number {
    return this.vm.frame * GUEST_MS_PER_FRAME;
  }

  nextFrameDelay(): number {
    return 0;
  }

  rebaseClock(): void {}

  setPace(): void {}

  sendSerial(bytes: Uint8Array): void {
    if (this.mode !== "record") throw new Error("sendSerial: only the recorder takes live input");
    this.serial.push(bytes.slice());
  }

  complete(id: number, data?: Uint8Array): void {
    if (this.mode !== "record") throw new Error("complete: completions enter only a recorder");
    if (!this.vm.pending.has(id)) throw new Error(`complete: unknown disk request ${id}`);
    this.ready.push(data ? { id, data } : { id });
  }

  provideRead(id: number, data: Uint8Array): void {
    this.backupReads.set(id, data);
    this.observers.readData(id, data);
  }

  pendingIo(): DiskRequest[] {
    return [...this.vm.pending].map(([id, op]) => ({
      id,
      kind: op.kind,
      offset: op.block,
      length: BLOCK_BYTES,
      ...(op.kind === "write" ? { data: blockData(op.value) } : {}),
    }));
  }

  prewarm(): Promise<void> {
    return this.env.settled(undefined);
  }

  followClone(): Promise<unknown> {
    return this.env.settled(undefined);
  }

  clone(): Promise<CloneSnapshot> {
    if (this.mode !== "record") throw new Error("clone: only the recorder starts a clone");
    if (this.vm.pending.size > 0) throw new Error("clone with disk requests in flight");
    const cloneId = ++this.cloneCounter;
    const snapshot = encodeToySnapshot({ vm: this.vm.snapshot(), consoleOffset: this.consoleOffset, cloneId });
    // Both sides continue from instances restored from the same bytes (determinism.md).
    this.vm = ToyVm.restore(decodeToySnapshot(snapshot).vm);
    this.pendingClone = { id: cloneId, hash: blockHash(snapshot) };
    return this.env.settled({ snapshot, frame: this.vm.frame, icount: this.vm.icount, pauseMs: 0 });
  }

  /** Listeners, as on LockstepEngine (src/engine/observer.ts): the simulator keeps no recording, tests may. */
  observe(o: EngineObserver): () => void {
    return this.observers.add(o);
  }

  pushFrames(frames: readonly FrameLog[]): void {
    if (this.mode !== "replay") throw new Error("pushFrames: not a replayer");
    const last = this.incoming[this.incoming.length - 1];
    let frame = last ? last.frame + 1 : this.vm.frame;
    let icount = last ? last.startIcount + last.length : this.vm.icount;
    for (const f of frames) {
      if (f.frame !== frame || f.startIcount !== icount) throw new Error(`log gap: expected frame ${frame} at icount ${icount}, got frame ${f.frame} at ${f.startIcount}`);
      frame++;
      icount += f.length;
    }
    this.incoming.push(...frames);
    this.observers.frames(frames);
  }

  pushBatch(bytes: Uint8Array): void {
    this.pushFrames(decodeBatch(bytes));
  }

  promote(): void {
    if (this.mode !== "replay") throw new Error("promote: not a replayer");
    if (this.incoming.length > 0) throw new Error(`promote: ${this.incoming.length} logged frames not yet replayed`);
    this.mode = "record";
    this.expectClone = null;
  }

  takeFrames(): FrameLog[] {
    const f = this.produced;
    this.produced = [];
    return f;
  }

  takePackets(): PacketChunk[] {
    const p = this.packets;
    this.packets = [];
    return p;
  }

  receivePacket(frame: Uint8Array): boolean {
    if (this.mode !== "record") throw new Error("receivePacket: packets enter only a recorder");
    // Bounded as the real engine's (net-device.ts): a full queue drops the frame before the log.
    return this.received.push(frame);
  }

  takeOutput(): OutputChunk[] {
    const o = this.outputs;
    this.outputs = [];
    return o;
  }

  guestRam(): Uint8Array {
    return new Uint8Array(0);
  }

  destroy(): void {
    this.destroyed = true;
  }

  runFrame(): FrameResult {
    if (this.destroyed) throw new Error("runFrame: engine destroyed");
    const res = this.mode === "record" ? this.recordFrame() : this.replayFrame();
    const stall = this.stallNext;
    this.stallNext = 0;
    this.env.burn(this.env.frameCostMs * (this.mode === "record" ? 1 : REPLAY_COST) + stall);
    this.env.frameRun(this, this.vm.digest());
    return res;
  }

  private recordFrame(): FrameResult {
    const entries: LogEntry[] = [];
    const starts: StartEvent[] = [];
    if (this.pendingClone) {
      entries.push({ k: "clone", ...this.pendingClone });
      this.pendingClone = null;
    }
    for (const c of this.ready.splice(0)) {
      const op = this.vm.pending.get(c.id)!;
      if (op.kind === "write") entries.push({ k: "io-done", id: c.id });
      else if (this.env.diskReads === "backup") entries.push({ k: "disk-read-by-backup", id: c.id });
      else entries.push({ k: "disk-read", id: c.id, data: c.data! });
      starts.push(c.data ? { k: "io", ioId: c.id, data: c.data } : { k: "io", ioId: c.id });
      this.hooks.completed(c.id);
    }
    if (this.serial.length > 0) {
      const bytes = concat(this.serial.splice(0));
      entries.push({ k: "serial", bytes });
      starts.push(...inputs(bytes));
    }
    for (const frame of this.received.take()) {
      entries.push({ k: "net-receive", frame });
      starts.push({ k: "packet", bytes: frame });
    }
    const start = this.vm.icount;
    const out: number[] = [];
    const tx: Uint8Array[] = [];
    const env = this.env;
    this.vm.runFrame(starts, new FrameEffects(this, out, tx, start, (at) => {
      const value = env.draw();
      entries.push({ k: "rdrand", at, value });
      return value;
    }));
    return this.endFrame(start, out, tx, entries, null);
  }

  private replayFrame(): FrameResult {
    const f = this.incoming[0];
    if (!f) throw new Error("replay: no log for the next frame");
    const start = this.vm.icount;
    if (f.frame !== this.vm.frame || f.startIcount !== start) throw divergence(f.frame, "frame start", `${f.frame}@${f.startIcount}`, `${this.vm.frame}@${start}`);
    this.incoming.shift();
    const starts: StartEvent[] = [];
    const rdrand: { at: number; value: number }[] = [];
    for (const e of f.entries) {
      if (e.k === "clone") {
        const exp = this.expectClone;
        if (exp && (exp.id !== e.id || exp.hash !== e.hash)) throw divergence(f.frame, "clone marker", `${exp.id}/${exp.hash}`, `${e.id}/${e.hash}`);
        this.expectClone = null;
      } else if (e.k === "io-done" || e.k === "disk-read" || e.k === "disk-read-by-backup" || e.k === "disk-read-cached") {
        let data: Uint8Array | undefined;
        if (e.k === "disk-read") data = e.data;
        else if (e.k === "disk-read-by-backup") {
          data = this.backupReads.get(e.id);
          if (!data) throw divergence(f.frame, `disk read ${e.id} data read by the backup itself`, "provided", "missing");
          this.backupReads.delete(e.id);
        }
        starts.push(data ? { k: "io", ioId: e.id, data } : { k: "io", ioId: e.id });
        this.hooks.completed(e.id);
      } else if (e.k === "serial") starts.push(...inputs(e.bytes));
      else if (e.k === "net-receive") starts.push({ k: "packet", bytes: e.frame });
      else if (e.k === "rdrand") rdrand.push(e);
    }
    let next = 0;
    const out: number[] = [];
    const tx: Uint8Array[] = [];
    this.vm.runFrame(starts, new FrameEffects(this, out, tx, start, (at) => {
      const e = rdrand[next++];
      if (!e || e.at !== at) throw divergence(f.frame, "RDRAND position", e ? `+${e.at}` : "none", `+${at}`);
      return e.value;
    }));
    if (next !== rdrand.length) throw divergence(f.frame, "RDRAND reads in frame", String(rdrand.length), String(next));
    if (this.vm.icount - start !== f.length) throw divergence(f.frame, "instructions executed in frame", String(f.length), String(this.vm.icount - start));
    return this.endFrame(start, out, tx, [], f);
  }

  /** A disk request the guest issued in `frame`: remembered for the checker, reported to the host. */
  issued(frame: number, id: number, kind: "read" | "write", block: number, data?: Uint8Array): void {
    this.ioFrame.set(id, frame);
    this.hooks.issued(kind === "write" ? { id, kind, offset: block, length: data!.length, data: data! } : { id, kind, offset: block, length: BLOCK_BYTES });
  }

  /** Output and checkpoint after a frame: logged (record) or checked against the log (replay). */
  private endFrame(start: number, out: number[], tx: Uint8Array[], entries: LogEntry[], logged: FrameLog | null): FrameResult {
    const frame = this.vm.frame - 1;
    const length = this.vm.icount - start;
    const mine: LogEntry[] = [];
    if (out.length > 0) {
      const bytes = Uint8Array.from(out);
      this.outputs.push({ offset: this.consoleOffset, bytes, frame, icount: this.vm.icount });
      this.consoleOffset += bytes.length;
      this.consoleEnds.push({ end: this.consoleOffset, frame });
      mine.push({ k: "output", end: this.consoleOffset, crc: crc32(bytes) });
    }
    if (tx.length > 0) {
      // Both modes hand the packets to the host: the backup's protocol drops them (paper 2.2).
      const seq0 = this.vm.sent.length - tx.length;
      tx.forEach((bytes, i) => {
        this.packetFrame.set(bytes, frame);
        this.packets.push({ seq: seq0 + i, bytes, frame, icount: this.vm.icount });
      });
      mine.push({ k: "net-transmit", end: this.vm.sent.length, crc: crc32(concat(tx)) });
    }
    mine.push({ k: "checkpoint", cpu: this.vm.digest(), slice: 0, ram: this.vm.pending.size });
    if (logged) {
      const theirs = logged.entries.filter((e) => e.k === "output" || e.k === "net-transmit" || e.k === "checkpoint");
      if (theirs.length !== mine.length || theirs.some((e, i) => !sameEnd(e, mine[i]!))) {
        throw divergence(frame, "output and checkpoint of the frame", theirs.map(endKey).join(" "), mine.map(endKey).join(" "));
      }
    } else {
      entries.push(...mine);
      const log = { frame, startIcount: start, length, entries };
      this.produced.push(log);
      this.observers.frames([log]);
    }
    const ck = mine[mine.length - 1] as Extract<LogEntry, { k: "checkpoint" }>;
    const checkpoint = { frame, icount: this.vm.icount, cpu: ck.cpu, slice: 0, ram: ck.ram };
    this.hooks.checkpoint(checkpoint);
    this.observers.checkpoint(checkpoint);
    return { frame, startIcount: start, length, halted: false, cut: false };
  }
}
