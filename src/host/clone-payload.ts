import { ByteReader, ByteWriter, LogFormatError } from "../ft/log/bytes.ts";
import type { DiskBlock } from "../storage/index.ts";

/**
 * What FT VMotion ships to a new backup (CloneState.snapshot). With a non-shared disk the disk
 * is part of the VM's state (paper 4.1: "FT VMotion must not only sync the running state ...
 * but also their disk state"), so the image travels with the engine snapshot over the logging
 * channel: the blocks written over the base image, and the hash of the sender's copy that the
 * receiver's copy must equal once imported.
 */
export interface ClonePayload {
  engine: Uint8Array;
  disk: { blocks: DiskBlock[]; hash: number } | null;
}

const MAGIC = 0x4b44534c; // "LSDK"

export function encodeClonePayload(p: ClonePayload): Uint8Array {
  if (!p.disk) return p.engine;
  const size = p.engine.length + p.disk.blocks.reduce((n, b) => n + b.data.length + 8, 0) + 32;
  const w = new ByteWriter(size);
  w.u32(MAGIC);
  w.blob(p.engine);
  w.u32(p.disk.hash);
  w.uvar(p.disk.blocks.length);
  for (const b of p.disk.blocks) {
    w.uvar(b.index);
    w.blob(b.data);
  }
  return w.finish();
}

/** `withDisk`: whether this cluster's clones carry a disk image (non-shared mode). */
export function decodeClonePayload(bytes: Uint8Array, withDisk: boolean): ClonePayload {
  if (!withDisk) return { engine: bytes, disk: null };
  const r = new ByteReader(bytes);
  if (r.u32("clone magic") !== MAGIC) throw new LogFormatError("malformed", "clone snapshot carries no disk image");
  const engine = r.blob("engine snapshot");
  const hash = r.u32("disk hash");
  const n = r.uvar("disk blocks");
  const blocks: DiskBlock[] = [];
  for (let i = 0; i < n; i++) blocks.push({ index: r.uvar("block index"), data: r.blob("block") });
  if (r.remaining) throw new LogFormatError("malformed", "trailing bytes in clone snapshot");
  return { engine, disk: { blocks, hash } };
}
