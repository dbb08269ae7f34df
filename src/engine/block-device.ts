// The guest's data disk as seen by the engine: an asynchronous block device. The engine hands
// v86's IDE controller an adapter whose requests go to a BlockDevice and whose completions are
// delivered to the guest only at frame boundaries (and logged), so any asynchronous store
// (memory now, the IndexedDB shared disk later) plugs in unchanged.
//
// Contract: the engine issues requests one at a time in the order the guest made them (it waits
// for each promise before issuing the next), so a device need not order concurrent requests.

export interface BlockDevice {
  /** Size in bytes (a multiple of 512). */
  readonly sizeBytes: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  write(offset: number, data: Uint8Array): Promise<void>;
}

/** In-memory disk. Starts zeroed (the guest formats it) or from an image. */
export class MemoryBlockDevice implements BlockDevice {
  readonly data: Uint8Array;
  reads = 0;
  writes = 0;

  constructor(sizeOrImage: number | Uint8Array) {
    this.data = typeof sizeOrImage === "number" ? new Uint8Array(sizeOrImage) : sizeOrImage.slice();
  }

  get sizeBytes(): number {
    return this.data.length;
  }

  private check(offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.data.length) {
      throw new RangeError(`disk access [${offset}, ${offset + length}) outside ${this.data.length} bytes`);
    }
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    this.check(offset, length);
    this.reads++;
    return Promise.resolve(this.data.slice(offset, offset + length));
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    this.check(offset, data.length);
    this.writes++;
    this.data.set(data, offset);
    return Promise.resolve();
  }
}
