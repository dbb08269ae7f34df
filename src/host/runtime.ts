import { decodeBatch, encodeBatch } from "../ft/log/codec.ts";
import type { FrameLog } from "../ft/log/entries.ts";
import {
  blockHash,
  FtAgent,
  type AgentInit,
  type ClientMsg,
  type FtAction,
  type FtConfig,
  type FtEvent,
  type Position,
  type ProducedEntry,
  type ToClientMsg,
} from "../ft/protocol/index.ts";
import type { IdbBlockStore, SharedStorage } from "../storage/index.ts";
import type { LoggingChannel } from "../channel/logging-channel.ts";
import { LockstepEngine, type Pace, type PendingIo } from "../engine/engine.ts";
import type { GuestImages } from "../engine/machine.ts";
import type { SessionInfo } from "../engine/session.ts";
import { decodeSnapshot } from "../engine/snapshot.ts";
import { diskImageHash, StaleEpochError } from "../storage/index.ts";
import { decodeClonePayload, encodeClonePayload } from "./clone-payload.ts";
import { encodeRecording, SessionRecorder, type GuestIdentity } from "../engine/recording.ts";
import { ChannelEndpoint, type BulkStore } from "./channel-endpoint.ts";
import { decodeEnvelope, encodeEnvelope, type EnvelopeItem } from "./log-envelope.ts";
import { emptyFlowKinds, type FlowCounters, type FlowKinds, type HostStatus, type ReadCounters } from "./status.ts";
import type { ChannelMsg } from "../ft/protocol/index.ts";
import { StorageOps } from "./storage-ops.ts";
import type { HostEvent } from "./events.ts";
import { RemusMeter } from "./remus-meter.ts";
import { yieldNow } from "./yield.ts";

export interface RuntimeEvents {
  toClient(msg: ToClientMsg): void;
  status(s: HostStatus): void;
  event(e: HostEvent): void;
}

export interface RuntimeDeps {
  hostId: string;
  init: AgentInit;
  ft: FtConfig;
  wasm: WebAssembly.Module;
  images: GuestImages;
  /** Both sides of a pair booted together must share it; a standby takes the one its clone carries. */
  session: SessionInfo | null;
  storage: SharedStorage;
  /** The shared disk, or with a non-shared disk (paper 4.1) this host's own copy. */
  disk: IdbBlockStore;
  /** What the UI calls that disk (the shared disk's id, or the own copy's database). */
  diskName: string;
  /** Set when FT VMotion snapshots travel through shared storage rather than the data channel. */
  bulk?: BulkStore;
  events: RuntimeEvents;
  realNow: () => number;
  /** The guest images' identity, written into session recordings. */
  guest: GuestIdentity;
}

/** Real ms of guest execution between two looks at the event loop. */
const SLICE_MS = 4;
/** A batch of frames goes out at least this often even when nothing forces it. */
const BATCH_MAX_MS = 5;
const BATCH_MAX_FRAMES = 64;
const TICK_MS = 10;
/** Shorter spells without a look at the event loop are ordinary scheduling, not worth a `stalled` event. */
const STALL_MS = 20;
/** Real ms the Remus meter may spend per frame boundary (a sweep of RAM spans several). */
const REMUS_BUDGET_MS = 3;
const STATUS_MS = 200;
/** How often the UI's count of written disk blocks is refreshed (an IndexedDB count). */
const DISK_COUNT_MS = 1000;
/** How long a host of a pair booted together waits for its peer before starting alone. */
const RENDEZVOUS_MS = 15_000;

const pos = (frame: number, icount: number): Position => ({ frame, icount: BigInt(icount) });

/**
 * One host: the deterministic engine (v86) driven by the FT agent (src/ft/protocol).
 * Everything the paper calls the hypervisor's job happens here: turning the VM's frames, outputs
 * and disk requests into protocol events, and performing the protocol's actions on the logging
 * channel, the shared disk, the client and the VM itself.
 */
export class HostRuntime {
  agent!: FtAgent;
  engine: LockstepEngine | null = null;
  private endpoint: ChannelEndpoint | null = null;
  private readonly storageOps: StorageOps;
  private stopped = false;
  private paused = false;
  private speed = 1;
  /**
   * Teaching controls (pause, step a frame, pace): they stop or slow the VM, never the host.
   * Heartbeats, acks and the logging channel keep running, so the failure detector sees a live
   * host with a stopped guest, and the guest's virtual clock does not see the pause.
   */
  private vmPaused = false;
  private stepsPending = 0;
  private pace: Pace = 1;
  private timers: ReturnType<typeof setInterval>[] = [];
  private wakeLoop: (() => void) | null = null;

  // primary: frames recorded but not yet handed to the agent
  private batch: FrameLog[] = [];
  private batchItems: EnvelopeItem[] = [];
  private batchSince = 0;
  private forceFlush = false;
  private injectedSeqs: number[] = [];
  private cloneRequest: number | null = null;
  private cloneIncludeDisk = false;
  private cloneMachineReady = false;

  // both: VM events seen during a frame, fed to the agent after it
  private ioIssued: PendingIo[] = [];
  private ioDone: number[] = [];
  private readHashes = new Map<number, number>();
  /** Disk reads this host did itself as a backup (backup-reads mode), checked by hash. */
  backupReadCount = 0;

  // backup
  private frameEnds: { position: Position; guestTime: number }[] = [];
  private inputMarkers = new Map<number, number[]>();
  private pendingReplay: Uint8Array[] = [];
  private restoring: Promise<void> | null = null;
  private lastPrimaryGuestTime = 0;
  private lastCheckpointFrame = 0;
  private verifiedFrame = 0;
  private session: SessionInfo | null;
  /** The session recording (timeline export): this VM's start and every batch it ran since. */
  private recorder: SessionRecorder | null = null;

  // metrics
  private remus: RemusMeter | null = null;
  private logBytesWindow: { at: number; bytes: number }[] = [];
  private diskBlocks = 0;
  private diskCountedAt = -Infinity;
  private lastEndpointBytes = 0;
  /** Teaching figure: cumulative counts, reported with the status (never per frame). */
  private flow: FlowCounters = { sent: emptyFlowKinds(), received: emptyFlowKinds(), released: 0, diskWrites: 0, diskWritesRejected: 0, lastWrite: null };
  private reads: ReadCounters = { count: 0, bytes: 0, inLog: 0, inLogBytes: 0, byBackup: 0, cached: 0 };

  constructor(private readonly deps: RuntimeDeps) {
    this.session = deps.session;
    this.storageOps = new StorageOps(deps.storage, deps.disk, (result) => {
      if (result.op === "write" && !result.ok && result.reason === "stale-epoch") this.flow.diskWritesRejected++;
      this.feed({ type: "storageResult", result });
    });
  }

  /** Boots (primary/backup) or waits for a clone (standby), then runs until halted or stopped. */
  async start(): Promise<void> {
    const role = this.deps.init.role;
    if (role !== "standby") {
      this.engine = await this.createEngine(role === "primary" ? "record" : "replay");
      this.recorder = new SessionRecorder({ hostId: this.deps.hostId, guest: this.deps.guest, session: this.session!, origin: "boot", start: { frame: 0, icount: 0 } }, null);
      const hasPeer = this.deps.init.role === "backup" || (this.deps.init.role === "primary" && this.deps.init.backup !== null);
      if (hasPeer) await this.rendezvous();
    } else {
      await this.refreshStandbyEpoch();
    }
    this.agent = new FtAgent(this.deps.ft, this.deps.hostId, this.deps.init, this.deps.realNow());
    this.timers.push(
      setInterval(() => {
        this.standbyHeartbeat();
        this.feed({ type: "tick" });
      }, TICK_MS),
    );
    this.timers.push(setInterval(() => this.reportStatus(), STATUS_MS));
    this.reportStatus();
    void this.loop().catch((e: unknown) => this.fail(e));
  }

  /**
   * A pair booted together starts the protocol only when both engines exist: building a machine
   * takes seconds, and a failure detector armed before the peer could answer would declare it
   * dead. (A clone needs no such step: the primary is already running when the backup appears.)
   */
  private async rendezvous(): Promise<void> {
    const epoch = "epoch" in this.deps.init ? this.deps.init.epoch : 0;
    const deadline = this.deps.realNow() + RENDEZVOUS_MS;
    while (!this.peerSeen && this.deps.realNow() < deadline && !this.stopped) {
      this.endpoint?.send({ t: "heartbeat", epoch, stallMs: 0 });
      await new Promise((r) => setTimeout(r, 50));
    }
    // One more, so a peer that arrived just now sees us before its own deadline.
    this.endpoint?.send({ t: "heartbeat", epoch, stallMs: 0 });
  }

  private async refreshStandbyEpoch(): Promise<void> {
    const epoch = (await this.deps.storage.lock.readLock().catch(() => undefined))?.epoch;
    if (epoch !== undefined) this.standbyEpoch = epoch;
  }

  private peerSeen = false;
  private lastProgressTenth = -1;
  private lastStandbyBeat = 0;
  /** The epoch a standby's heartbeats carry: the primary ignores heartbeats of another epoch. */
  private standbyEpoch = 0;

  /**
   * A standby waiting for (or receiving) a snapshot is alive: it says so on a timer, or the
   * primary's failure detector would expire during a transfer that stalls longer than its
   * timeout (cross-tab data channels stall for seconds after the first megabyte: SCTP
   * retransmission). Beats go out only once a logging channel exists, i.e. a clone is coming.
   */
  private standbyHeartbeat(): void {
    if (this.agent?.role !== "standby" || !this.endpoint) return;
    const now = this.deps.realNow();
    if (now - this.lastStandbyBeat < this.deps.ft.heartbeatIntervalMs) return;
    this.lastStandbyBeat = now;
    this.endpoint.send({ t: "heartbeat", epoch: this.standbyEpoch, stallMs: 0 });
  }

  attachChannel(peer: string, channel: LoggingChannel): void {
    this.endpoint?.close();
    // The primary ignores heartbeats of another epoch, and failovers since this standby started
    // have moved the epoch on: the primary offering this channel is live in the current one.
    if (this.agent?.role === "standby") void this.refreshStandbyEpoch();
    this.endpoint = new ChannelEndpoint(
      peer,
      channel,
      (msg) => {
        this.peerSeen = true;
        countMsg(this.flow.received, msg);
        if (this.agent) this.feed({ type: "message", from: peer, msg });
      },
      (e) => this.deps.events.event({ kind: "channel-error", message: e.message }),
      (got, total) => {
        // A line per tenth is plenty for a person watching; the chunks come every 64 KiB.
        const tenth = Math.floor((10 * got) / total);
        if (tenth !== this.lastProgressTenth) this.deps.events.event({ kind: "clone-progress", percent: tenth * 10 });
        this.lastProgressTenth = tenth === 10 ? -1 : tenth;
      },
      this.deps.bulk,
    );
  }

  client(msg: ClientMsg): void {
    this.feed({ type: "clientMessage", msg });
  }

  startClone(target: string): void {
    this.feed({ type: "startClone", target });
  }

  peerLeft(host: string): void {
    this.feed({ type: "peerLeft", host });
  }

  cutChannel(): void {
    this.endpoint?.cut();
  }

  /**
   * Teaching control: a host that is no longer live tries to write the disk anyway, at the
   * last epoch it held, as a zombie primary with a write in flight would. Fencing must refuse
   * it. It rewrites the disk's last sector with its own contents, so even a fencing bug could
   * not corrupt the guest's data.
   */
  async zombieWrite(): Promise<void> {
    const epoch = this.agent?.status().epoch ?? 0;
    const offset = this.deps.disk.sizeBytes - 512;
    try {
      const same = await this.deps.disk.read(offset, 512);
      await this.deps.disk.write(offset, same, epoch);
      // Paper 4.1: a host's own copy is internal state, never fenced; only halting protects the VM.
      this.deps.events.event({ kind: "zombie-write", epoch, accepted: true, ownCopy: this.deps.ft.diskMode === "non-shared" });
    } catch (e) {
      if (e instanceof StaleEpochError) this.deps.events.event({ kind: "fenced", epoch, reason: e.message });
      // Non-shared: the live primary's cluster service deleted this halted host's copy as garbage.
      else this.deps.events.event({ kind: "zombie-write", epoch, accepted: false, ownCopy: this.deps.ft.diskMode === "non-shared", error: (e as Error).message });
    }
  }

  /** Teaching control: stop the VM between frames (true) or let it run again (false). */
  setVmPaused(paused: boolean): void {
    if (paused === this.vmPaused) return;
    this.vmPaused = paused;
    if (!paused) {
      this.stepsPending = 0;
      // The guest must not see the pause: its clock continues from where it stopped.
      if (this.engine?.mode === "record") this.engine.rebaseClock();
      this.wakeLoop?.();
    }
    const p = this.engine?.position();
    this.deps.events.event(paused ? { kind: "vm-paused", frame: p?.frame ?? 0 } : { kind: "vm-resumed" });
    this.reportStatus();
  }

  /** Teaching control: a paused VM runs exactly one frame (one main_loop call). */
  stepVm(): void {
    if (!this.vmPaused) return;
    this.stepsPending++;
    this.wakeLoop?.();
  }

  /** Teaching control: pace of the VM against real time (see LockstepEngine.setPace). */
  setPace(pace: Pace): void {
    this.pace = pace;
    if (this.engine?.mode === "record") this.engine.setPace(pace);
    this.deps.events.event({ kind: "vm-pace", pace });
    this.reportStatus();
  }

  private stepFrame(engine: LockstepEngine): void {
    this.stepsPending--;
    const start = this.deps.realNow();
    // Real time passed while paused; the step must not log a resync that jumps the guest clock.
    engine.rebaseClock();
    this.recordFrame(engine);
    this.flushBatch(engine);
    this.stalledSince(start);
    this.reportStatus();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.wakeLoop?.();
    this.engine?.destroy();
    this.engine = null;
    this.endpoint?.close();
  }

  // ------------------------------------------------------------------ protocol plumbing

  /**
   * The thread ran the VM since `start` without looking at the event loop: the peer's messages
   * wait behind it, and the peer hears nothing from us. The protocol forgives the first and
   * tells the peer about the second (stall-meter.ts). Fed before anything queued meanwhile.
   */
  private stalledSince(start: number): void {
    const ms = this.deps.realNow() - start;
    if (ms >= STALL_MS) this.feed({ type: "stalled", ms });
  }

  private feed(ev: FtEvent): void {
    if (this.stopped || !this.agent) return;
    const actions = this.agent.step(this.deps.realNow(), ev);
    for (const a of actions) this.perform(a);
  }

  private perform(a: FtAction): void {
    switch (a.type) {
      case "send":
        if (this.endpoint?.peer === a.to) {
          countMsg(this.flow.sent, a.msg);
          this.endpoint.send(a.msg);
        }
        break;
      case "releaseOutput":
        this.flow.released++;
        this.deps.events.toClient(a.msg);
        break;
      case "writeBlock":
        this.flow.diskWrites++;
        this.flow.lastWrite = { block: a.block, epoch: a.epoch };
        this.storageOps.perform(a);
        break;
      case "reissueDiskIo":
        if (a.io.kind === "write") {
          this.flow.diskWrites++;
          this.flow.lastWrite = { block: a.io.block, epoch: a.epoch };
        }
        this.storageOps.perform(a);
        break;
      case "readBlock":
      case "testAndSet":
        this.storageOps.perform(a);
        break;
      case "completeIo":
        // Backup-reads mode: the backup checks what it reads itself against this hash (paper 4.2).
        if (a.data && this.deps.ft.readMode === "backup-reads") {
          this.readHashes.set(a.ioId, blockHash(a.data));
          this.recorder?.addReadData(a.ioId, a.data);
        }
        if (a.data) {
          this.reads.count++;
          this.reads.bytes += a.data.length;
        }
        this.engine?.complete(a.ioId, a.data);
        break;
      case "provideReadData":
        this.backupReadCount++;
        this.recorder?.addReadData(a.ioId, a.data);
        this.engine?.provideRead(a.ioId, a.data);
        break;
      case "injectInput":
        this.engine?.sendSerial(a.bytes);
        this.injectedSeqs.push(a.seq);
        break;
      case "replay":
        this.onReplay(a.records);
        break;
      case "goLive":
        this.goLive(a.from, a.epoch);
        break;
      case "halt":
        this.halt(a.reason);
        break;
      case "pauseExecution":
        this.paused = true;
        this.deps.events.event({ kind: "flow-control" });
        break;
      case "resumeExecution":
        this.paused = false;
        this.wakeLoop?.();
        break;
      case "setSpeed":
        this.speed = a.factor;
        break;
      case "snapshotForClone":
        this.cloneRequest = a.cloneId;
        this.cloneIncludeDisk = a.includeDisk;
        this.cloneMachineReady = false;
        // Build the fresh instance before pausing the guest: it is the slow part of a clone.
        void this.engine?.prewarm().then(() => (this.cloneMachineReady = true));
        this.deps.events.event({ kind: "clone-quiescing" });
        break;
      case "restoreSnapshot":
        this.restoring = this.restoreFromClone(a.clone.snapshot).catch((e: unknown) => this.fail(e));
        // Own-disk writes of the adopted pending I/O (next actions) must land after the import.
        if (this.deps.ft.diskMode === "non-shared") this.storageOps.holdUntil(this.restoring);
        break;
      case "stateChanged":
        this.deps.events.event({ kind: "state", role: a.role, state: a.state, epoch: a.epoch });
        this.reportStatus();
        break;
    }
  }

  // ------------------------------------------------------------------ the frame loop

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const engine = this.engine;
      const live = this.agent.status().live;
      if (engine && engine.mode === "record" && live && !this.paused && !this.vmPaused) {
        await this.recordSlice(engine);
      } else if (engine && engine.mode === "record" && live && !this.paused && this.stepsPending > 0) {
        this.stepFrame(engine);
        await yieldNow();
      } else if (engine && engine.mode === "replay" && engine.backlog > 0) {
        this.replaySlice(engine);
        await yieldNow();
      } else {
        await this.idle(50);
      }
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeLoop = done;
    });
  }

  private async recordSlice(engine: LockstepEngine): Promise<void> {
    const delay = engine.nextFrameDelay();
    if (delay > 0) {
      this.flushBatch(engine);
      this.remusEpoch(engine);
      await engine.waitForWork(delay);
      if (this.stopped || this.paused || this.vmPaused || this.engine !== engine) return;
    }
    const sliceStart = this.deps.realNow();
    do {
      this.recordFrame(engine);
      if (this.forceFlush || this.batch.length >= BATCH_MAX_FRAMES || this.deps.realNow() - this.batchSince >= BATCH_MAX_MS) {
        this.flushBatch(engine);
      }
      if (this.cloneRequest !== null && this.cloneMachineReady && engine.pendingIo().length === 0) {
        this.flushBatch(engine);
        this.stalledSince(sliceStart);
        await this.takeCloneSnapshot(engine, this.cloneRequest);
        return;
      }
    } while (!engine.halted && this.deps.realNow() - sliceStart < SLICE_MS && !this.paused && !this.vmPaused);
    // A paused VM's last frames go out now: the backup acks them and held outputs are released.
    if (this.vmPaused) this.flushBatch(engine);
    this.stalledSince(sliceStart);
    const ran = this.deps.realNow() - sliceStart;
    // Lag control slows the primary by stretching real time between slices.
    if (this.speed < 1) await new Promise((r) => setTimeout(r, (ran * (1 - this.speed)) / this.speed));
    else await yieldNow();
  }

  /** Primary: runs one frame and queues its log for the next batch. */
  private recordFrame(engine: LockstepEngine): void {
    const seqs = this.injectedSeqs;
    this.injectedSeqs = [];
    const res = engine.runFrame();
    if (this.batch.length === 0) this.batchSince = this.deps.realNow();
    for (const seq of seqs) {
      this.batchItems.push({ k: "input", seq, frame: res.frame });
      // The input entered at the frame's start, but it is logged in the batch holding this frame:
      // name the boundary after the frame, or the previous batch's frame-end (the same boundary as
      // this frame's start) would release the input-ack before the backup has the input.
      this.afterFrameEvent({ type: "inputApplied", position: pos(res.frame + 1, res.startIcount + res.length), seq });
    }
    this.batch.push(...engine.takeFrames());
    this.noteFrameEffects(engine);
    this.remusEpoch(engine);
  }

  /** Remus meter on: a bounded piece of its RAM compare (we are at a frame boundary). */
  private remusEpoch(engine: LockstepEngine): void {
    this.remus?.step(engine.guestRam(), REMUS_BUDGET_MS);
  }

  /**
   * Teaching measurement "lockstep vs shipping state": start (epochMs) or stop (null) counting what
   * a Remus-style checkpointing primary would ship (remus-meter.ts). Off by default: it keeps a
   * copy of guest RAM and compares all of it every epoch.
   */
  setRemus(epochMs: number | null): void {
    const on = epochMs !== null && this.engine?.mode === "record";
    this.remus = on ? new RemusMeter(epochMs, this.engine!.cpuStateBytes, this.deps.realNow, this.endpoint?.bytesOut ?? 0) : null;
    this.deps.events.event({ kind: "remus", epochMs: on ? epochMs : null });
  }

  /** Outputs and disk activity of the frame just run, in both modes. */
  private noteFrameEffects(engine: LockstepEngine): void {
    const at = engine.position();
    const here = pos(at.frame, at.icount);
    for (const out of engine.takeOutput()) {
      this.afterFrameEvent({ type: "outputProduced", kind: "console", position: pos(out.frame, out.icount), bytes: out.bytes });
      this.forceFlush = true;
    }
    for (const req of this.ioIssued.splice(0)) {
      this.storageOps.noteRange(req.id, req.offset, req.length);
      if (req.kind === "write") {
        this.afterFrameEvent({ type: "outputProduced", kind: "disk-write", position: here, ioId: req.id, block: req.offset, data: req.data! });
      } else {
        this.afterFrameEvent({ type: "diskReadIssued", position: here, ioId: req.id, block: req.offset });
      }
      this.forceFlush = true;
    }
    for (const id of this.ioDone.splice(0)) this.afterFrameEvent({ type: "ioCompleted", position: here, ioId: id });
  }

  /** Events that refer to a frame are fed after its log entries, so the Output Rule sees them in order. */
  private pendingEvents: FtEvent[] = [];
  private afterFrameEvent(ev: FtEvent): void {
    if (this.engine?.mode === "record") this.pendingEvents.push(ev);
    else this.feed(ev);
  }

  private flushBatch(engine: LockstepEngine): void {
    this.forceFlush = false;
    if (this.batch.length === 0) {
      for (const ev of this.pendingEvents.splice(0)) this.feed(ev);
      return;
    }
    const frames = this.batch;
    this.batch = [];
    const bytes = encodeBatch(frames);
    const items = [...this.batchItems, { k: "batch" as const, bytes }];
    this.batchItems = [];
    const first = frames[0]!;
    const last = frames[frames.length - 1]!;
    this.recorder?.addBatch(bytes, { frame: first.frame, icount: first.startIcount }, { frame: last.frame + 1, icount: last.startIcount + last.length });
    const entries: ProducedEntry[] = [{ position: pos(first.frame, first.startIcount), bytes: encodeEnvelope(items) }];
    // Reads the backup performs itself: one entry each naming the I/O and the hash it must match.
    for (const f of frames) {
      for (const e of f.entries) {
        if (e.k === "disk-read") {
          this.reads.inLog++;
          this.reads.inLogBytes += e.data.length;
        } else if (e.k === "disk-read-cached") this.reads.cached++;
        if (e.k !== "disk-read-by-backup") continue;
        this.reads.byBackup++;
        const hash = this.readHashes.get(e.id);
        this.readHashes.delete(e.id);
        entries.push({ position: pos(f.frame, f.startIcount), bytes: encodeEnvelope([]), io: { ioId: e.id, hash } });
      }
    }
    this.feed({ type: "logEntriesProduced", entries });
    for (const ev of this.pendingEvents.splice(0)) this.feed(ev);
    // A frame-end position names the boundary after the batch: where the next frame starts.
    this.feed({ type: "frameDone", position: pos(last.frame + 1, last.startIcount + last.length), guestTime: engine.nowMs() });
  }

  private replaySlice(engine: LockstepEngine): void {
    const sliceStart = this.deps.realNow();
    while (engine.backlog > 0 && this.deps.realNow() - sliceStart < SLICE_MS && !this.stopped) {
      if (engine.cloneAhead) {
        this.stalledSince(sliceStart);
        void engine.followClone();
        return;
      }
      const res = engine.runFrame();
      // runFrame throws on a mismatch, so a checkpoint it computed and returned from is verified.
      this.verifiedFrame = this.lastCheckpointFrame;
      for (const seq of this.inputMarkers.get(res.frame) ?? []) {
        this.feed({ type: "inputApplied", position: pos(res.frame + 1, res.startIcount + res.length), seq });
      }
      this.inputMarkers.delete(res.frame);
      this.noteFrameEffects(engine);
      while (this.frameEnds.length > 0 && this.frameEnds[0]!.position.frame <= res.frame + 1) {
        const end = this.frameEnds.shift()!;
        this.feed({ type: "frameDone", position: end.position, guestTime: end.guestTime });
      }
    }
    this.stalledSince(sliceStart);
  }

  private onReplay(records: Extract<FtAction, { type: "replay" }>["records"]): void {
    for (const r of records) {
      if (r.kind === "entry") {
        for (const item of decodeEnvelope(r.bytes)) {
          if (item.k === "batch") {
            const frames = decodeBatch(item.bytes);
            this.recordReplayed(item.bytes, frames);
            if (this.engine && !this.restoring) this.engine.pushFrames(frames);
            else this.pendingReplay.push(item.bytes);
          } else {
            const list = this.inputMarkers.get(item.frame) ?? [];
            list.push(item.seq);
            this.inputMarkers.set(item.frame, list);
          }
        }
      } else if (r.kind === "frame-end") {
        this.frameEnds.push({ position: r.position, guestTime: r.guestTime });
        this.lastPrimaryGuestTime = r.guestTime;
      }
    }
    this.wakeLoop?.();
  }

  /** Backup: a batch it will replay joins its recording (it is this VM's history too). */
  private recordReplayed(bytes: Uint8Array, frames: FrameLog[]): void {
    const first = frames[0]!;
    const last = frames[frames.length - 1]!;
    this.recorder?.addBatch(bytes, { frame: first.frame, icount: first.startIcount }, { frame: last.frame + 1, icount: last.startIcount + last.length });
  }

  /**
   * The session recording as a file: where this VM started and every frame it has run since
   * (recorded, or replayed from the primary that preceded it). Only a live primary's covers up to
   * now; a backup's ends where the log it received ends.
   */
  recording(): Uint8Array {
    if (!this.recorder) throw new Error("no recording: this host has not started a VM");
    return encodeRecording(this.recorder.recording(Date.now()));
  }

  // ------------------------------------------------------------------ engine lifecycle

  private async createEngine(mode: "record" | "replay", snapshot?: Uint8Array): Promise<LockstepEngine> {
    const engine = await LockstepEngine.create({
      mode,
      wasm: this.deps.wasm,
      images: this.deps.images,
      session: this.session!,
      snapshot,
      external: {
        issued: (req) => this.ioIssued.push(req),
        completed: (id) => this.ioDone.push(id),
      },
      onCheckpoint: (c) => {
        this.lastCheckpointFrame = c.frame;
        this.recorder?.addCheckpoint(c);
      },
    });
    return engine;
  }

  private async restoreFromClone(bytes: Uint8Array): Promise<void> {
    const start = this.deps.realNow();
    this.deps.events.event({ kind: "clone-restoring", bytes: bytes.length });
    const { engine: snapshot, disk } = decodeClonePayload(bytes, this.deps.ft.diskMode === "non-shared");
    const meta = decodeSnapshot(snapshot).meta;
    // Before any await: log batches arriving during the restore already belong to this recording.
    this.recorder = new SessionRecorder(
      { hostId: this.deps.hostId, guest: this.deps.guest, session: meta.session, origin: "clone", start: { frame: meta.frame, icount: meta.icount } },
      snapshot,
    );
    if (disk) await this.importDisk(disk.blocks, disk.hash);
    this.session = meta.session;
    const engine = await this.createEngine("replay", snapshot);
    this.engine = engine;
    for (const b of this.pendingReplay.splice(0)) engine.pushBatch(b);
    this.restoring = null;
    // Mostly one synchronous import (v86's restore_state): reported whole, an upper bound.
    this.stalledSince(start);
    this.deps.events.event({ kind: "clone-restored" });
    this.wakeLoop?.();
  }

  private async takeCloneSnapshot(engine: LockstepEngine, cloneId: number): Promise<void> {
    this.cloneRequest = null;
    const res = await engine.clone();
    // Frames the clone's quiesce ran belong before the snapshot in the log.
    this.batch.push(...engine.takeFrames());
    this.noteFrameEffects(engine);
    this.flushBatch(engine);
    // The guest stays paused while the disk copy is read (no frame may run before snapshotTaken).
    const t0 = this.deps.realNow();
    const disk = this.cloneIncludeDisk ? await this.exportDisk() : null;
    const pauseMs = res.pauseMs + (this.deps.realNow() - t0);
    this.deps.events.event({ kind: "clone-snapshot", frame: res.frame, bytes: res.snapshot.length, pauseMs, withDisk: disk !== null });
    const snapshot = disk ? encodeClonePayload({ engine: res.snapshot, disk }) : res.snapshot;
    this.feed({
      type: "snapshotTaken",
      cloneId,
      position: pos(res.frame, res.icount),
      guestTime: engine.nowMs(),
      snapshot,
    });
  }

  /**
   * Non-shared disk: our copy as of the snapshot point. No frame runs until snapshotTaken is fed,
   * and writes still in flight are pending I/O in the clone, which the new backup re-applies.
   */
  private async exportDisk(): Promise<{ blocks: { index: number; data: Uint8Array }[]; hash: number }> {
    const t0 = this.deps.realNow();
    const blocks = await this.deps.disk.exportBlocks();
    const hash = diskImageHash(blocks);
    const bytes = blocks.reduce((n, b) => n + b.data.length, 0);
    this.deps.events.event({ kind: "clone-disk-exported", blocks: blocks.length, bytes, hash, ms: this.deps.realNow() - t0 });
    return { blocks, hash };
  }

  /** The new backup's copy becomes the primary's as of the snapshot; proven by comparing hashes. */
  private async importDisk(blocks: { index: number; data: Uint8Array }[], hash: number): Promise<void> {
    const t0 = this.deps.realNow();
    const epoch = this.agent.status().epoch ?? 0;
    await this.deps.disk.importBlocks(blocks, epoch);
    const mine = diskImageHash(await this.deps.disk.exportBlocks());
    if (mine !== hash) throw new Error(`divergence: disk copy hash ${hex(mine)} after FT VMotion, the primary's is ${hex(hash)}`);
    this.deps.events.event({ kind: "clone-disk-imported", blocks: blocks.length, hash: mine, ms: this.deps.realNow() - t0 });
  }

  private goLive(from: "primary" | "backup", epoch: number): void {
    if (from === "backup") this.engine?.promote();
    this.deps.events.event({ kind: "go-live", epoch, from });
    this.wakeLoop?.();
  }

  private halt(reason: string): void {
    this.deps.events.event({ kind: "halt", reason });
    this.reportStatus();
    this.stop();
  }

  private fail(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    this.deps.events.event({ kind: "divergence", message: msg });
    this.stop();
  }

  // ------------------------------------------------------------------ status

  private reportStatus(): void {
    const now = this.deps.realNow();
    // The log flows primary → backup: count what the primary sends and what the backup receives.
    const total = !this.endpoint ? 0 : this.agent?.role === "primary" ? this.endpoint.bytesOut : this.endpoint.bytesIn;
    this.logBytesWindow.push({ at: now, bytes: total - this.lastEndpointBytes });
    this.lastEndpointBytes = total;
    while (this.logBytesWindow.length > 0 && now - this.logBytesWindow[0]!.at > 1000) this.logBytesWindow.shift();
    const rate = this.logBytesWindow.reduce((a, w) => a + w.bytes, 0);
    if (!this.agent) return;
    const st = this.agent.status();
    const p = this.engine?.position() ?? { frame: 0, icount: 0 };
    const primary = this.agent.primary;
    const guest = this.engine?.nowMs() ?? 0;
    this.deps.events.status({
      hostId: this.deps.hostId,
      role: st.role,
      state: this.stopped && st.state !== "halted" ? "stopped" : st.state,
      frame: p.frame,
      icount: String(p.icount),
      lagMs: st.role === "backup" ? Math.max(0, this.lastPrimaryGuestTime - guest) : 0,
      logBytesPerSec: rate,
      // Alone, nothing is owed to anyone: what the dead backup never acknowledged no longer counts.
      unackedBytes: primary && primary.state !== "alone" ? primary.unackedLogBytes : 0,
      heldOutputs: primary?.heldOutputs ?? 0,
      epoch: st.epoch ?? 0,
      verifiedFrame: st.role === "backup" ? this.verifiedFrame : 0,
      speed: primary?.speed ?? 1,
      flow: { ...this.flow, sent: { ...this.flow.sent }, received: { ...this.flow.received } },
      console: consoleOf(this.agent),
      disk: { mode: this.deps.ft.diskMode, name: this.deps.diskName, blocks: this.diskBlocks },
      ...(st.role === "primary" ? { logBytesSent: this.endpoint?.bytesOut ?? 0, reads: { ...this.reads } } : {}),
      vm: this.engine?.mode === "record" ? { paused: this.vmPaused, pace: this.pace } : undefined,
      ...(this.remus && this.engine?.mode === "record" ? { remus: this.remus.report(this.endpoint?.bytesOut ?? 0) } : {}),
    });
    if (now - this.diskCountedAt >= DISK_COUNT_MS) {
      this.diskCountedAt = now;
      void this.deps.disk.blockCount().then((n) => (this.diskBlocks = n), () => undefined);
    }
  }
}

const hex = (h: number) => h.toString(16).padStart(8, "0");

function consoleOf(agent: FtAgent): HostStatus["console"] {
  const c = agent.primary?.console ?? agent.backup?.console;
  return c ? { produced: c.produced, nextInputSeq: c.nextInputSeq } : undefined;
}

/** Counts one channel message (and the log records it carries) for the teaching figure. */
function countMsg(k: FlowKinds, msg: ChannelMsg): void {
  switch (msg.t) {
    case "log":
      k.log++;
      for (const r of msg.records) {
        if (r.kind === "entry") {
          k.entry++;
          k.entryBytes += r.bytes.byteLength;
        } else if (r.kind === "frame-end") k.frameEnd++;
        else k.control++;
      }
      break;
    case "ack":
      k.ack++;
      break;
    case "heartbeat":
      k.heartbeat++;
      break;
    case "clone-start":
      k.clone++;
      break;
  }
}
