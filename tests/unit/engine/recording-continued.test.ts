import { describe, expect, it } from "vitest";
import { decodeBatch, encodeBatch, type FrameLog } from "../../../src/ft/log/index.ts";
import { decodeRecording, encodeRecording, SessionRecorder } from "../../../src/engine/recording.ts";
import { makeSession } from "../../../src/engine/session.ts";
import { continued } from "../../../src/host/v86-engines.ts";
import { decodeClonePayload, encodeClonePayload } from "../../../src/host/clone-payload.ts";

const guest = { files: { bzImage: "ab".repeat(32) }, cmdline: "console=ttyS0", memoryMb: 72 };
const session = makeSession(1_700_000_000_000);
const frames = (first: number, n: number): FrameLog[] =>
  Array.from({ length: n }, (_, i) => ({ frame: first + i, startIcount: (first + i) * 1000, length: 1000, entries: first + i === 2 ? [{ k: "serial" as const, bytes: new TextEncoder().encode("kv set a 1\n") }] : [] }));

/** The primary A#1's recording from boot up to frame `end` (its state at an FT VMotion snapshot there). */
function primaryUpTo(end: number): Uint8Array {
  const rec = new SessionRecorder({ hostId: "A#1", guest, session, origin: "boot", start: { frame: 0, icount: 0 } }, null);
  rec.frames(frames(0, end));
  rec.checkpoint({ frame: 1, icount: 2000, cpu: 1, slice: 0, ram: 2 });
  return encodeRecording(rec.recording(1_700_000_100_000));
}

describe("FT VMotion: the new backup's recording continues the primary's (the timeline after a failover between tabs)", () => {
  it("B#1, cloned at frame 5, records from boot: A#1's frames, then the ones it replayed itself", () => {
    const b = continued(primaryUpTo(5), { frame: 5, icount: 5000, session }, "B#1")!;
    expect(b).not.toBeNull();
    b.frames(frames(5, 4));
    const r = decodeRecording(encodeRecording(b.recording(1_700_000_200_000)));
    expect(r.meta).toMatchObject({ hostId: "B#1", origin: "boot", start: { frame: 0, icount: 0 }, end: { frame: 9, icount: 9000 }, truncated: null });
    expect(r.snapshot).toBeNull();
    const all = r.batches.flatMap((x) => decodeBatch(x));
    expect(all.map((f) => f.frame)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // The command typed while A#1 was primary, and A#1's checkpoint, are in B#1's recording.
    expect(all[2]!.entries).toEqual([{ k: "serial", bytes: new TextEncoder().encode("kv set a 1\n") }]);
    expect(r.checkpoints.map((c) => c.frame)).toEqual([1]);
  });

  it("a recording that does not end where the snapshot starts, or of another session, is not continued", () => {
    expect(continued(primaryUpTo(5), { frame: 6, icount: 6000, session }, "B#1")).toBeNull();
    expect(continued(primaryUpTo(5), { frame: 5, icount: 5000, session: makeSession(1_700_000_000_001) }, "B#1")).toBeNull();
    expect(continued(new Uint8Array([1, 2, 3]), { frame: 5, icount: 5000, session }, "B#1")).toBeNull();
    expect(continued(null, { frame: 5, icount: 5000, session }, "B#1")).toBeNull();
  });

  it("the recording travels in the clone payload, with or without the disk image", () => {
    const engine = new Uint8Array([0x4c, 0x53, 0x4e, 0x50, 9, 9, 9]);
    const recording = primaryUpTo(3);
    const shared = decodeClonePayload(encodeClonePayload({ engine, disk: null, recording }), false);
    expect(shared).toEqual({ engine, disk: null, recording });
    const own = decodeClonePayload(encodeClonePayload({ engine, disk: { blocks: [{ index: 1, data: new Uint8Array([7]) }], hash: 5 }, recording }), true);
    expect(own.recording).toEqual(recording);
    expect(own.disk!.hash).toBe(5);
    // Without a recording (a host that keeps none) a shared-disk clone is the bare snapshot, as before.
    expect(encodeClonePayload({ engine, disk: null, recording: null })).toBe(engine);
  });
});
