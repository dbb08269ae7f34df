// Session recording file (timeline export/import): where a VM's execution started plus every log
// batch it recorded or replayed since, and the checkpoints its engine computed. Enough to replay
// the session deterministically in another worker, on another machine. Pure TS.
//
//   "LSRC" | version u8 | flags u8 (bit 0: the start snapshot is left out, see START_LEFT_OUT)
//   blob meta (UTF-8 JSON, RecordingMeta)
//   blob start snapshot (empty: the VM booted from the guest images, or left out)
//   uvar n, n × blob log batch (src/ft/log/codec.ts, consecutive frames from meta.start)
//   uvar n, n × checkpoint: uvar frame, uvar icount, u32 cpu, uvar slice, u32 ram
//   uvar n, n × read data (backup-reads sessions): uvar io id, blob data
//   crc32 (u32 LE) of every byte before it
//
// decodeRecording checks the checksum first, then everything (each batch fully decoded, frames
// continuous, checkpoints inside the recording): it returns a whole recording or throws.

import { ByteReader, ByteWriter, LogFormatError } from "../ft/log/bytes.ts";
import { decodeBatch, encodeBatch } from "../ft/log/codec.ts";
import { crc32 } from "../ft/log/crc32.ts";
import type { FrameLog } from "../ft/log/entries.ts";
import type { CheckpointInfo } from "./checkpoints.ts";
import type { EngineObserver } from "./observer.ts";
import type { SessionInfo } from "./session.ts";
import { decodeSnapshot } from "./snapshot.ts";

export const RECORDING_VERSION = 1;
const MAGIC = [0x4c, 0x53, 0x52, 0x43]; // LSRC
/** Bound on the meta blob: a corrupt length must not allocate gigabytes. */
const MAX_META = 1 << 20;

export interface Position {
  frame: number;
  icount: number;
}

/** Which guest the recording ran: the images' hashes (a replay needs exactly these). */
export interface GuestIdentity {
  files: Record<string, string>;
  cmdline: string;
  memoryMb: number;
}

export interface RecordingMeta {
  hostId: string;
  /** Real wall clock when the file was made (informational). */
  createdAtMs: number;
  guest: GuestIdentity;
  session: SessionInfo;
  /**
   * "boot": from the shipped images at frame 0; "clone": from an FT VMotion snapshot (a clone
   * marker opens its log); "image": from the boot image's snapshot (boot-image.ts; no marker).
   */
  origin: "boot" | "clone" | "image";
  start: Position;
  /** The next frame after the last one recorded. */
  end: Position;
  /** Why the recording stops at `end` before the host's present (its size cap, a gap), or null. */
  truncated: string | null;
  /**
   * The console output before `start` when the recorder knows it (origin "image": the boot
   * image's transcript, latin1), so a replay shows the whole console; absent otherwise.
   */
  consolePrefix?: string;
  /** Origin "image": the sha256 of the boot image file (the manifest's) the run started from. */
  bootImage?: string;
}

/**
 * Flag: the start snapshot is not in the file; it is the boot image named by meta.bootImage,
 * carrying meta.session (boot-image.ts), which the reader has. FT VMotion ships the primary's
 * recording with the clone: without the flag every clone carried the boot image's 15 MiB twice
 * (once as the engine snapshot's RAM, once as the recording's start), doubling the transfer.
 */
const START_LEFT_OUT = 1;

/** The boot image snapshot named `sha256`, carrying `session`; null when the reader has no such image. */
export type BootImageSource = (sha256: string, session: SessionInfo) => Uint8Array | null;

export interface Recording {
  meta: RecordingMeta;
  snapshot: Uint8Array | null;
  batches: Uint8Array[];
  checkpoints: CheckpointInfo[];
  readData: { id: number; data: Uint8Array }[];
}

/**
 * `leaveOutBootImage`: a recording that starts at a known boot image leaves its snapshot out
 * (START_LEFT_OUT); decodeRecording needs a BootImageSource to read it back.
 */
export function encodeRecording(r: Recording, opts: { leaveOutBootImage?: boolean } = {}): Uint8Array {
  const leaveOut = opts.leaveOutBootImage === true && r.meta.origin === "image" && r.meta.bootImage !== undefined;
  const size = (leaveOut ? 0 : (r.snapshot?.length ?? 0)) + r.batches.reduce((a, b) => a + b.length + 5, 0) + r.checkpoints.length * 24 + 4096;
  const w = new ByteWriter(size);
  for (const b of MAGIC) w.u8(b);
  w.u8(RECORDING_VERSION);
  w.u8(leaveOut ? START_LEFT_OUT : 0);
  w.blob(new TextEncoder().encode(JSON.stringify(r.meta)));
  w.blob(leaveOut ? new Uint8Array(0) : (r.snapshot ?? new Uint8Array(0)));
  w.uvar(r.batches.length);
  for (const b of r.batches) w.blob(b);
  w.uvar(r.checkpoints.length);
  for (const c of r.checkpoints) {
    w.uvar(c.frame);
    w.uvar(c.icount);
    w.u32(c.cpu);
    w.uvar(c.slice);
    w.u32(c.ram);
  }
  w.uvar(r.readData.length);
  for (const d of r.readData) {
    w.uvar(d.id);
    w.blob(d.data);
  }
  w.u32(crc32(w.finish()));
  return w.finish();
}

const bad = (msg: string) => new LogFormatError("corrupt", `not a valid recording: ${msg}`);

function checkMeta(m: unknown): RecordingMeta {
  const o = m as RecordingMeta;
  const pos = (p: unknown) => !!p && Number.isSafeInteger((p as Position).frame) && Number.isSafeInteger((p as Position).icount);
  if (!o || typeof o !== "object") throw bad("meta is not an object");
  if (typeof o.hostId !== "string" || typeof o.createdAtMs !== "number") throw bad("meta lacks host or date");
  if (!o.guest || typeof o.guest.files !== "object" || typeof o.guest.cmdline !== "string") throw bad("meta lacks the guest identity");
  if (!o.session || o.session.version !== 1 || typeof o.session.epochMs !== "number") throw bad("meta lacks the session");
  if (o.origin !== "boot" && o.origin !== "clone" && o.origin !== "image") throw bad(`unknown origin ${String(o.origin)}`);
  if (!pos(o.start) || !pos(o.end)) throw bad("meta lacks start/end positions");
  if (o.truncated !== null && typeof o.truncated !== "string") throw bad("meta has a malformed truncation note");
  if (o.consolePrefix !== undefined && typeof o.consolePrefix !== "string") throw bad("meta has a malformed console prefix");
  if (o.bootImage !== undefined && typeof o.bootImage !== "string") throw bad("meta has a malformed boot image name");
  return o;
}

/**
 * Decodes and fully validates a recording file. Throws LogFormatError; never returns part of one.
 * `bootImage` fills in a start snapshot that was left out (encodeRecording's leaveOutBootImage).
 */
export function decodeRecording(bytes: Uint8Array, bootImage?: BootImageSource): Recording {
  if (bytes.length < MAGIC.length + 6) throw new LogFormatError("truncated", `not a recording: only ${bytes.length} bytes`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw new LogFormatError("corrupt", "not a Lockstep recording (bad magic)");
  }
  const version = bytes[MAGIC.length]!;
  if (version !== RECORDING_VERSION) {
    throw new LogFormatError("version", `recording has format version ${version}, this build reads version ${RECORDING_VERSION}`);
  }
  const crcAt = bytes.length - 4;
  const stored = (bytes[crcAt]! | (bytes[crcAt + 1]! << 8) | (bytes[crcAt + 2]! << 16) | (bytes[crcAt + 3]! << 24)) >>> 0;
  const actual = crc32(bytes, 0, crcAt);
  if (stored !== actual) {
    throw new LogFormatError("corrupt", `recording checksum mismatch (stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)}): the file is damaged`);
  }
  const r = new ByteReader(bytes, MAGIC.length + 1, crcAt);
  const flags = r.u8("flags");
  if ((flags & ~START_LEFT_OUT) !== 0) throw bad("unknown flags");
  const metaLen = r.uvar("meta length");
  if (metaLen > MAX_META) throw bad(`implausible meta length ${metaLen}`);
  let meta: RecordingMeta;
  try {
    meta = checkMeta(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(r.bytes(metaLen, "meta"))));
  } catch (e) {
    if (e instanceof LogFormatError) throw e;
    throw bad(`meta is not valid JSON: ${(e as Error).message}`);
  }
  const snapBytes = r.blob("start snapshot");
  let snapshot = snapBytes.length > 0 ? snapBytes : null;
  if (flags & START_LEFT_OUT) {
    if (snapshot || meta.origin !== "image" || meta.bootImage === undefined) throw bad("a left-out start that is not a boot image");
    snapshot = bootImage?.(meta.bootImage, meta.session) ?? null;
    if (!snapshot) throw bad(`it starts at boot image ${meta.bootImage.slice(0, 12)}…, which this reader does not have`);
  }
  if ((meta.origin !== "boot") !== (snapshot !== null)) throw bad(`origin ${meta.origin} ${snapshot ? "with" : "without"} a snapshot`);
  if (snapshot) {
    const s = decodeSnapshot(snapshot).meta;
    if (s.frame !== meta.start.frame || s.icount !== meta.start.icount) throw bad(`snapshot at frame ${s.frame}, recording starts at ${meta.start.frame}`);
  } else if (meta.start.frame !== 0 || meta.start.icount !== 0) {
    throw bad("a recording from boot must start at frame 0");
  }

  const nBatches = r.uvar("batch count");
  if (nBatches > r.remaining) throw bad(`implausible batch count ${nBatches}`);
  const batches: Uint8Array[] = [];
  const next = { ...meta.start };
  for (let i = 0; i < nBatches; i++) {
    const b = r.blob("log batch");
    const frames = decodeBatch(b);
    const first = frames[0]!;
    if (first.frame !== next.frame || first.startIcount !== next.icount) {
      throw bad(`log gap: batch ${i} starts at frame ${first.frame}, expected ${next.frame}`);
    }
    const last = frames[frames.length - 1]!;
    next.frame = last.frame + 1;
    next.icount = last.startIcount + last.length;
    batches.push(b);
  }
  if (next.frame !== meta.end.frame || next.icount !== meta.end.icount) throw bad(`log ends at frame ${next.frame}, meta says ${meta.end.frame}`);

  const nCk = r.uvar("checkpoint count");
  if (nCk > r.remaining) throw bad(`implausible checkpoint count ${nCk}`);
  const checkpoints: CheckpointInfo[] = [];
  for (let i = 0; i < nCk; i++) {
    const c: CheckpointInfo = { frame: r.uvar("checkpoint frame"), icount: r.uvar("checkpoint icount"), cpu: r.u32("cpu hash"), slice: r.uvar("slice"), ram: r.u32("ram hash") };
    const prev = checkpoints[checkpoints.length - 1];
    if (c.frame < meta.start.frame || c.frame >= meta.end.frame || (prev && c.frame <= prev.frame)) throw bad(`checkpoint at frame ${c.frame} out of order or range`);
    checkpoints.push(c);
  }
  const nRead = r.uvar("read data count");
  if (nRead > r.remaining) throw bad(`implausible read data count ${nRead}`);
  const readData: Recording["readData"] = [];
  for (let i = 0; i < nRead; i++) readData.push({ id: r.uvar("io id"), data: r.blob("read data") });
  if (r.remaining !== 0) throw bad(`${r.remaining} trailing bytes`);
  return { meta, snapshot, batches, checkpoints, readData };
}

/** Frames the observer path gathers before encoding them into one batch of the recording. */
const FRAMES_PER_BATCH = 64;

/**
 * What a host keeps to produce its recording: the start (boot or clone snapshot) and, in order,
 * every log batch its engine recorded or replayed. The log is small (hundreds of bytes per
 * second of an idle guest), so all of it stays in memory up to `capBytes`; past the cap the
 * recording stops growing and says so.
 *
 * It listens to the engine: `engine.observe(recorder)` (subscribe before the first frame is run
 * or pushed) feeds it frames, checkpoints and backup-reads data. The add* methods remain for a
 * driver that feeds it encoded batches itself; use one way or the other, not both.
 */
export class SessionRecorder implements EngineObserver {
  /** Frames received through the observer, not yet encoded into a batch. */
  private pending: FrameLog[] = [];
  private readonly batches: Uint8Array[] = [];
  private readonly checkpoints: CheckpointInfo[] = [];
  private readonly reads: Recording["readData"] = [];
  private end: Position;
  private bytes = 0;
  private truncated: string | null = null;

  constructor(
    private readonly base: Pick<RecordingMeta, "hostId" | "guest" | "session" | "origin" | "start" | "consolePrefix" | "bootImage">,
    private readonly snapshot: Uint8Array | null,
    private readonly capBytes = 64 * 1024 * 1024,
  ) {
    this.end = { ...base.start };
  }

  /**
   * A recorder that continues `prefix`, another host's recording up to the point this host's VM
   * starts from (the new backup of an FT VMotion, restored at the end of the primary's recording
   * as it stood at the snapshot): the run stays one recording from where the first host began.
   */
  static continuing(prefix: Recording, hostId: string, capBytes?: number): SessionRecorder {
    const { meta } = prefix;
    const { guest, session, origin, start, consolePrefix, bootImage } = meta;
    const rec = new SessionRecorder(
      { hostId, guest, session, origin, start, ...(consolePrefix !== undefined ? { consolePrefix } : {}), ...(bootImage !== undefined ? { bootImage } : {}) },
      prefix.snapshot,
      capBytes,
    );
    rec.batches.push(...prefix.batches);
    rec.checkpoints.push(...prefix.checkpoints);
    rec.reads.push(...prefix.readData);
    rec.bytes = prefix.batches.reduce((n, b) => n + b.length, 0) + prefix.readData.reduce((n, d) => n + d.data.length, 0);
    rec.end = { ...meta.end };
    rec.truncated = meta.truncated;
    return rec;
  }

  /** Observer: frames continuing the recording, encoded FRAMES_PER_BATCH at a time. */
  frames(frames: readonly FrameLog[]): void {
    for (const f of frames) this.pending.push(f);
    if (this.pending.length >= FRAMES_PER_BATCH) this.encodePending();
  }

  /** Observer: a checkpoint the engine computed. */
  checkpoint(c: CheckpointInfo): void {
    this.addCheckpoint(c);
  }

  /** Observer: backup-reads data the log does not carry. */
  readData(id: number, data: Uint8Array): void {
    this.addReadData(id, data);
  }

  private encodePending(): void {
    if (this.pending.length === 0) return;
    const frames = this.pending;
    this.pending = [];
    const first = frames[0]!;
    const last = frames[frames.length - 1]!;
    this.append(encodeBatch(frames), { frame: first.frame, icount: first.startIcount }, { frame: last.frame + 1, icount: last.startIcount + last.length });
  }

  /** A batch of consecutive frames continuing the recording (as the engine recorded or replayed them). */
  addBatch(batch: Uint8Array, first: Position, next: Position): void {
    this.encodePending();
    this.append(batch, first, next);
  }

  private append(batch: Uint8Array, first: Position, next: Position): void {
    if (this.truncated) return;
    if (first.frame !== this.end.frame || first.icount !== this.end.icount) {
      // Never expected (the engine enforces the same continuity); the recording ends cleanly here.
      this.truncated = `log gap: frame ${first.frame} after ${this.end.frame}`;
      return;
    }
    if (this.bytes + batch.length > this.capBytes) {
      this.truncated = `recording cap of ${this.capBytes >> 20} MiB reached`;
      return;
    }
    this.bytes += batch.length;
    this.batches.push(batch);
    this.end = { ...next };
  }

  addCheckpoint(c: CheckpointInfo): void {
    if (!this.truncated) this.checkpoints.push({ ...c });
  }

  addReadData(id: number, data: Uint8Array): void {
    if (this.truncated) return;
    this.bytes += data.length;
    this.reads.push({ id, data });
  }

  /** Bytes held (encodes the frames gathered so far first). */
  get sizeBytes(): number {
    this.encodePending();
    return this.bytes + (this.snapshot?.length ?? 0);
  }

  recording(createdAtMs: number): Recording {
    this.encodePending();
    // Checkpoints of frames computed but not yet in a batch belong to the next recording.
    const checkpoints = this.checkpoints.filter((c) => c.frame < this.end.frame);
    return {
      meta: { ...this.base, createdAtMs, end: { ...this.end }, truncated: this.truncated },
      snapshot: this.snapshot,
      batches: this.batches.slice(),
      checkpoints,
      readData: this.reads.slice(),
    };
  }
}
