import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ClientStack } from "../../../src/net/client-stack.ts";
import { HttpGet } from "../../../src/net/http-get.ts";
import { parseEth, parseIp4 } from "../../../src/net/packets.ts";
import { parseSegment } from "../../../src/net/tcp-segment.ts";

// The client against the guest's real Linux TCP: the frames Linux 6.1 sent for one GET
// (scripts/capture-linux-tcp.ts), replayed into a fresh client with the same ISN, as they came,
// duplicated (a new primary resending) and reordered. The body must be the same every time.
const cap = JSON.parse(readFileSync(path.join(__dirname, "fixtures/linux-get.json"), "utf8")) as { isn: number; path: string; fromGuest: string[] };
const frames = cap.fromGuest.map((b) => new Uint8Array(Buffer.from(b, "base64")));
const expected = Array.from({ length: 5000 }, (_, i) => `${i + 1}\n`).join("");

function payloadLength(f: Uint8Array): number {
  const ip = parseIp4(parseEth(f)!.payload);
  if (!ip) return 0;
  return parseSegment(ip.src, ip.dst, ip.payload)?.payload.length ?? 0;
}

function replay(order: Uint8Array[]) {
  const stack = new ClientStack({ mac: "02:00:00:00:00:02", ip: "10.0.2.2", isn: () => cap.isn }, () => {});
  const g = new HttpGet(stack, "10.0.2.15", 80, cap.path, 0);
  order.forEach((f, i) => stack.receive(f, 1 + i));
  return { g, body: g.response ? new TextDecoder().decode(g.response.body) : null };
}

describe("client TCP against captured Linux segments", () => {
  const data = frames.map((f, i) => ({ f, i })).filter(({ f }) => payloadLength(f) > 0).map(({ i }) => i);

  it("as captured: the whole body, in order, no duplicates", () => {
    expect(data.length).toBeGreaterThan(10);
    const { g, body } = replay(frames);
    expect(g.response?.status).toBe(200);
    expect(body).toBe(expected);
    expect(g.conn.stats.duplicates).toBe(0);
  });

  it("every segment twice (the resend of a new primary): same body, the copies discarded", () => {
    const { g, body } = replay(frames.flatMap((f) => [f, f]));
    expect(body).toBe(expected);
    expect(g.conn.stats.duplicates).toBeGreaterThanOrEqual(data.length);
  });

  it("data segments swapped pairwise and one held back to the end: same body, reassembled", () => {
    const order = frames.slice();
    for (let k = 0; k + 1 < data.length - 1; k += 2) [order[data[k]], order[data[k + 1]]] = [order[data[k + 1]], order[data[k]]];
    const late = order.splice(data[1], 1)[0];
    order.push(late);
    const { g, body } = replay(order);
    expect(body).toBe(expected);
    expect(g.conn.stats.outOfOrder).toBeGreaterThan(0);
  });

  it("a data segment lost for good: the body never completes (the guest's retransmission is what fills the gap)", () => {
    const order = frames.filter((_, i) => i !== data[3]);
    const { g, body } = replay(order);
    expect(body).toBeNull();
    expect(g.bytesReceived).toBeLessThan(expected.length);
  });
});
