/**
 * A host cannot send or receive while its VM runs a frame (v86 runs a frame to its end on the
 * worker's only thread), and a fresh VM — booted, or restored from a snapshot with an empty JIT
 * cache — runs interpreter frames of up to seconds. The host measures those stalls (events in)
 * and tells its peer the longest of the recent ones in every heartbeat and ack, so the peer's
 * failure detector can tell a slow host from a dead one without guessing how long warm-up lasts.
 */
import type { Millis } from './types';

export class StallMeter {
  private stalls: { at: Millis; ms: Millis }[] = [];

  constructor(private readonly windowMs: Millis) {}

  /** The host just came back from `ms` of being unable to send or receive. */
  stalled(now: Millis, ms: Millis): void {
    if (ms > 0) this.stalls.push({ at: now, ms });
  }

  /** The longest stall that ended in the last window: what the peer should expect from us. */
  recentMax(now: Millis): Millis {
    while (this.stalls.length > 0 && now - this.stalls[0]!.at > this.windowMs) this.stalls.shift();
    let max = 0;
    for (const s of this.stalls) if (s.ms > max) max = s.ms;
    return Math.round(max);
  }
}
