// Which 4 KiB pages of guest RAM changed since the previous epoch: what a Remus-style
// checkpointing system (Cully et al., NSDI 2008; the paper's §1 and §6) would ship to its
// backup every epoch. v86 keeps no dirty bitmap we could rely on (its JIT's page flags are about
// code, not writes), so this compares RAM against a copy taken at the previous epoch: one
// word-by-word pass over RAM per epoch, plus copying the pages that changed. Costs one copy of
// RAM in memory and ~a memcmp of RAM per epoch; it exists only while the Remus meter is on.

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

  /** Forget the baseline (the next epoch() starts over). */
  reset(): void {
    this.copy = null;
  }

  /**
   * Closes an epoch: counts the pages of `ram` that changed since the last call and remembers
   * their new contents. The first call only takes the baseline and returns null.
   */
  epoch(ram: Uint8Array): DirtyEpoch | null {
    if (ram.byteLength % this.pageBytes !== 0) throw new Error("RAM size must be a multiple of the page size");
    const words = ram.byteLength >>> 2;
    // A 4-byte-aligned view compares 4 bytes at a time (wasm memory views always are aligned).
    const cur = ram.byteOffset % 4 === 0 ? new Int32Array(ram.buffer, ram.byteOffset, words) : new Int32Array(ram.slice().buffer);
    const pages = ram.byteLength / this.pageBytes;
    if (!this.copy || this.copy.length !== words) {
      this.copy = cur.slice();
      return null;
    }
    const copy = this.copy;
    const per = this.pageBytes >>> 2;
    let dirty = 0;
    for (let start = 0; start < words; start += per) {
      const end = start + per;
      for (let i = start; i < end; i++) {
        if (cur[i] !== copy[i]) {
          dirty++;
          copy.set(cur.subarray(i, end), i);
          break;
        }
      }
    }
    return { dirtyPages: dirty, pages };
  }
}
