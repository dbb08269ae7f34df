import type { Availability } from "./availability.ts";
import { BLOCK_SIZE } from "./schema.ts";

/**
 * The arithmetic every block store shares (IndexedDB's and etcd's): a disk is its base image
 * with 4 KiB blocks written over it; an access covers blocks `first..last`.
 */

/** The blocks an access of `length` bytes at `offset` touches, checked against the disk's size. */
export function blockSpan(offset: number, length: number, sizeBytes: number): { first: number; last: number } {
  if (offset < 0 || length <= 0 || offset + length > sizeBytes) {
    throw new RangeError(`disk access [${offset}, ${offset + length}) outside a ${sizeBytes}-byte disk`);
  }
  return { first: Math.floor(offset / BLOCK_SIZE), last: Math.floor((offset + length - 1) / BLOCK_SIZE) };
}

/** Block `index` of the base image (zeros past its end). */
export function baseBlock(base: Uint8Array, index: number): Uint8Array {
  const start = index * BLOCK_SIZE;
  const block = new Uint8Array(BLOCK_SIZE);
  if (start < base.length) block.set(base.subarray(start, Math.min(start + BLOCK_SIZE, base.length)));
  return block;
}

/** Copies the overlap of src (placed at srcPos on the disk) into dst (placed at dstPos). */
export function copyOverlap(src: Uint8Array, srcPos: number, dst: Uint8Array, dstPos: number): void {
  const start = Math.max(srcPos, dstPos);
  const end = Math.min(srcPos + src.length, dstPos + dst.length);
  if (end > start) dst.set(src.subarray(start - srcPos, end - srcPos), start - dstPos);
}

/** The stored blocks of a span, by index (undefined: never written, the base image's). */
export type StoredBlocks = (index: number) => Uint8Array | undefined;

/**
 * A read of `length` bytes at `offset` as every block store does it: refused while the storage
 * is unreachable, range-checked, then the blocks `fetch` finds laid over the base image.
 */
export async function readOverBase(
  availability: Availability,
  base: Uint8Array,
  sizeBytes: number,
  offset: number,
  length: number,
  fetch: (first: number, last: number) => Promise<StoredBlocks>,
): Promise<Uint8Array> {
  availability.check("disk read");
  const { first, last } = blockSpan(offset, length, sizeBytes);
  const stored = await fetch(first, last);
  const out = new Uint8Array(length);
  for (let i = first; i <= last; i++) copyOverlap(stored(i) ?? baseBlock(base, i), i * BLOCK_SIZE, out, offset);
  return out;
}
