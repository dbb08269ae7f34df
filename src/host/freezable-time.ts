/**
 * Time that can stand still: the lecture's pause, which freezes the whole world (both VMs, every
 * host's timers and failure detector, the cluster service's timers) while a teacher explains.
 *
 * It wraps a clock and its timers. While frozen, `now()` stands at the moment of the freeze and
 * no timer fires; afterwards the frozen span is never counted: a timer due 2 s after it was set
 * fires after 2 s of unfrozen time, so no failure detector can fire because of a pause. Unfrozen,
 * every call goes straight to the base clock (a host in the simulator behaves exactly as before).
 *
 * Shared by the host scheduler (scheduler.ts `freezable`) and the cluster service's clock.
 */
export interface BaseTime {
  now(): number;
  /** Each returns how to cancel what it set. */
  after(ms: number, fn: () => void): () => void;
  every(ms: number, fn: () => void): () => void;
  /** A turn as soon as the thread is free (a host's `yield`). */
  soon(fn: () => void): () => void;
}

/** A timer while it waits: when it is due (in this clock's time) and how to start it on the base. */
interface Waiting {
  due: number;
  /** Starts the base timer with `left` ms to go. */
  arm(left: number): void;
  disarm(): void;
}

export class FreezableTime {
  private frozenAt: number | null = null;
  private frozenTotal = 0;
  private readonly waiting = new Set<Waiting>();
  private thawed: (() => void)[] = [];

  constructor(private readonly base: BaseTime) {}

  get frozen(): boolean {
    return this.frozenAt !== null;
  }

  /** Milliseconds spent frozen so far (base time that `now()` does not count). */
  get frozenMs(): number {
    return this.frozenTotal + (this.frozenAt === null ? 0 : this.base.now() - this.frozenAt);
  }

  now(): number {
    return (this.frozenAt ?? this.base.now()) - this.frozenTotal;
  }

  freeze(): void {
    if (this.frozenAt !== null) return;
    this.frozenAt = this.base.now();
    for (const w of this.waiting) w.disarm();
  }

  thaw(): void {
    if (this.frozenAt === null) return;
    this.frozenTotal += this.base.now() - this.frozenAt;
    this.frozenAt = null;
    const now = this.now();
    // In the order they were set: timers due at the same time fire in that order, as before.
    for (const w of [...this.waiting]) if (this.waiting.has(w) && !this.frozen) w.arm(Math.max(0, w.due - now));
    for (const f of this.thawed.splice(0)) f();
  }

  /** Resolves at once, or at the next thaw. */
  whenThawed(): Promise<void> {
    return this.frozen ? new Promise((resolve) => this.thawed.push(resolve)) : Promise.resolve();
  }

  after(ms: number, fn: () => void): () => void {
    return this.track(ms, (left, fire) => this.base.after(left, fire), fn);
  }

  soon(fn: () => void): () => void {
    return this.track(0, (_left, fire) => this.base.soon(fire), fn);
  }

  /** Every `ms`; across a freeze the phase is kept (the next one comes when it had `left` to go). */
  every(ms: number, fn: () => void): () => void {
    let cancelBase: (() => void) | null = null;
    let live = true;
    const tick = (): void => {
      w.due = this.now() + ms;
      fn();
    };
    const w: Waiting = {
      due: this.now() + ms,
      arm: (left) => {
        if (left >= ms) {
          cancelBase = this.base.every(ms, tick);
          return;
        }
        // After a thaw: the rest of the period, then the period again.
        cancelBase = this.base.after(left, () => {
          tick();
          if (live && !this.frozen) cancelBase = this.base.every(ms, tick);
        });
      },
      disarm: () => {
        cancelBase?.();
        cancelBase = null;
      },
    };
    this.waiting.add(w);
    if (!this.frozen) w.arm(ms);
    return () => {
      live = false;
      w.disarm();
      this.waiting.delete(w);
    };
  }

  private track(ms: number, start: (left: number, fire: () => void) => () => void, fn: () => void): () => void {
    let cancelBase: (() => void) | null = null;
    const w: Waiting = {
      due: this.now() + ms,
      arm: (left) => {
        cancelBase = start(left, () => {
          this.waiting.delete(w);
          fn();
        });
      },
      disarm: () => {
        cancelBase?.();
        cancelBase = null;
      },
    };
    this.waiting.add(w);
    if (!this.frozen) w.arm(ms);
    return () => {
      w.disarm();
      this.waiting.delete(w);
    };
  }
}
