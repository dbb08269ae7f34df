/**
 * Paper 3.3: "if the primary VM is explicitly powered off, the backup VM should be stopped also,
 * and should not attempt to go live." The primary logs a control entry; the backup halts when it
 * has replayed up to it. Sending the entry is not enough: if it is lost (or the backup is slow to
 * hear), the backup's failure detector fires and it would go live with a VM the user turned off.
 * So the primary, its VM stopped, settles the power-off in one of these ways:
 * - acknowledged: the backup acknowledged the entry, so it halts instead of going live;
 * - fenced: no acknowledgement within half the failure timeout (before the backup's detector,
 *   which the primary's heartbeats keep quiet meanwhile, can fire); the primary won the
 *   test-and-set on the lock record (as a failover would), so the backup's own must lose;
 * - alone: there was no backup to stop;
 * - overtaken: the backup's test-and-set won first (or a write of ours was fenced): the power-off
 *   came too late, and the VM runs on there, as after any failure of the primary, unless the
 *   backup got the entry after all and halted too.
 */
import type { FtEvent } from './api';
import type { Epoch, Millis } from './types';

export type PowerOffOutcome = 'acknowledged' | 'fenced' | 'alone' | 'overtaken';

export class PowerOff {
  constructor(private readonly at: Millis) {}

  /** The control entry's sequence number in the log (recording only). */
  entrySeq: number | null = null;
  outcome: PowerOffOutcome | null = null;

  /** What a powering-off primary still acts on: time, the backup, storage and the client. */
  static heeds(ev: FtEvent): boolean {
    return ev.type === 'tick' || ev.type === 'stalled' || ev.type === 'message' || ev.type === 'storageResult' || ev.type === 'clientMessage' || ev.type === 'peerLeft';
  }

  /** Unacknowledged for half the failure timeout: time to take the lock record. */
  overdue(now: Millis, failureTimeoutMs: Millis): boolean {
    return now - this.at >= failureTimeoutMs / 2;
  }

  acknowledgedBy(ackSeq: number): boolean {
    return this.entrySeq !== null && ackSeq >= this.entrySeq;
  }

  /** Records the outcome and says it (the halt reason). */
  settle(outcome: PowerOffOutcome, epoch?: Epoch): string {
    this.outcome = outcome;
    switch (outcome) {
      case 'acknowledged':
        return 'powered off: the backup has the power-off entry and stops too';
      case 'fenced':
        return `powered off: the backup did not acknowledge the power-off entry, so the lock record was moved to epoch ${epoch}: the backup cannot go live`;
      case 'alone':
        return 'powered off';
      case 'overtaken':
        return 'powered off here, but the backup took the lock record first: if it went live, the VM runs on there';
    }
  }
}
