// Which 4 KiB pages of guest RAM changed since they were last compared: what a Remus-style
// checkpointing system (Cully et al., NSDI 2008; the paper's §1 and §6) would ship to its
// backup every epoch. v86 keeps no dirty bitmap we could rely on (its JIT's page flags are about
// code, not writes), so this compares RAM against a copy: word by word, copying the pages that
// changed. Costs one copy of RAM in memory and a compare of all of it per epoch; it exists only
// while the Remus meter is on. A sweep can be split into page ranges (compare(from, to)), so a
// host can spread one epoch's compare over several frame boundaries instead of stalling.

export const PAGE_BYTES = 4096;

export interface DirtyEpoch {
  /** Pages that differ from the previous epoch's copy. */
  dirtyPages: number;
  /** Pages compared (RAM size / page size). */
  pages: number;
}

export class DirtyPageTracker {
  private copy: Int32Array | null = null;

  constructor(readonly pageBytes = PAGE_BYTES) {
    if (pageBytes % 4 !== 0 || pageBytes <= 0) throw new Error("page size must be a positive multiple of 4");
  }

  /** Forget the baseline (the next epoch() or compare() starts over). */
  reset(): void {
    this.copy = null;
  }

  pagesOf(ram: Uint8Array): number {
    if (ram.byteLength % this.pageBytes !== 0) throw new Error("RAM size must be a multiple of the page size");
    return ram.byteLength / this.pageBytes;
  }

  /** A baseline exists for RAM of this size (compare() counts against it). */
  hasBaseline(ram: Uint8Array): boolean {
    return this.copy !== null && this.copy.length === ram.byteLength >>> 2;
  }

  /** Takes the baseline copy of all of RAM. */
  baseline(ram: Uint8Array): void {
    this.pagesOf(ram);
    this.copy = words(ram).slice();
  }

  /** Counts the pages in [fromPage, toPage) that changed since they were last compared, and remembers them. */
  compare(ram: Uint8Array, fromPage: number, toPage: number): number {
    if (!this.hasBaseline(ram)) throw new Error("no baseline for RAM of this size");
    const cur = words(ram);
    const copy = this.copy!;
    const per = this.pageBytes >>> 2;
    let dirty = 0;
    for (let start = fromPage * per, stop = Math.min(toPage * per, cur.length); start < stop; start += per) {
      const end = start + per;
      for (let i = start; i < end; i++) {
        if (cur[i] !== copy[i]) {
          dirty++;
          copy.set(cur.subarray(i, end), i);
          break;
        }
      }
    }
    return dirty;
  }

  /**
   * Closes an epoch in one go: counts the pages of `ram` that changed since the last call and
   * remembers their new contents. The first call only takes the baseline and returns null.
   */
  epoch(ram: Uint8Array): DirtyEpoch | null {
    const pages = this.pagesOf(ram);
    if (!this.hasBaseline(ram)) {
      this.baseline(ram);
      return null;
    }
    return { dirtyPages: this.compare(ram, 0, pages), pages };
  }
}

/** A 4-byte view compares 4 bytes at a time (wasm memory views always are aligned). */
function words(ram: Uint8Array): Int32Array {
  return ram.byteOffset % 4 === 0 ? new Int32Array(ram.buffer, ram.byteOffset, ram.byteLength >>> 2) : new Int32Array(ram.slice().buffer);
}
