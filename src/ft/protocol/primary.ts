/**
 * The primary VM's side of the protocol (paper 2.2, 2.3, 3.1, 3.2).
 *
 * States, named after the paper:
 * - recording:  a backup exists; every non-deterministic input is logged to it, and
 *               outputs wait for the Output Rule.
 * - going-live: the backup looks dead; we are trying to win the test-and-set. Outputs keep
 *               waiting: if the backup is in fact alive and wins, it must not find that we
 *               released something it never acknowledged.
 * - alone:      we won; no logging, outputs are released at once (paper: "leave recording
 *               mode ... and start executing normally").
 * - powering-off: the VM was powered off on purpose (paper 3.3) and no longer runs; the control
 *               entry saying so is on its way to the backup, which must halt too, not go live
 *               (power-off.ts says how that is made sure of).
 * - halted:     we lost the test-and-set or were fenced off ("commits suicide"), or powered off.
 */
import type { FtConfig } from './config';
import type { FtAction, FtEvent, StorageResult } from './api';
import type { ChannelMsg, LogRecord, PendingIo } from './messages';
import { comparePos, type Epoch, type HostId, type Millis, type Position } from './types';
import { ConsoleServer } from './console-stream';
import { DiskIo, diskReply } from './disk-io';
import { Every, FailureDetector } from './failure-detector';
import { StallMeter } from './stall-meter';
import { FlowControl, type FlowPauseState } from './flow-control';
import { GoLive } from './go-live';
import { LagControl } from './lag-control';
import { LogSender } from './logging-channel';
import { OutputRule } from './output-rule';
import { CloneSource } from './ft-vmotion';
import { PowerOff } from './power-off';
import { outputBytes, releaseAction, writeAction, type Output } from './primary-outputs';

export type PrimaryState = 'recording' | 'going-live' | 'powering-off' | 'alone' | 'halted';

export interface PrimaryInit {
  me: HostId;
  epoch: Epoch;
  /** null: start alone (e.g. a promoted backup). */
  backup: HostId | null;
  cloneId: number;
  console: ConsoleServer;
  io: DiskIo;
  position: Position;
  guestTime: number;
  now: Millis;
  nextId: () => number;
}

export class Primary {
  state: PrimaryState;
  epoch: Epoch;
  backup: HostId | null;
  readonly console: ConsoleServer;
  readonly io: DiskIo;
  position: Position;
  guestTime: number;

  private readonly me: HostId;
  private sender = new LogSender(1);
  private rule: OutputRule<Output>;
  private flow: FlowControl;
  private lag: LagControl;
  private fd: FailureDetector;
  private readonly stalls: StallMeter;
  private heartbeat: Every;
  private consoleResend: Every;
  private goLive: GoLive | null = null;
  private clone: CloneSource | null = null;
  /** Set once the VM is powered off on purpose; says how the backup was kept from going live. */
  powerOff: PowerOff | null = null;
  private ackCloneId: number;
  private readonly nextId: () => number;

  constructor(
    private readonly cfg: FtConfig,
    init: PrimaryInit,
  ) {
    this.me = init.me;
    this.epoch = init.epoch;
    this.backup = init.backup;
    this.state = init.backup === null ? 'alone' : 'recording';
    this.ackCloneId = init.cloneId;
    this.console = init.console;
    this.io = init.io;
    this.position = init.position;
    this.guestTime = init.guestTime;
    this.nextId = init.nextId;
    this.rule = new OutputRule<Output>(!cfg.unsafe.noOutputRule, outputBytes);
    this.flow = new FlowControl(cfg.maxUnackedLogBytes, cfg.resumeUnackedLogBytes, cfg.maxHeldOutputBytes, cfg.resumeHeldOutputBytes);
    this.lag = new LagControl(cfg.lagBoundMs, cfg.minSpeed, cfg.speedStep, cfg.lagAdjustIntervalMs);
    this.lag.reset(init.guestTime);
    this.fd = new FailureDetector(cfg.failureTimeoutMs, init.now);
    this.stalls = new StallMeter(cfg.stallWindowMs);
    this.heartbeat = new Every(cfg.heartbeatIntervalMs);
    this.consoleResend = new Every(cfg.consoleResendMs);
  }

  /** Silence before `until`, or until the backup has replayed `frame`, does not count (see `bootGraceMs`). */
  toleratePeerSilenceUntil(until: Millis, frame: number): void {
    this.fd.graceUntilFrame(until, frame);
  }

  get unackedLogBytes(): number {
    return this.sender.unackedBytes;
  }
  get heldOutputs(): number {
    return this.rule.heldCount;
  }
  get heldOutputBytes(): number {
    return this.rule.heldBytes;
  }
  get speed(): number {
    return this.lag.speed;
  }
  /** Flow control (3.2): the buffer that stopped the primary (null: running), and how often it did. */
  get flowControl(): FlowPauseState {
    return { pausedBy: this.flow.pausedBy, pauses: this.flow.pauses };
  }
  get cloning(): boolean {
    return this.clone !== null && this.clone.phase !== 'accepted';
  }

  step(now: Millis, ev: FtEvent, out: FtAction[]): void {
    if (this.state === 'halted') return;
    // A powered-off VM runs no more frames: what its last ones still report is not logged, and
    // their outputs are never released (as if the plug had been pulled right after the entry).
    if (this.state === 'powering-off' && !PowerOff.heeds(ev)) return;
    switch (ev.type) {
      case 'tick':
        return this.onTick(now, out);
      case 'stalled':
        this.fd.deaf(now, ev.ms, this.cfg.heartbeatIntervalMs);
        return this.stalls.stalled(now, ev.ms);
      case 'logEntriesProduced':
        if (this.state !== 'recording') return;
        for (const e of ev.entries) {
          this.sender.append(
            e.io ? { kind: 'entry', position: e.position, bytes: e.bytes, io: e.io } : { kind: 'entry', position: e.position, bytes: e.bytes },
          );
        }
        return this.updateFlow(out);
      case 'frameDone':
        this.position = ev.position;
        this.guestTime = ev.guestTime;
        if (this.state !== 'recording') return;
        this.sender.append({ kind: 'frame-end', position: ev.position, guestTime: ev.guestTime });
        this.lag.onPrimaryProgress(ev.guestTime);
        this.flush(now, out);
        return this.updateFlow(out);
      case 'outputProduced':
        if (ev.kind === 'console') {
          const offset = this.console.produce(ev.bytes);
          return this.emit(ev.position, { kind: 'console', offset, bytes: ev.bytes }, false, out);
        } else if (ev.kind === 'packet') {
          // Held like any output; a packet lost in a failover is TCP's to retransmit (paper 3.4).
          return this.emit(ev.position, { kind: 'packet', frame: ev.frame }, false, out);
        } else {
          const io: PendingIo = { ioId: ev.ioId, kind: 'write', block: ev.block, data: ev.data, position: ev.position };
          this.io.issued(io);
          // Paper 4.1: a non-shared disk is internal VM state, not an external output.
          if (this.cfg.diskMode === 'non-shared') return this.writeNow(io, out);
          const needsReplay = this.cfg.readMode === 'backup-reads';
          return this.emit(ev.position, { kind: 'disk-write', io }, needsReplay, out);
        }
      case 'packetReceived':
        if (this.state === 'recording' || this.state === 'alone') out.push({ type: 'injectPacket', frame: ev.frame });
        return;
      case 'diskReadIssued':
        this.io.issued({ ioId: ev.ioId, kind: 'read', block: ev.block, position: ev.position });
        out.push({ type: 'readBlock', ioId: ev.ioId, block: ev.block });
        return;
      case 'ioCompleted':
        this.io.completed(ev.ioId);
        return;
      case 'inputApplied':
        this.console.inputApplied(ev.seq);
        return this.emit(ev.position, { kind: 'input-ack', nextSeq: ev.seq + 1 }, false, out);
      case 'message':
        return this.onMessage(now, ev.from, ev.msg, out);
      case 'clientMessage': {
        const m = ev.msg;
        if (m.t === 'client-input') {
          if (this.console.acceptInput(m.seq)) out.push({ type: 'injectInput', seq: m.seq, bytes: m.bytes });
        } else {
          this.console.onClientAck(m.consoleOffset);
          if (m.consoleOffset < this.console.released && this.consoleResend.due(now)) {
            for (const c of this.console.releasedChunksFrom(m.consoleOffset, this.cfg.consoleChunkBytes)) {
              out.push({ type: 'releaseOutput', msg: { t: 'console', epoch: this.epoch, from: this.me, offset: c.offset, bytes: c.bytes } });
            }
          }
        }
        return;
      }
      case 'storageResult':
        return this.onStorage(now, ev.result, out);
      case 'peerLeft':
        if (ev.host === this.backup && (this.state === 'recording' || this.state === 'powering-off')) {
          this.fd.declareFailed();
          this.onTick(now, out);
        }
        return;
      case 'startClone':
        if (this.state !== 'alone' || this.clone) return;
        this.clone = new CloneSource(this.nextId(), ev.target);
        out.push({ type: 'snapshotForClone', cloneId: this.clone.cloneId, includeDisk: this.cfg.diskMode === 'non-shared' });
        return;
      case 'snapshotTaken':
        return this.onSnapshot(now, ev, out);
      case 'powerOff':
        return this.onPowerOff(now, out);
    }
  }

  /**
   * Paper 3.3: "if the primary VM is explicitly powered off, the backup VM should be stopped also,
   * and should not attempt to go live". Alone, there is nobody to stop. Recording, the control
   * entry goes in the log and we wait, the VM stopped, for the backup to acknowledge it; going
   * live, our test-and-set decides, as it would for a failure.
   */
  private onPowerOff(now: Millis, out: FtAction[]): void {
    this.powerOff = new PowerOff(now);
    if (this.state === 'alone') return this.halt(this.powerOff.settle('alone'), out);
    out.push({ type: 'pauseExecution', reason: 'power-off' });
    if (this.state !== 'recording') return;
    this.powerOff.entrySeq = this.sender.append({ kind: 'control', position: this.position, control: 'power-off' }).seq;
    this.flush(now, out);
    if (this.cfg.unsafe.noPowerOffWait) return this.halt(this.powerOff.settle('acknowledged'), out);
    this.state = 'powering-off';
    this.changed(out);
  }

  private onTick(now: Millis, out: FtAction[]): void {
    if (this.state === 'powering-off' && !this.goLive) {
      // No acknowledgement by half the failure timeout: the entry or the backup may be lost, and
      // the backup's detector may fire soon. Take the lock record before it can (power-off.ts).
      if (this.powerOff!.overdue(now, this.cfg.failureTimeoutMs) || this.fd.expired(now)) return this.testAndSet(now, out);
      this.sendLog(this.sender.retransmit(now, this.cfg.retransmitMs, this.cfg.maxRecordsPerMessage), out);
      // Still alive to the backup meanwhile: it must get the entry, not time out on our silence.
      if (this.heartbeat.due(now)) out.push({ type: 'send', to: this.backup!, msg: { t: 'heartbeat', epoch: this.epoch, stallMs: this.stalls.recentMax(now) } });
    } else if (this.state === 'recording') {
      if (this.fd.expired(now)) return this.startGoingLive(now, out);
      this.sendLog(this.sender.retransmit(now, this.cfg.retransmitMs, this.cfg.maxRecordsPerMessage), out);
      const cloneMsg = this.clone?.resend(now, this.cfg.retransmitMs);
      if (cloneMsg) out.push({ type: 'send', to: this.backup!, msg: cloneMsg });
      if (this.heartbeat.due(now)) out.push({ type: 'send', to: this.backup!, msg: { t: 'heartbeat', epoch: this.epoch, stallMs: this.stalls.recentMax(now) } });
      const speed = this.lag.adjust(now);
      if (speed !== null) out.push({ type: 'setSpeed', factor: speed });
    } else if (this.state === 'going-live' || this.goLive) {
      const req = this.goLive!.tick(now, this.cfg.failureTimeoutMs);
      if (req) out.push(req);
    }
    for (const io of this.io.dueRetries(now)) {
      if (io.kind === 'read') out.push({ type: 'readBlock', ioId: io.ioId, block: io.block });
      else this.writeNow(io, out);
    }
  }

  private onMessage(now: Millis, from: HostId, msg: ChannelMsg, out: FtAction[]): void {
    if (from !== this.backup || (this.state !== 'recording' && this.state !== 'powering-off')) return;
    if ((msg.t === 'ack' || msg.t === 'heartbeat') && msg.epoch !== this.epoch) return;
    this.fd.heard(now, msg.t === 'ack' || msg.t === 'heartbeat' ? msg.stallMs : undefined);
    // A new backup still receiving the snapshot heartbeats as a standby, and after the last chunk
    // it decodes and restores in silence: each sign of life renews the clone grace, so a slow link
    // (a 14.8 MiB snapshot took 14 s through a loaded TURN relay) does not use it up in transit.
    if (this.clone?.phase === 'sent') this.fd.graceUntil(now + this.cfg.cloneGraceMs);
    if (msg.t !== 'ack') return;
    // The backup's replayed frames, not ours (we run ahead), say when it is past its slow ones.
    this.fd.progressed(msg.replayed.frame);
    if (this.clone && this.clone.onAck(msg.cloneId)) this.fd.graceUntilFrame(now + this.cfg.cloneGraceMs, this.position.frame + this.cfg.graceFrames);
    if (msg.cloneId !== this.ackCloneId && !(this.clone && msg.cloneId === this.clone.cloneId)) return;
    this.ackCloneId = msg.cloneId;
    if (this.sender.ack(msg.ackSeq)) this.release(this.rule.onAcked(this.sender.ackedThrough!), out);
    this.release(this.rule.onReplayed(msg.replayed), out);
    this.lag.onBackupReport(msg.guestTime);
    this.updateFlow(out);
    if (this.state === 'powering-off' && this.powerOff!.acknowledgedBy(msg.ackSeq)) this.halt(this.powerOff!.settle('acknowledged'), out);
  }

  private onStorage(now: Millis, r: StorageResult, out: FtAction[]): void {
    switch (r.op) {
      case 'test-and-set': {
        if (!this.goLive || (this.state !== 'going-live' && this.state !== 'powering-off')) return;
        const o = this.goLive.onResult(r.reqId, r.result, now);
        if (o?.outcome === 'won' && this.powerOff) this.halt(this.powerOff.settle('fenced', o.epoch), out);
        else if (o?.outcome === 'won') this.becomeAlone(o.epoch, out);
        else if (o?.outcome === 'lost') this.halt(`lost test-and-set (epoch now ${o.epoch})`, out);
        return;
      }
      default: {
        const d = diskReply(r, this.epoch, this.state === 'going-live' || this.state === 'powering-off');
        if (d.do === 'complete' && this.io.beginCompletion(r.ioId)) out.push({ type: 'completeIo', ioId: r.ioId, ...(d.data ? { data: d.data } : {}) });
        else if (d.do === 'retry') this.io.scheduleRetry(r.ioId, now + this.cfg.storageRetryMs);
        else if (d.do === 'redo' && this.io.get(r.ioId)) this.writeNow(this.io.get(r.ioId)!, out);
        else if (d.do === 'halt') this.halt(d.reason, out);
      }
    }
  }

  private onSnapshot(now: Millis, ev: Extract<FtEvent, { type: 'snapshotTaken' }>, out: FtAction[]): void {
    const c = this.clone;
    if (!c || c.cloneId !== ev.cloneId || c.phase !== 'snapshotting' || this.state !== 'alone') return;
    if (comparePos(ev.position, this.position) !== 0) {
      // Frames ran between the snapshot and now and were not logged (we were alone): a
      // backup started from this snapshot could never catch up. Drop it; the cluster
      // service will ask again.
      this.clone = null;
      return;
    }
    this.sender = new LogSender(1);
    this.rule.resetAcks();
    const speed = this.lag.reset(ev.guestTime);
    if (speed !== null) out.push({ type: 'setSpeed', factor: speed });
    this.fd.reset(now);
    // The new backup says nothing until the whole snapshot has crossed the channel and its host
    // has restored it (it acks after the restore). Under load that outlasts the failure timeout
    // (a CPU hog made every clone fail this way, five in a row); it has not failed.
    this.fd.graceUntilFrame(now + this.cfg.cloneGraceMs, ev.position.frame + this.cfg.graceFrames);
    this.backup = c.target;
    this.state = 'recording';
    this.position = ev.position;
    this.guestTime = ev.guestTime;
    const msg = c.begin(now, {
      epoch: this.epoch,
      primary: this.me,
      position: ev.position,
      guestTime: ev.guestTime,
      snapshot: ev.snapshot,
      nextSeq: 1,
      console: this.console.state(),
      pendingIo: this.io.list(),
    });
    out.push({ type: 'send', to: c.target, msg });
    this.changed(out);
  }

  private startGoingLive(now: Millis, out: FtAction[]): void {
    this.state = 'going-live';
    this.testAndSet(now, out);
    this.changed(out);
  }

  private testAndSet(now: Millis, out: FtAction[]): void {
    this.goLive = new GoLive(this.me, this.epoch, this.cfg.storageRetryMs, !!this.cfg.unsafe.noTestAndSet, this.nextId);
    out.push(this.goLive.request(now));
  }

  private becomeAlone(epoch: Epoch, out: FtAction[]): void {
    this.state = 'alone';
    this.epoch = epoch;
    this.backup = null;
    this.clone = null;
    this.goLive = null;
    out.push({ type: 'goLive', epoch, from: 'primary' });
    this.changed(out);
    this.release(this.rule.releaseAll(), out);
    if (this.flow.clear()) out.push({ type: 'resumeExecution' });
    const speed = this.lag.reset(this.guestTime);
    if (speed !== null) out.push({ type: 'setSpeed', factor: speed });
  }

  private halt(reason: string, out: FtAction[]): void {
    // Halted by anything but its own settling (a lost test-and-set, a fenced write): the backup
    // went live first, and the VM runs on there.
    if (this.powerOff && !this.powerOff.outcome) reason = `${this.powerOff.settle('overtaken')} (${reason})`;
    this.state = 'halted';
    out.push({ type: 'halt', reason });
    this.changed(out);
  }

  private emit(position: Position, o: Output, needsReplay: boolean, out: FtAction[]): void {
    if (this.state === 'alone') this.release([o], out);
    else this.release(this.rule.produce(position, o, needsReplay), out);
  }

  private release(outs: Output[], out: FtAction[]): void {
    for (const o of outs) out.push(releaseAction(o, this.epoch, this.me, this.console));
  }

  private writeNow(io: PendingIo, out: FtAction[]): void {
    out.push(writeAction(io, this.epoch));
  }

  private flush(now: Millis, out: FtAction[]): void {
    this.sendLog(this.sender.takeUnsent(now), out);
  }

  private sendLog(recs: LogRecord[], out: FtAction[]): void {
    const max = this.cfg.maxRecordsPerMessage;
    for (let i = 0; i < recs.length; i += max) {
      out.push({
        type: 'send',
        to: this.backup!,
        msg: { t: 'log', epoch: this.epoch, records: recs.slice(i, i + max), clientAcked: this.console.clientAcked },
      });
    }
  }

  private updateFlow(out: FtAction[]): void {
    if (this.state !== 'recording') return;
    const d = this.flow.update(this.sender.unackedBytes, this.rule.heldBytes);
    if (d === 'pause') out.push({ type: 'pauseExecution', reason: 'flow-control' });
    else if (d === 'resume') out.push({ type: 'resumeExecution' });
  }

  private changed(out: FtAction[]): void {
    out.push({ type: 'stateChanged', role: 'primary', state: this.state, epoch: this.epoch });
  }
}
