/** Discrete-event scheduler: a binary heap ordered by (time, insertion order), so equal
 * times run in a deterministic order. */
interface Item {
  at: number;
  seq: number;
  fn: () => void;
}

export class EventQueue {
  now = 0;
  private heap: Item[] = [];
  private seq = 0;

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

  /** Run events up to and including `until`. */
  run(until: number): void {
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
      top.fn();
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
