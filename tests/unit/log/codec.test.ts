import { describe, expect, it } from "vitest";
import {
  ByteReader,
  ByteWriter,
  crc32,
  decodeBatch,
  encodeBatch,
  LOG_FORMAT_VERSION,
  LogFormatError,
  peekBatchHeader,
  type FrameLog,
} from "../../../src/ft/log/index.ts";

function sampleFrames(): FrameLog[] {
  return [
    {
      frame: 1000,
      startIcount: 5_000_000_123,
      length: 1_000_003,
      entries: [
        { k: "clone", id: 3, hash: 0xdeadbeef },
        { k: "clock", us: 57_123_456 },
        { k: "jit", index: 17 },
        { k: "jit", index: 900 },
        { k: "disk-read", id: 41, data: Uint8Array.from({ length: 1024 }, (_, i) => (i * 7) & 0xff) },
        { k: "io-done", id: 42 },
        { k: "disk-read-cached", id: 43 },
        { k: "disk-read-by-backup", id: 44 },
        { k: "serial", bytes: new TextEncoder().encode("kv set foo bar\n") },
        { k: "rdrand", at: 12345, value: 0xffffffff },
        { k: "rdrand", at: 12399, value: 0 },
        { k: "output", end: 10_000, crc: 0x12345678 },
        { k: "cut" },
        { k: "checkpoint", cpu: 0xcafebabe, slice: 7, ram: 0x0badf00d },
      ],
    },
    { frame: 1001, startIcount: 5_001_000_126, length: 0, entries: [] },
    {
      frame: 1002,
      startIcount: 5_001_000_126,
      length: 42,
      entries: [
        { k: "clock", us: 57_100_000 },
        { k: "output", end: 9_990, crc: 1 },
      ],
    },
  ];
}

describe("varints", () => {
  it("round-trips unsigned values up to 2^53 and signed values up to 2^52", () => {
    const values = [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, 2 ** 52 - 1];
    const w = new ByteWriter(1);
    for (const v of values) {
      w.uvar(v);
      w.svar(v);
      w.svar(-v);
    }
    w.uvar(Number.MAX_SAFE_INTEGER);
    const r = new ByteReader(w.finish());
    for (const v of values) {
      expect(r.uvar()).toBe(v);
      expect(r.svar()).toBe(v);
      expect(r.svar()).toBe(v === 0 ? 0 : -v);
    }
    expect(r.uvar()).toBe(Number.MAX_SAFE_INTEGER);
    expect(r.remaining).toBe(0);
  });

  it("rejects unsafe values when writing", () => {
    expect(() => new ByteWriter().uvar(-1)).toThrow(RangeError);
    expect(() => new ByteWriter().uvar(2 ** 60)).toThrow(RangeError);
  });
});

describe("crc32", () => {
  it("matches the IEEE check value", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });
});

describe("batch codec", () => {
  it("round-trips every entry kind with delta positions", () => {
    const frames = sampleFrames();
    const bytes = encodeBatch(frames);
    expect(decodeBatch(bytes)).toEqual(frames);
    const h = peekBatchHeader(bytes);
    expect(h).toMatchObject({ version: LOG_FORMAT_VERSION, firstFrame: 1000, startIcount: 5_000_000_123, frameCount: 3 });
    expect(h.byteLength).toBe(bytes.length);
  });

  it("stores mostly-zero disk reads sparsely and round-trips them exactly", () => {
    const data = new Uint8Array(64 * 1024);
    data[5 * 512 + 7] = 9;
    data[data.length - 1] = 1;
    const frames: FrameLog[] = [{ frame: 0, startIcount: 0, length: 1, entries: [{ k: "disk-read", id: 1, data }] }];
    const bytes = encodeBatch(frames);
    expect(bytes.length).toBeLessThan(2 * 512 + 64);
    expect(decodeBatch(bytes)).toEqual(frames);
    const odd = Uint8Array.from({ length: 1000 }, (_, i) => (i < 600 ? 0 : i & 0xff));
    const f2: FrameLog[] = [{ frame: 0, startIcount: 0, length: 1, entries: [{ k: "disk-read", id: 2, data: odd }] }];
    expect(decodeBatch(encodeBatch(f2))).toEqual(f2);
  });

  it("is compact: an idle frame costs 2 bytes, a busy one about 4", () => {
    const idle: FrameLog[] = Array.from({ length: 1000 }, (_, i) => ({ frame: i, startIcount: 0, length: 0, entries: [] }));
    const idleBytes = encodeBatch(idle).length;
    expect(idleBytes).toBeLessThan(2 * 1000 + 20);
    const busy: FrameLog[] = Array.from({ length: 1000 }, (_, i) => ({
      frame: i,
      startIcount: i * 1_000_003,
      length: 1_000_003,
      entries: [],
    }));
    expect(encodeBatch(busy).length).toBeLessThan(4 * 1000 + 20);
  });

  it("refuses to encode non-consecutive frames", () => {
    const f = sampleFrames();
    f[1].frame = 1005;
    expect(() => encodeBatch(f)).toThrow(/does not follow/);
  });

  it("rejects truncated input at every length", () => {
    const bytes = encodeBatch(sampleFrames());
    for (let n = 0; n < bytes.length; n++) {
      let err: unknown = null;
      try {
        decodeBatch(bytes.subarray(0, n));
      } catch (e) {
        err = e;
      }
      expect(err, `prefix of ${n} bytes`).toBeInstanceOf(LogFormatError);
    }
  });

  it("rejects any single flipped bit (checksum) with a clear error", () => {
    const bytes = encodeBatch(sampleFrames());
    for (let i = 0; i < bytes.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = bytes.slice();
        bad[i] ^= bit;
        let err: unknown = null;
        try {
          decodeBatch(bad);
        } catch (e) {
          err = e;
        }
        expect(err, `byte ${i} bit ${bit}`).toBeInstanceOf(LogFormatError);
      }
    }
    const bad = bytes.slice();
    bad[bad.length - 10] ^= 0xff;
    expect(() => decodeBatch(bad)).toThrow(/checksum mismatch/);
  });

  it("rejects a wrong version, bad magic and trailing bytes", () => {
    const bytes = encodeBatch(sampleFrames());
    const v2 = bytes.slice();
    v2[2] = LOG_FORMAT_VERSION + 1;
    expect(() => decodeBatch(v2)).toThrow(LogFormatError);
    try {
      decodeBatch(v2);
    } catch (e) {
      expect((e as LogFormatError).reason).toBe("version");
      expect((e as Error).message).toMatch(new RegExp(`format version ${LOG_FORMAT_VERSION + 1}.*reads versions 1, 2`));
    }
    const magic = bytes.slice();
    magic[0] = 0;
    expect(() => decodeBatch(magic)).toThrow(/bad magic/);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => decodeBatch(longer)).toThrow(/trailing/);
  });

  it("spends one byte on a short empty frame and two on an idle tick's frame (version 2)", () => {
    const idle = (n: number) => Array.from({ length: n }, (_, i) => ({ frame: i, startIcount: Math.ceil(i / 2) * 2796, length: i % 2 ? 0 : 2796, entries: [] }));
    const cost = (n: number) => encodeBatch(idle(n)).length;
    // 100 more frames, half of length 0 (1 byte) and half of 2,796 instructions (2 bytes).
    expect(cost(300) - cost(200)).toBe(150);
    expect(decodeBatch(encodeBatch(idle(200)))).toEqual(idle(200));
  });

  it("still reads version 1 batches (recordings made before version 2)", () => {
    const w = new ByteWriter();
    w.u8(0x4c);
    w.u8(0x53);
    w.u8(1);
    w.u8(0);
    w.uvar(7); // first frame
    w.uvar(1000); // start icount
    w.uvar(2); // frames
    const payload = new ByteWriter();
    payload.uvar(1); // frame 7: one entry
    payload.u8(5); // jit
    payload.uvar(42);
    payload.uvar(300); // length
    payload.uvar(0); // frame 8: no entries
    payload.uvar(0); // length
    const pb = payload.finish();
    w.uvar(pb.length);
    w.bytes(pb);
    const body = w.finish();
    const out = new Uint8Array(body.length + 4);
    out.set(body);
    new DataView(out.buffer).setUint32(body.length, crc32(body), true);
    expect(decodeBatch(out)).toEqual([
      { frame: 7, startIcount: 1000, length: 300, entries: [{ k: "jit", index: 42 }] },
      { frame: 8, startIcount: 1300, length: 0, entries: [] },
    ]);
  });

  it("rejects a well-formed checksum over a malformed payload", () => {
    // Hand-build a batch whose payload has an unknown entry type, with a valid CRC.
    const w = new ByteWriter();
    w.u8(0x4c);
    w.u8(0x53);
    w.u8(LOG_FORMAT_VERSION);
    w.u8(0);
    w.uvar(0);
    w.uvar(0);
    w.uvar(1);
    w.uvar(3);
    w.u8(1); // frame header: length 0, has entries
    w.u8(1); // one entry
    w.u8(99); // unknown type
    const body = w.finish();
    const out = new Uint8Array(body.length + 4);
    out.set(body);
    new DataView(out.buffer).setUint32(body.length, crc32(body), true);
    expect(() => decodeBatch(out)).toThrow(/unknown entry type 99/);
  });
});
