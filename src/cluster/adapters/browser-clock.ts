import type { ClusterClock } from "../ports.ts";

/** The page's clocks and timers. */
export const browserClock: ClusterClock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  every(ms, fn) {
    const t = setInterval(fn, ms);
    return () => clearInterval(t);
  },
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};
