// Compact, versioned binary codec for engine log batches. Pure TS.
//
// A batch holds the logs of consecutive frames [firstFrame, firstFrame + frameCount):
//
//   magic "LS" | version u8 | flags u8 (0)
//   uvar firstFrame | uvar startIcount | uvar frameCount | uvar payloadLength
//   payload
//   crc32 (u32 LE) of every byte before it
//
// payload, per frame (version 2): uvar (length << 1 | hasEntries), then if hasEntries: uvar
//   entryCount, entries. `length` is the instructions the frame executed. (Version 1, still
//   read: uvar entryCount, entries, uvar length.)
// entry: u8 type, then its fields:
//   clock      svar (us - previous clock us in this batch, starting at 0)
//   serial     blob
//   disk-read  uvar id, u8 mode, then mode 0: blob data; mode 1 (sector-sparse, used when
//              smaller): uvar length, bitmap of non-zero 512-byte sectors, those sectors raw
//   io-done    uvar id
//   disk-read-cached uvar id
//   jit        uvar index
//   clone      uvar id, u32 hash
//   rdrand     uvar at, u32 value
//   output     uvar (end - previous output end in this batch, starting at 0), u32 crc
//   checkpoint u32 cpu, uvar slice, u32 ram
//   net-receive blob (the Ethernet frame)
//   net-transmit uvar (end - previous net-transmit end in this batch, starting at 0), u32 crc
//
// Frame numbers and icounts are therefore delta encoded. An idle guest runs hundreds of frames a
// second with no entries (a timer interrupt, then HLT): version 2 spends 1 byte on an empty
// frame of under 64 instructions and 2 bytes up to 8,191 (version 1: 2 and 3), which is most of
// an idle log. decodeBatch validates everything (magic, version, lengths, checksum, entry
// types, trailing bytes) before returning anything, so a bad batch is never half-applied.

import { ByteReader, ByteWriter, LogFormatError } from "./bytes.ts";
import { crc32 } from "./crc32.ts";
import type { FrameLog, LogEntry } from "./entries.ts";

export const LOG_FORMAT_VERSION = 2;
/** Older versions this build still decodes (session recordings keep the batches they were made with). */
const READABLE_VERSIONS = new Set([1, 2]);
const MAGIC0 = 0x4c; // 'L'
const MAGIC1 = 0x53; // 'S'

const T_CLOCK = 1;
const T_SERIAL = 2;
const T_DISK_READ = 3;
const T_IO_DONE = 4;
const T_JIT = 5;
const T_CLONE = 6;
const T_RDRAND = 7;
const T_OUTPUT = 8;
const T_CHECKPOINT = 9;
const T_DISK_READ_CACHED = 10;
const T_DISK_READ_BY_BACKUP = 11;
// 12 is main's `cut` (frames cut short on a real-time budget): the network's types follow it.
const T_NET_RECEIVE = 13;
const T_NET_TRANSMIT = 14;

/** Upper bound on entries in one frame; guards against allocation bombs from corrupt input. */
const MAX_ENTRIES_PER_FRAME = 1 << 20;

const SECTOR = 512;
/** Upper bound on one disk read's length; guards against allocation bombs from corrupt input. */
const MAX_DISK_READ = 64 * 1024 * 1024;

function writeDiskData(p: ByteWriter, data: Uint8Array): void {
  const n = Math.ceil(data.length / SECTOR);
  const bitmap = new Uint8Array(Math.ceil(n / 8));
  let nonZero = 0;
  for (let s = 0; s < n; s++) {
    const end = Math.min(data.length, (s + 1) * SECTOR);
    for (let i = s * SECTOR; i < end; i++) {
      if (data[i] !== 0) {
        bitmap[s >> 3] |= 1 << (s & 7);
        nonZero++;
        break;
      }
    }
  }
  if (nonZero * SECTOR + bitmap.length + 8 >= data.length) {
    p.u8(0);
    p.blob(data);
    return;
  }
  p.u8(1);
  p.uvar(data.length);
  p.bytes(bitmap);
  for (let s = 0; s < n; s++) {
    if (bitmap[s >> 3] & (1 << (s & 7))) p.bytes(data.subarray(s * SECTOR, Math.min(data.length, (s + 1) * SECTOR)));
  }
}

function readDiskData(p: ByteReader): Uint8Array {
  const mode = p.u8("disk data mode");
  if (mode === 0) return p.blob("disk data");
  if (mode !== 1) throw new LogFormatError("malformed", `unknown disk data mode ${mode}`);
  const length = p.uvar("disk data length");
  if (length > MAX_DISK_READ) throw new LogFormatError("malformed", `implausible disk read length ${length}`);
  const n = Math.ceil(length / SECTOR);
  const bitmap = p.bytes(Math.ceil(n / 8), "disk data bitmap");
  const out = new Uint8Array(length);
  for (let s = 0; s < n; s++) {
    if (bitmap[s >> 3] & (1 << (s & 7))) {
      const end = Math.min(length, (s + 1) * SECTOR);
      out.set(p.bytes(end - s * SECTOR, "disk data sector"), s * SECTOR);
    }
  }
  return out;
}

export function encodeBatch(frames: readonly FrameLog[]): Uint8Array {
  if (frames.length === 0) throw new RangeError("encodeBatch: no frames");
  const p = new ByteWriter(64);
  let prevClock = 0;
  let prevOut = 0;
  let prevTx = 0;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    if (i > 0) {
      const prev = frames[i - 1];
      if (f.frame !== prev.frame + 1 || f.startIcount !== prev.startIcount + prev.length) {
        throw new RangeError(`encodeBatch: frame ${f.frame} does not follow frame ${prev.frame}`);
      }
    }
    const hasEntries = f.entries.length > 0 ? 1 : 0;
    p.uvar(f.length * 2 + hasEntries);
    if (hasEntries) p.uvar(f.entries.length);
    for (const e of f.entries) {
      switch (e.k) {
        case "clock":
          p.u8(T_CLOCK);
          p.svar(e.us - prevClock);
          prevClock = e.us;
          break;
        case "serial":
          p.u8(T_SERIAL);
          p.blob(e.bytes);
          break;
        case "disk-read":
          p.u8(T_DISK_READ);
          p.uvar(e.id);
          writeDiskData(p, e.data);
          break;
        case "io-done":
          p.u8(T_IO_DONE);
          p.uvar(e.id);
          break;
        case "disk-read-cached":
          p.u8(T_DISK_READ_CACHED);
          p.uvar(e.id);
          break;
        case "disk-read-by-backup":
          p.u8(T_DISK_READ_BY_BACKUP);
          p.uvar(e.id);
          break;
        case "jit":
          p.u8(T_JIT);
          p.uvar(e.index);
          break;
        case "clone":
          p.u8(T_CLONE);
          p.uvar(e.id);
          p.u32(e.hash);
          break;
        case "rdrand":
          p.u8(T_RDRAND);
          p.uvar(e.at);
          p.u32(e.value);
          break;
        case "output":
          p.u8(T_OUTPUT);
          p.svar(e.end - prevOut);
          prevOut = e.end;
          p.u32(e.crc);
          break;
        case "net-receive":
          p.u8(T_NET_RECEIVE);
          p.blob(e.frame);
          break;
        case "net-transmit":
          p.u8(T_NET_TRANSMIT);
          p.svar(e.end - prevTx);
          prevTx = e.end;
          p.u32(e.crc);
          break;
        case "checkpoint":
          p.u8(T_CHECKPOINT);
          p.u32(e.cpu);
          p.uvar(e.slice);
          p.u32(e.ram);
          break;
        default: {
          const never: never = e;
          throw new RangeError(`encodeBatch: unknown entry ${JSON.stringify(never)}`);
        }
      }
    }
  }
  const payload = p.finish();
  const w = new ByteWriter(payload.length + 32);
  w.u8(MAGIC0);
  w.u8(MAGIC1);
  w.u8(LOG_FORMAT_VERSION);
  w.u8(0);
  w.uvar(frames[0].frame);
  w.uvar(frames[0].startIcount);
  w.uvar(frames.length);
  w.uvar(payload.length);
  w.bytes(payload);
  const body = w.finish();
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  const crc = crc32(body);
  out[body.length] = crc & 0xff;
  out[body.length + 1] = (crc >>> 8) & 0xff;
  out[body.length + 2] = (crc >>> 16) & 0xff;
  out[body.length + 3] = (crc >>> 24) & 0xff;
  return out;
}

export interface BatchHeader {
  version: number;
  firstFrame: number;
  startIcount: number;
  frameCount: number;
  byteLength: number;
}

function readHeader(r: ByteReader, total: number): BatchHeader & { payloadLength: number; payloadStart: number } {
  if (total < 4) throw new LogFormatError("truncated", `log batch truncated: ${total} bytes, header needs at least 4`);
  const m0 = r.u8("magic");
  const m1 = r.u8("magic");
  if (m0 !== MAGIC0 || m1 !== MAGIC1) {
    throw new LogFormatError("corrupt", `not a log batch: bad magic 0x${m0.toString(16)}${m1.toString(16)}`);
  }
  const version = r.u8("version");
  if (!READABLE_VERSIONS.has(version)) {
    throw new LogFormatError("version", `log batch has format version ${version}, this build reads versions ${[...READABLE_VERSIONS].join(", ")}`);
  }
  const flags = r.u8("flags");
  if (flags !== 0) throw new LogFormatError("corrupt", `log batch has unknown flags 0x${flags.toString(16)}`);
  const firstFrame = r.uvar("first frame");
  const startIcount = r.uvar("start icount");
  const frameCount = r.uvar("frame count");
  const payloadLength = r.uvar("payload length");
  return { version, firstFrame, startIcount, frameCount, payloadLength, payloadStart: r.pos, byteLength: r.pos + payloadLength + 4 };
}

/** Reads only the header (cheap; for routing/flow control). Does not verify the checksum. */
export function peekBatchHeader(bytes: Uint8Array): BatchHeader {
  const h = readHeader(new ByteReader(bytes), bytes.length);
  return { version: h.version, firstFrame: h.firstFrame, startIcount: h.startIcount, frameCount: h.frameCount, byteLength: h.byteLength };
}

/** Decodes and fully validates one batch. Throws LogFormatError; never returns partial data. */
export function decodeBatch(bytes: Uint8Array): FrameLog[] {
  const r = new ByteReader(bytes);
  const h = readHeader(r, bytes.length);
  if (h.byteLength > bytes.length) {
    throw new LogFormatError("truncated", `log batch truncated: header announces ${h.byteLength} bytes, got ${bytes.length}`);
  }
  if (h.byteLength < bytes.length) {
    throw new LogFormatError("corrupt", `log batch has ${bytes.length - h.byteLength} trailing bytes`);
  }
  const crcAt = h.payloadStart + h.payloadLength;
  const stored = (bytes[crcAt] | (bytes[crcAt + 1] << 8) | (bytes[crcAt + 2] << 16) | (bytes[crcAt + 3] << 24)) >>> 0;
  const actual = crc32(bytes, 0, crcAt);
  if (stored !== actual) {
    throw new LogFormatError("corrupt", `log batch checksum mismatch: stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)}`);
  }
  if (h.frameCount === 0) throw new LogFormatError("malformed", "log batch holds no frames");
  if (h.frameCount > h.payloadLength) throw new LogFormatError("malformed", `log batch claims ${h.frameCount} frames in ${h.payloadLength} bytes`);

  const p = new ByteReader(bytes, h.payloadStart, crcAt);
  const frames: FrameLog[] = [];
  let icount = h.startIcount;
  let prevClock = 0;
  let prevOut = 0;
  let prevTx = 0;
  for (let i = 0; i < h.frameCount; i++) {
    let length = 0;
    let n: number;
    if (h.version === 1) n = p.uvar("entry count");
    else {
      const head = p.uvar("frame header");
      length = Math.floor(head / 2);
      n = head % 2 === 1 ? p.uvar("entry count") : 0;
      if (head % 2 === 1 && n === 0) throw new LogFormatError("malformed", `frame ${h.firstFrame + i}: entries flagged but none counted`);
    }
    if (n > MAX_ENTRIES_PER_FRAME || n > p.remaining) throw new LogFormatError("malformed", `frame ${h.firstFrame + i}: implausible entry count ${n}`);
    const entries: LogEntry[] = [];
    for (let j = 0; j < n; j++) {
      const t = p.u8("entry type");
      switch (t) {
        case T_CLOCK:
          prevClock += p.svar("clock");
          if (prevClock < 0) throw new LogFormatError("malformed", "negative clock");
          entries.push({ k: "clock", us: prevClock });
          break;
        case T_SERIAL:
          entries.push({ k: "serial", bytes: p.blob("serial bytes") });
          break;
        case T_DISK_READ: {
          const id = p.uvar("io id");
          entries.push({ k: "disk-read", id, data: readDiskData(p) });
          break;
        }
        case T_IO_DONE:
          entries.push({ k: "io-done", id: p.uvar("io id") });
          break;
        case T_DISK_READ_CACHED:
          entries.push({ k: "disk-read-cached", id: p.uvar("io id") });
          break;
        case T_DISK_READ_BY_BACKUP:
          entries.push({ k: "disk-read-by-backup", id: p.uvar("io id") });
          break;
        case T_JIT:
          entries.push({ k: "jit", index: p.uvar("jit index") });
          break;
        case T_CLONE: {
          const id = p.uvar("clone id");
          entries.push({ k: "clone", id, hash: p.u32("clone hash") });
          break;
        }
        case T_RDRAND: {
          const at = p.uvar("rdrand position");
          entries.push({ k: "rdrand", at, value: p.u32("rdrand value") });
          break;
        }
        case T_OUTPUT: {
          prevOut += p.svar("output end");
          if (prevOut < 0) throw new LogFormatError("malformed", "negative output offset");
          entries.push({ k: "output", end: prevOut, crc: p.u32("output crc") });
          break;
        }
        case T_NET_RECEIVE:
          entries.push({ k: "net-receive", frame: p.blob("received frame") });
          break;
        case T_NET_TRANSMIT: {
          prevTx += p.svar("transmit end");
          if (prevTx < 0) throw new LogFormatError("malformed", "negative transmit count");
          entries.push({ k: "net-transmit", end: prevTx, crc: p.u32("transmit crc") });
          break;
        }
        case T_CHECKPOINT: {
          const cpu = p.u32("checkpoint cpu hash");
          const slice = p.uvar("checkpoint slice");
          entries.push({ k: "checkpoint", cpu, slice, ram: p.u32("checkpoint ram hash") });
          break;
        }
        default:
          throw new LogFormatError("malformed", `frame ${h.firstFrame + i}: unknown entry type ${t}`);
      }
    }
    if (h.version === 1) length = p.uvar("frame length");
    frames.push({ frame: h.firstFrame + i, startIcount: icount, length, entries });
    icount += length;
  }
  if (p.remaining !== 0) throw new LogFormatError("malformed", `log batch payload has ${p.remaining} unread bytes`);
  return frames;
}
