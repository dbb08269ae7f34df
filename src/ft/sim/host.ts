/**
 * A simulated host: the toy engine plus the REAL FtAgent, glued together the way the host
 * worker glues v86 to the agent. It turns engine happenings into FtEvents and performs the
 * agent's FtActions against the simulated network, storage and client.
 */
import { FtAgent, type AgentInit } from '../protocol/agent';
import type { FtAction, FtEvent, ProducedEntry } from '../protocol/api';
import type { FtConfig } from '../protocol/config';
import { blockHash } from '../protocol/disk-io';
import type { LogRecord } from '../protocol/messages';
import { comparePos, formatPos, type Position } from '../protocol/types';
import { decodeEntry, encodeEntry } from './toy-codec';
import { ToyVm, type StartEvent, type VmEffects } from './toy-vm';
import type { World } from './world';

export class SimHost {
  readonly agent: FtAgent;
  vm: ToyVm | null = null;
  mode: 'record' | 'replay' | 'idle' = 'idle';
  alive = true;
  halted = false;
  /** Crash after performing this many more actions (a crash in the middle of a step). */
  crashAfterActions = -1;
  localDisk = new Map<number, Uint8Array>();

  private injections: { seq: number; bytes: Uint8Array }[] = [];
  private completions: { ioId: number; data?: Uint8Array }[] = [];
  private records: LogRecord[] = [];
  private recIdx = 0;
  private completeFrames = 0;
  private readData = new Map<number, Uint8Array>();
  private paused = false;
  private speed = 1;
  private frameScheduled = false;
  /** Inside a long frame until then: events wait, as messages wait behind a busy worker thread. */
  private stalledUntil = -Infinity;
  private deferred: FtEvent[] = [];

  constructor(
    private readonly w: World,
    readonly name: string,
    readonly id: string,
    readonly cfg: FtConfig,
    init: AgentInit,
    private readonly cpu: number,
  ) {
    this.agent = new FtAgent(cfg, id, init, w.q.now);
    if (init.role !== 'standby') {
      this.vm = new ToyVm();
      this.mode = init.role === 'primary' ? 'record' : 'replay';
    }
  }

  start(): void {
    this.w.q.after(0, () => this.tickLoop());
    this.wake();
  }

  crash(): void {
    this.alive = false;
    this.mode = 'idle';
  }

  private tickLoop(): void {
    if (!this.alive || this.halted) return;
    this.feed({ type: 'tick' });
    this.w.q.after(this.w.sc.tickMs, () => this.tickLoop());
  }

  /** A long frame: nothing in or out for `ms`, then the host reports it (`stalled`). */
  stall(ms: number): void {
    if (!this.alive || this.halted || this.stalledUntil > this.w.q.now) return;
    this.w.trace(`${this.id} stalls for ${ms.toFixed(1)} ms`);
    this.w.stats.stalls++;
    this.stalledUntil = this.w.q.now + ms;
    this.w.q.after(ms, () => {
      this.stalledUntil = -Infinity;
      const waiting = this.deferred.splice(0);
      this.feed({ type: 'stalled', ms });
      // The worst order a browser may pick: the overdue timer before the queued messages.
      if (waiting.some((e) => e.type === 'tick')) this.feed({ type: 'tick' });
      for (const e of waiting) if (e.type !== 'tick') this.feed(e);
      this.wake();
    });
  }

  /** Feed one event to the agent and perform its actions. */
  feed(ev: FtEvent): void {
    if (!this.alive || this.halted) return;
    if (this.w.q.now < this.stalledUntil) {
      this.deferred.push(ev);
      return;
    }
    const actions = this.agent.step(this.w.q.now, ev);
    for (const a of actions) {
      if (!this.alive) return;
      if (this.crashAfterActions === 0) {
        this.w.trace(`${this.id} CRASH in the middle of a step (before ${a.type})`);
        this.w.crashHost(this);
        return;
      }
      if (this.crashAfterActions > 0) this.crashAfterActions--;
      this.perform(a);
    }
  }

  private perform(a: FtAction): void {
    const w = this.w;
    switch (a.type) {
      case 'send':
        w.send(this.id, a.to, a.msg);
        return;
      case 'releaseOutput':
        {
          const m = a.msg;
          w.effect(m.epoch, this.id, () => (m.t === 'console' ? `console@${m.offset}+${m.bytes.length}` : `input-ack ${m.nextSeq}`));
        }
        w.send(this.id, 'client', a.msg);
        return;
      case 'writeBlock':
        w.storageWrite(this, a.ioId, a.block, a.data, a.epoch);
        return;
      case 'readBlock':
        w.storageRead(this, a.ioId, a.block);
        return;
      case 'reissueDiskIo':
        w.trace(`${this.id} reissue ${a.io.kind} io${a.io.ioId} block ${a.io.block} (epoch ${a.epoch})`);
        if (a.io.kind === 'write') w.storageWrite(this, a.io.ioId, a.io.block, a.io.data!, a.epoch);
        else w.storageRead(this, a.io.ioId, a.io.block);
        return;
      case 'completeIo':
        this.completions.push(a.data ? { ioId: a.ioId, data: a.data } : { ioId: a.ioId });
        return;
      case 'provideReadData':
        this.readData.set(a.ioId, a.data);
        return;
      case 'injectInput':
        this.injections.push({ seq: a.seq, bytes: a.bytes });
        return;
      case 'replay':
        for (const r of a.records) {
          this.records.push(r);
          if (r.kind === 'frame-end') this.completeFrames++;
        }
        this.wake();
        return;
      case 'testAndSet':
        w.storageTas(this, a.reqId, a.expectEpoch, a.owner, a.force);
        return;
      case 'goLive':
        w.trace(`${this.id} GO LIVE epoch ${a.epoch} (was ${a.from}) at ${formatPos(this.vm?.position)}`);
        if (a.from === 'backup') {
          w.stats.failovers++;
          if (this.recIdx < this.records.length) w.violation(`${this.id} went live with unreplayed frames`);
          this.records = [];
          this.recIdx = 0;
          this.completeFrames = 0;
          this.readData.clear();
          this.injections = [];
          this.completions = [];
        }
        this.mode = 'record';
        this.wake();
        return;
      case 'halt':
        w.trace(`${this.id} HALT: ${a.reason}`);
        this.halted = true;
        this.mode = 'idle';
        w.hostHalted(this, a.reason);
        return;
      case 'pauseExecution':
        this.paused = true;
        w.stats.pauses++;
        return;
      case 'resumeExecution':
        this.paused = false;
        this.wake();
        return;
      case 'setSpeed':
        this.speed = a.factor;
        if (a.factor < 1) w.stats.slowdowns++;
        return;
      case 'snapshotForClone': {
        // At a frame boundary (we are between frames by construction), snapshot and let
        // both sides continue from instances restored from the same bytes.
        const vm = this.vm!;
        const snap = encodeSnapshot(vm, a.includeDisk ? this.localDisk : null);
        this.vm = ToyVm.restore(vm.snapshot());
        const ev: FtEvent = { type: 'snapshotTaken', cloneId: a.cloneId, position: vm.position, guestTime: vm.guestTime, snapshot: snap };
        w.trace(`${this.id} snapshot for clone ${a.cloneId} at ${formatPos(vm.position)}`);
        // Reply before any further frame runs: the snapshot is only valid at this boundary.
        this.feed(ev);
        return;
      }
      case 'restoreSnapshot': {
        const { vm, disk } = decodeSnapshot(a.clone.snapshot);
        this.vm = vm;
        if (disk) this.localDisk = disk;
        this.mode = 'replay';
        this.records = [];
        this.recIdx = 0;
        this.completeFrames = 0;
        w.trace(`${this.id} restored clone ${a.clone.cloneId} from ${a.clone.primary} at ${formatPos(a.clone.position)}`);
        return;
      }
      case 'stateChanged':
        if (w.traceLines) w.trace(`${this.id} ${a.role}/${a.state} epoch ${a.epoch}`);
        return;
    }
  }

  wake(): void {
    if (this.frameScheduled || !this.alive || this.halted) return;
    if (!this.canRun()) return;
    this.frameScheduled = true;
    this.w.q.after(this.framePeriod(), () => {
      this.frameScheduled = false;
      if (!this.alive || this.halted || !this.canRun() || this.w.q.now < this.stalledUntil) return;
      this.runFrame();
      this.wake();
    });
  }

  private canRun(): boolean {
    if (!this.vm) return false;
    if (this.mode === 'record') return !this.paused;
    if (this.mode === 'replay') return this.completeFrames > 0;
    return false;
  }

  private framePeriod(): number {
    let p = this.w.sc.frameMs / this.cpu;
    if (this.mode === 'record') p /= this.speed;
    else if (this.completeFrames > 3) p /= 1.25; // replay catches up when it has a backlog
    return p;
  }

  private runFrame(): void {
    if (this.mode === 'record') this.recordFrame();
    else this.replayFrame();
  }

  // Per-frame scratch state, reused so the hot path allocates little.
  private fEntries: ProducedEntry[] = [];
  private fEvents: FtEvent[] = [];
  private fNds: { position: Position; value: number }[] = [];
  private fNdIdx = 0;

  private readonly recordFx: VmEffects = {
    inputApplied: (position, seq, bytes) => {
      this.fEntries.push({ position, bytes: encodeEntry({ k: 'input', seq, bytes }) });
      this.fEvents.push({ type: 'inputApplied', position, seq });
    },
    ioCompleted: (position, ioId, kind, data) => {
      if (kind === 'read' && this.cfg.readMode === 'backup-reads') {
        this.fEntries.push({ position, bytes: encodeEntry({ k: 'io', ioId }), io: { ioId, hash: blockHash(data!) } });
      } else {
        this.fEntries.push({ position, bytes: encodeEntry(data ? { k: 'io', ioId, data } : { k: 'io', ioId }), io: { ioId } });
      }
      this.fEvents.push({ type: 'ioCompleted', position, ioId });
    },
    nd: (position) => {
      const value = this.w.rng.u32();
      this.fEntries.push({ position, bytes: encodeEntry({ k: 'nd', value }) });
      return value;
    },
    console: (position, bytes) => this.fEvents.push({ type: 'outputProduced', kind: 'console', position, bytes }),
    diskWrite: (position, ioId, block, data) => this.fEvents.push({ type: 'outputProduced', kind: 'disk-write', position, ioId, block, data }),
    diskRead: (position, ioId, block) => this.fEvents.push({ type: 'diskReadIssued', position, ioId, block }),
  };

  private readonly replayFx: VmEffects = {
    inputApplied: (position, seq) => this.fEvents.push({ type: 'inputApplied', position, seq }),
    ioCompleted: (position, ioId) => this.fEvents.push({ type: 'ioCompleted', position, ioId }),
    nd: (position) => {
      const e = this.fNds[this.fNdIdx++];
      if (!e || comparePos(e.position, position) !== 0) {
        this.w.violation(`${this.id} divergence: non-deterministic value expected at ${formatPos(position)}, log has ${formatPos(e?.position)}`);
        return 0;
      }
      return e.value;
    },
    console: this.recordFx.console,
    diskWrite: this.recordFx.diskWrite,
    diskRead: this.recordFx.diskRead,
  };

  private recordFrame(): void {
    const vm = this.vm!;
    const w = this.w;
    const starts: StartEvent[] = [];
    for (const i of this.injections) starts.push({ k: 'input', seq: i.seq, bytes: i.bytes });
    for (const c of this.completions) starts.push(c.data ? { k: 'io', ioId: c.ioId, data: c.data } : { k: 'io', ioId: c.ioId });
    if (this.injections.length) this.injections = [];
    if (this.completions.length) this.completions = [];
    this.fEntries = [];
    this.fEvents = [];
    vm.runFrame(starts, this.recordFx);
    const entries = this.fEntries;
    const evs = this.fEvents;
    w.recordHash(this.id, vm.frame, vm.digest());
    w.stats.frames++;
    for (const ev of evs) this.feed(ev);
    if (entries.length > 0) this.feed({ type: 'logEntriesProduced', entries });
    this.feed({ type: 'frameDone', position: vm.position, guestTime: vm.guestTime });
  }

  private replayFrame(): void {
    const vm = this.vm!;
    const w = this.w;
    const starts: StartEvent[] = [];
    const nds: { position: Position; value: number }[] = [];
    let end: LogRecord | null = null;
    while (this.recIdx < this.records.length) {
      const r = this.records[this.recIdx++]!;
      if (r.kind === 'frame-end') {
        end = r;
        break;
      }
      if (r.kind !== 'entry') continue;
      const e = decodeEntry(r.bytes);
      if (e.k === 'nd') {
        nds.push({ position: r.position, value: e.value });
      } else {
        if (r.position.frame !== vm.frame + 1) w.violation(`${this.id} divergence: entry for frame ${r.position.frame} replayed at frame ${vm.frame + 1}`);
        if (e.k === 'input') starts.push(e);
        else {
          const data = e.data ?? this.readData.get(e.ioId);
          if (this.readData.has(e.ioId)) this.readData.delete(e.ioId);
          starts.push(data ? { k: 'io', ioId: e.ioId, data } : { k: 'io', ioId: e.ioId });
        }
      }
    }
    this.completeFrames--;
    if (this.recIdx > 256) {
      this.records = this.records.slice(this.recIdx);
      this.recIdx = 0;
    }
    this.fEvents = [];
    this.fNds = nds;
    this.fNdIdx = 0;
    vm.runFrame(starts, this.replayFx);
    const evs = this.fEvents;
    w.stats.replayedFrames++;
    if (this.fNdIdx !== nds.length) w.violation(`${this.id} divergence: frame ${vm.frame} consumed ${this.fNdIdx} of ${nds.length} logged values`);
    if (!end || comparePos(end.position, vm.position) !== 0) {
      w.violation(`${this.id} divergence: frame ended at ${formatPos(vm.position)}, primary's at ${formatPos(end?.position)}`);
    }
    const primary = this.agent.backup?.primary;
    if (primary) w.checkHash(this.id, primary, vm.frame, vm.digest());
    for (const ev of evs) this.feed(ev);
    this.feed({ type: 'frameDone', position: vm.position, guestTime: vm.guestTime });
  }
}

function encodeSnapshot(vm: ToyVm, disk: Map<number, Uint8Array> | null): Uint8Array {
  const v = vm.snapshot();
  const d = new TextEncoder().encode(JSON.stringify(disk ? [...disk].map(([k, b]) => [k, [...b]]) : null));
  const out = new Uint8Array(8 + v.length + d.length);
  new DataView(out.buffer).setUint32(0, v.length);
  out.set(v, 8);
  out.set(d, 8 + v.length);
  return out;
}

function decodeSnapshot(b: Uint8Array): { vm: ToyVm; disk: Map<number, Uint8Array> | null } {
  const n = new DataView(b.buffer, b.byteOffset).getUint32(0);
  const vm = ToyVm.restore(b.subarray(8, 8 + n));
  const d = JSON.parse(new TextDecoder().decode(b.subarray(8 + n))) as [number, number[]][] | null;
  return { vm, disk: d ? new Map(d.map(([k, x]) => [k, Uint8Array.from(x)])) : null };
}
