import type { ClusterClock } from "../../cluster/ports.ts";
import { browserClock } from "../../cluster/adapters/browser-clock.ts";

/**
 * The page clock of a tab in tab mode, its timers run by a worker (src/workers/clock.worker.ts).
 * A background tab's own timers are throttled: in Firefox ESR 153 a 250 ms interval fired every
 * ~1000 ms (gaps up to 2 s) in a hidden tab, while a worker's 250 ms ticks arrived every 250 ms
 * (at most 278 ms). A tab's beats and client ticks must keep their pace hidden: its members'
 * timeout is 2.5 s, and a hidden standby tab is exactly the one the next FT VMotion goes to.
 * Falls back to the page's own timers where a worker cannot be started.
 */
export function workerClock(): ClusterClock {
  let worker: Worker;
  try {
    worker = new Worker(new URL("../../workers/clock.worker.ts", import.meta.url), { type: "module", name: "clock" });
  } catch {
    return browserClock;
  }
  const callbacks = new Map<number, () => void>();
  let next = 1;
  worker.onmessage = (e: MessageEvent<number>) => callbacks.get(e.data)?.();
  const start = (t: "every" | "after", ms: number, fn: () => void) => {
    const id = next++;
    callbacks.set(id, t === "every" ? fn : () => (callbacks.delete(id), fn()));
    worker.postMessage({ t, id, ms });
    return () => {
      callbacks.delete(id);
      worker.postMessage({ t: "cancel", id });
    };
  };
  return {
    now: browserClock.now,
    wallNow: browserClock.wallNow,
    every: (ms, fn) => start("every", ms, fn),
    after: (ms, fn) => start("after", ms, fn),
  };
}
