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
  /**
   * The primary's session recording as of the snapshot point (src/engine/recording.ts), or null:
   * the new backup's recording continues it, so the timeline of a later failover still covers
   * the run from where the first host began (a tab's backup is always a clone).
   */
  recording?: Uint8Array | null;
}

const MAGIC = 0x5043534c; // "LSCP"; an engine snapshot alone starts with "LSNP"

export function encodeClonePayload(p: ClonePayload): Uint8Array {
  if (!p.disk && !p.recording) return p.engine;
  const blocks = p.disk?.blocks ?? [];
  const size = p.engine.length + blocks.reduce((n, b) => n + b.data.length + 8, 0) + (p.recording?.length ?? 0) + 48;
  const w = new ByteWriter(size);
  w.u32(MAGIC);
  w.u8((p.disk ? 1 : 0) | (p.recording ? 2 : 0));
  w.blob(p.engine);
  if (p.disk) {
    w.u32(p.disk.hash);
    w.uvar(blocks.length);
    for (const b of blocks) {
      w.uvar(b.index);
      w.blob(b.data);
    }
  }
  if (p.recording) w.blob(p.recording);
  return w.finish();
}

/** `withDisk`: whether this cluster's clones carry a disk image (non-shared mode). */
export function decodeClonePayload(bytes: Uint8Array, withDisk: boolean): ClonePayload {
  const r = new ByteReader(bytes);
  if (bytes.length < 4 || r.u32("clone magic") !== MAGIC) {
    if (withDisk) throw new LogFormatError("malformed", "clone snapshot carries no disk image");
    return { engine: bytes, disk: null, recording: null };
  }
  const flags = r.u8("clone flags");
  const engine = r.blob("engine snapshot");
  let disk: ClonePayload["disk"] = null;
  if (flags & 1) {
    const hash = r.u32("disk hash");
    const n = r.uvar("disk blocks");
    const blocks: DiskBlock[] = [];
    for (let i = 0; i < n; i++) blocks.push({ index: r.uvar("block index"), data: r.blob("block") });
    disk = { blocks, hash };
  }
  if (withDisk && !disk) throw new LogFormatError("malformed", "clone snapshot carries no disk image");
  const recording = flags & 2 ? r.blob("recording") : null;
  if (r.remaining) throw new LogFormatError("malformed", "trailing bytes in clone snapshot");
  return { engine, disk, recording };
}
