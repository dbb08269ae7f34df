import type { HostScheduler, Timer } from "../host/scheduler.ts";
import type { EventQueue } from "./event-queue.ts";

/** A fixed wall-clock origin, so that simulated wall time is deterministic. */
const WALL_EPOCH = 1_700_000_000_000;

/**
 * One simulated machine's thread. Work takes time: the toy engine `burn`s the cost of each frame
 * (and a stall its length), which moves this thread's clock ahead of the simulation's. Until the
 * simulation catches up, everything addressed to the thread (messages, storage replies, timers)
 * waits, as messages wait behind a busy worker; whatever the thread sends meanwhile leaves at its
 * own time. A crashed machine's thread runs nothing again.
 */
export class SimThread {
  alive = true;
  private busyUntil = -Infinity;

  constructor(private readonly q: EventQueue) {}

  /** This thread's time: the simulation's, or ahead of it while it works. */
  now(): number {
    return Math.max(this.q.now, this.busyUntil);
  }

  burn(ms: number): void {
    this.busyUntil = this.now() + ms;
  }

  /** Runs `fn` on this thread: now if it is free, when its current work ends if not, never if dead. */
  run(fn: () => void): void {
    if (!this.alive) return;
    if (this.q.now < this.busyUntil) {
      this.q.at(this.busyUntil, () => this.run(fn));
      return;
    }
    fn();
  }

  /** Schedules `fn` on this thread at its time + `ms`. */
  at(ms: number, fn: () => void): void {
    this.q.at(this.now() + ms, () => this.run(fn));
  }

  /** The host's injected time and timers (src/host/scheduler.ts), on this thread. */
  scheduler(): HostScheduler {
    const q = this.q;
    const cancellable = (schedule: (live: () => boolean) => void): Timer => {
      let cancelled = false;
      schedule(() => !cancelled);
      return { cancel: () => (cancelled = true) };
    };
    return {
      now: () => this.now(),
      wallNow: () => WALL_EPOCH + this.now(),
      after: (ms, fn) => cancellable((live) => this.at(ms, () => live() && fn())),
      every: (ms, fn) =>
        cancellable((live) => {
          const fire = (): void => {
            if (!live()) return;
            fn();
            this.at(ms, fire);
          };
          this.at(ms, fire);
        }),
      // Behind everything that reached the thread while it worked: the next event at its time
      // queues the call last.
      yield: (fn) => cancellable((live) => q.at(this.now(), () => q.after(0, () => this.run(() => live() && fn())))),
      sleep: (ms) =>
        new Promise<void>((resolve) =>
          this.at(ms, () => {
            q.markAsync();
            resolve();
          }),
        ),
    };
  }
}
