/**
 * Paper 3.1, FT VMotion: redundancy is restored by cloning the running primary to another
 * host, "without destroying the VM on the local server". The primary snapshots at a frame
 * boundary P, enters recording mode and logs from P on; the new backup restores P and
 * acknowledges from there. Outputs produced after P obey the Output Rule from the start, so
 * the clone is safe even if the primary dies before the backup ever answers.
 *
 * Engine detail (determinism.md): both sides must continue from fresh instances restored
 * from the same snapshot; that is the host's job when it performs `snapshotForClone`.
 */
import type { Epoch, HostId, Millis, Position } from './types';
import type { ChannelMsg, CloneState, ConsoleState, PendingIo } from './messages';

export type ClonePhase = 'snapshotting' | 'sent' | 'accepted';

/** Primary side of one clone attempt. */
export class CloneSource {
  phase: ClonePhase = 'snapshotting';
  private state: CloneState | null = null;
  private lastSent = -Infinity;

  constructor(
    readonly cloneId: number,
    readonly target: HostId,
  ) {}

  /** The snapshot is ready: build the message the new backup starts from. */
  begin(
    now: Millis,
    a: {
      epoch: Epoch;
      primary: HostId;
      position: Position;
      guestTime: number;
      snapshot: Uint8Array;
      nextSeq: number;
      console: ConsoleState;
      pendingIo: PendingIo[];
    },
  ): ChannelMsg {
    this.state = { cloneId: this.cloneId, ...a };
    this.phase = 'sent';
    this.lastSent = now;
    return { t: 'clone-start', clone: this.state };
  }

  /** The snapshot message can be lost like any other: resend until acknowledged. */
  resend(now: Millis, afterMs: Millis): ChannelMsg | null {
    if (this.phase !== 'sent' || !this.state || now - this.lastSent < afterMs) return null;
    this.lastSent = now;
    return { t: 'clone-start', clone: this.state };
  }

  onAck(cloneId: number): boolean {
    if (cloneId !== this.cloneId || this.phase !== 'sent') return false;
    this.phase = 'accepted';
    this.state = null; // the snapshot can be large; it is not needed any more
    return true;
  }
}
