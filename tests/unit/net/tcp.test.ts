import { describe, expect, it } from "vitest";
import { TcpConnection, type TcpOptions } from "../../../src/net/tcp.ts";
import { ACK, FIN, PSH, RST, SYN, seqAdd, type Segment } from "../../../src/net/tcp-segment.ts";

// The client's TCP against a scripted server: the test plays the server's segments by hand
// (loss, duplication, reordering are just which segments it hands over), time is a number.
type Out = Omit<Segment, "srcPort" | "dstPort">;
const ISS = 1000;
const SERVER_ISS = 5000;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function rig(opts: Partial<TcpOptions> = {}, serverWindow = 65535) {
  const sent: Out[] = [];
  let received = "";
  const events: string[] = [];
  const c = new TcpConnection(ISS, (s) => sent.push({ ...s, payload: s.payload.slice() }), opts, {
    connected: () => events.push("connected"),
    data: (b) => (received += dec(b)),
    end: () => events.push("end"),
    closed: (r) => events.push(`closed:${r}`),
  });
  c.connect(0);
  const seg = (seq: number, flags: number, payload = "", window = serverWindow, ack = 0): Segment => ({
    srcPort: 80, dstPort: 49152, seq: seq >>> 0, ack: ack >>> 0, flags, window, payload: enc(payload),
  });
  // SYN-ACK: the server's data starts at SERVER_ISS + 1.
  c.onSegment({ ...seg(SERVER_ISS, SYN | ACK, "", serverWindow, ISS + 1), mss: 1460 }, 10);
  const server = (offset: number, payload: string, flags = ACK | PSH, ack = c["sndNxt"] as number) =>
    seg(SERVER_ISS + 1 + offset, flags, payload, serverWindow, ack);
  return { c, sent, events, get received() { return received; }, seg, server };
}

describe("client TCP", () => {
  it("opens with SYN (MSS option), acknowledges the SYN-ACK, and is established", () => {
    const r = rig();
    expect(r.sent[0]).toMatchObject({ flags: SYN, seq: ISS, mss: 1460 });
    expect(r.sent[1]).toMatchObject({ flags: ACK, seq: ISS + 1, ack: SERVER_ISS + 1 });
    expect(r.c.state).toBe("established");
    expect(r.events).toEqual(["connected"]);
    expect(r.c.stats.srttMs).toBe(10);
  });

  it("delivers in order, acknowledges each segment, and closes on FIN (close-wait, last-ack, closed)", () => {
    const r = rig();
    r.c.onSegment(r.server(0, "hello "), 20);
    r.c.onSegment(r.server(6, "world", ACK | PSH | FIN), 21);
    expect(r.received).toBe("hello world");
    expect(r.sent.at(-1)).toMatchObject({ flags: ACK, ack: SERVER_ISS + 1 + 11 + 1 });
    expect(r.c.state).toBe("close-wait");
    r.c.close(22);
    expect(r.sent.at(-1)).toMatchObject({ flags: FIN | ACK, seq: ISS + 1 });
    expect(r.c.state).toBe("last-ack");
    r.c.onSegment(r.seg(SERVER_ISS + 13, ACK, "", 65535, ISS + 2), 23);
    expect(r.events).toEqual(["connected", "end", "closed:fin"]);
  });

  it("loss: holds segments after a gap, sends duplicate ACKs for the gap, delivers once it is filled", () => {
    const r = rig();
    r.c.onSegment(r.server(0, "aaaa"), 20);
    // "bbbb" (offset 4) is lost
    r.c.onSegment(r.server(8, "cccc"), 21);
    r.c.onSegment(r.server(12, "dddd"), 22);
    expect(r.received).toBe("aaaa");
    expect(r.c.stats.outOfOrder).toBe(2);
    const acks = r.sent.slice(-2).map((s) => s.ack);
    expect(acks).toEqual([SERVER_ISS + 1 + 4, SERVER_ISS + 1 + 4]);
    expect(r.c.window).toBe(65535 - 8); // held bytes use the buffer
    r.c.onSegment(r.server(4, "bbbb"), 30); // the retransmission
    expect(r.received).toBe("aaaabbbbccccdddd");
    expect(r.sent.at(-1)!.ack).toBe(SERVER_ISS + 1 + 16);
    expect(r.c.window).toBe(65535);
  });

  it("duplication: data it already has is discarded and acknowledged again (a new primary's resend)", () => {
    const r = rig();
    r.c.onSegment(r.server(0, "abcd"), 20);
    r.c.onSegment(r.server(0, "abcd"), 21);
    r.c.onSegment(r.server(2, "cdef"), 22); // overlaps: only "ef" is new
    expect(r.received).toBe("abcdef");
    expect(r.c.stats.duplicates).toBe(1);
    expect(r.sent.at(-2)!.ack).toBe(SERVER_ISS + 1 + 4);
    expect(r.sent.at(-1)!.ack).toBe(SERVER_ISS + 1 + 6);
  });

  it("a failover as the client sees it: the new primary's resends counted, those filling the gap apart from the duplicates discarded", () => {
    const r = rig();
    // The old primary's Output Rule released 0–7 and 8–11; 12–15 and 16–19 were still held when it failed.
    r.c.onSegment(r.server(0, "aaaabbbb"), 20);
    r.c.onSegment(r.server(8, "cccc"), 21);
    expect(r.c.stats).toMatchObject({ retransmitsIn: 0, duplicates: 0 });
    // The new primary's TCP times out and goes back to its oldest unacknowledged byte (4: the
    // client's ACK of 8 and 12 never reached it, they were logged by the dead primary only).
    r.c.onSegment(r.server(4, "bbbb"), 400);
    r.c.onSegment(r.server(8, "cccc"), 401);
    r.c.onSegment(r.server(12, "dddd"), 402);
    r.c.onSegment(r.server(16, "eeee"), 403);
    expect(r.received).toBe("aaaabbbbccccddddeeee");
    // Two resends of what the client had (discarded); 12–19 had never been sent: new data, no resend.
    expect(r.c.stats).toMatchObject({ retransmitsIn: 2, duplicates: 2, outOfOrder: 0, bytesIn: 20 });
    // A gap the link made: 24–27 arrives before 20–23, and 20–23 is sent again; the retransmission fills it.
    r.c.onSegment(r.server(24, "gggg"), 410);
    r.c.onSegment(r.server(20, "ffff"), 600);
    expect(r.received).toBe("aaaabbbbccccddddeeeeffffgggg");
    expect(r.c.stats).toMatchObject({ retransmitsIn: 3, duplicates: 2, outOfOrder: 1 });
    // After the FIN, anything more is a resend and a duplicate.
    r.c.onSegment(r.server(28, "", ACK | FIN), 601);
    r.c.onSegment(r.server(28, "", ACK | FIN), 602);
    expect(r.c.stats).toMatchObject({ retransmitsIn: 4, duplicates: 3 });
  });

  it("reordering: segments arriving 3, 1, 2 are delivered 1, 2, 3; a FIN ahead of a gap waits for it", () => {
    const r = rig();
    r.c.onSegment(r.server(8, "3333", ACK | FIN), 20);
    r.c.onSegment(r.server(0, "1111"), 21);
    expect(r.received).toBe("1111");
    expect(r.c.state).toBe("established");
    r.c.onSegment(r.server(4, "2222"), 22);
    expect(r.received).toBe("111122223333");
    expect(r.c.state).toBe("close-wait");
    expect(r.events).toContain("end");
  });

  it("retransmission timer: resends the oldest unacknowledged data after the RTO, doubling it each time, until acked", () => {
    const r = rig({ rtoMinMs: 200 });
    const rto0 = r.c.currentRtoMs;
    expect(rto0).toBe(200); // srtt 10 ms + 4 * 5 ms, bounded below by rtoMinMs
    r.c.write(enc("GET /"), 100);
    const first = r.sent.length;
    expect(r.sent[first - 1]).toMatchObject({ seq: ISS + 1, payload: enc("GET /") });
    r.c.tick(100 + rto0 - 1);
    expect(r.sent.length).toBe(first);
    r.c.tick(100 + rto0);
    expect(r.sent.length).toBe(first + 1);
    expect(r.sent.at(-1)).toMatchObject({ seq: ISS + 1, payload: enc("GET /") });
    expect(r.c.currentRtoMs).toBe(2 * rto0);
    r.c.tick(100 + rto0 + 2 * rto0);
    expect(r.sent.length).toBe(first + 2);
    expect(r.c.stats.timeouts).toBe(2);
    r.c.onSegment(r.seg(SERVER_ISS + 1, ACK, "", 65535, ISS + 6), 1000);
    expect(r.c.inFlight).toBe(0);
    r.c.tick(100_000);
    expect(r.sent.length).toBe(first + 2); // no timer left
  });

  it("gives up after maxRetransmits timeouts without progress, with a RST", () => {
    const r = rig({ maxRetransmits: 3, rtoMinMs: 100, rtoMaxMs: 100 });
    r.c.write(enc("x"), 0);
    for (let t = 0; t <= 1000; t += 50) r.c.tick(t);
    expect(r.c.stats.timeouts).toBe(3);
    expect(r.events.at(-1)).toBe("closed:timeout");
    expect(r.sent.at(-1)!.flags & RST).toBe(RST);
  });

  it("fast retransmit: the third duplicate ACK resends the first unacknowledged segment at once", () => {
    const r = rig({ mss: 100 });
    r.c.write(new Uint8Array(400), 20);
    const before = r.sent.length;
    for (let i = 0; i < 3; i++) r.c.onSegment(r.seg(SERVER_ISS + 1, ACK, "", 65535, ISS + 101), 30 + i);
    expect(r.c.stats.dupAcks).toBe(2); // the first ACK of 101 was new, two more are duplicates
    r.c.onSegment(r.seg(SERVER_ISS + 1, ACK, "", 65535, ISS + 101), 40);
    expect(r.c.stats.fastRetransmits).toBe(1);
    expect(r.sent.length).toBe(before + 1);
    expect(r.sent.at(-1)).toMatchObject({ seq: ISS + 101 });
    expect(r.sent.at(-1)!.payload.length).toBe(100);
  });

  it("window: never has more in flight than the peer advertised; a zero window is probed by the persist timer", () => {
    const r = rig({ mss: 500 }, 1000);
    r.c.write(new Uint8Array(5000), 20);
    expect(r.c.inFlight).toBe(1000);
    // The server acks 1000 bytes but its window is now 0.
    r.c.onSegment(r.seg(SERVER_ISS + 1, ACK, "", 0, ISS + 1001), 30);
    expect(r.c.inFlight).toBe(0);
    const before = r.sent.length;
    r.c.tick(30 + r.c.currentRtoMs);
    expect(r.sent.length).toBe(before + 1);
    expect(r.sent.at(-1)!.payload.length).toBe(1); // the probe
    // The window opens: sending resumes up to it.
    r.c.onSegment(r.seg(SERVER_ISS + 1, ACK, "", 2000, ISS + 1002), 500);
    expect(r.c.inFlight).toBe(2000);
  });

  it("receive window: while the reader pauses the advertised window shrinks and data beyond it is not taken", () => {
    const r = rig({ recvBuffer: 10 });
    r.c.pause();
    r.c.onSegment(r.server(0, "0123456"), 20);
    expect(r.sent.at(-1)).toMatchObject({ ack: SERVER_ISS + 1 + 7, window: 3 });
    r.c.onSegment(r.server(7, "789abc"), 21); // only "789" fits
    expect(r.sent.at(-1)).toMatchObject({ ack: SERVER_ISS + 1 + 10, window: 0 });
    expect(r.received).toBe("");
    r.c.resume(22);
    expect(r.received).toBe("0123456789");
    expect(r.sent.at(-1)).toMatchObject({ ack: SERVER_ISS + 1 + 10, window: 10 });
  });

  it("a lost ACK of the SYN-ACK: the server's resent SYN-ACK is acknowledged again", () => {
    const r = rig();
    const n = r.sent.length;
    r.c.onSegment({ ...r.seg(SERVER_ISS, SYN | ACK, "", 65535, ISS + 1), mss: 1460 }, 300);
    expect(r.sent.length).toBe(n + 1);
    expect(r.sent.at(-1)).toMatchObject({ flags: ACK, ack: SERVER_ISS + 1 });
    expect(r.c.state).toBe("established");
  });

  it("a SYN that is never answered is retransmitted with backoff", () => {
    const sent: Out[] = [];
    const c = new TcpConnection(7, (s) => sent.push(s), { rtoInitialMs: 1000 });
    c.connect(0);
    c.tick(999);
    expect(sent.length).toBe(1);
    c.tick(1000);
    c.tick(2999);
    c.tick(3000);
    expect(sent.map((s) => s.flags)).toEqual([SYN, SYN, SYN]);
  });

  it("RST: believed inside the window, ignored outside it", () => {
    const r = rig();
    r.c.onSegment(r.seg(SERVER_ISS + 1 + 100_000, RST), 20);
    expect(r.c.state).toBe("established");
    r.c.onSegment(r.seg(SERVER_ISS + 1, RST), 21);
    expect(r.events.at(-1)).toBe("closed:reset");
  });

  it("our close: FIN after the data, fin-wait-1 → fin-wait-2 → time-wait → closed", () => {
    const r = rig();
    r.c.write(enc("q"), 20);
    r.c.close(20);
    expect(r.sent.at(-1)).toMatchObject({ flags: FIN | ACK, seq: ISS + 2 });
    expect(r.c.state).toBe("fin-wait-1");
    r.c.onSegment(r.seg(SERVER_ISS + 1, ACK, "", 65535, ISS + 3), 30);
    expect(r.c.state).toBe("fin-wait-2");
    r.c.onSegment(r.server(0, "bye", ACK | FIN, ISS + 3), 40);
    expect(r.c.state).toBe("time-wait");
    expect(r.received).toBe("bye");
    r.c.tick(40 + 1000);
    expect(r.events.at(-1)).toBe("closed:fin");
  });

  it("sequence numbers wrap around 2^32", () => {
    const sent: Out[] = [];
    let got = "";
    const c = new TcpConnection(0xffff_fff0, (s) => sent.push(s), {}, { data: (b) => (got += dec(b)) });
    c.connect(0);
    const srv = 0xffff_fffa;
    c.onSegment({ srcPort: 80, dstPort: 1, seq: srv, ack: 0xffff_fff1, flags: SYN | ACK, window: 65535, payload: new Uint8Array(0) }, 1);
    c.onSegment({ srcPort: 80, dstPort: 1, seq: seqAdd(srv, 1), ack: 0xffff_fff1, flags: ACK, window: 65535, payload: enc("0123456789") }, 2);
    expect(got).toBe("0123456789");
    expect(sent.at(-1)!.ack).toBe(seqAdd(srv, 11));
    c.write(new Uint8Array(40), 3);
    c.onSegment({ srcPort: 80, dstPort: 1, seq: seqAdd(srv, 11), ack: seqAdd(0xffff_fff1, 40), flags: ACK, window: 65535, payload: new Uint8Array(0) }, 4);
    expect(c.inFlight).toBe(0);
  });
});
