// Log entry types of the deterministic engine (the primary records them, the backup replays
// them). A position is (frame, 64-bit instruction count); within a frame log the position of
// each entry is implicit:
//   - boundary entries (clone, clock, jit, serial, disk-read[-cached], io-done, net-receive) apply BEFORE the frame
//     runs, at (frame, startIcount), in the order listed;
//   - rdrand entries happen during the frame, at (frame, startIcount + at);
//   - end entries (output, net-transmit, checkpoint) are observed AFTER the frame, at (frame, startIcount + length).
// Instruction counts are plain JS numbers (exact up to 2^53, months of guest time).

/** Frame start time, when it is not the predicted one: a resync to real time or an early wake. */
export interface ClockEntry {
  k: "clock";
  /** Absolute virtual time of the frame start, in microseconds. */
  us: number;
}
/** Bytes typed on the serial console (ttyS0), delivered at the frame boundary. */
export interface SerialEntry {
  k: "serial";
  bytes: Uint8Array;
}
/** Completion of the guest's disk read number `id`, with the data it read (paper's default). */
export interface DiskReadEntry {
  k: "disk-read";
  id: number;
  data: Uint8Array;
}
/**
 * Completion of the guest's disk read number `id` whose data both sides already hold: every
 * sector of it was last written (or read) by the guest in this session, so the backup serves it
 * from its own copy. The primary only logs this after checking the disk returned exactly that.
 */
export interface DiskReadCachedEntry {
  k: "disk-read-cached";
  id: number;
}
/**
 * Completion of the guest's disk read number `id` whose data the backup reads from the shared
 * disk itself (paper 4.2, "disk reads on the backup"): the log carries no data; the protocol
 * checks a hash of what the backup read against the primary's before the frame is replayed.
 */
export interface DiskReadByBackupEntry {
  k: "disk-read-by-backup";
  id: number;
}
/** Completion of the guest's disk write number `id`. */
export interface IoDoneEntry {
  k: "io-done";
  id: number;
}
/** JIT-compiled function installed into wasm table slot `index` at this boundary. */
export interface JitEntry {
  k: "jit";
  index: number;
}
/** Clone (FT VMotion) marker: both sides continue from fresh instances restored from snapshot `id`. */
export interface CloneEntry {
  k: "clone";
  id: number;
  /** Hash of the snapshot bytes, so the side that makes its own snapshot can check it. */
  hash: number;
}
/** A RDRAND value consumed by the guest `at` instructions into the frame. */
export interface RdrandEntry {
  k: "rdrand";
  at: number;
  value: number;
}
/**
 * A network packet received from the outside world (paper 2.1: received packets are the
 * largest part of the log, Table 3): the whole Ethernet frame, handed to the NIC at the
 * frame boundary, so the backup's NIC sees the same bytes at the same instruction.
 */
export interface NetReceiveEntry {
  k: "net-receive";
  frame: Uint8Array;
}
/**
 * Packets the guest transmitted during the frame (outputs, held by the Output Rule): after
 * the frame the NIC has sent `end` packets in all; crc covers this frame's packets in order.
 * The packets themselves are not logged: the backup's engine produces them too (and drops them).
 */
export interface NetTransmitEntry {
  k: "net-transmit";
  end: number;
  crc: number;
}
/** Console output produced during the frame: it ends at console offset `end`; crc of this frame's bytes. */
export interface OutputEntry {
  k: "output";
  end: number;
  crc: number;
}
/**
 * The frame was cut short: the recorder's real-time budget for one frame ran out, so it stopped
 * v86's main loop after an instruction chunk, before the loop's timer check (machine.ts). The
 * replayer cuts its frame at the same instruction count. Bounds how long a host cannot look at
 * its event loop (a cold VM's interpreter frames took seconds).
 */
export interface CutEntry {
  k: "cut";
}
/** Divergence checkpoint after the frame: hash of CPU state and of RAM slice `slice`. */
export interface CheckpointEntry {
  k: "checkpoint";
  cpu: number;
  slice: number;
  ram: number;
}

export type LogEntry =
  | ClockEntry
  | SerialEntry
  | DiskReadEntry
  | DiskReadCachedEntry
  | DiskReadByBackupEntry
  | IoDoneEntry
  | JitEntry
  | CloneEntry
  | RdrandEntry
  | OutputEntry
  | CutEntry
  | NetReceiveEntry
  | NetTransmitEntry
  | CheckpointEntry;

export type EntryKind = LogEntry["k"];

export const BOUNDARY_KINDS: ReadonlySet<EntryKind> = new Set(["clone", "clock", "jit", "serial", "disk-read", "disk-read-cached", "disk-read-by-backup", "io-done", "net-receive"]);
export const END_KINDS: ReadonlySet<EntryKind> = new Set(["output", "net-transmit", "cut", "checkpoint"]);

/** Everything the log says about one frame. */
export interface FrameLog {
  frame: number;
  /** Instruction count at the start of the frame. */
  startIcount: number;
  /** Instructions executed by the frame. */
  length: number;
  entries: LogEntry[];
}

/** Where an entry sits in the instruction stream. */
export function entryIcount(f: FrameLog, e: LogEntry): number {
  if (e.k === "rdrand") return f.startIcount + e.at;
  if (END_KINDS.has(e.k)) return f.startIcount + f.length;
  return f.startIcount;
}
