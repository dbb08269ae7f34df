// The IDE disk as v86 sees it (its buffer interface: get/set with callbacks): every request
// goes to the engine's hooks, which number it, cache it and complete it at a frame boundary.

import type { MachineHooks } from "./machine.ts";

/** A class, not an object literal: v86's save_state logs plain objects it serialises. */
export class DiskAdapter {
  onload: undefined | ((e: unknown) => void) = undefined;
  onprogress: undefined = undefined;

  constructor(
    readonly byteLength: number,
    private readonly hooks: { current: MachineHooks },
  ) {}

  load(): void {
    this.onload?.(Object.create(null));
  }

  get(start: number, len: number, fn: (data: Uint8Array) => void): void {
    this.hooks.current.diskRead(start, len, fn);
  }

  set(start: number, data: Uint8Array, fn: () => void): void {
    // The IDE may reuse `data` (PIO writes pass a view of its sector buffer): copy now.
    this.hooks.current.diskWrite(start, data.slice(), fn);
  }

  // v86 reads sector 0 before init to guess the CHS geometry from an MBR partition table.
  // That read happens outside any frame and the backup has no disk, so both sides see zeros:
  // no partition table, v86's default geometry (Linux addresses the disk by LBA anyway).
  get_and_cache(_start: number, len: number, fn: (data: Uint8Array) => void): void {
    fn(new Uint8Array(len));
  }

  get_from_cache(_start: number, len: number): Uint8Array {
    return new Uint8Array(len);
  }

  get_buffer(fn: (b: ArrayBuffer | undefined) => void): void {
    fn(undefined);
  }

  // The disk's contents live outside the machine (shared disk): nothing goes into snapshots.
  get_state(): unknown[] {
    return [];
  }

  set_state(_state: unknown): void {}
}
