import { ByteReader, ByteWriter, LogFormatError } from "../ft/log/bytes.ts";
import type { ChannelMsg, CloneState, ConsoleState, LogRecord, PendingIo } from "../ft/protocol/index.ts";

/**
 * Binary encoding of logging-channel messages. Log messages dominate the traffic (every frame
 * sends at least a frame-end record), so they get a dense varint encoding with sequence
 * numbers and positions delta-coded against the previous record; the rarer messages reuse the
 * same primitives without deltas.
 */
export const WIRE_VERSION = 2;

const enum T {
  Log = 1,
  Ack = 2,
  Heartbeat = 3,
  CloneStart = 4,
}
const enum R {
  Entry = 1,
  FrameEnd = 2,
  PowerOff = 3,
}

export function encodeChannelMsg(msg: ChannelMsg): Uint8Array {
  const w = new ByteWriter(64);
  w.u8(WIRE_VERSION);
  switch (msg.t) {
    case "log":
      w.u8(T.Log);
      w.uvar(msg.epoch);
      w.uvar(msg.clientAcked);
      writeRecords(w, msg.records);
      break;
    case "ack":
      w.u8(T.Ack);
      w.uvar(msg.epoch);
      w.uvar(msg.ackSeq);
      w.uvar(msg.replayed.frame);
      w.uvar(Number(msg.replayed.icount));
      f64(w, msg.guestTime);
      w.uvar(msg.cloneId);
      w.uvar(msg.stallMs);
      break;
    case "heartbeat":
      w.u8(T.Heartbeat);
      w.uvar(msg.epoch);
      w.uvar(msg.stallMs);
      break;
    case "clone-start":
      w.u8(T.CloneStart);
      writeClone(w, msg.clone);
      break;
  }
  return w.finish();
}

export function decodeChannelMsg(bytes: Uint8Array): ChannelMsg {
  const r = new ByteReader(bytes);
  const version = r.u8("wire version");
  if (version !== WIRE_VERSION) throw new LogFormatError("version", `logging-channel message version ${version}, expected ${WIRE_VERSION}`);
  const type = r.u8("message type");
  let msg: ChannelMsg;
  switch (type) {
    case T.Log: {
      const epoch = r.uvar();
      const clientAcked = r.uvar();
      msg = { t: "log", epoch, clientAcked, records: readRecords(r) };
      break;
    }
    case T.Ack: {
      const epoch = r.uvar();
      const ackSeq = r.uvar();
      const frame = r.uvar();
      const icount = BigInt(r.uvar());
      msg = { t: "ack", epoch, ackSeq, replayed: { frame, icount }, guestTime: readF64(r), cloneId: r.uvar(), stallMs: r.uvar() };
      break;
    }
    case T.Heartbeat:
      msg = { t: "heartbeat", epoch: r.uvar(), stallMs: r.uvar() };
      break;
    case T.CloneStart:
      msg = { t: "clone-start", clone: readClone(r) };
      break;
    default:
      throw new LogFormatError("malformed", `unknown logging-channel message type ${type}`);
  }
  if (r.remaining !== 0) throw new LogFormatError("malformed", `${r.remaining} trailing bytes after a ${msg.t} message`);
  return msg;
}

function writeRecords(w: ByteWriter, records: readonly LogRecord[]): void {
  w.uvar(records.length);
  let seq = 0;
  let frame = 0;
  let icount = 0;
  for (const rec of records) {
    w.u8(rec.kind === "entry" ? R.Entry : rec.kind === "frame-end" ? R.FrameEnd : R.PowerOff);
    w.svar(rec.seq - seq);
    w.svar(rec.position.frame - frame);
    w.svar(Number(rec.position.icount) - icount);
    seq = rec.seq;
    frame = rec.position.frame;
    icount = Number(rec.position.icount);
    if (rec.kind === "entry") {
      w.blob(rec.bytes);
      if (rec.io) {
        w.u8(rec.io.hash === undefined ? 1 : 2);
        w.uvar(rec.io.ioId);
        if (rec.io.hash !== undefined) w.u32(rec.io.hash);
      } else {
        w.u8(0);
      }
    } else if (rec.kind === "frame-end") {
      f64(w, rec.guestTime);
    }
  }
}

function readRecords(r: ByteReader): LogRecord[] {
  const n = r.uvar("record count");
  const out: LogRecord[] = [];
  let seq = 0;
  let frame = 0;
  let icount = 0;
  for (let i = 0; i < n; i++) {
    const kind = r.u8("record kind");
    seq += r.svar();
    frame += r.svar();
    icount += r.svar();
    const position = { frame, icount: BigInt(icount) };
    if (kind === R.Entry) {
      const bytes = r.blob("entry bytes");
      const io = r.u8("io flag");
      if (io === 0) out.push({ kind: "entry", seq, position, bytes });
      else {
        const ioId = r.uvar();
        out.push({ kind: "entry", seq, position, bytes, io: io === 2 ? { ioId, hash: r.u32() } : { ioId } });
      }
    } else if (kind === R.FrameEnd) {
      out.push({ kind: "frame-end", seq, position, guestTime: readF64(r) });
    } else if (kind === R.PowerOff) {
      out.push({ kind: "control", seq, position, control: "power-off" });
    } else {
      throw new LogFormatError("malformed", `unknown log record kind ${kind}`);
    }
  }
  return out;
}

function writeClone(w: ByteWriter, c: CloneState): void {
  w.uvar(c.cloneId);
  w.uvar(c.epoch);
  str(w, c.primary);
  w.uvar(c.position.frame);
  w.uvar(Number(c.position.icount));
  f64(w, c.guestTime);
  w.uvar(c.nextSeq);
  writeConsole(w, c.console);
  w.uvar(c.pendingIo.length);
  for (const io of c.pendingIo) writeIo(w, io);
  w.blob(c.snapshot);
}

function readClone(r: ByteReader): CloneState {
  const cloneId = r.uvar();
  const epoch = r.uvar();
  const primary = readStr(r);
  const position = { frame: r.uvar(), icount: BigInt(r.uvar()) };
  const guestTime = readF64(r);
  const nextSeq = r.uvar();
  const console = readConsole(r);
  const pendingIo = Array.from({ length: r.uvar("pending io count") }, () => readIo(r));
  return { cloneId, epoch, primary, position, guestTime, nextSeq, console, pendingIo, snapshot: r.blob("snapshot") };
}

function writeConsole(w: ByteWriter, c: ConsoleState): void {
  w.uvar(c.produced);
  w.uvar(c.clientAcked);
  w.blob(c.retained);
  w.uvar(c.nextInputSeq);
}

function readConsole(r: ByteReader): ConsoleState {
  return { produced: r.uvar(), clientAcked: r.uvar(), retained: r.blob(), nextInputSeq: r.uvar() };
}

function writeIo(w: ByteWriter, io: PendingIo): void {
  w.u8(io.kind === "read" ? 0 : 1);
  w.uvar(io.ioId);
  w.uvar(io.block);
  w.uvar(io.position.frame);
  w.uvar(Number(io.position.icount));
  if (io.data) {
    w.u8(1);
    w.blob(io.data);
  } else w.u8(0);
}

function readIo(r: ByteReader): PendingIo {
  const kind = r.u8() === 0 ? "read" : "write";
  const ioId = r.uvar();
  const block = r.uvar();
  const position = { frame: r.uvar(), icount: BigInt(r.uvar()) };
  const io: PendingIo = { kind, ioId, block, position };
  if (r.u8()) io.data = r.blob();
  return io;
}

// One scratch buffer: the writer copies the bytes, the reader copies them in (no allocation per value).
const f64buf = new DataView(new ArrayBuffer(8));
const f64bytes = new Uint8Array(f64buf.buffer);
function f64(w: ByteWriter, v: number): void {
  f64buf.setFloat64(0, v, true);
  w.bytes(f64bytes);
}
function readF64(r: ByteReader): number {
  f64bytes.set(r.bytes(8, "f64"));
  return f64buf.getFloat64(0, true);
}
function str(w: ByteWriter, s: string): void {
  w.blob(new TextEncoder().encode(s));
}
function readStr(r: ByteReader): string {
  return new TextDecoder().decode(r.blob("string"));
}
