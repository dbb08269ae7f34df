import { FreezableTime } from "./freezable-time.ts";

/**
 * Time and timers of a host, injected: the worker and Node use the real clock and the event
 * loop; the simulator (src/sim) drives the same host code from its discrete event queue. Host
 * code never calls setTimeout, setInterval, performance.now or Date.now itself.
 */
export interface Timer {
  cancel(): void;
}

export interface HostScheduler {
  /** Monotonic milliseconds (real time of this machine, or simulated time). */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch (recording timestamps, storage keys). */
  wallNow(): number;
  /** Calls `fn` once after `ms`. */
  after(ms: number, fn: () => void): Timer;
  /** Calls `fn` every `ms` until cancelled. */
  every(ms: number, fn: () => void): Timer;
  /**
   * Calls `fn` once everything already waiting for this thread (channel messages, storage
   * replies, timers due) had its turn: how a frame loop lets the world in between slices.
   */
  yield(fn: () => void): Timer;
  /** `after` as a promise, for code that waits in sequence (the rendezvous of a pair). */
  sleep(ms: number): Promise<void>;
}

/**
 * `yield` without setTimeout's 4 ms clamp (browsers clamp nested timers). In a browser worker a
 * MessageChannel message, shared by every host of the thread so their yields take turns in one
 * queue. In Node, setImmediate: Node serves a port's queued messages in batches of up to a
 * thousand, so a loop that yields through a port starves timers and the logging channel for
 * seconds (measured in ft-check, whose two hosts share a thread: the primary's failure detector
 * saw seconds of silence the moment its timers ran again); setImmediate runs after timers and I/O.
 */
let yieldQueue: { port: MessagePort; waiting: (() => void)[] } | null = null;

function postYield(fn: () => void): void {
  if (typeof setImmediate === "function") {
    setImmediate(fn);
    return;
  }
  if (!yieldQueue) {
    const channel = new MessageChannel();
    const waiting: (() => void)[] = [];
    channel.port1.onmessage = () => waiting.shift()?.();
    yieldQueue = { port: channel.port2, waiting };
  }
  yieldQueue.waiting.push(fn);
  yieldQueue.port.postMessage(0);
}

/** The real scheduler: the event loop's timers, and `postYield`. */
export function realScheduler(now: () => number, wallNow: () => number = () => Date.now()): HostScheduler {
  return {
    now,
    wallNow,
    after(ms, fn) {
      const t = setTimeout(fn, ms);
      return { cancel: () => clearTimeout(t) };
    },
    every(ms, fn) {
      const t = setInterval(fn, ms);
      return { cancel: () => clearInterval(t) };
    },
    yield(fn) {
      let live = true;
      postYield(() => live && fn());
      return { cancel: () => (live = false) };
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

/** A host's scheduler that can stand still (the lecture's pause: see freezable-time.ts). */
export interface FreezableScheduler extends HostScheduler {
  readonly frozen: boolean;
  /** From now on `now()` stands still and no timer, yield or sleep ends. */
  freeze(): void;
  /** Time runs again, without the frozen span; what waited continues with the time it had left. */
  thaw(): void;
}

export function freezable(base: HostScheduler): FreezableScheduler {
  const time = new FreezableTime({
    now: () => base.now(),
    after: (ms, fn) => cancelOf(base.after(ms, fn)),
    every: (ms, fn) => cancelOf(base.every(ms, fn)),
    soon: (fn) => cancelOf(base.yield(fn)),
  });
  return {
    get frozen() {
      return time.frozen;
    },
    freeze: () => time.freeze(),
    thaw: () => time.thaw(),
    now: () => time.now(),
    // Wall-clock stamps (recording times, storage keys) stay true to the calendar.
    wallNow: () => base.wallNow(),
    after: (ms, fn) => ({ cancel: time.after(ms, fn) }),
    every: (ms, fn) => ({ cancel: time.every(ms, fn) }),
    yield: (fn) => ({ cancel: time.soon(fn) }),
    // The base's own sleep, unchanged (the simulator settles its promise its own way); one that
    // starts frozen begins at the thaw. Only a pair's rendezvous sleeps, before the protocol runs.
    sleep: (ms) => (time.frozen ? time.whenThawed().then(() => base.sleep(ms)) : base.sleep(ms)),
  };
}

const cancelOf = (t: Timer) => () => t.cancel();
