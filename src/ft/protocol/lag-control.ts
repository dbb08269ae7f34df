/**
 * Paper 3.2: the failover time is roughly detection time plus execution lag, so the lag
 * must stay small. The backup reports the guest time it has replayed to; when the primary's
 * guest time is ahead by more than the bound, the primary is slowed down in proportion to
 * the excess, and sped up again gradually as the backup catches up. Changes are limited to
 * `step` per `intervalMs`, the paper's "slow feedback loop".
 */
import type { Millis } from './types';

export class LagControl {
  speed = 1;
  private primaryGuestTime = 0;
  private backupGuestTime = 0;
  private lastAdjust = -Infinity;

  constructor(
    private readonly boundMs: number,
    private readonly minSpeed: number,
    private readonly step: number,
    private readonly intervalMs: Millis,
  ) {}

  onPrimaryProgress(guestTime: number): void {
    this.primaryGuestTime = guestTime;
  }

  onBackupReport(guestTime: number): void {
    if (guestTime > this.backupGuestTime) this.backupGuestTime = guestTime;
  }

  get lagMs(): number {
    return Math.max(0, this.primaryGuestTime - this.backupGuestTime);
  }

  /** The speed the loop steers towards: bound/lag (proportional) when over the bound. */
  target(): number {
    const lag = this.lagMs;
    if (lag <= this.boundMs) return 1;
    return Math.max(this.minSpeed, this.boundMs / lag);
  }

  /** Returns a new speed factor when it changed. */
  adjust(now: Millis): number | null {
    if (now - this.lastAdjust < this.intervalMs) return null;
    this.lastAdjust = now;
    const t = this.target();
    let next = this.speed;
    if (t < this.speed) next = Math.max(t, this.speed - this.step);
    else if (t > this.speed) next = Math.min(t, this.speed + this.step);
    if (next === this.speed) return null;
    this.speed = next;
    return next;
  }

  /** Alone or with a fresh backup: forget the old measurements and run at full speed. */
  reset(guestTime: number): number | null {
    this.primaryGuestTime = guestTime;
    this.backupGuestTime = guestTime;
    if (this.speed === 1) return null;
    this.speed = 1;
    return 1;
  }
}
