/**
 * The simulated world of one run: hosts, a lossy/reordering/partitionable network, shared
 * storage holding the lock record and the virtual disk, a client terminal, and a cluster
 * service that restarts failed hosts as standbys and asks a lone primary to clone onto one.
 * It also checks the invariants (online where possible, the rest at the end of the run).
 */
import { makeConfig, type FtConfig, type UnsafeFlags } from '../protocol/config';
import { ConsoleClient } from '../protocol/console-stream';
import { LockStoreCore } from '../protocol/lock-store';
import type { ChannelMsg, ClientMsg, ToClientMsg } from '../protocol/messages';
import type { StorageResult } from '../protocol/api';
import { EventQueue } from './event-queue';
import { Rng } from './rng';
import { HOSTS, type Scenario } from './scenario';
import { SimHost } from './host';
import { blockValue } from './toy-vm';

export interface RunStats {
  frames: number;
  replayedFrames: number;
  messages: number;
  failovers: number;
  clones: number;
  pauses: number;
  slowdowns: number;
  halts: number;
  stalls: number;
  lost: boolean;
  clientBytes: number;
  inputsAcked: number;
}

type Msg = ChannelMsg | ClientMsg | ToClientMsg;

const SIM_FT: Partial<FtConfig> = {
  heartbeatIntervalMs: 4,
  failureTimeoutMs: 24,
  // The toy VM restores a snapshot at once: one timeout of grace, on the simulator's time scale.
  cloneGraceMs: 24,
  bootGraceMs: 24,
  graceFrames: 10,
  stallWindowMs: 40,
  retransmitMs: 6,
  storageRetryMs: 4,
  maxUnackedLogBytes: 3000,
  resumeUnackedLogBytes: 1500,
  lagBoundMs: 16,
  minSpeed: 0.2,
  speedStep: 0.1,
  lagAdjustIntervalMs: 4,
  consoleResendMs: 6,
  maxRecordsPerMessage: 128,
};

/** After healing, a surviving VM must be live and serving the client within this bound. */
export const LIVENESS_BOUND_MS = 150;

export class World {
  readonly q = new EventQueue();
  readonly rng: Rng;
  readonly cfg: FtConfig;
  readonly hosts = new Map<string, SimHost>();
  readonly byName = new Map<string, SimHost>();
  readonly store: LockStoreCore;
  readonly client: ConsoleClient;
  readonly violations: string[] = [];
  readonly traceLines: string[] | null;
  readonly stats: RunStats = {
    frames: 0,
    replayedFrames: 0,
    messages: 0,
    failovers: 0,
    clones: 0,
    pauses: 0,
    slowdowns: 0,
    halts: 0,
    stalls: 0,
    lost: false,
    clientBytes: 0,
    inputsAcked: 0,
  };
  private netRng: Rng;
  private storageRng: Rng;
  private incarnation = new Map<string, number>();
  private hashes = new Map<string, number[]>();
  private effectsByEpoch = new Map<number, string>();
  private clientProgressAt = 0;
  private clientLenAtBound = -1;

  constructor(
    readonly sc: Scenario,
    unsafe: UnsafeFlags = {},
    trace = false,
  ) {
    this.rng = new Rng(sc.seed ^ 0x5eed);
    this.netRng = this.rng.fork();
    this.storageRng = this.rng.fork();
    this.cfg = makeConfig({
      ...SIM_FT,
      maxUnackedLogBytes: sc.maxUnackedLogBytes,
      resumeUnackedLogBytes: sc.maxUnackedLogBytes >> 1,
      diskMode: sc.diskMode,
      readMode: sc.readMode,
      unsafe,
    });
    this.traceLines = trace ? [] : null;
    this.store = new LockStoreCore({ owner: 'A#1', epoch: 1 }, 4);
    this.client = new ConsoleClient(4);
  }

  trace(s: string): void {
    if (this.traceLines) this.traceLines.push(`${this.q.now.toFixed(2).padStart(8)}ms  ${s}`);
  }

  violation(s: string): void {
    if (this.violations.length < 20) this.violations.push(`@${this.q.now.toFixed(2)}ms ${s}`);
    this.trace(`VIOLATION: ${s}`);
  }

  // ---- hosts ---------------------------------------------------------------------------

  private newHost(name: string, init: ConstructorParameters<typeof SimHost>[4]): SimHost {
    const n = (this.incarnation.get(name) ?? 0) + 1;
    this.incarnation.set(name, n);
    const id = `${name}#${n}`;
    const h = new SimHost(this, name, id, this.cfg, init, this.sc.cpu[name] ?? 1);
    this.hosts.set(id, h);
    this.byName.set(name, h);
    this.trace(`${id} starts as ${init.role}`);
    h.start();
    return h;
  }

  crashHost(h: SimHost): void {
    if (!h.alive) return;
    h.crash();
    this.trace(`${h.id} crashed (${h.agent.role}/${h.agent.status().state})`);
    if (this.sc.goodbyes) this.q.after(0.5, () => this.announceLeft(h.id));
  }

  /** The cluster service tells every host that `id` left; only its peer, if any, listens. */
  private announceLeft(id: string): void {
    this.trace(`cluster: ${id} left`);
    for (const other of this.hosts.values()) if (other.id !== id && other.alive) other.feed({ type: 'peerLeft', host: id });
  }

  hostHalted(h: SimHost, _reason: string): void {
    this.stats.halts++;
    // The cluster service notices a halted VM and recycles the host as a standby.
    this.q.after(30, () => {
      if (this.byName.get(h.name) === h && h.alive) {
        h.crash();
        this.newHost(h.name, { role: 'standby' });
      }
    });
  }

  recordHash(id: string, frame: number, digest: number): void {
    let m = this.hashes.get(id);
    if (!m) this.hashes.set(id, (m = []));
    m[frame] = digest;
  }

  checkHash(id: string, primary: string, frame: number, digest: number): void {
    const expect = this.hashes.get(primary)?.[frame];
    if (expect !== undefined && expect !== digest) {
      this.violation(`${id} state differs from primary ${primary} at frame ${frame} (${digest} != ${expect})`);
    }
    // Once a backup takes over it records its own history under its own id.
    this.recordHash(id, frame, digest);
  }

  /** Invariant 1: at most one host produces externally visible effects per epoch. */
  effect(epoch: number, id: string, what: () => string): void {
    const owner = this.effectsByEpoch.get(epoch);
    if (owner === undefined) this.effectsByEpoch.set(epoch, id);
    else if (owner !== id) this.violation(`two live primaries in epoch ${epoch}: ${owner} and ${id} (${what()})`);
  }

  // ---- network -------------------------------------------------------------------------

  private cut(from: string, to: string, now: number): boolean {
    for (const p of this.sc.partitions) {
      if (now < p.from || now >= p.to) continue;
      if (p.a === from && p.b === to) return true;
      if (!p.oneWay && p.a === to && p.b === from) return true;
    }
    return false;
  }

  send(fromId: string, toId: string, msg: Msg): void {
    const now = this.q.now;
    this.stats.messages++;
    const from = nodeName(fromId);
    const to = nodeName(toId);
    const r = this.netRng;
    const healed = now >= this.sc.healAt;
    if (!healed && (this.cut(from, to, now) || r.chance(this.sc.net.loss))) return;
    const copies = !healed && r.chance(this.sc.net.dup) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.sc.net.base + r.next() * (healed ? 0.5 : this.sc.net.jitter);
      this.q.after(delay, () => this.deliver(fromId, toId, msg));
    }
  }

  private deliver(fromId: string, toId: string, msg: Msg): void {
    if (toId === 'client') return this.clientReceive(msg as ToClientMsg);
    const h = this.hosts.get(toId);
    if (!h || !h.alive) return;
    if (fromId === 'client') h.feed({ type: 'clientMessage', msg: msg as ClientMsg });
    else h.feed({ type: 'message', from: fromId, msg: msg as ChannelMsg });
  }

  // ---- storage ---------------------------------------------------------------------------

  private storageDown(t: number): boolean {
    for (const o of this.sc.storage.outages) if (t >= o.from && t < o.to) return true;
    return false;
  }

  private storageDelay(h: SimHost): number {
    const healed = this.q.now >= this.sc.healAt;
    const r = this.storageRng;
    let d = this.sc.storage.latency + r.next() * (healed ? 0.2 : this.sc.storage.jitter);
    const slow = this.sc.slowDisk[h.name] ?? 0;
    if (!healed && slow > 0 && r.chance(0.3)) d += r.next() * slow;
    return d;
  }

  /** An op reaches the store after one delay, is applied atomically there, and the reply
   * takes another; a write can therefore land long after its issuer died or was deposed. */
  private storageOp(h: SimHost, shared: boolean, apply: () => StorageResult, unavailable: () => StorageResult): void {
    const d1 = this.storageDelay(h);
    this.q.after(d1, () => {
      const res = shared && this.storageDown(this.q.now) ? unavailable() : apply();
      this.q.after(this.storageDelay(h) / 2, () => {
        if (h.alive) h.feed({ type: 'storageResult', result: res });
      });
    });
  }

  storageWrite(h: SimHost, ioId: number, block: number, data: Uint8Array, epoch: number): void {
    if (this.sc.diskMode === 'non-shared') {
      this.storageOp(
        h,
        false,
        () => {
          if (h.alive) h.localDisk.set(block, data.slice());
          return { op: 'write', ioId, epoch, ok: true };
        },
        () => ({ op: 'write', ioId, epoch, ok: false, reason: 'unavailable' }),
      );
      return;
    }
    this.storageOp(
      h,
      true,
      () => {
        const fencing = !this.cfg.unsafe.noFencing;
        const stale = epoch < this.store.lock.epoch;
        const r = this.store.writeBlock(block, data, epoch, fencing);
        if (r.ok) {
          if (stale) this.violation(`stale-epoch write landed: ${h.id} epoch ${epoch} < ${this.store.lock.epoch}, block ${block}`);
          this.effect(epoch, h.id, () => `disk write block ${block}`);
        }
        if (this.traceLines) this.trace(`store: write io${ioId} block ${block}=${blockValue(data)} by ${h.id} epoch ${epoch}: ${r.ok ? 'ok' : r.reason}`);
        return r.ok ? { op: 'write', ioId, epoch, ok: true } : { op: 'write', ioId, epoch, ok: false, reason: r.reason };
      },
      () => ({ op: 'write', ioId, epoch, ok: false, reason: 'unavailable' }),
    );
  }

  storageRead(h: SimHost, ioId: number, block: number): void {
    const nonShared = this.sc.diskMode === 'non-shared';
    this.storageOp(
      h,
      !nonShared,
      () => {
        if (nonShared) return { op: 'read', ioId, ok: true, data: (h.localDisk.get(block) ?? new Uint8Array(4)).slice() };
        const r = this.store.readBlock(block);
        return r.ok ? { op: 'read', ioId, ok: true, data: r.data } : { op: 'read', ioId, ok: false, reason: 'unavailable' };
      },
      () => ({ op: 'read', ioId, ok: false, reason: 'unavailable' }),
    );
  }

  /** The lock record lives on shared storage, or on an external tiebreaker for a
   * non-shared disk (paper 4.1); either way it shares the storage fault model. */
  storageTas(h: SimHost, reqId: number, expectEpoch: number, owner: string, force: boolean): void {
    this.storageOp(
      h,
      true,
      () => {
        const result = this.store.testAndSet(expectEpoch, owner, force);
        if (this.traceLines) this.trace(`store: test-and-set by ${owner} expect ${expectEpoch}: ${result.ok ? 'WON' : result.reason} -> epoch ${this.store.lock.epoch}`);
        return { op: 'test-and-set', reqId, result };
      },
      () => ({ op: 'test-and-set', reqId, result: { ok: false, reason: 'unavailable' } }),
    );
  }

  // ---- client ----------------------------------------------------------------------------

  private clientReceive(msg: ToClientMsg): void {
    const before = this.client.length;
    const conflictsBefore = this.client.conflicts;
    this.client.onMessage(msg);
    if (this.client.conflicts > conflictsBefore) {
      this.violation(`client received bytes at offset ${msg.t === 'console' ? msg.offset : '?'} from ${msg.from} that contradict what it already holds`);
    }
    if (this.client.length > before) this.clientProgressAt = this.q.now;
  }

  private clientSend(msg: ClientMsg): void {
    for (const id of this.liveIds()) this.send('client', id, msg);
  }

  private liveIds(): string[] {
    const out: string[] = [];
    for (const h of this.byName.values()) if (h.alive) out.push(h.id);
    return out;
  }

  private clientLoop(): void {
    for (const m of this.client.tick(this.q.now)) this.clientSend(m);
    this.q.after(4, () => this.clientLoop());
  }

  // ---- cluster service ------------------------------------------------------------------------

  private clusterLoop(): void {
    const standby = [...this.byName.values()].find((h) => h.alive && !h.halted && h.agent.role === 'standby');
    for (const h of this.byName.values()) {
      const p = h.agent.primary;
      if (standby && h.alive && p && p.state === 'alone' && !p.cloning) {
        this.trace(`cluster: ${h.id} is alone, cloning to ${standby.id}`);
        this.stats.clones++;
        h.feed({ type: 'startClone', target: standby.id });
        break;
      }
    }
    this.q.after(10, () => this.clusterLoop());
  }

  // ---- run -----------------------------------------------------------------------------------

  run(): void {
    const sc = this.sc;
    this.newHost('A', { role: 'primary', epoch: 1, backup: 'B#1' });
    this.newHost('B', { role: 'backup', epoch: 1, primary: 'A#1' });
    this.newHost('C', { role: 'standby' });
    this.q.after(0, () => this.clientLoop());
    this.q.after(5, () => this.clusterLoop());
    let typed = 0;
    for (const t of sc.typing) {
      this.q.at(t, () => this.clientSend(this.client.type(new TextEncoder().encode(`k${typed++}`))));
    }
    for (const p of sc.partitions) this.q.at(p.from, () => this.trace(`net: partition ${p.a} ${p.oneWay ? '->' : '<->'} ${p.b} until ${p.to.toFixed(1)}`));
    for (const g of sc.falseGoodbyes) this.q.at(g.at, () => { const h = this.byName.get(g.host); if (h?.alive) this.announceLeft(h.id); });
    for (const st of sc.stalls) this.q.at(st.at, () => this.byName.get(st.host)?.stall(st.ms));
    for (const o of sc.storage.outages) this.q.at(o.from, () => this.trace(`storage: unavailable until ${o.to.toFixed(1)}`));
    for (const c of sc.crashes) {
      this.q.at(c.at, () => {
        const h = this.byName.get(c.host);
        if (!h || !h.alive) return;
        if (c.afterActions > 0) {
          h.crashAfterActions = c.afterActions;
          this.trace(`${h.id} will crash after ${c.afterActions} more actions`);
          // An idle host may perform no actions for a long time; faults must stop at healAt.
          this.q.at(Math.min(c.at + 10, sc.healAt - 0.01), () => {
            if (h.alive && h.crashAfterActions >= 0) this.crashHost(h);
          });
        } else {
          this.crashHost(h);
        }
        this.q.after(c.restartAfter, () => {
          const cur = this.byName.get(c.host);
          if (cur === h && !h.alive) this.newHost(c.host, { role: 'standby' });
          else if (cur === h) this.q.after(5, () => { if (!h.alive) this.newHost(c.host, { role: 'standby' }); });
        });
      });
    }
    this.q.run(sc.healAt);
    this.trace('--- all faults healed ---');
    const vmSurvives = this.vmHolders().length > 0;
    this.stats.lost = !vmSurvives;
    this.q.run(sc.healAt + LIVENESS_BOUND_MS);
    this.clientLenAtBound = this.client.length;
    if (vmSurvives && !this.livePrimary()) this.violation(`no live primary ${LIVENESS_BOUND_MS}ms after healing although a VM survived`);
    this.q.run(sc.endAt);
    this.finalChecks(vmSurvives);
  }

  /**
   * Hosts holding a copy of the VM that can still become (or is) the live primary. A copy
   * whose epoch is behind the lock record can never win again: whoever moved the epoch may
   * have released output it does not have. If that winner died too, the VM is lost (a
   * double failure, outside what FT promises), and the run only checks safety.
   */
  private vmHolders(): SimHost[] {
    return [...this.byName.values()].filter((h) => {
      if (!h.alive || h.halted) return false;
      const s = h.agent.status();
      return s.role !== 'standby' && s.state !== 'halted' && s.epoch === this.store.lock.epoch;
    });
  }

  livePrimary(): SimHost | null {
    let best: SimHost | null = null;
    for (const h of this.byName.values()) {
      const p = h.agent.primary;
      if (!h.alive || h.halted || !p || (p.state !== 'alone' && p.state !== 'recording')) continue;
      if (!best || p.epoch > best.agent.primary!.epoch) best = h;
    }
    return best;
  }

  private finalChecks(vmSurvives: boolean): void {
    const c = this.client;
    this.stats.clientBytes = c.length;
    this.stats.inputsAcked = c.inputAcked;
    if (!vmSurvives) return;
    const s = this.livePrimary();
    if (!s || !s.vm) return this.violation('no surviving live primary at the end of the run');
    const vm = s.vm;
    // Invariant 2: the Output Requirement, on the console stream.
    const got = new TextDecoder().decode(c.stream());
    if (!vm.console.startsWith(got)) {
      let i = 0;
      while (i < got.length && got[i] === vm.console[i]) i++;
      this.violation(
        `client console is not a prefix of the surviving history (${s.id}): differs at offset ${i}: client ${JSON.stringify(got.slice(i, i + 24))} vs VM ${JSON.stringify(vm.console.slice(i, i + 24))}`,
      );
    }
    if (vm.inputViolations > 0) this.violation(`surviving VM consumed client input out of order or twice (${vm.inputViolations})`);
    if (vm.nextInputSeq < c.inputAcked) this.violation(`client was told inputs 0..${c.inputAcked - 1} arrived, surviving VM consumed only 0..${vm.nextInputSeq - 1}`);
    // Invariant 3: every write whose completion the surviving guest saw is on its disk.
    if (vm.readMismatches > 0) this.violation(`surviving VM read data contradicting its own completed writes (${vm.readMismatches})`);
    if (vm.strayCompletions > 0) this.violation(`surviving VM got completions for I/O it never issued (${vm.strayCompletions})`);
    for (const [block, value] of vm.view) {
      if (vm.busy(block)) continue;
      const data = this.sc.diskMode === 'shared' ? this.store.blocks.get(block) : s.localDisk.get(block);
      if (blockValue(data) !== value) {
        this.violation(`block ${block}: surviving guest saw its write of ${value} complete, disk holds ${blockValue(data)}`);
      }
    }
    // Invariant 4: service resumed within the bound and keeps serving the client.
    if (c.length <= this.clientLenAtBound) {
      this.violation(`client console made no progress after healing + ${LIVENESS_BOUND_MS}ms (stuck at ${c.length}, last progress @${this.clientProgressAt.toFixed(1)}ms)`);
    }
    if (c.unackedInputs > 0) this.violation(`${c.unackedInputs} client inputs never acknowledged`);
  }
}

export { HOSTS };

const names = new Map<string, string>();
function nodeName(id: string): string {
  let n = names.get(id);
  if (n === undefined) names.set(id, (n = id.split('#')[0]!));
  return n;
}
