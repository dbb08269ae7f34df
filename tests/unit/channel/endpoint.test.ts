import { describe, expect, it } from "vitest";
import { CHANNEL_HIGH_WATER, type LoggingChannel } from "../../../src/channel/logging-channel.ts";
import type { ChannelMsg } from "../../../src/ft/protocol/index.ts";
import { ChannelEndpoint, type BulkStore } from "../../../src/host/channel-endpoint.ts";

/** One direction of an in-memory, ordered channel: what A sends, B's onmessage receives. */
function pipe(lossless = true): [LoggingChannel, LoggingChannel, { bytes: number }] {
  const wire = { bytes: 0 };
  const mk = (): LoggingChannel & { peer?: LoggingChannel } => ({
    lossless,
    bufferedAmount: 0,
    open: true,
    onmessage: null,
    onclose: null,
    ondrain: null,
    send(b: Uint8Array) {
      wire.bytes += b.length;
      const to = this.peer!;
      queueMicrotask(() => to.onmessage?.(b.slice()));
    },
    close() {},
  });
  const a = mk();
  const b = mk();
  a.peer = b;
  b.peer = a;
  return [a, b, wire];
}

/** Shared storage whose puts and takes finish after `delayMs`, so ordering is really tested. */
function slowBulk(delayMs: number): BulkStore & { keys: () => number } {
  const m = new Map<string, Uint8Array>();
  const later = <T>(f: () => T) => new Promise<T>((r, j) => setTimeout(() => { try { r(f()); } catch (e) { j(e); } }, delayMs));
  return {
    put: (k, b) => later(() => void m.set(k, b.slice())),
    take: (k) =>
      later(() => {
        const v = m.get(k);
        if (!v) throw new Error(`missing ${k}`);
        m.delete(k);
        return v;
      }),
    keys: () => m.size,
  };
}

const clone = (size: number): ChannelMsg => ({
  t: "clone-start",
  clone: {
    cloneId: 1, epoch: 2, primary: "A#1", position: { frame: 10, icount: 100n }, guestTime: 1,
    snapshot: new Uint8Array(size).map((_, i) => i * 13), nextSeq: 0,
    console: { produced: 0, clientAcked: 0, retained: new Uint8Array(0), nextInputSeq: 0 }, pendingIo: [],
  },
});

function endpoints(bulk?: BulkStore, lossless = true) {
  const [ca, cb, wire] = pipe(lossless);
  const got: ChannelMsg[] = [];
  const errors: Error[] = [];
  const a = new ChannelEndpoint("B#1", ca, () => {}, (e) => errors.push(e), undefined, bulk);
  let done: () => void;
  const finished = new Promise<void>((r) => (done = r));
  new ChannelEndpoint("A#1", cb, (m) => { got.push(m); if (m.t === "heartbeat" && m.epoch === 9) done(); }, (e) => errors.push(e), undefined, bulk);
  return { a, got, errors, wire, finished, ca, cb };
}

describe("ChannelEndpoint", () => {
  it("moves a snapshot through the bulk store, in order with the messages around it", async () => {
    const bulk = slowBulk(20);
    const { a, got, errors, wire, finished } = endpoints(bulk);
    a.send({ t: "heartbeat", epoch: 1, stallMs: 0 });
    a.send(clone(3 * 1024 * 1024));
    a.send({ t: "heartbeat", epoch: 9, stallMs: 0 });
    await finished;
    expect(errors).toEqual([]);
    expect(got.map((m) => m.t)).toEqual(["heartbeat", "clone-start", "heartbeat"]);
    const c = got[1] as Extract<ChannelMsg, { t: "clone-start" }>;
    const sent = (clone(3 * 1024 * 1024) as typeof c).clone.snapshot;
    expect(Buffer.compare(c.clone.snapshot, sent)).toBe(0);
    // The channel carried references, not megabytes; the store gave its payload up once read.
    expect(wire.bytes).toBeLessThan(1024);
    expect(bulk.keys()).toBe(0);
  });

  it("without a bulk store the snapshot travels in chunks on the channel", async () => {
    const { a, got, wire, finished } = endpoints();
    a.send(clone(3 * 1024 * 1024));
    a.send({ t: "heartbeat", epoch: 9, stallMs: 0 });
    await finished;
    expect(got.map((m) => m.t)).toEqual(["clone-start", "heartbeat"]);
    expect(wire.bytes).toBeGreaterThan(3 * 1024 * 1024);
  });

  it("falls back to the channel when storage refuses the payload", async () => {
    const refusing: BulkStore = { put: () => Promise.reject(new Error("quota")), take: () => Promise.reject(new Error("never")) };
    const { a, got, wire, finished } = endpoints(refusing);
    a.send(clone(2 * 1024 * 1024));
    a.send({ t: "heartbeat", epoch: 9, stallMs: 0 });
    await finished;
    expect(got.map((m) => m.t)).toEqual(["clone-start", "heartbeat"]);
    expect(wire.bytes).toBeGreaterThan(2 * 1024 * 1024);
  });

  it("carries a snapshot once: the protocol's resend of the same clone adds nothing", async () => {
    const { a, got, wire, finished } = endpoints();
    a.send(clone(2 * 1024 * 1024));
    a.send(clone(2 * 1024 * 1024));
    a.send({ t: "heartbeat", epoch: 9, stallMs: 0 });
    await finished;
    expect(got.map((m) => m.t)).toEqual(["clone-start", "heartbeat"]);
    expect(wire.bytes).toBeLessThan(3 * 1024 * 1024);
  });

  // The simulator's channel loses messages: a clone-start lost there was never replaced while the
  // endpoint dropped every resend of the same clone (seed 11: the standby kept heartbeating, the
  // primary waited for its ack for good and the client stalled).
  it("over a lossy channel, a resend of the same clone goes out again once the copy has left", async () => {
    const { a, got, wire, finished } = endpoints(undefined, false);
    a.send(clone(1024));
    a.send(clone(1024));
    a.send({ t: "heartbeat", epoch: 9, stallMs: 0 });
    await finished;
    expect(got.map((m) => m.t)).toEqual(["clone-start", "clone-start", "heartbeat"]);
    expect(wire.bytes).toBeGreaterThan(2048);
  });

  it("a resend while the copy still waits in the endpoint adds nothing, lossy or not", async () => {
    const [ca, cb] = pipe(false);
    let full = true;
    Object.defineProperty(ca, "bufferedAmount", { get: () => (full ? CHANNEL_HIGH_WATER : 0) });
    const got: ChannelMsg[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const a = new ChannelEndpoint("B#1", ca, () => {}, () => {});
    new ChannelEndpoint("A#1", cb, (m) => { got.push(m); if (m.t === "heartbeat") done(); }, () => {});
    a.send(clone(1024));
    a.send(clone(1024));
    a.send({ t: "heartbeat", epoch: 9, stallMs: 0 });
    full = false;
    ca.ondrain?.();
    await finished;
    expect(got.map((m) => m.t)).toEqual(["clone-start", "heartbeat"]);
  });

  it("a stored payload the receiver cannot read closes a lossless channel (the sender will not resend it)", async () => {
    const lost: BulkStore = { put: () => Promise.resolve(), take: () => Promise.reject(new Error("gone")) };
    const { a, errors, ca, cb } = endpoints(lost);
    let closed = 0;
    cb.close = () => void closed++;
    a.send(clone(2 * 1024 * 1024));
    await new Promise((r) => setTimeout(r, 20));
    expect(errors.map((e) => e.message)).toEqual(["gone"]);
    expect(closed).toBe(1);
    expect(ca.open).toBe(true);
  });

  describe("flow window (bulkWindow)", () => {
    /** A windowed pipe that records, at each send of A, how many part bytes A had unacknowledged. */
    function windowed(window: number, lossless = true) {
      const [ca, cb, wire] = pipe(lossless);
      Object.assign(ca, { bulkWindow: window });
      Object.assign(cb, { bulkWindow: window });
      const inFlight: number[] = [];
      let sent = 0;
      let acked = 0;
      const send = ca.send.bind(ca);
      ca.send = (b: Uint8Array) => {
        if (b[0] === 1 || b[0] === 2) sent += b.length;
        inFlight.push(sent - acked);
        send(b);
      };
      const onAck = cb.send.bind(cb);
      cb.send = (b: Uint8Array) => {
        if (b[0] === 4) acked = new DataView(b.buffer, b.byteOffset).getFloat64(1, true);
        onAck(b);
      };
      return { ca, cb, wire, inFlight };
    }

    for (const window of [128 * 1024, 16 * 1024]) {
      it(`keeps at most a window (${window / 1024} KiB) plus one chunk in flight, and delivers everything in order`, async () => {
        const { ca, cb, inFlight } = windowed(window);
        const got: ChannelMsg[] = [];
        let done!: () => void;
        const finished = new Promise<void>((r) => (done = r));
        const a = new ChannelEndpoint("B#1", ca, () => {}, () => {});
        new ChannelEndpoint("A#1", cb, (m) => { got.push(m); if (m.t === "heartbeat" && m.epoch === 9) done(); }, () => {});
        a.send({ t: "heartbeat", epoch: 1, stallMs: 0 });
        a.send(clone(3 * 1024 * 1024));
        a.send({ t: "heartbeat", epoch: 9, stallMs: 0 });
        await finished;
        expect(got.map((m) => m.t)).toEqual(["heartbeat", "clone-start", "heartbeat"]);
        const c = got[1] as Extract<ChannelMsg, { t: "clone-start" }>;
        expect(Buffer.compare(c.clone.snapshot, (clone(3 * 1024 * 1024) as typeof c).clone.snapshot)).toBe(0);
        // Without the window every chunk would be in flight at once (3 MiB).
        expect(Math.max(...inFlight)).toBeLessThanOrEqual(window + 64 * 1024);
        expect(Math.max(...inFlight)).toBeGreaterThan(window / 2);
      });
    }

    it("a channel without a window sends no acks", async () => {
      const { a, got, finished, cb } = endpoints();
      let acks = 0;
      const send = cb.send.bind(cb);
      cb.send = (b: Uint8Array) => { if (b[0] === 4) acks++; send(b); };
      a.send(clone(1024 * 1024));
      a.send({ t: "heartbeat", epoch: 9, stallMs: 0 });
      await finished;
      expect(got.map((m) => m.t)).toEqual(["clone-start", "heartbeat"]);
      expect(acks).toBe(0);
    });
  });
});
