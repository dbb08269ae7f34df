/**
 * Splits large messages (an FT VMotion snapshot is megabytes) into data-channel-sized chunks
 * and reassembles them. Small messages pass with a 1-byte header, so log traffic pays nothing.
 * The channel is ordered and reliable, so chunks of one message arrive in order, unmixed.
 */
export const MAX_CHUNK = 64 * 1024;

const WHOLE = 0;
const FIRST = 1;
const MORE = 2;
/** A message whose bytes wait in shared storage under a key (see src/storage/bulk-store.ts). */
const STORED = 3;
/** The receiver's count of multi-chunk bytes received so far: [ACK, f64 bytes] (flow control, see bulkWindow). */
const ACK = 4;

/** A chunk that is part of a message of several (a snapshot's), the bytes a flow window counts. */
export function isPartChunk(c: Uint8Array): boolean {
  return c[0] === FIRST || c[0] === MORE;
}

export function ackChunk(received: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = ACK;
  new DataView(out.buffer).setFloat64(1, received, true);
  return out;
}

/** The byte count of an ACK chunk, or null for any other chunk. */
export function readAck(c: Uint8Array): number | null {
  if (c[0] !== ACK || c.length !== 9) return null;
  return new DataView(c.buffer, c.byteOffset, c.byteLength).getFloat64(1, true);
}

/** The in-channel stand-in for a message moved through shared storage: [STORED, u32 length, key]. */
export function storedRef(key: string, length: number): Uint8Array {
  const k = new TextEncoder().encode(key);
  const out = new Uint8Array(5 + k.length);
  out[0] = STORED;
  new DataView(out.buffer).setUint32(1, length, true);
  out.set(k, 5);
  return out;
}

export function readStoredRef(c: Uint8Array): { key: string; length: number } | null {
  if (c[0] !== STORED) return null;
  return { length: new DataView(c.buffer, c.byteOffset, c.byteLength).getUint32(1, true), key: new TextDecoder().decode(c.subarray(5)) };
}

/** A whole message as the one chunk that carries it (for bytes that arrived by another path). */
export function wholeChunk(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(message.length + 1);
  out[0] = WHOLE;
  out.set(message, 1);
  return out;
}

export function* chunk(message: Uint8Array, max = MAX_CHUNK): Generator<Uint8Array> {
  if (message.length + 1 <= max) {
    yield wholeChunk(message);
    return;
  }
  const first = new Uint8Array(5 + Math.min(max - 5, message.length));
  first[0] = FIRST;
  new DataView(first.buffer).setUint32(1, message.length, true);
  first.set(message.subarray(0, first.length - 5), 5);
  yield first;
  for (let pos = first.length - 5; pos < message.length; pos += max - 1) {
    const part = message.subarray(pos, Math.min(pos + max - 1, message.length));
    const out = new Uint8Array(part.length + 1);
    out[0] = MORE;
    out.set(part, 1);
    yield out;
  }
}

export class Reassembler {
  private buf: Uint8Array | null = null;
  private filled = 0;

  /** Feeds one chunk; returns a whole message when one completes. */
  push(c: Uint8Array, onProgress?: (received: number, total: number) => void): Uint8Array | null {
    const kind = c[0];
    if (kind === WHOLE) return c.subarray(1);
    if (kind === FIRST) {
      const total = new DataView(c.buffer, c.byteOffset, c.byteLength).getUint32(1, true);
      this.buf = new Uint8Array(total);
      this.buf.set(c.subarray(5), 0);
      this.filled = c.length - 5;
    } else if (kind === MORE && this.buf) {
      this.buf.set(c.subarray(1), this.filled);
      this.filled += c.length - 1;
    } else {
      throw new Error(`logging channel: unexpected chunk kind ${kind}`);
    }
    onProgress?.(this.filled, this.buf.length);
    if (this.filled < this.buf.length) return null;
    const done = this.buf;
    this.buf = null;
    return done;
  }
}
