/**
 * What a replay saw at every frame boundary it passed: instruction count, guest time and how many
 * console bytes the guest had written. Replay is deterministic, so a boundary passed once looks
 * the same on every pass: a backward seek to it is answered from here at once, instead of
 * re-running from the nearest restart point (seconds from boot). Machine state itself is not kept
 * (a snapshot per frame would cost 13 MB each, and a restored one diverges: docs/engine-notes.md);
 * only the full state hashes the replayer computed at the end of exact seeks are.
 */
export interface Boundary {
  frame: number;
  icount: number;
  guestMs: number;
  consoleBytes: number;
}

export class FrameIndex {
  private icount = new Float64Array(1024);
  private guestMs = new Float64Array(1024);
  private consoleBytes = new Float64Array(1024);
  /** Boundaries known: start … start + known − 1 (contiguous: replay passes every boundary). */
  private known = 0;
  private readonly hashes = new Map<number, string>();

  constructor(private readonly start: number) {}

  /** The boundary before `b.frame` was reached (any pass; later passes find it known already). */
  note(b: Boundary): void {
    const i = b.frame - this.start;
    if (i < 0 || i > this.known) return;
    if (i === this.known) {
      if (i === this.icount.length) this.grow();
      this.known++;
    }
    this.icount[i] = b.icount;
    this.guestMs[i] = b.guestMs;
    this.consoleBytes[i] = b.consoleBytes;
  }

  get(frame: number): Boundary | null {
    const i = frame - this.start;
    if (i < 0 || i >= this.known) return null;
    return { frame, icount: this.icount[i]!, guestMs: this.guestMs[i]!, consoleBytes: this.consoleBytes[i]! };
  }

  /** The full state hash computed at a boundary (exact seeks), if any was. */
  setHash(frame: number, hash: string): void {
    this.hashes.set(frame, hash);
  }

  hash(frame: number): string | null {
    return this.hashes.get(frame) ?? null;
  }

  private grow(): void {
    const n = this.icount.length * 2;
    for (const k of ["icount", "guestMs", "consoleBytes"] as const) {
      const a = new Float64Array(n);
      a.set(this[k]);
      this[k] = a;
    }
  }
}
