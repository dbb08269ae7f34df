import { describe, expect, it } from "vitest";
import { decodeBatch, encodeBatch, LogFormatError, type FrameLog } from "../../../src/ft/log/index.ts";
import { decodeRecording, encodeRecording, RECORDING_VERSION, SessionRecorder, type Recording } from "../../../src/engine/recording.ts";
import { makeSession } from "../../../src/engine/session.ts";

const guest = { files: { "bzImage": "ab".repeat(32), "initrd.img": "cd".repeat(32) }, cmdline: "console=ttyS0", memoryMb: 72 };
const base = { hostId: "A#1", guest, session: makeSession(1_700_000_000_000), origin: "boot" as const, start: { frame: 0, icount: 0 } };

/** Frames [first, first+n), each 1000 instructions, with a serial input and a checkpoint sprinkled in. */
function frames(first: number, n: number): FrameLog[] {
  return Array.from({ length: n }, (_, i) => ({
    frame: first + i,
    startIcount: (first + i) * 1000,
    length: 1000,
    entries:
      first + i === 3
        ? [{ k: "serial" as const, bytes: new TextEncoder().encode("kv set a 1\n") }]
        : (first + i) % 4 === 3
          ? [{ k: "checkpoint" as const, cpu: 0x1234 + i, slice: i % 18, ram: 0xbeef0000 + i }]
          : [],
  }));
}

function sample(): Recording {
  const rec = new SessionRecorder(base, null);
  for (const [first, n] of [[0, 5], [5, 3], [8, 4]] as const) {
    rec.addBatch(encodeBatch(frames(first, n)), { frame: first, icount: first * 1000 }, { frame: first + n, icount: (first + n) * 1000 });
  }
  rec.addCheckpoint({ frame: 3, icount: 4000, cpu: 1, slice: 0, ram: 2 });
  rec.addCheckpoint({ frame: 7, icount: 8000, cpu: 3, slice: 1, ram: 4 });
  // Computed for a frame not yet in any batch: not part of this recording.
  rec.addCheckpoint({ frame: 12, icount: 13000, cpu: 5, slice: 2, ram: 6 });
  rec.addReadData(9, new Uint8Array([1, 2, 3]));
  return rec.recording(1_700_000_123_000);
}

describe("session recording file", () => {
  it("round-trips batches, checkpoints, read data and meta", () => {
    const r = sample();
    expect(r.meta.end).toEqual({ frame: 12, icount: 12000 });
    expect(r.checkpoints.map((c) => c.frame)).toEqual([3, 7]);
    const back = decodeRecording(encodeRecording(r));
    expect(back.meta).toEqual(r.meta);
    expect(back.snapshot).toBeNull();
    expect(back.batches).toEqual(r.batches);
    expect(back.checkpoints).toEqual(r.checkpoints);
    expect(back.readData).toEqual([{ id: 9, data: new Uint8Array([1, 2, 3]) }]);
  });

  it("rejects any flipped byte (checksum), with a clear error", () => {
    const bytes = encodeRecording(sample());
    for (const at of [8, Math.floor(bytes.length / 2), bytes.length - 6, bytes.length - 1]) {
      const bad = bytes.slice();
      bad[at] ^= 0x40;
      expect(() => decodeRecording(bad)).toThrow(LogFormatError);
      expect(() => decodeRecording(bad)).toThrow(/checksum|damaged/);
    }
  });

  it("rejects another format version, truncation and foreign files", () => {
    const bytes = encodeRecording(sample());
    const v = bytes.slice();
    v[4] = RECORDING_VERSION + 1;
    expect(() => decodeRecording(v)).toThrow(/format version 2, this build reads version 1/);
    expect(() => decodeRecording(bytes.slice(0, bytes.length - 10))).toThrow(LogFormatError);
    expect(() => decodeRecording(new TextEncoder().encode("hello, this is not a recording"))).toThrow(/bad magic/);
    expect(() => decodeRecording(new Uint8Array(3))).toThrow(/only 3 bytes/);
  });

  it("rejects a well-formed file whose log has a gap", () => {
    const r = sample();
    const gap: Recording = { ...r, batches: [r.batches[0]!, r.batches[2]!] };
    expect(() => decodeRecording(encodeRecording(gap))).toThrow(/log gap: batch 1 starts at frame 8, expected 5/);
  });

  it("stops at its cap (and at a gap) instead of growing or failing, and says why", () => {
    const rec = new SessionRecorder(base, null, 64);
    const b0 = encodeBatch(frames(0, 5));
    rec.addBatch(b0, { frame: 0, icount: 0 }, { frame: 5, icount: 5000 });
    rec.addBatch(encodeBatch(frames(5, 60)), { frame: 5, icount: 5000 }, { frame: 65, icount: 65000 });
    const r = rec.recording(0);
    expect(r.meta.end.frame).toBe(5);
    expect(r.meta.truncated).toMatch(/cap/);
    expect(decodeRecording(encodeRecording(r)).batches).toEqual([b0]);

    const gap = new SessionRecorder(base, null);
    gap.addBatch(encodeBatch(frames(2, 2)), { frame: 2, icount: 2000 }, { frame: 4, icount: 4000 });
    expect(gap.recording(0).meta).toMatchObject({ end: { frame: 0 }, truncated: expect.stringMatching(/gap/) });
  });

  it("listens to an engine: observed frames, checkpoints and read data make the same recording as batches fed by hand", () => {
    const byHand = sample();
    const rec = new SessionRecorder(base, null);
    // As an engine reports them: one frame at a time (recorder) or a pushed batch (replayer).
    for (const f of frames(0, 5)) rec.frames([f]);
    rec.frames(frames(5, 3));
    rec.frames(frames(8, 4));
    rec.checkpoint({ frame: 3, icount: 4000, cpu: 1, slice: 0, ram: 2 });
    rec.checkpoint({ frame: 7, icount: 8000, cpu: 3, slice: 1, ram: 4 });
    rec.checkpoint({ frame: 12, icount: 13000, cpu: 5, slice: 2, ram: 6 });
    rec.readData(9, new Uint8Array([1, 2, 3]));
    const observed = decodeRecording(encodeRecording(rec.recording(1_700_000_123_000)));
    const flat = (r: Recording) => r.batches.flatMap((b) => decodeBatch(b));
    expect(observed.meta).toEqual(byHand.meta);
    expect(flat(observed)).toEqual(flat(byHand));
    expect(observed.checkpoints).toEqual(byHand.checkpoints);
    expect(observed.readData).toEqual(byHand.readData);
  });

  it("encodes observed frames in batches of at most 64, continuous with batches fed by hand", () => {
    const rec = new SessionRecorder(base, null);
    rec.frames(frames(0, 100));
    rec.addBatch(encodeBatch(frames(100, 10)), { frame: 100, icount: 100_000 }, { frame: 110, icount: 110_000 });
    rec.frames(frames(110, 3));
    const r = decodeRecording(encodeRecording(rec.recording(0)));
    expect(r.meta.truncated).toBeNull();
    expect(r.meta.end).toEqual({ frame: 113, icount: 113_000 });
    expect(r.batches.map((b) => decodeBatch(b).length)).toEqual([100, 10, 3]);
    expect(r.batches.flatMap((b) => decodeBatch(b)).map((f) => f.frame)).toEqual(Array.from({ length: 113 }, (_, i) => i));
  });
});
