// Flow control end to end with the real guest (issue 13; paper 3.2). A primary and a backup (real
// v86 engines from the boot image, the real hosts and protocol) behind the page's network (the
// switch and the client's own TCP/IP, src/net), their logging channel a slow wire
// (scripts/lib/slow-link.ts). Two floods, each must not grow what the primary holds without bound:
// - receive-heavy client: the client uploads as fast as its TCP may to `nc -l` in the guest; every
//   received packet is logged whole, the wire to the backup carries a fraction of that, so the
//   log buffer fills and flow control must stop the primary (the unacknowledged log stays under
//   its bound plus one batch of frames). The guest's ACKs are outputs held until the backup has
//   the log, so TCP itself keeps the log under about one window: the bound is set below it;
// - transmit flood: the client downloads a file from the guest's httpd while the backup's acks
//   come late; every packet is held whole by the Output Rule, so the held outputs' bound must stop
//   the primary. The guest's TCP never has more than the client's window (64 KiB) in flight, so the
//   bound is set below it (the default 1 MiB is for floods that do not wait for acks).
// Both transfers must end with the right bytes, and the backup must have replayed and verified it
// all (checkpoints equal, no divergence).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TcpConnection } from "../../../src/net/tcp.ts";
import type { FtAction, FtEvent, Millis } from "../../../src/ft/protocol/index.ts";
import { realNow } from "../../../src/engine/clock.ts";
import type { HostEvent } from "../../../src/host/events.ts";
import { netRig, type NetHost } from "../../../scripts/lib/net-rig.ts";
import { sha256 } from "../../../scripts/lib/net-workload.ts";
import { FAST_WIRE, slowLink } from "../../../scripts/lib/slow-link.ts";

const SEED = 0x5eed13;
// Both bounds below one TCP window (64 KiB): a TCP peer never has more than a window in flight, and
// here the guest's ACKs (outputs) wait for the backup's ack of the log, so a TCP upload cannot
// fill a larger log buffer (measured: 24 KB unacknowledged at most with a 256 KiB bound, 0 pauses).
const LOG_BOUND = 16 << 10;
const HELD_BOUND = 16 << 10;
const UPLOAD_BYTES = 512 << 10;
const DOWNLOAD_BYTES = 1 << 20;
/** The wire to the backup while the client uploads (300 KB/s): a burst of the client's segments is logged faster than it crosses. */
const SLOW_LOG = { bytesPerMs: 300, delayMs: 1 };
/** The backup's acks while the client downloads: late by this much. */
const LATE_ACKS = { bytesPerMs: Number.POSITIVE_INFINITY, delayMs: 40 };
const NC_PORT = 9000;

/** The seeded payload: a xorshift stream. */
function payload(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** What the primary holds, sampled after every protocol step (every change to it happens inside one). */
interface Probe {
  maxUnacked: number;
  maxHeld: number;
  /** The most one batch added: log bytes of one `logEntriesProduced`, held bytes of one batch's outputs. */
  maxBatchLog: number;
  maxBatchHeld: number;
  /** What the primary held when it recorded a batch: flow control lets it run only at or under the bounds. */
  logAtBatch: number;
  heldAtBatch: number;
  /** Log bytes the primary produced (each record once, however often it was sent). */
  logBytes: number;
  pauses: number;
  /** Of those, by the buffer that stopped it (what the host card says). */
  pausedBy: { log: number; held: number };
}
const newProbe = (): Probe => ({ maxUnacked: 0, maxHeld: 0, maxBatchLog: 0, maxBatchHeld: 0, logAtBatch: 0, heldAtBatch: 0, logBytes: 0, pauses: 0, pausedBy: { log: 0, held: 0 } });

const link = slowLink();
const events: { id: string; e: HostEvent }[] = [];
let consoleText = "";
let consoleOffset = 0;
let rig: Awaited<ReturnType<typeof netRig>>;
let a: NetHost;
let b: NetHost;
let probe = newProbe();

/** Polls `pred` (the pair runs on this thread's event loop meanwhile); fails after `ms`. */
async function until(pred: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = realNow() + ms;
  while (!pred()) {
    if (realNow() > end) throw new Error(`timed out waiting for ${what}; A's console ends: ${JSON.stringify(consoleText.slice(-200))}; A ${JSON.stringify({ ...rig.statuses.get("A"), flow: undefined })}; B ${JSON.stringify({ ...rig.statuses.get("B"), flow: undefined })}; probe ${JSON.stringify(probe)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const state = (id: string) => `${rig.statuses.get(id)?.role}/${rig.statuses.get(id)?.state}`;
const frameOf = (id: string) => rig.statuses.get(id)?.frame ?? 0;

/** Types a line on the guest's console (the client's exactly-once input). */
let inputSeq = 0;
const typeLine = (line: string) => a.rt.client({ t: "client-input", seq: inputSeq++, bytes: new TextEncoder().encode(line + "\n") });

/** Wraps A's agent: after each step, what it holds; per batch, what the batch added. */
function watchPrimary(): void {
  const agent = a.rt.agent!;
  const step = agent.step.bind(agent);
  let batchHeld = 0;
  agent.step = (now: Millis, ev: FtEvent): FtAction[] => {
    const p = agent.primary!;
    const [log0, held0] = [p.unackedLogBytes, p.heldOutputBytes];
    const out = step(now, ev);
    if (ev.type === "logEntriesProduced") {
      probe.logAtBatch = Math.max(probe.logAtBatch, log0);
      probe.heldAtBatch = Math.max(probe.heldAtBatch, held0);
      probe.maxBatchLog = Math.max(probe.maxBatchLog, p.unackedLogBytes - log0);
      probe.logBytes += p.unackedLogBytes - log0;
      batchHeld = 0;
    } else if (ev.type === "outputProduced") {
      batchHeld += Math.max(0, p.heldOutputBytes - held0);
      probe.maxBatchHeld = Math.max(probe.maxBatchHeld, batchHeld);
    }
    probe.maxUnacked = Math.max(probe.maxUnacked, p.unackedLogBytes);
    probe.maxHeld = Math.max(probe.maxHeld, p.heldOutputBytes);
    if (out.some((x) => x.type === "pauseExecution")) {
      probe.pauses++;
      probe.pausedBy[p.flowControl.pausedBy!]++;
    }
    return out;
  };
}

/** The backup has replayed and verified (a checkpoint equal to the primary's) past A's frame now. */
async function backupCatchesUp(): Promise<number> {
  const target = frameOf("A");
  await until(() => (rig.statuses.get("B")?.verifiedFrame ?? 0) > target, `B to verify past frame ${target}`);
  return target;
}

/** A divergence, or anything that ended the pair (neither flood may). */
const failures = () => events.filter((x) => x.e.kind === "divergence" || x.e.kind === "fail-stop" || x.e.kind === "halt" || x.e.kind === "go-live");

beforeAll(async () => {
  rig = await netRig(
    "net-flood",
    (id, e) => events.push({ id, e }),
    (id, m) => {
      if (id !== "A" || m.t !== "console" || m.offset + m.bytes.length <= consoleOffset) return;
      consoleText += new TextDecoder().decode(m.bytes.subarray(Math.max(0, consoleOffset - m.offset)));
      consoleOffset = m.offset + m.bytes.length;
    },
    {
      // The floods are the point, not failures: a backup behind a slow wire is not a dead one.
      ft: { maxUnackedLogBytes: LOG_BOUND, resumeUnackedLogBytes: LOG_BOUND / 2, maxHeldOutputBytes: HELD_BOUND, resumeHeldOutputBytes: HELD_BOUND / 2, failureTimeoutMs: 60_000 },
      link: () => link,
      bootImage: true,
    },
  );
  ({ a, b } = rig.pair());
  await until(() => state("A") === "primary/recording" && state("B") === "backup/replaying", "lockstep");
  watchPrimary();
  console.log(`net-flood: seed ${SEED}; log bound ${LOG_BOUND} B, held-output bound ${HELD_BOUND} B; upload ${UPLOAD_BYTES} B over a log wire of ${SLOW_LOG.bytesPerMs} B/ms; download ${DOWNLOAD_BYTES} B with acks ${LATE_ACKS.delayMs} ms late`);
}, 120_000);

afterAll(() => {
  rig?.network.stop();
  for (const h of rig?.hosts ?? []) if (!h.dead) h.rt.stop();
  link.a.close();
});

describe("flow control with the real guest: floods do not grow what the primary holds (paper 3.2)", () => {
  it("a receive-heavy client: the log buffer's bound stops the primary, the upload arrives whole", async () => {
    // A terminal answers the cursor query ash sends after its prompt (ESC[6n); the page's does.
    typeLine(`nc -l -p ${NC_PORT} </dev/null | sha256sum & while ! grep -q ':${NC_PORT.toString(16).toUpperCase().padStart(4, "0")} 00000000:0000 0A' /proc/net/tcp; do :; done; echo LIS''TENING; wait; echo UP''LOADED`);
    await until(() => consoleText.includes("LISTENING"), "nc to listen", 20_000);
    const data = payload(UPLOAD_BYTES, SEED);
    probe = newProbe();
    const wire0 = link.ab.bytes;
    link.ab.speed = SLOW_LOG;
    const t0 = realNow();
    let done: { conn: TcpConnection; reason: string } | null = null;
    rig.network.upload(NC_PORT, data, (conn, reason) => (done = { conn, reason }));
    await until(() => consoleText.includes("UPLOADED"), "the upload", 120_000);
    const ms = realNow() - t0;
    link.ab.speed = FAST_WIRE;
    const r = probe;
    const guestSha = /([0-9a-f]{64}) {2}-/.exec(consoleText)?.[1];
    await until(() => done !== null, "the client's connection to close");
    const wire = link.ab.bytes - wire0;
    const verified = await backupCatchesUp();
    const tcp = done!.conn.stats;
    console.log(
      `receive flood: ${UPLOAD_BYTES} B in ${ms.toFixed(0)} ms; max unacked log ${r.maxUnacked} B (bound ${LOG_BOUND} + largest batch ${r.maxBatchLog}; at most ${r.logAtBatch} when a batch was recorded), pauses ${r.pauses} (log buffer ${r.pausedBy.log}, held outputs ${r.pausedBy.held}); ` +
        `log produced ${r.logBytes} B, on the wire ${wire} B (resends of unacknowledged records, heartbeats, framing); client TCP: ${tcp.segmentsOut} segments, ${tcp.timeouts} timeouts, ${tcp.fastRetransmits} fast retransmits; sha256 ${guestSha === sha256(data) ? "ok" : "WRONG"}; B verified past frame ${verified}`,
    );
    expect(done!.reason).toBe("fin");
    expect(guestSha).toBe(sha256(data));
    expect(r.pausedBy.log).toBeGreaterThan(0);
    // The host's status (the host card's "flow pauses") counts them too.
    expect(rig.statuses.get("A")?.flowControl?.pauses).toBeGreaterThanOrEqual(r.pauses);
    expect(r.maxUnacked).toBeGreaterThan(LOG_BOUND);
    expect(r.maxUnacked).toBeLessThanOrEqual(LOG_BOUND + r.maxBatchLog);
    // The primary never recorded a batch while its log was over the bound.
    expect(r.logAtBatch).toBeLessThanOrEqual(LOG_BOUND);
    expect(failures()).toEqual([]);
  }, 180_000);

  it("a transmit flood: the held outputs' bound stops the primary, the download arrives whole", async () => {
    const dl = (id: number) => rig.network.view().downloads[id - 1]!;
    // The file in the guest's RAM (its root is the initramfs, which httpd serves as /www): no disk
    // writes, whose held bytes would stop the primary too. Random bytes, the guest says their sha256.
    typeLine(`head -c ${DOWNLOAD_BYTES} /dev/urandom > /www/flood.bin && sha256sum /www/flood.bin`);
    await until(() => /[0-9a-f]{64} {2}\/www\/flood\.bin/.test(consoleText), "the file to download");
    const want = /([0-9a-f]{64}) {2}\/www\/flood\.bin/.exec(consoleText)![1];
    probe = newProbe();
    link.ba.speed = LATE_ACKS;
    const t0 = realNow();
    const id = rig.network.download("/flood.bin");
    await until(() => dl(id).state !== "running", "the download", 120_000);
    const ms = realNow() - t0;
    link.ba.speed = FAST_WIRE;
    const r = probe;
    const d = dl(id);
    const verified = await backupCatchesUp();
    console.log(
      `transmit flood: ${d.received} B in ${ms.toFixed(0)} ms; max held outputs ${r.maxHeld} B (bound ${HELD_BOUND} + largest batch ${r.maxBatchHeld}; at most ${r.heldAtBatch} when a batch was recorded), max unacked log ${r.maxUnacked} B, pauses ${r.pauses} (log buffer ${r.pausedBy.log}, held outputs ${r.pausedBy.held}); ` +
        `client TCP: ${d.tcp.segmentsIn} segments in, ${d.tcp.duplicates} duplicates; sha256 ${d.sha256 === want ? "ok" : "WRONG"}; B verified past frame ${verified}`,
    );
    expect(d.state).toBe("done");
    expect(d.sha256).toBe(want);
    expect(r.pausedBy.held).toBeGreaterThan(0);
    expect(r.maxHeld).toBeGreaterThan(HELD_BOUND);
    expect(r.maxHeld).toBeLessThanOrEqual(HELD_BOUND + r.maxBatchHeld);
    expect(r.heldAtBatch).toBeLessThanOrEqual(HELD_BOUND);
    expect(r.maxUnacked).toBeLessThanOrEqual(LOG_BOUND);
    expect(failures()).toEqual([]);
  }, 180_000);
});
