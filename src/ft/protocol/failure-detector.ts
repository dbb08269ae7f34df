/**
 * Paper 2.3: "A failure is declared if heartbeating or logging traffic has stopped for
 * longer than a specific timeout." Any message from the peer counts as a sign of life,
 * because on a busy channel log records and acks arrive far more often than heartbeats.
 *
 * Silence is counted only where it means something: not while our own host could not listen
 * (`deaf`: it ran a long frame, and the peer's messages wait in its queue), and with the
 * peer's own recent stalls added to the timeout (`heard(now, peerStallMs)`: a peer running
 * slow interpreter frames after a boot or a restore says so in its heartbeats).
 */
import type { Millis } from './types';

export class FailureDetector {
  private lastHeard: Millis;
  private graceEnd: Millis = -Infinity;
  private graceEndFrame = Infinity;
  private peerStallMs: Millis = 0;

  constructor(
    private readonly timeoutMs: Millis,
    now: Millis,
  ) {
    this.lastHeard = now;
  }

  /** A message from the peer; `peerStallMs` is the longest it recently could not send (StallMeter). */
  heard(now: Millis, peerStallMs?: Millis): void {
    if (now > this.lastHeard) this.lastHeard = now;
    if (peerStallMs !== undefined) this.peerStallMs = peerStallMs;
  }

  /**
   * Our host could not listen for `ms` (up to `now`): messages the peer sent meanwhile are still
   * queued behind the stall, so that silence is ours, not the peer's. Only the part beyond
   * `allowanceMs` (a normal scheduling delay) is forgiven: a host that only ever runs short
   * frames must still notice a dead peer within the timeout.
   */
  deaf(now: Millis, ms: Millis, allowanceMs: Millis): void {
    const forgiven = ms - allowanceMs;
    if (forgiven > 0) this.lastHeard = Math.min(now, this.lastHeard + forgiven);
  }

  /** Restart the clock, e.g. when a new peer appears (clone) and has not spoken yet. */
  reset(now: Millis): void {
    this.lastHeard = now;
  }

  /**
   * Silence before `until` does not count: a new backup restoring an FT VMotion snapshot is busy
   * for seconds and cannot answer, yet has not failed.
   */
  graceUntil(until: Millis): void {
    if (until > this.graceEnd) this.graceEnd = until;
  }

  /** A grace that also ends once the local VM has run frame `frame` (see config.bootGraceMs). */
  graceUntilFrame(until: Millis, frame: number): void {
    this.graceUntil(until);
    this.graceEndFrame = frame;
  }

  /** The local VM finished `frame`: a frame-bounded grace is over once it is reached. */
  progressed(frame: number): void {
    if (frame < this.graceEndFrame) return;
    this.graceEnd = -Infinity;
    this.graceEndFrame = Infinity;
  }

  /** The peer is known to be gone (cluster service): expire at the next look, grace or not. */
  declareFailed(): void {
    this.lastHeard = -Infinity;
    this.graceEnd = -Infinity;
    this.peerStallMs = 0;
  }

  expired(now: Millis): boolean {
    return now - this.lastHeard > this.timeoutMs + this.peerStallMs && now > this.graceEnd;
  }

  silenceMs(now: Millis): Millis {
    return now - this.lastHeard;
  }
}

/** Rate-limits periodic sends without a timer. */
export class Every {
  private last = -Infinity;
  constructor(private readonly periodMs: Millis) {}
  due(now: Millis): boolean {
    if (now - this.last >= this.periodMs) {
      this.last = now;
      return true;
    }
    return false;
  }
  touch(now: Millis): void {
    this.last = now;
  }
}
