/**
 * The backup VM's side of the protocol (paper 2.2, 2.3, 3.2, 3.4, 4.1, 4.2).
 *
 * States, named after the paper:
 * - replaying:  receiving and acknowledging log records, replaying complete frames.
 * - draining:   the primary looks dead. We stop accepting log (so the go-live point stops
 *               moving) and keep replaying "until it has consumed the last log entry".
 *               Everything we acknowledged is replayed, so every output the primary could
 *               have released is reproduced (the Output Requirement).
 * - going-live: drained; trying to win the test-and-set.
 * - promoted:   won; the agent turns us into a primary running alone.
 * - halted:     lost the test-and-set, or the primary powered off (paper 3.3).
 */
import type { FtConfig } from './config';
import type { FtAction, FtEvent, StorageResult } from './api';
import type { ChannelMsg, LogRecord } from './messages';
import { comparePos, type Epoch, type HostId, type Millis, type Position } from './types';
import { ConsoleServer } from './console-stream';
import { blockHash, DiskIo } from './disk-io';
import { Every, FailureDetector } from './failure-detector';
import { StallMeter } from './stall-meter';
import { GoLive } from './go-live';
import { LogReceiver } from './logging-channel';

export type BackupState = 'replaying' | 'draining' | 'going-live' | 'promoted' | 'halted';

export interface BackupInit {
  me: HostId;
  primary: HostId;
  epoch: Epoch;
  cloneId: number;
  firstSeq: number;
  console: ConsoleServer;
  io: DiskIo;
  position: Position;
  guestTime: number;
  now: Millis;
  nextId: () => number;
}

/** What a promoted backup hands to the primary that replaces it. */
export interface Promotion {
  epoch: Epoch;
  console: ConsoleServer;
  io: DiskIo;
  position: Position;
  guestTime: number;
  /**
   * Writes to our own disk copy (non-shared disk) still in flight: their results complete them.
   * Re-issuing one would put a second copy in flight, which could land after the guest's next
   * write to the same block and undo it (found by the simulator, seed 6548).
   */
  writesInFlight: Set<number>;
}

interface Frame {
  records: LogRecord[];
  end: Position;
  /** I/O completions in this frame, with the read hash when one was logged. */
  completes: { ioId: number; hash?: number }[];
}

/** Re-reads that still disagree with the primary's hash after this many tries mean divergence. */
const MAX_READ_MISMATCHES = 20;

export class Backup {
  state: BackupState = 'replaying';
  readonly epoch: Epoch;
  readonly primary: HostId;
  readonly console: ConsoleServer;
  readonly io: DiskIo;
  replayedThrough: Position;
  deliveredThrough: Position;
  guestTime: number;
  promotion: Promotion | null = null;

  private readonly me: HostId;
  private readonly cloneId: number;
  private receiver: LogReceiver;
  private partial: LogRecord[] = [];
  private ready: Frame[] = [];
  private powerOff = false;
  private fd: FailureDetector;
  private readonly stalls: StallMeter;
  private heartbeat: Every;
  private goLive: GoLive | null = null;
  private readonly nextId: () => number;
  /** Backup-reads mode: data we read ourselves, waiting for its logged completion. */
  private readData = new Map<number, Uint8Array>();
  private readsInFlight = new Set<number>();
  private mismatches = new Map<number, number>();
  /** Non-shared disk: our own copy of each write, which must land before its completion replays. */
  private localWrites = new Map<number, 'inflight' | 'done'>();

  constructor(
    private readonly cfg: FtConfig,
    init: BackupInit,
  ) {
    this.me = init.me;
    this.primary = init.primary;
    this.epoch = init.epoch;
    this.cloneId = init.cloneId;
    this.receiver = new LogReceiver(init.firstSeq);
    this.console = init.console;
    this.io = init.io;
    this.replayedThrough = init.position;
    this.deliveredThrough = init.position;
    this.guestTime = init.guestTime;
    this.nextId = init.nextId;
    this.fd = new FailureDetector(cfg.failureTimeoutMs, init.now);
    this.stalls = new StallMeter(cfg.stallWindowMs);
    this.heartbeat = new Every(cfg.heartbeatIntervalMs);
  }

  /** After a clone, I/O the primary had in flight must also reach our own disk copy. */
  adoptPendingIo(out: FtAction[]): void {
    for (const io of this.io.list()) {
      if (io.kind === 'write' && this.cfg.diskMode === 'non-shared') this.writeLocal(io.ioId, out);
      if (io.kind === 'read' && this.cfg.readMode === 'backup-reads') this.readOwn(io.ioId, out);
    }
  }

  /** A backup made by FT VMotion is restoring its snapshot and may not hear the primary for a while. */
  graceAfterClone(now: Millis, from: Position): void {
    this.fd.graceUntilFrame(now + this.cfg.cloneGraceMs, from.frame + this.cfg.graceFrames);
  }

  /** Silence before `until`, or until our VM runs `frame`, does not count (see `bootGraceMs`). */
  toleratePeerSilenceUntil(until: Millis, frame: number): void {
    this.fd.graceUntilFrame(until, frame);
  }

  get receivedSeq(): number {
    return this.receiver.contiguousSeq;
  }

  get backlogFrames(): number {
    return this.ready.length;
  }

  step(now: Millis, ev: FtEvent, out: FtAction[]): void {
    if (this.state === 'halted' || this.state === 'promoted') return;
    switch (ev.type) {
      case 'tick':
        return this.onTick(now, out);
      case 'stalled':
        this.fd.deaf(now, ev.ms, this.cfg.heartbeatIntervalMs);
        return this.stalls.stalled(now, ev.ms);
      case 'message':
        return this.onMessage(now, ev.from, ev.msg, out);
      case 'frameDone':
        this.fd.progressed(ev.position.frame);
        if (comparePos(ev.position, this.replayedThrough) > 0) this.replayedThrough = ev.position;
        this.guestTime = ev.guestTime;
        this.deliver(out);
        return this.checkDrained(now, out);
      case 'outputProduced':
        // Replayed outputs are dropped (paper 2), but their effects are tracked for go-live.
        if (ev.kind === 'console') {
          this.console.produce(ev.bytes);
        } else if (ev.kind === 'packet') {
          // The backup's packets are dropped: nothing to track (TCP resends what a failover loses).
        } else {
          this.io.issued({ ioId: ev.ioId, kind: 'write', block: ev.block, data: ev.data, position: ev.position });
          if (this.cfg.diskMode === 'non-shared') this.writeLocal(ev.ioId, out);
        }
        return;
      case 'diskReadIssued':
        this.io.issued({ ioId: ev.ioId, kind: 'read', block: ev.block, position: ev.position });
        if (this.cfg.readMode === 'backup-reads') this.readOwn(ev.ioId, out);
        return;
      case 'ioCompleted':
        this.io.completed(ev.ioId);
        this.localWrites.delete(ev.ioId);
        this.readData.delete(ev.ioId);
        this.mismatches.delete(ev.ioId);
        return;
      case 'inputApplied':
        this.console.inputApplied(ev.seq);
        return;
      case 'storageResult':
        return this.onStorage(now, ev.result, out);
      case 'peerLeft':
        if (ev.host === this.primary && this.state === 'replaying') {
          this.fd.declareFailed();
          return this.onTick(now, out);
        }
        return;
      default:
        // logEntriesProduced, client traffic, clone requests: not a backup's business.
        return;
    }
  }

  private onTick(now: Millis, out: FtAction[]): void {
    if (this.state === 'replaying') {
      if (this.fd.expired(now)) {
        this.state = 'draining';
        // Records of a frame whose frame-end never came are not replayable, and nothing
        // released by the primary can depend on them (releases need an acked frame-end).
        this.partial = [];
        this.changed(out);
        return this.checkDrained(now, out);
      }
      // The ack doubles as our heartbeat and carries the lag report.
      if (this.heartbeat.due(now)) this.sendAck(now, out);
    } else if (this.state === 'going-live') {
      const req = this.goLive!.tick(now, this.cfg.failureTimeoutMs);
      if (req) out.push(req);
    }
    for (const io of this.io.dueRetries(now)) {
      if (io.kind === 'read') this.readOwn(io.ioId, out);
      else this.writeLocal(io.ioId, out);
    }
  }

  private onMessage(now: Millis, from: HostId, msg: ChannelMsg, out: FtAction[]): void {
    if (from !== this.primary) return;
    if (msg.t === 'clone-start') {
      // Our ack was lost; the primary still waits for it.
      if (msg.clone.cloneId === this.cloneId && this.state === 'replaying') {
        this.fd.heard(now);
        this.sendAck(now, out);
      }
      return;
    }
    if (msg.epoch !== this.epoch) return;
    // The primary powered off on purpose, and its entry reached us only after our detector gave
    // up on it (our tick ran before the queued entry): the VM is off, so nobody goes live. The
    // primary waits for our acknowledgement of the entry (power-off.ts): it gets one.
    if ((this.state === 'draining' || this.state === 'going-live') && msg.t === 'log' && msg.records.some((r) => r.kind === 'control')) {
      this.receiver.accept(msg.records);
      this.sendAck(now, out);
      return this.halt('primary powered off', out);
    }
    if (this.state !== 'replaying') return;
    this.fd.heard(now, msg.t === 'heartbeat' ? msg.stallMs : undefined);
    if (msg.t !== 'log') return;
    this.console.onClientAck(msg.clientAcked);
    for (const r of this.receiver.accept(msg.records)) {
      if (r.kind === 'entry') {
        this.partial.push(r);
      } else if (r.kind === 'frame-end') {
        this.partial.push(r);
        const completes: Frame['completes'] = [];
        for (const x of this.partial) if (x.kind === 'entry' && x.io) completes.push(x.io);
        this.ready.push({ records: this.partial, end: r.position, completes });
        this.partial = [];
      } else {
        this.powerOff = true;
      }
    }
    this.sendAck(now, out);
    this.deliver(out);
    this.checkDrained(now, out);
  }

  private sendAck(now: Millis, out: FtAction[]): void {
    out.push({
      type: 'send',
      to: this.primary,
      msg: {
        t: 'ack',
        epoch: this.epoch,
        ackSeq: this.receiver.contiguousSeq,
        replayed: this.replayedThrough,
        guestTime: this.guestTime,
        cloneId: this.cloneId,
        stallMs: this.stalls.recentMax(now),
      },
    });
  }

  /**
   * Hand complete frames to the engine. The backup "stops execution until a new log entry
   * is available" simply by not having the next frame. When the backup does disk work
   * itself (non-shared disk, backup reads) a frame is also held until the disk work its
   * completions depend on has finished.
   */
  private deliver(out: FtAction[]): void {
    const records: LogRecord[] = [];
    while (this.ready.length > 0) {
      const f = this.ready[0]!;
      if (!this.frameReady(f, out)) break;
      this.ready.shift();
      for (const r of f.records) records.push(r);
      this.deliveredThrough = f.end;
    }
    if (records.length > 0) out.push({ type: 'replay', records });
  }

  private frameReady(f: Frame, out: FtAction[]): boolean {
    if (f.completes.length === 0) return true;
    const ownReads = this.cfg.readMode === 'backup-reads';
    const ownWrites = this.cfg.diskMode === 'non-shared';
    if (!ownReads && !ownWrites) return true;
    // The I/O must have been issued by the replay of an earlier frame before we can judge.
    if (comparePos(this.replayedThrough, this.deliveredThrough) < 0) return false;
    for (const c of f.completes) {
      const io = this.io.get(c.ioId);
      if (!io) continue;
      if (io.kind === 'read' && ownReads) {
        const data = this.readData.get(c.ioId);
        if (!data) return false;
        if (c.hash !== undefined && blockHash(data) !== c.hash) {
          this.readData.delete(c.ioId);
          const n = (this.mismatches.get(c.ioId) ?? 0) + 1;
          this.mismatches.set(c.ioId, n);
          if (n >= MAX_READ_MISMATCHES) {
            this.halt(`divergence: own read of block ${io.block} never matched the primary's (io ${c.ioId})`, out);
          } else {
            this.readOwn(c.ioId, out);
          }
          return false;
        }
      }
      if (io.kind === 'write' && ownWrites && this.localWrites.get(c.ioId) !== 'done') return false;
    }
    for (const c of f.completes) {
      const data = this.readData.get(c.ioId);
      if (data && ownReads) out.push({ type: 'provideReadData', ioId: c.ioId, data });
    }
    return true;
  }

  private readOwn(ioId: number, out: FtAction[]): void {
    const io = this.io.get(ioId);
    if (!io || this.readsInFlight.has(ioId)) return;
    this.readsInFlight.add(ioId);
    out.push({ type: 'readBlock', ioId, block: io.block });
  }

  private writeLocal(ioId: number, out: FtAction[]): void {
    const io = this.io.get(ioId);
    if (!io || !io.data) return;
    this.localWrites.set(ioId, 'inflight');
    // Our own disk copy has no competing writer, so the epoch is informational.
    out.push({ type: 'writeBlock', ioId, block: io.block, data: io.data, epoch: this.epoch });
  }

  private onStorage(now: Millis, r: StorageResult, out: FtAction[]): void {
    if (r.op === 'test-and-set') {
      if (!this.goLive || this.state !== 'going-live') return;
      const o = this.goLive.onResult(r.reqId, r.result, now);
      if (o?.outcome === 'won') {
        this.state = 'promoted';
        this.promotion = {
          epoch: o.epoch,
          console: this.console,
          io: this.io,
          position: this.replayedThrough,
          guestTime: this.guestTime,
          writesInFlight: new Set([...this.localWrites].filter(([, s]) => s === 'inflight').map(([id]) => id)),
        };
        this.changed(out);
      } else if (o?.outcome === 'lost') {
        this.halt(`lost test-and-set (epoch now ${o.epoch}): the primary is alive`, out);
      }
      return;
    }
    if (r.op === 'read') {
      this.readsInFlight.delete(r.ioId);
      if (!this.io.get(r.ioId)) return;
      if (r.ok) this.readData.set(r.ioId, r.data);
      else this.io.scheduleRetry(r.ioId, now + this.cfg.storageRetryMs);
    } else {
      if (!this.localWrites.has(r.ioId)) return;
      if (r.ok) this.localWrites.set(r.ioId, 'done');
      else this.io.scheduleRetry(r.ioId, now + this.cfg.storageRetryMs);
    }
    this.deliver(out);
    this.checkDrained(now, out);
  }

  private checkDrained(now: Millis, out: FtAction[]): void {
    const caughtUp = this.ready.length === 0 && comparePos(this.replayedThrough, this.deliveredThrough) >= 0;
    if (!caughtUp) return;
    if (this.powerOff && (this.state === 'replaying' || this.state === 'draining')) {
      return this.halt('primary powered off', out);
    }
    if (this.state !== 'draining') return;
    this.state = 'going-live';
    this.goLive = new GoLive(this.me, this.epoch, this.cfg.storageRetryMs, !!this.cfg.unsafe.noTestAndSet, this.nextId);
    out.push(this.goLive.request(now));
    this.changed(out);
  }

  private halt(reason: string, out: FtAction[]): void {
    this.state = 'halted';
    out.push({ type: 'halt', reason });
    this.changed(out);
  }

  private changed(out: FtAction[]): void {
    out.push({ type: 'stateChanged', role: 'backup', state: this.state, epoch: this.epoch });
  }
}
