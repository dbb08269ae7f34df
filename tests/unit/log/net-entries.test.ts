import { describe, expect, it } from "vitest";
import { decodeBatch, encodeBatch } from "../../../src/ft/log/codec.ts";
import { BOUNDARY_KINDS, END_KINDS, type FrameLog } from "../../../src/ft/log/entries.ts";
import { checkReceivedFrame, NetTransmits } from "../../../src/engine/net-device.ts";
import { emptyStats } from "../../../src/engine/stats.ts";

describe("network log entries", () => {
  it("round-trip: received frames with their bytes, transmit counts delta-encoded with their CRC", () => {
    const frame = Uint8Array.from({ length: 1514 }, (_, i) => (i * 7) & 0xff);
    const frames: FrameLog[] = [
      { frame: 10, startIcount: 5000, length: 300, entries: [{ k: "net-receive", frame }, { k: "net-receive", frame: frame.subarray(0, 60) }, { k: "net-transmit", end: 3, crc: 0xdeadbeef }] },
      { frame: 11, startIcount: 5300, length: 10, entries: [] },
      { frame: 12, startIcount: 5310, length: 20, entries: [{ k: "net-transmit", end: 4, crc: 1 }] },
    ];
    const back = decodeBatch(encodeBatch(frames));
    expect(back).toEqual(frames);
    expect(BOUNDARY_KINDS.has("net-receive") && END_KINDS.has("net-transmit")).toBe(true);
  });

  it("transmitted packets are copied at once: the card reusing its buffer does not change a held packet", () => {
    const tx = new NetTransmits(emptyStats());
    const cardBuffer = new Uint8Array(64).fill(1);
    tx.startFrame();
    tx.packet(cardBuffer.subarray(0, 60));
    cardBuffer.fill(2); // the guest's next packet overwrites the send buffer
    tx.packet(cardBuffer.subarray(0, 60));
    const entry = tx.endFrame(7, 1234)!;
    const [a, b] = tx.take();
    expect(a.bytes.every((x) => x === 1)).toBe(true);
    expect(b.bytes.every((x) => x === 2)).toBe(true);
    expect(entry).toMatchObject({ k: "net-transmit", end: 2 });
    expect([a.seq, b.seq, a.frame, a.icount]).toEqual([0, 1, 7, 1234]);
  });

  it("truncated and oversize received frames are refused before the log", () => {
    expect(checkReceivedFrame(new Uint8Array(13))).toBe("truncated");
    expect(checkReceivedFrame(new Uint8Array(1515))).toBe("oversize");
    expect(checkReceivedFrame(new Uint8Array(60))).toBeNull();
  });
});
