// The deterministic engine: a v86 machine driven frame by frame, in one of two modes.
//
//   record (primary): runs the guest against real inputs, logs every non-deterministic event
//                     with its position, paces the virtual clock against real time;
//   replay (backup):  runs the same guest from the same start, taking every event from the log,
//                     and checks after every frame that it is where the primary was.
//
// LockstepEngine is a facade over parts with one job each (built in parts.ts): frame.ts (a frame
// and the position), virtual-clock.ts (virtual time, pacing), disk-requests.ts (+ disk-cache.ts),
// recorder.ts, replayer.ts, checkpoints.ts, console-output.ts, clone.ts, stats.ts, observer.ts.

import { decodeBatch } from "../ft/log/codec.ts";
import type { FrameLog } from "../ft/log/entries.ts";
import type { BlockDevice } from "./block-device.ts";
import type { CheckpointInfo } from "./checkpoints.ts";
import type { CloneResult } from "./clone.ts";
import type { OutputChunk } from "./console-output.ts";
import type { PacketChunk } from "./net-device.ts";
import type { DiskRequest, ExternalIo } from "./disk-requests.ts";
import type { FrameResult } from "./frame.ts";
import { hashBytes } from "./hash.ts";
import { CPU_REGION_END, CPU_REGION_START } from "./machine-state.ts";
import type { EngineObserver } from "./observer.ts";
import { checkOptions, checkSnapshotSession, type EngineMode, type EngineOptions } from "./options.ts";
import { composeParts, type EngineParts } from "./parts.ts";
import { DivergenceError, type DivergenceReport } from "./replayer.ts";
import type { SessionInfo } from "./session.ts";
import { decodeSnapshot } from "./snapshot.ts";
import type { EngineStats } from "./stats.ts";
import type { Pace } from "./virtual-clock.ts";

export type { CheckpointInfo, CloneResult, DiskRequest, DivergenceReport, EngineMode, EngineObserver, EngineOptions, EngineStats, ExternalIo, FrameResult, OutputChunk, PacketChunk, Pace };
export { DivergenceError };

export class LockstepEngine {
  /** Replay until a backup is promoted (go-live), record from then on. */
  mode: EngineMode;
  readonly session: SessionInfo;
  readonly stats: EngineStats;
  private readonly p: EngineParts;

  private constructor(private readonly opts: EngineOptions) {
    checkOptions(opts);
    this.mode = opts.mode;
    this.session = opts.session;
    this.p = composeParts(opts, () => this.mode);
    this.stats = this.p.stats;
    if (opts.onCheckpoint) this.observe({ checkpoint: opts.onCheckpoint });
  }

  /** Boots a new machine (or restores `opts.snapshot`) and returns the engine at frame 0 / the snapshot's frame. */
  static async create(opts: EngineOptions): Promise<LockstepEngine> {
    const e = new LockstepEngine(opts);
    const { frames, cloner, replayer } = e.p;
    if (opts.snapshot) {
      const snap = decodeSnapshot(opts.snapshot);
      checkSnapshotSession(snap.meta.session, e.session);
      frames.machine = await e.p.newMachine();
      cloner.restore(snap, frames.machine);
      // The first frame of the log after a clone starts with the clone marker: expect it.
      if (opts.mode === "replay" && !opts.bootImage) replayer.expectClone = { id: snap.meta.cloneId, hash: hashBytes(opts.snapshot) };
    } else {
      frames.machine = await e.p.newMachine();
    }
    e.rebaseClock();
    return e;
  }

  /** Subscribes to what the engine produces (observer.ts); returns the unsubscribe function. */
  observe(o: EngineObserver): () => void {
    return this.p.observers.add(o);
  }

  // ---- position, virtual clock, pacing (virtual-clock.ts)

  get frame(): number {
    return this.p.frames.frame;
  }

  /** Instruction count now (live inside a frame). */
  get icount(): number {
    return this.p.frames.icount;
  }

  /** Current position (next frame boundary). */
  position(): { frame: number; icount: number } {
    return { frame: this.p.frames.frame, icount: this.p.frames.boundaryIcount };
  }

  /** Virtual ms: anchor + (icount - anchorIcount) / ipms. */
  nowMs(): number {
    return this.p.clock.nowMs();
  }

  /** Record: the virtual clock continues from where it stands now; time the host kept the VM stopped is not seen. */
  rebaseClock(): void {
    this.p.clock.rebase();
  }

  /** Record: 1 = real time, 0.25 = slow motion, "max" = never wait for a guest timer. Logged frames are unchanged. */
  setPace(pace: Pace): void {
    this.p.clock.setPace(pace);
  }

  get currentPace(): Pace {
    return this.p.clock.currentPace;
  }

  /** Record mode: real ms to wait before the next frame should run (0 = now). */
  nextFrameDelay(): number {
    return this.mode === "record" ? this.p.clock.delayUntilNextFrame(this.p.recorder.hasInputs) : 0;
  }

  /** Resolves after `ms` real ms or as soon as an input (serial, disk completion) arrives. */
  waitForWork(ms: number): Promise<void> {
    return this.p.wakeup.wait(ms, this.p.recorder.hasInputs);
  }

  get halted(): boolean {
    return this.p.clock.halted;
  }

  // ---- inputs and disk requests (recorder.ts, disk-requests.ts)

  /** Queues console input; it enters the guest at the next frame boundary. */
  sendSerial(bytes: Uint8Array | string): void {
    if (this.mode !== "record") throw new Error("sendSerial: only the recorder takes live input");
    this.p.recorder.sendSerial(bytes);
  }

  /**
   * A packet from the outside world for the guest's NIC: logged and delivered at the next frame
   * boundary. Returns false when the frame was refused (truncated or oversize; counted in
   * stats.netRejected) or the NIC's receive queue was full (stats.netDropped; RxQueue).
   */
  receivePacket(frame: Uint8Array): boolean {
    if (this.mode !== "record") throw new Error("receivePacket: only the recorder takes live input");
    return this.p.recorder.receivePacket(frame);
  }

  /** Packets the guest transmitted since the last call (both modes; a backup's are for checking only). */
  takePackets(): PacketChunk[] {
    return this.p.net.take();
  }

  /** Packets transmitted so far (the next packet's seq). */
  get packetsSent(): number {
    return this.p.net.count;
  }

  /** The guest NIC's MAC address (the same on every machine of a session, and after a clone). */
  mac(): Uint8Array {
    return this.p.frames.machine.mac();
  }

  /** Replay, backup-reads mode: data the host read from the shared disk for request `id`. */
  provideRead(id: number, data: Uint8Array): void {
    this.p.disk.provideRead(id, data);
    this.p.observers.readData(id, data);
  }

  /** External I/O (FT hosts): the completion of request `id`, applied at the next frame boundary. */
  complete(id: number, data?: Uint8Array): void {
    if (this.mode !== "record") throw new Error("complete: completions enter only a recorder");
    this.p.disk.queueCompletion(id, data);
  }

  /** Disk requests the guest issued and has not seen complete (re-issued on go-live). */
  pendingIo(): DiskRequest[] {
    return this.p.disk.pending();
  }

  // ---- frames (recorder.ts, replayer.ts)

  /** Runs one frame now (record: call nextFrameDelay/waitForWork first to pace it). Throws DivergenceError on a mismatch. */
  runFrame(): FrameResult {
    if (this.p.disk.fatal) throw this.p.disk.fatal;
    if (this.p.replayer.divergence) throw new DivergenceError(this.p.replayer.divergence);
    return this.mode === "record" ? this.p.recorder.recordFrame() : this.p.replayer.replayFrame();
  }

  /** Record mode: frame logs produced since the last call. */
  takeFrames(): FrameLog[] {
    return this.p.recorder.takeFrames();
  }

  /** Console output since the last call. */
  takeOutput(): OutputChunk[] {
    return this.p.console.take();
  }

  get consoleBytes(): number {
    return this.p.console.offset;
  }

  get divergence(): DivergenceReport | null {
    return this.p.replayer.divergence;
  }

  /** Replay mode: appends decoded frame logs; they must continue the log exactly. */
  pushFrames(frames: readonly FrameLog[]): void {
    if (this.mode !== "replay") throw new Error("pushFrames: not a replayer");
    this.p.replayer.pushFrames(frames);
  }

  /** Replay mode: decodes (all-or-nothing) and appends one encoded batch. */
  pushBatch(bytes: Uint8Array): void {
    this.pushFrames(decodeBatch(bytes));
  }

  /** Frames logged but not replayed yet. */
  get backlog(): number {
    return this.p.replayer.backlog;
  }

  /** Replay: true if the next frame starts with a clone marker (call followClone()). */
  get cloneAhead(): boolean {
    return this.p.replayer.cloneAhead;
  }

  // ---- go-live (paper 2.3, 3.4)

  /** A backup that replayed every logged frame runs on as a recorder; pending disk requests are the host's to re-issue. */
  promote(): void {
    if (this.mode !== "replay") throw new Error("promote: not a replayer");
    if (this.p.replayer.backlog > 0) throw new Error(`promote: ${this.p.replayer.backlog} logged frames not yet replayed`);
    this.mode = "record";
    this.p.replayer.expectClone = null;
    this.rebaseClock();
  }

  /** Go-live for an engine that owns its disk (Node tools, tests): promote(), then re-issue pending requests in order. */
  goLive(disk: BlockDevice): DiskRequest[] {
    if (this.opts.external) throw new Error("goLive: this engine uses external I/O; use promote()");
    if (disk.sizeBytes !== this.opts.images.diskSize) throw new Error("goLive: disk size differs from the guest's");
    this.promote();
    return this.p.disk.reissueOn(disk);
  }

  // ---- clone (clone.ts)

  /** Builds the fresh machine for the next clone ahead of time (keeps it out of the pause). */
  prewarm(): Promise<void> {
    return this.p.cloner.prewarm();
  }

  /** Record: runs frames (pacing as usual) until no disk request is in flight. */
  async quiesce(maxFrames = 100_000): Promise<void> {
    for (let i = 0; this.p.disk.count > 0; i++) {
      if (i >= maxFrames) throw new Error("quiesce: disk requests still in flight");
      const d = this.nextFrameDelay();
      if (d > 0) await this.waitForWork(d);
      else await Promise.resolve();
      this.runFrame();
    }
  }

  /** Record: FT VMotion clone at the current frame boundary; the next frame's log opens with its marker. */
  async clone(): Promise<CloneResult> {
    if (this.mode !== "record") throw new Error("clone: only the recorder starts a clone");
    await this.quiesce();
    const res = await this.p.cloner.cloneAt(this.p.cloner.nextCloneId());
    this.p.recorder.markClone(res.cloneId, res.hash);
    return res;
  }

  /** Replay: at a clone marker, make our own snapshot (it must hash like the primary's) and continue from a fresh machine. */
  async followClone(): Promise<CloneResult> {
    const marker = this.p.replayer.cloneMarkerAhead();
    if (!marker) throw new Error("followClone: no clone marker ahead");
    const res = await this.p.cloner.cloneAt(marker.id);
    this.p.replayer.cloneFollowed(marker, res.hash);
    return res;
  }

  // ---- state

  /** Hash of CPU state and all of RAM, as hex (compare primary and backup at equal positions). */
  stateHash(): string {
    const m = this.p.frames.machine;
    return `${m.cpuHash().toString(16).padStart(8, "0")}${m.ramHash().toString(16).padStart(8, "0")}`;
  }

  /** Guest RAM as a live view, read at frame boundaries only (Remus meter); take it anew after a clone. */
  guestRam(): Uint8Array {
    return this.p.frames.machine.ramView();
  }

  /** Bytes of CPU state (the wasm CPU region: registers, flags, segments, FPU/SSE). */
  get cpuStateBytes(): number {
    return CPU_REGION_END - CPU_REGION_START;
  }

  /** Test hook: flips bits of one guest RAM byte, as a non-deterministic fault would. */
  debugCorruptRam(offset: number, xor = 0x01): void {
    this.p.frames.machine.pokeRam(offset, xor);
  }

  /** The machine's JIT compile count (diagnostics). */
  get jitCompiles(): number {
    return this.p.frames.machine.compiles;
  }

  destroy(): void {
    this.p.frames.machine?.destroy();
    this.p.cloner.destroy();
    this.p.wakeup.wake();
  }
}

