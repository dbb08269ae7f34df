/**
 * One host's FT agent: whichever role the host currently plays. A host starts as primary,
 * backup, or standby (an empty host waiting for an FT VMotion), and its role changes only
 * through the paper's transitions: standby -> backup (clone received), backup -> primary
 * (promoted after failover). Halting is terminal; a restarted host is a new standby with a
 * new incarnation id.
 */
import type { FtConfig } from './config';
import type { AgentState, FtAction, FtEvent, Role } from './api';
import type { CloneState, ConsoleState } from './messages';
import { ORIGIN, type Epoch, type HostId, type Millis, type Position } from './types';
import { ConsoleServer } from './console-stream';
import { DiskIo } from './disk-io';
import { Primary } from './primary';
import { Backup } from './backup';

/**
 * A pair started together begins at the origin, or where a boot image left the guest: its position,
 * guest time and the console bytes printed before it (`console`, both sides alike).
 */
export type AgentInit =
  | { role: 'primary'; epoch: Epoch; backup: HostId | null; position?: Position; guestTime?: number; console?: ConsoleState }
  | { role: 'backup'; epoch: Epoch; primary: HostId; position?: Position; guestTime?: number; console?: ConsoleState }
  | { role: 'standby' };

export interface AgentStatus {
  role: Role;
  state: AgentState;
  epoch: Epoch | null;
  /** Live means: allowed to produce externally visible effects right now. */
  live: boolean;
}

export class FtAgent {
  primary: Primary | null = null;
  backup: Backup | null = null;
  private ids = 0;
  private readonly nextId = () => ++this.ids;

  constructor(
    readonly cfg: FtConfig,
    readonly me: HostId,
    init: AgentInit,
    now: Millis,
  ) {
    if (init.role === 'primary') {
      this.primary = new Primary(cfg, {
        me,
        epoch: init.epoch,
        backup: init.backup,
        cloneId: 0,
        console: init.console ? ConsoleServer.from(init.console) : new ConsoleServer(),
        io: new DiskIo(),
        position: init.position ?? ORIGIN,
        guestTime: init.guestTime ?? 0,
        now,
        nextId: this.nextId,
      });
    } else if (init.role === 'backup') {
      this.backup = new Backup(cfg, {
        me,
        primary: init.primary,
        epoch: init.epoch,
        cloneId: 0,
        firstSeq: 1,
        console: init.console ? ConsoleServer.from(init.console) : new ConsoleServer(),
        io: new DiskIo(),
        position: init.position ?? ORIGIN,
        guestTime: init.guestTime ?? 0,
        now,
        nextId: this.nextId,
      });
    }
    // A pair started together begins in the interpreter's slow first frames (config.bootGraceMs).
    if ((init.role === 'primary' && init.backup !== null) || init.role === 'backup') {
      (this.primary ?? this.backup)!.toleratePeerSilenceUntil(now + cfg.bootGraceMs, cfg.graceFrames);
    }
  }

  get role(): Role {
    return this.primary ? 'primary' : this.backup ? 'backup' : 'standby';
  }

  status(): AgentStatus {
    if (this.primary) {
      const s = this.primary.state;
      return { role: 'primary', state: s, epoch: this.primary.epoch, live: s === 'recording' || s === 'alone' };
    }
    if (this.backup) return { role: 'backup', state: this.backup.state, epoch: this.backup.epoch, live: false };
    return { role: 'standby', state: 'waiting', epoch: null, live: false };
  }

  /** Feed one event; perform the returned actions in order. */
  step(now: Millis, ev: FtEvent): FtAction[] {
    const out: FtAction[] = [];
    if (this.primary) {
      this.primary.step(now, ev, out);
    } else if (this.backup) {
      this.backup.step(now, ev, out);
      if (this.backup.state === 'promoted') this.promote(now, out);
    } else if (ev.type === 'message' && ev.msg.t === 'clone-start') {
      this.becomeBackup(now, ev.from, ev.msg.clone, out);
    }
    return out;
  }

  private becomeBackup(now: Millis, from: HostId, clone: CloneState, out: FtAction[]): void {
    if (clone.primary !== from) return;
    out.push({ type: 'restoreSnapshot', clone });
    this.backup = new Backup(this.cfg, {
      me: this.me,
      primary: from,
      epoch: clone.epoch,
      cloneId: clone.cloneId,
      firstSeq: clone.nextSeq,
      console: ConsoleServer.from(clone.console),
      io: restoreIo(clone),
      position: clone.position,
      guestTime: clone.guestTime,
      now,
      nextId: this.nextId,
    });
    this.backup.graceAfterClone(now, clone.position);
    out.push({ type: 'stateChanged', role: 'backup', state: 'replaying', epoch: clone.epoch });
    this.backup.adoptPendingIo(out);
    // Acknowledge at once: this is what tells the primary the clone arrived.
    this.backup.step(now, { type: 'message', from, msg: { t: 'clone-start', clone } }, out);
  }

  /**
   * Paper 2.3 and 3.4: the promoted backup goes live, re-issues the disk I/O its guest is
   * still waiting for, and resends console output past what the client is known to hold.
   */
  private promote(now: Millis, out: FtAction[]): void {
    const b = this.backup!;
    const p = b.promotion!;
    this.backup = null;
    out.push({ type: 'goLive', epoch: p.epoch, from: 'backup' });
    p.io.resetCompletions();
    p.console.resetInjection();
    p.console.markReleased(p.console.produced);
    this.primary = new Primary(this.cfg, {
      me: this.me,
      epoch: p.epoch,
      backup: null,
      cloneId: 0,
      console: p.console,
      io: p.io,
      position: p.position,
      guestTime: p.guestTime,
      now,
      nextId: this.nextId,
    });
    out.push({ type: 'stateChanged', role: 'primary', state: 'alone', epoch: p.epoch });
    for (const io of p.io.list()) if (!p.writesInFlight.has(io.ioId)) out.push({ type: 'reissueDiskIo', io, epoch: p.epoch });
    const c = p.console;
    for (const ch of c.releasedChunksFrom(c.clientAcked, Number.MAX_SAFE_INTEGER)) {
      out.push({ type: 'releaseOutput', msg: { t: 'console', epoch: p.epoch, from: this.me, offset: ch.offset, bytes: ch.bytes } });
    }
    out.push({ type: 'releaseOutput', msg: { t: 'input-ack', epoch: p.epoch, from: this.me, nextSeq: c.nextInputSeq } });
  }
}

function restoreIo(clone: CloneState): DiskIo {
  const io = new DiskIo();
  for (const p of clone.pendingIo) io.issued(p);
  return io;
}
