// The sectors the guest wrote or read in this session, identical on both sides: a write is
// stored when the guest issues it, read data when it is delivered (both are points the primary
// and the backup share). A read whose sectors are all here needs no data in the log. Bounded
// FIFO; emptied at every clone on both sides (docs/engine-notes.md, "Disk cache").

const SECTOR = 512;

export class DiskCache {
  private readonly sectors = new Map<number, Uint8Array>();
  /** Bumped by every write: read data is cached only if no write was issued meanwhile. */
  generation = 0;

  constructor(private readonly capBytes: number) {}

  private put(sector: number, data: Uint8Array): void {
    this.sectors.delete(sector);
    this.sectors.set(sector, data);
  }

  private evict(): void {
    const max = Math.floor(this.capBytes / SECTOR);
    for (const k of this.sectors.keys()) {
      if (this.sectors.size <= max) break;
      this.sectors.delete(k);
    }
  }

  store(offset: number, data: Uint8Array): void {
    if (this.capBytes <= 0) return;
    if (offset % SECTOR !== 0 || data.length % SECTOR !== 0) {
      // Not sector aligned (never from the IDE): forget what it overlaps.
      for (let s = Math.floor(offset / SECTOR); s * SECTOR < offset + data.length; s++) this.sectors.delete(s);
      return;
    }
    for (let i = 0; i < data.length; i += SECTOR) this.put((offset + i) / SECTOR, data.slice(i, i + SECTOR));
    this.evict();
  }

  write(offset: number, data: Uint8Array): void {
    this.generation++;
    this.store(offset, data);
  }

  /** The bytes [offset, offset+length) if every sector is cached, else undefined. */
  lookup(offset: number, length: number): Uint8Array | undefined {
    if (this.capBytes <= 0 || offset % SECTOR !== 0 || length % SECTOR !== 0 || length === 0) return undefined;
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += SECTOR) {
      const s = this.sectors.get((offset + i) / SECTOR);
      if (!s) return undefined;
      out.set(s, i);
    }
    return out;
  }

  clear(): void {
    this.sectors.clear();
  }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
