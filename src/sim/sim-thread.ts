import type { HostScheduler, Timer } from "../host/scheduler.ts";
import type { EventQueue } from "./event-queue.ts";

/** A fixed wall-clock origin, so that simulated wall time is deterministic. */
const WALL_EPOCH = 1_700_000_000_000;

/**
 * One simulated machine's thread: an event loop with a task queue. Work takes time: the toy
 * engine `burn`s the cost of each frame (and a stall its length), which moves this thread's
 * clock ahead of the simulation's. Everything addressed to the thread (a message, a storage
 * reply, a timer that fell due, a yield) is a task, queued in the order it arrived and run once
 * the thread is free: a busy thread delays them all, and none can overtake another (a timer due
 * just as a slice ends does not starve the messages that arrived during it). Whatever the thread
 * sends meanwhile leaves at its own time. A crashed machine's thread runs nothing again.
 */
export class SimThread {
  alive = true;
  private busyUntil = -Infinity;
  private tasks: (() => void)[] = [];
  private stepping = false;

  constructor(private readonly q: EventQueue) {}

  /** This thread's time: the simulation's, or ahead of it while it works. */
  now(): number {
    return Math.max(this.q.now, this.busyUntil);
  }

  burn(ms: number): void {
    this.busyUntil = this.now() + ms;
  }

  /** A task for this thread, arriving now: run at once if the thread is idle, else queued. */
  run(fn: () => void): void {
    if (!this.alive) return;
    if (!this.stepping && this.tasks.length === 0 && this.q.now >= this.busyUntil) return fn();
    this.tasks.push(fn);
    this.schedule();
  }

  /** A task arriving at this thread's time + `ms` (a timer, or the thread's own post). */
  at(ms: number, fn: () => void): void {
    this.q.at(this.now() + ms, () => this.run(fn));
  }

  private schedule(): void {
    if (this.stepping) return;
    this.stepping = true;
    this.q.at(Math.max(this.q.now, this.busyUntil), () => this.step());
  }

  private step(): void {
    this.stepping = false;
    if (!this.alive) return;
    if (this.q.now < this.busyUntil) return this.schedule();
    const fn = this.tasks.shift();
    if (this.tasks.length > 0) this.schedule();
    fn?.();
  }

  /** The host's injected time and timers (src/host/scheduler.ts), on this thread. */
  scheduler(): HostScheduler {
    const q = this.q;
    // Timer objects and plain methods, not closures made per call: the host sets a timer every
    // slice, and tsx's keep-names transform turns each named arrow into a property definition.
    return {
      now: () => this.now(),
      wallNow: () => WALL_EPOCH + this.now(),
      after: (ms, fn) => new SimTimer(this, ms, fn, false),
      every: (ms, fn) => new SimTimer(this, ms, fn, true),
      // Posted at the end of the work in progress: behind whatever arrived during it.
      yield: (fn) => new SimTimer(this, 0, fn, false),
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

/** A timer of the host's scheduler: fires on its thread after `ms` (and every `ms` if repeating) until cancelled. */
class SimTimer implements Timer {
  private cancelled = false;

  constructor(
    private readonly thread: SimThread,
    private readonly ms: number,
    private readonly fn: () => void,
    private readonly repeat: boolean,
  ) {
    thread.at(ms, () => this.fire());
  }

  cancel(): void {
    this.cancelled = true;
  }

  private fire(): void {
    if (this.cancelled) return;
    this.fn();
    // After the work it did: a repeating timer's next turn counts from where the thread is now.
    if (this.repeat) this.thread.at(this.ms, () => this.fire());
  }
}
