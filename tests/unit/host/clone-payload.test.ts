import { describe, expect, it } from "vitest";
import { decodeClonePayload, encodeClonePayload } from "../../../src/host/clone-payload.ts";

describe("FT VMotion clone payload (non-shared disk travels with the snapshot)", () => {
  const engine = new Uint8Array(3000).map((_, i) => (i * 7) & 0xff);
  const blocks = [
    { index: 0, data: new Uint8Array(4096).fill(1) },
    { index: 4095, data: new Uint8Array(4096).fill(2) },
  ];

  it("round-trips the engine snapshot, the written blocks and the disk hash", () => {
    const p = decodeClonePayload(encodeClonePayload({ engine, disk: { blocks, hash: 0xdeadbeef } }), true);
    expect(Buffer.from(p.engine).equals(Buffer.from(engine))).toBe(true);
    expect(p.disk!.hash).toBe(0xdeadbeef);
    expect(p.disk!.blocks.map((b) => b.index)).toEqual([0, 4095]);
    expect(Buffer.from(p.disk!.blocks[1]!.data).equals(Buffer.from(blocks[1]!.data))).toBe(true);
  });

  it("a shared-disk clone is the bare engine snapshot; a non-shared host refuses one without a disk", () => {
    expect(encodeClonePayload({ engine, disk: null })).toBe(engine);
    expect(decodeClonePayload(engine, false).engine).toBe(engine);
    expect(() => decodeClonePayload(engine, true)).toThrow(/no disk image/);
  });

  it("an empty disk (nothing written over the base image) still carries its hash", () => {
    const p = decodeClonePayload(encodeClonePayload({ engine, disk: { blocks: [], hash: 7 } }), true);
    expect(p.disk).toEqual({ blocks: [], hash: 7 });
  });
});
