// Byte-level helpers for the log codec: a growable writer and a bounds-checked reader with
// unsigned LEB128 varints (up to 2^53 - 1, i.e. any safe JS integer) and zigzag signed varints.
// Pure TS, no DOM or Node APIs.

/** Any malformed, truncated, corrupt or wrong-version log input. Nothing was applied. */
export class LogFormatError extends Error {
  override name = "LogFormatError";
  constructor(
    readonly reason: "truncated" | "corrupt" | "version" | "malformed",
    message: string,
  ) {
    super(message);
  }
}

const TWO_32 = 0x1_0000_0000;

export class ByteWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  get length(): number {
    return this.pos;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.pos++] = v & 0xff;
  }

  u32(v: number): void {
    this.reserve(4);
    const b = this.buf;
    b[this.pos++] = v & 0xff;
    b[this.pos++] = (v >>> 8) & 0xff;
    b[this.pos++] = (v >>> 16) & 0xff;
    b[this.pos++] = (v >>> 24) & 0xff;
  }

  /** Unsigned varint; v must be a safe non-negative integer. */
  uvar(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`uvar: not a safe non-negative integer: ${v}`);
    this.reserve(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  /** Signed varint (zigzag); |v| < 2^52. */
  svar(v: number): void {
    if (!Number.isSafeInteger(v * 2)) throw new RangeError(`svar: out of range: ${v}`);
    this.uvar(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Length-prefixed byte string. */
  blob(data: Uint8Array): void {
    this.uvar(data.length);
    this.bytes(data);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export class ByteReader {
  pos: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) {
      throw new LogFormatError("truncated", `log input truncated while reading ${what} at byte ${this.pos}`);
    }
  }

  u8(what = "byte"): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }

  u32(what = "u32"): number {
    this.need(4, what);
    const b = this.buf;
    const v = (b[this.pos] | (b[this.pos + 1] << 8) | (b[this.pos + 2] << 16) | (b[this.pos + 3] << 24)) >>> 0;
    this.pos += 4;
    return v;
  }

  uvar(what = "varint"): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      this.need(1, what);
      const byte = this.buf[this.pos++];
      result += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) break;
      mul *= 0x80;
      if (i >= 7) throw new LogFormatError("malformed", `varint too long for ${what} at byte ${this.pos}`);
    }
    if (!Number.isSafeInteger(result)) throw new LogFormatError("malformed", `varint out of range for ${what}`);
    return result;
  }

  svar(what = "signed varint"): number {
    const u = this.uvar(what);
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  bytes(n: number, what = "bytes"): Uint8Array {
    this.need(n, what);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  blob(what = "blob"): Uint8Array {
    const n = this.uvar(what + " length");
    return this.bytes(n, what);
  }
}

export function u64Split(v: number): [lo: number, hi: number] {
  return [v % TWO_32 >>> 0, Math.floor(v / TWO_32)];
}
