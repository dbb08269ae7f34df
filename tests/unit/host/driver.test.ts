import { describe, expect, it } from "vitest";
import { decodeBatch } from "../../../src/ft/log/codec.ts";
import type { FrameLog } from "../../../src/ft/log/entries.ts";
import { makeConfig, WORKER_DEFAULTS, type FtEvent } from "../../../src/ft/protocol/index.ts";
import { decodeEnvelope } from "../../../src/host/log-envelope.ts";
import { SIM_TIMING } from "../../../src/sim/sim-hosts.ts";
import { RIG_FT, Rig, state, type RigHost } from "./rig.ts";

const input = (seq: number) => ({ t: "client-input" as const, seq, bytes: new TextEncoder().encode(`k${seq}`) });

/** The frames of a `logEntriesProduced` event (its first entry carries the batch). */
function framesOf(ev: Extract<FtEvent, { type: "logEntriesProduced" }>): FrameLog[] {
  const item = decodeEnvelope(ev.entries[0]!.bytes).find((i) => i.k === "batch");
  return item && item.k === "batch" ? decodeBatch(item.bytes) : [];
}

/** The frame an event of a recorded frame refers to (a console output names its frame, the rest the boundary after it). */
function frameOf(ev: FtEvent): number | null {
  if (ev.type === "outputProduced" && ev.kind === "console") return ev.position.frame;
  if (ev.type === "outputProduced" || ev.type === "inputApplied" || ev.type === "ioCompleted" || ev.type === "diskReadIssued") return ev.position.frame - 1;
  return null;
}

async function pair(): Promise<{ rig: Rig; a: RigHost; b: RigHost }> {
  const rig = new Rig();
  const { a, b } = rig.pair();
  await rig.run(40);
  return { rig, a, b };
}

/** Runs until `done` holds (checked every 0.5 ms) or `limitMs` passes; returns the ms it took. */
async function until(rig: Rig, done: () => boolean, limitMs: number): Promise<number> {
  const t0 = rig.q.now;
  while (!done() && rig.q.now - t0 < limitMs) await rig.run(0.5);
  return rig.q.now - t0;
}

describe("host driver: event order and batching (primary)", () => {
  it("feeds a batch's log entries first, then the events of its frames, then frameDone at the boundary after the batch", async () => {
    const { rig, a, b } = await pair();
    for (let seq = 0; seq < 3; seq++) {
      a.host.client(input(seq));
      b.host.client(input(seq));
      await rig.run(15);
    }
    let logged = 0;
    let batches = 0;
    let events = 0;
    for (const { ev } of a.fed) {
      if (ev.type === "logEntriesProduced") {
        const frames = framesOf(ev);
        expect(frames[0]!.frame).toBe(logged);
        logged = frames[frames.length - 1]!.frame + 1;
        batches++;
      } else if (ev.type === "frameDone") {
        expect(ev.position.frame).toBe(logged);
      } else {
        const f = frameOf(ev);
        if (f === null) continue;
        expect(f).toBeLessThan(logged);
        events++;
      }
    }
    expect(batches).toBeGreaterThan(10);
    expect(events).toBeGreaterThan(10);
    expect(a.fed.filter((f) => f.ev.type === "inputApplied").length).toBe(3);
    // The backup replays the same frames and consumes the same inputs.
    expect(b.node.engine!.vm.nextInputSeq).toBe(3);
    expect(state(a)).toBe("primary/recording");
    expect(state(b)).toBe("backup/replaying");
  });

  it("the session recording listens to the engine: the primary's holds every frame it logged, the backup's every frame it received, in order", async () => {
    const { rig, a, b } = await pair();
    await rig.run(60);
    const logged = a.fed.flatMap(({ ev }) => (ev.type === "logEntriesProduced" ? framesOf(ev).map((f) => f.frame) : []));
    expect(logged.length).toBeGreaterThan(20);
    const consecutive = (fs: number[]) => fs.every((f, i) => i === 0 || f === fs[i - 1]! + 1);
    // The recorder hears a frame when it runs, the wire gets it with its batch: the recording may be ahead.
    expect(a.recorded.frames.slice(0, logged.length)).toEqual(logged);
    expect(consecutive(a.recorded.frames)).toBe(true);
    expect(b.recorded.frames.length).toBeGreaterThan(20);
    expect(b.recorded.frames).toEqual(a.recorded.frames.slice(0, b.recorded.frames.length));
    expect(a.recorded.checkpoints.length).toBeGreaterThan(0);
    expect(b.recorded.checkpoints).toEqual(a.recorded.checkpoints.slice(0, b.recorded.checkpoints.length));
  });

  it("batches frames, at most batchMaxFrames, closing a batch at once after a frame with an output", async () => {
    const { a } = await pair();
    const batches = a.fed.flatMap(({ ev }) => (ev.type === "logEntriesProduced" ? [framesOf(ev)] : []));
    expect(batches.length).toBeGreaterThan(5);
    expect(Math.max(...batches.map((f) => f.length))).toBeLessThanOrEqual(SIM_TIMING.batchMaxFrames!);
    expect(batches.some((f) => f.length > 1)).toBe(true);
    for (const frames of batches) {
      // Only the last frame of a batch may carry console output: an output forces the flush.
      for (const f of frames.slice(0, -1)) expect(f.entries.some((e) => e.k === "output")).toBe(false);
    }
    expect(batches.some((f) => f[f.length - 1]!.entries.some((e) => e.k === "output"))).toBe(true);
  });
});

describe("host driver: FT VMotion", () => {
  it("a snapshot lost on a lossy channel is resent and the standby becomes the backup", async () => {
    const rig = new Rig();
    const a = rig.add("A#1", { role: "primary", epoch: 1, backup: null });
    const c = rig.add("C#1", { role: "standby" });
    rig.start(a, c);
    await rig.run(20);
    let clones = 0;
    rig.link(a, c, (_from, msg) => msg.t === "clone-start" && clones++ === 0);
    a.host.startClone("C#1");
    await until(rig, () => state(c) === "backup/replaying", 100);
    const sent = a.sent.filter((m) => m.t === "clone-start");
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(new Set(sent.map((m) => m.t === "clone-start" && m.clone.cloneId)).size).toBe(1);
    expect(state(a)).toBe("primary/recording");
    expect(state(c)).toBe("backup/replaying");
    const from = c.node.engine!.startFrame;
    await rig.run(30);
    // The new backup replays the primary's log from the clone point on.
    expect(c.node.engine!.vm.frame).toBeGreaterThan(from + 5);
    expect(c.events.some((e) => e.kind === "divergence")).toBe(false);
  });

  it("with a non-shared disk the clone carries the primary's copy, imported and proven equal by hash", async () => {
    const rig = new Rig(makeConfig({ ...RIG_FT, diskMode: "non-shared" }, WORKER_DEFAULTS));
    const a = rig.add("A#1", { role: "primary", epoch: 1, backup: null });
    const c = rig.add("C#1", { role: "standby" });
    rig.start(a, c);
    await rig.run(200);
    expect(a.node.ownDisk.size).toBeGreaterThan(0);
    rig.link(a, c);
    a.host.startClone("C#1");
    await until(rig, () => state(c) === "backup/replaying" && c.events.some((e) => e.kind === "clone-disk-imported"), 100);
    const exported = a.events.find((e) => e.kind === "clone-disk-exported");
    const imported = c.events.find((e) => e.kind === "clone-disk-imported");
    expect(exported && imported && exported.kind === "clone-disk-exported" && imported.kind === "clone-disk-imported").toBe(true);
    if (exported?.kind !== "clone-disk-exported" || imported?.kind !== "clone-disk-imported") return;
    expect(imported.hash).toBe(exported.hash);
    expect(imported.blocks).toBe(exported.blocks);
  });
});

describe("host driver: a disk copy that cannot be synchronised", () => {
  it("is a fail-stop of the new backup, not a divergence (the cluster service deleted the copy of a host written off)", async () => {
    const rig = new Rig(makeConfig({ ...RIG_FT, diskMode: "non-shared" }, WORKER_DEFAULTS));
    const a = rig.add("A#1", { role: "primary", epoch: 1, backup: null });
    const c = rig.add("C#1", { role: "standby" });
    rig.start(a, c);
    await rig.run(200);
    // What IndexedDB does to the owner of a copy deleted under it: its connection is closed.
    c.host.ports.disk.exportBlocks = () => Promise.reject(new Error("The database connection is closing."));
    rig.link(a, c);
    a.host.startClone("C#1");
    await until(rig, () => c.events.some((e) => e.kind === "fail-stop"), 100);
    expect(c.events.find((e) => e.kind === "fail-stop")).toEqual({ kind: "fail-stop", reason: "own disk copy could not be synchronised: The database connection is closing." });
    expect(c.events.some((e) => e.kind === "divergence")).toBe(false);
    expect(c.host.stopped).toBe(true);
  });
});

describe("host driver: goodbye and failure", () => {
  it("a goodbye (peerLeft) lets the primary go alone well within the failure timeout", async () => {
    const { rig, a, b } = await pair();
    rig.crash(b);
    a.host.peerLeft("B#1");
    const ms = await until(rig, () => state(a) === "primary/alone", 100);
    expect(state(a)).toBe("primary/alone");
    expect(ms).toBeLessThan(rig.ft.failureTimeoutMs / 2);
    expect(rig.store.lock).toEqual({ owner: "A#1", epoch: 2 });
  });

  it("without a goodbye the primary waits out the failure timeout", async () => {
    const { rig, a, b } = await pair();
    rig.crash(b);
    const ms = await until(rig, () => state(a) === "primary/alone", 100);
    expect(state(a)).toBe("primary/alone");
    expect(ms).toBeGreaterThanOrEqual(rig.ft.failureTimeoutMs);
  });

  it("a false goodbye is only a hint: both contend, the test-and-set picks one, the other halts", async () => {
    const { rig, a, b } = await pair();
    // The cluster service wrongly announces that A left: only B, its peer, listens.
    b.host.peerLeft("A#1");
    await rig.run(100);
    const states = [state(a), state(b)].sort().join(" ");
    expect(["backup/halted primary/alone", "primary/alone primary/halted"]).toContain(states);
    const live = [a, b].filter((h) => h.host.agent?.status().live);
    expect(live.length).toBe(1);
    expect(rig.store.lock.epoch).toBe(2);
    expect(rig.store.lock.owner).toBe(live[0]!.node.id);
    const other = live[0] === a ? b : a;
    expect(other.host.agent!.status().state).toBe("halted");
  });
});

describe("host driver: standby heartbeats", () => {
  it("a standby heartbeats only once a logging channel exists, at the heartbeat interval, in the lock record's epoch", async () => {
    const rig = new Rig();
    rig.store.lock = { owner: "A#1", epoch: 3 };
    const c = rig.add("C#1", { role: "standby" });
    const a = rig.add("A#1", { role: "primary", epoch: 3, backup: null });
    rig.start(a, c);
    await rig.run(30);
    expect(c.sent).toEqual([]);
    rig.link(a, c);
    await rig.run(40);
    const beats = c.sent.filter((m) => m.t === "heartbeat");
    expect(beats.length).toBe(c.sent.length);
    expect(beats.length).toBeGreaterThanOrEqual(40 / rig.ft.heartbeatIntervalMs - 1);
    expect(beats.length).toBeLessThanOrEqual(40 / rig.ft.heartbeatIntervalMs + 1);
    expect(new Set(beats.map((m) => m.t === "heartbeat" && m.epoch))).toEqual(new Set([3]));
  });
});

describe("host driver: non-shared disk (paper 4.1)", () => {
  // Seed 736: a write's completion was replayed before the backup's own copy of the write had
  // landed (the host did not name write completions in the log, so the protocol could not hold
  // the frame); a later write to the same block landed first and the older one overwrote it.
  it("a backup replays a write's completion only once its own copy of that write has landed", async () => {
    const rig = new Rig(makeConfig({ ...RIG_FT, diskMode: "non-shared" }, WORKER_DEFAULTS));
    const { a, b } = rig.pair({ backupDiskMs: 6 });
    await rig.run(300);
    const writes = new Map<number, { block: number; data: Uint8Array }>();
    let checked = 0;
    for (const { at, ev } of b.fed) {
      if (ev.type === "outputProduced" && ev.kind === "disk-write") writes.set(ev.ioId, { block: ev.block, data: ev.data });
      if (ev.type !== "ioCompleted" || !writes.has(ev.ioId)) continue;
      const w = writes.get(ev.ioId)!;
      const landed = b.landed.find((l) => l.block === w.block && l.at <= at && Buffer.compare(l.data, w.data) === 0);
      expect(landed, `write io${ev.ioId} completed at ${at} before it landed`).toBeDefined();
      checked++;
    }
    expect(checked).toBeGreaterThan(3);
    // The primary names each write completion in its log (an entry with the I/O), so the protocol can hold it.
    const named = a.fed.flatMap(({ ev }) => (ev.type === "logEntriesProduced" ? ev.entries.filter((e) => e.io).map((e) => e.io!.ioId) : []));
    expect(named.length).toBeGreaterThan(3);
  });
});

describe("host driver: go-live during a clone's restore", () => {
  // Seed 2916: the primary failed right after shipping a clone; the new backup, with nothing to
  // replay, went live while its snapshot was still being restored: promote() found no engine,
  // and the restored engine then stayed a replayer that refused the client's input.
  it("a backup promoted while its clone is still being restored goes live once the engine exists, with nothing lost", async () => {
    const rig = new Rig(makeConfig({ ...RIG_FT, diskMode: "non-shared" }, WORKER_DEFAULTS));
    const a = rig.add("A#1", { role: "primary", epoch: 1, backup: null });
    // Its own disk is slow: importing the clone's disk copy takes far longer than the failure timeout.
    const c = rig.add("C#1", { role: "standby" }, { diskMs: 40 });
    rig.start(a, c);
    await rig.run(100);
    rig.link(a, c);
    a.host.startClone("C#1");
    await until(rig, () => a.sent.some((m) => m.t === "clone-start"), 50);
    await rig.run(2);
    rig.crash(a);
    expect(c.events.some((e) => e.kind === "clone-restoring")).toBe(true);
    await until(rig, () => c.host.agent?.status().live === true, 200);
    expect(state(c)).toBe("primary/alone");
    // Live before its VM exists: the client's input waits for it, and reaches the guest once.
    expect(c.node.engine).toBeNull();
    c.host.client(input(0));
    await until(rig, () => c.node.engine !== null, 300);
    await rig.run(30);
    expect(c.events.filter((e) => e.kind === "divergence")).toEqual([]);
    expect(c.node.engine!.mode).toBe("record");
    expect(c.node.engine!.vm.nextInputSeq).toBe(1);
    expect(c.node.engine!.vm.inputViolations).toBe(0);
    expect(c.toClient.some((m) => m.t === "input-ack" && m.nextSeq === 1)).toBe(true);
  });
});
