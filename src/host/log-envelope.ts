import { ByteReader, ByteWriter, LogFormatError } from "../ft/log/bytes.ts";

/**
 * What one protocol log entry carries. The engine's batches are the deterministic-replay log;
 * the input marker tells the backup which client input sequence number a frame consumed, so a
 * promoted backup can tell the client exactly which keystrokes it has (exactly-once input).
 */
export type EnvelopeItem =
  | { k: "batch"; bytes: Uint8Array }
  | { k: "input"; seq: number; frame: number };

const BATCH = 1;
const INPUT = 2;

export function encodeEnvelope(items: readonly EnvelopeItem[]): Uint8Array {
  const w = new ByteWriter(64);
  w.uvar(items.length);
  for (const it of items) {
    if (it.k === "batch") {
      w.u8(BATCH);
      w.blob(it.bytes);
    } else {
      w.u8(INPUT);
      w.uvar(it.seq);
      w.uvar(it.frame);
    }
  }
  return w.finish();
}

export function decodeEnvelope(bytes: Uint8Array): EnvelopeItem[] {
  const r = new ByteReader(bytes);
  const n = r.uvar("envelope items");
  const out: EnvelopeItem[] = [];
  for (let i = 0; i < n; i++) {
    const k = r.u8("envelope kind");
    if (k === BATCH) out.push({ k: "batch", bytes: r.blob("batch") });
    else if (k === INPUT) out.push({ k: "input", seq: r.uvar(), frame: r.uvar() });
    else throw new LogFormatError("malformed", `unknown envelope item ${k}`);
  }
  if (r.remaining) throw new LogFormatError("malformed", "trailing bytes in log envelope");
  return out;
}
