/**
 * Discrete-event scheduler: a binary heap ordered by (time, insertion order), so equal times run
 * in a deterministic order.
 *
 * The hosts it drives are real host code, which awaits promises (storage replies, engine
 * creation). Whatever resolves such a promise calls `markAsync()`; after that event the queue
 * lets every pending promise continuation run (a setImmediate turn drains the whole microtask
 * queue) before the next event, at the same simulated time. Runs stay deterministic: the same
 * events resolve the same promises in the same order.
 */
interface Item {
  at: number;
  seq: number;
  fn: () => void;
}

export class EventQueue {
  now = 0;
  private heap: Item[] = [];
  private seq = 0;
  private asyncPending = false;

  /** `onError`: an event threw (host code failed outside any promise). */
  constructor(private readonly onError: (e: unknown) => void = (e) => { throw e; }) {}

  at(time: number, fn: () => void): void {
    const item = { at: Math.max(time, this.now), seq: this.seq++, fn };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p]!, item)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = item;
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
    const h = this.heap;
    while (h.length > 0 && h[0]!.at <= until) {
      const top = h[0]!;
      const last = h.pop()!;
      if (h.length > 0) {
        let i = 0;
        const n = h.length;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= n) break;
          const r = l + 1;
          const c = r < n && less(h[r]!, h[l]!) ? r : l;
          if (less(last, h[c]!)) break;
          h[i] = h[c]!;
          i = c;
        }
        h[i] = last;
      }
      this.now = top.at;
      try {
        top.fn();
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
    return this.heap.length;
  }
}

function less(a: Item, b: Item): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** Resolves once every queued microtask (and every one they queue) has run. */
const drainMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
