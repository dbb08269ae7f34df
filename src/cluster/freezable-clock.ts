import { FreezableTime } from "../host/freezable-time.ts";
import type { ClusterClock } from "./ports.ts";

/** The cluster service's clock, which the lecture's pause can stop (see src/host/freezable-time.ts). */
export interface FreezableClock extends ClusterClock {
  readonly frozen: boolean;
  /** How long the world has stood still so far, in ms. */
  readonly frozenMs: number;
  freeze(): void;
  thaw(): void;
}

/**
 * Its timers (beats, the client's resends, redundancy's deadlines, the lock watch, metrics
 * samples) stop while frozen and `now()` does not count the frozen span. `wallNow` stays the
 * calendar's.
 */
export function freezableClock(base: ClusterClock): FreezableClock {
  const time = new FreezableTime({
    now: () => base.now(),
    after: (ms, fn) => base.after(ms, fn),
    every: (ms, fn) => base.every(ms, fn),
    soon: (fn) => base.after(0, fn),
  });
  return {
    get frozen() {
      return time.frozen;
    },
    get frozenMs() {
      return time.frozenMs;
    },
    freeze: () => time.freeze(),
    thaw: () => time.thaw(),
    now: () => time.now(),
    wallNow: () => base.wallNow(),
    every: (ms, fn) => time.every(ms, fn),
    after: (ms, fn) => time.after(ms, fn),
  };
}
