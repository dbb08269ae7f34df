import { describe, expect, it } from "vitest";
import { chunk, Reassembler } from "../../../src/channel/chunker.ts";
import { decodeChannelMsg, encodeChannelMsg } from "../../../src/channel/wire.ts";
import type { ChannelMsg } from "../../../src/ft/protocol/index.ts";

const pos = (frame: number, icount: bigint) => ({ frame, icount });

describe("logging-channel wire codec", () => {
  const msgs: ChannelMsg[] = [
    {
      t: "log",
      epoch: 3,
      clientAcked: 1234,
      records: [
        { kind: "entry", seq: 41, position: pos(100, 5_000_000_000n), bytes: new Uint8Array([1, 2, 3]) },
        { kind: "entry", seq: 42, position: pos(100, 5_000_000_000n), bytes: new Uint8Array(0), io: { ioId: 7 } },
        { kind: "entry", seq: 43, position: pos(101, 5_000_100_000n), bytes: new Uint8Array([9]), io: { ioId: 8, hash: 0xdeadbeef } },
        { kind: "frame-end", seq: 44, position: pos(101, 5_000_200_000n), guestTime: 1234.5678 },
        { kind: "control", seq: 45, position: pos(101, 5_000_200_000n), control: "power-off" },
      ],
    },
    { t: "ack", epoch: 3, ackSeq: 44, replayed: pos(99, 4_999_000_000n), guestTime: 1200.25, cloneId: 2, stallMs: 1234 },
    { t: "heartbeat", epoch: 9, stallMs: 0 },
    {
      t: "clone-start",
      clone: {
        cloneId: 2, epoch: 3, primary: "A#1", position: pos(500, 9_000_000_000n), guestTime: 5000.5,
        snapshot: new Uint8Array(300_000).map((_, i) => i * 7), nextSeq: 77,
        console: { produced: 10, clientAcked: 5, retained: new Uint8Array([104, 105, 33, 10, 0]), nextInputSeq: 4 },
        pendingIo: [
          { ioId: 1, kind: "write", block: 12, data: new Uint8Array([5, 5]), position: pos(499, 8_999_000_000n) },
          { ioId: 2, kind: "read", block: 13, position: pos(499, 8_999_000_001n) },
        ],
      },
    },
  ];

  it("round-trips every message kind exactly", () => {
    for (const m of msgs) expect(decodeChannelMsg(encodeChannelMsg(m))).toEqual(m);
  });

  it("keeps an idle frame-end record small", () => {
    const one: ChannelMsg = { t: "log", epoch: 1, clientAcked: 0, records: [{ kind: "frame-end", seq: 1000, position: pos(1000, 123_456_789n), guestTime: 1000 }] };
    expect(encodeChannelMsg(one).length).toBeLessThan(32);
  });

  it("rejects wrong version, unknown types and trailing garbage", () => {
    const bytes = encodeChannelMsg(msgs[2]!);
    expect(() => decodeChannelMsg(Uint8Array.of(99, ...bytes.subarray(1)))).toThrow(/version 99/);
    expect(() => decodeChannelMsg(Uint8Array.of(bytes[0]!, 77, 0))).toThrow(/unknown/);
    expect(() => decodeChannelMsg(Uint8Array.of(...bytes, 0))).toThrow(/trailing/);
    expect(() => decodeChannelMsg(encodeChannelMsg(msgs[0]!).subarray(0, 20))).toThrow();
  });
});

describe("chunker", () => {
  it("passes small messages whole and reassembles large ones in order", () => {
    const r = new Reassembler();
    const small = new Uint8Array([1, 2, 3]);
    const chunks = [...chunk(small)];
    expect(chunks).toHaveLength(1);
    expect(r.push(chunks[0]!)).toEqual(small);

    const big = new Uint8Array(200_000).map((_, i) => i % 251);
    const parts = [...chunk(big, 16 * 1024)];
    expect(parts.length).toBeGreaterThan(10);
    expect(parts.every((p) => p.length <= 16 * 1024)).toBe(true);
    let out: Uint8Array | null = null;
    const progress: number[] = [];
    for (const p of parts) out = r.push(p, (got) => progress.push(got)) ?? out;
    expect(out).toEqual(big);
    expect(progress.at(-1)).toBe(big.length);
  });
});
