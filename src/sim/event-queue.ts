/**
 * Discrete-event scheduler: a binary heap ordered by (time, insertion order), so equal times run
 * in a deterministic order.
 *
 * The hosts it drives are real host code, which awaits promises (storage replies, engine
 * creation). Whatever resolves such a promise calls `markAsync()`; after that event the queue
 * lets every pending promise continuation run (it drains the whole microtask queue) before the
 * next event, at the same simulated time. Runs stay deterministic: the same
 * events resolve the same promises in the same order.
 *
 * The heap is kept in parallel arrays (time, order, function) rather than an object per event:
 * a run schedules thousands of events, and this is the simulator's innermost loop.
 */
export class EventQueue {
  now = 0;
  private times: number[] = [];
  private seqs: number[] = [];
  private fns: (() => void)[] = [];
  private seq = 0;
  private asyncPending = false;

  /** `onError`: an event threw (host code failed outside any promise). */
  constructor(private readonly onError: (e: unknown) => void = (e) => { throw e; }) {}

  at(time: number, fn: () => void): void {
    const at = time > this.now ? time : this.now;
    const seq = this.seq++;
    const { times, seqs, fns } = this;
    let i = times.length;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = times[p]!;
      if (pt < at || (pt === at && seqs[p]! < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[p]!;
      fns[i] = fns[p]!;
      i = p;
    }
    times[i] = at;
    seqs[i] = seq;
    fns[i] = fn;
  }

  after(delay: number, fn: () => void): void {
    this.at(this.now + delay, fn);
  }

  /** A promise some host awaits was settled (or created settled) by this event. */
  markAsync(): void {
    this.asyncPending = true;
  }

  /** Run events up to and including `until`. */
  async run(until: number): Promise<void> {
    const { times, seqs, fns } = this;
    while (times.length > 0 && times[0]! <= until) {
      const at = times[0]!;
      const fn = fns[0]!;
      this.pop();
      this.now = at;
      try {
        fn();
      } catch (e) {
        this.onError(e);
      }
      if (this.asyncPending) {
        await drainMicrotasks();
        this.asyncPending = false;
      }
    }
    this.now = Math.max(this.now, until);
  }

  get size(): number {
    return this.times.length;
  }

  /** Removes the first event: the last one sifts down from the root. */
  private pop(): void {
    const { times, seqs, fns } = this;
    const lt = times.pop()!;
    const ls = seqs.pop()!;
    const lf = fns.pop()!;
    const n = times.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (times[r]! < times[l]! || (times[r] === times[l] && seqs[r]! < seqs[l]!)) ? r : l;
      const ct = times[c]!;
      if (lt < ct || (lt === ct && ls < seqs[c]!)) break;
      times[i] = ct;
      seqs[i] = seqs[c]!;
      fns[i] = fns[c]!;
      i = c;
    }
    times[i] = lt;
    seqs[i] = ls;
    fns[i] = lf;
  }
}

/**
 * Resolves once every queued microtask (and every one they queue) has run. Node runs a
 * `nextTick` callback only once the microtask queue is empty (it alternates the two queues until
 * both are), so this drains it without a turn of the event loop (a setImmediate costs one).
 */
const drainMicrotasks = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));
