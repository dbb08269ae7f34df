// The engine on its own, in Node, with the real guest (JIT on): go-live after replay and the
// disk cache. Apart from record-replay.test.ts so the two files run on both cores at once. Both
// start where the app's pairs do, from the boot image at the shell prompt (record-replay.test.ts
// and replay-check replay the kernel's boot itself): neither depends on how the guest booted.
import { describe, expect, it } from "vitest";
import { decodeBatch, encodeBatch, type FrameLog } from "../../../src/ft/log/index.ts";
import { MemoryBlockDevice } from "../../../src/engine/block-device.ts";
import { realDateNow } from "../../../src/engine/clock.ts";
import { ConsoleLog, recordUntil, replayBacklog } from "../../../src/engine/drive.ts";
import { bootImageFor } from "../../../src/engine/boot-image.ts";
import { LockstepEngine } from "../../../src/engine/engine.ts";
import { loadBootImage, loadGuest } from "../../../src/engine/node/host.ts";
import { makeSession, type SessionInfo } from "../../../src/engine/session.ts";

const guest = loadGuest();
const image = loadBootImage(guest)!;

/** Primary and backup restore the same boot image (its snapshot carrying `session`), as a pair does. */
function fromImage(session: SessionInfo) {
  const snapshot = bootImageFor(image.snapshot, session);
  return { wasm: guest.wasm, images: guest.images, session, snapshot, bootImage: true };
}

/** Round-trip through the codec: what a backup receives. */
const clonedFrames = (frames: FrameLog[]): FrameLog[] => decodeBatch(encodeBatch(frames));

describe("go-live", () => {
  it("a backup that replayed everything goes live, re-issues the guest's pending disk I/O and serves the shell", async () => {
    const session = makeSession(realDateNow());
    const disk = new MemoryBlockDevice(image.disk.slice());
    const p = await LockstepEngine.create({ mode: "record", ...fromImage(session), disk });
    const con = new ConsoleLog();
    const frames: FrameLog[] = [];
    const pull = () => {
      frames.push(...p.takeFrames());
      con.pull(p);
    };
    // The primary "dies" right after a frame in which the guest issued a disk request.
    p.sendSerial("kv set failover yes\n");
    await recordUntil(p, () => p.pendingIo().length > 0, { onFrame: pull, timeoutMs: 60_000 });
    pull();
    const inFlight = p.pendingIo().map((r) => r.id);
    p.destroy();

    const b = await LockstepEngine.create({ mode: "replay", ...fromImage(session) });
    const bcon = new ConsoleLog();
    b.pushFrames(clonedFrames(frames));
    await replayBacklog(b, () => bcon.pull(b));
    expect(bcon.text).toBe(con.text);
    const reissued = b.goLive(disk);
    expect(reissued.map((r) => r.id)).toEqual(inFlight);
    const from = bcon.text.length;
    await recordUntil(b, () => (bcon.pull(b), bcon.text.indexOf(guest.manifest.prompt, from) >= 0), { timeoutMs: 60_000 });
    b.sendSerial("kv get failover\n");
    const from2 = bcon.text.length;
    await recordUntil(b, () => (bcon.pull(b), bcon.text.indexOf(guest.manifest.prompt, from2) >= 0), { timeoutMs: 60_000 });
    expect(bcon.text.slice(from)).toMatch(/OK/);
    expect(bcon.text.slice(from2)).toMatch(/yes/);
    b.destroy();
  }, 120_000);
});

describe("disk cache", () => {
  it("serves re-reads of written data from the cache, but logs the data when the disk changed underneath", async () => {
    const session = makeSession(realDateNow());
    const disk = new MemoryBlockDevice(image.disk.slice());
    const p = await LockstepEngine.create({ mode: "record", ...fromImage(session), disk });
    const con = new ConsoleLog();
    const frames: FrameLog[] = [];
    const pull = () => {
      frames.push(...p.takeFrames());
      con.pull(p);
    };
    const run = async (cmd: string) => {
      const from = con.text.length;
      p.sendSerial(cmd + "\n");
      await recordUntil(p, () => con.text.indexOf(guest.manifest.prompt, from) >= 0, { onFrame: pull, timeoutMs: 60_000 });
      return con.text.slice(from);
    };
    await run("echo MARKER-AAAA-1234 > /data/m.txt; sync");
    const h0 = p.stats.diskCacheHits;
    expect(await run("echo 3 > /proc/sys/vm/drop_caches; cat /data/m.txt")).toMatch(/MARKER-AAAA-1234/);
    expect(p.stats.diskCacheHits).toBeGreaterThan(h0); // re-read served from the cache
    // Someone else changes the block on the shared disk: the primary must notice and log the data.
    const needle = new TextEncoder().encode("MARKER-AAAA-1234");
    let at = -1;
    for (let i = 0; i + needle.length <= disk.data.length && at < 0; i += 512) {
      const block = disk.data.subarray(i, i + 512);
      for (let j = 0; j + needle.length <= block.length; j++) {
        if (needle.every((b, k) => block[j + k] === b)) {
          at = i + j;
          break;
        }
      }
    }
    expect(at).toBeGreaterThanOrEqual(0);
    disk.data.set(new TextEncoder().encode("MARKER-BBBB-1234"), at);
    const f0 = frames.length + 1;
    expect(await run("echo 3 > /proc/sys/vm/drop_caches; cat /data/m.txt")).toMatch(/MARKER-BBBB-1234/);
    const logged = frames.slice(f0).flatMap((f) => f.entries).filter((e) => e.k === "disk-read");
    expect(logged.some((e) => e.k === "disk-read" && new TextDecoder().decode(e.data).includes("MARKER-BBBB-1234"))).toBe(true);
    const end = { pos: p.position(), hash: p.stateHash() };
    p.destroy();

    const b = await LockstepEngine.create({ mode: "replay", ...fromImage(session) });
    b.pushFrames(clonedFrames(frames));
    await replayBacklog(b);
    expect(b.position()).toEqual(end.pos);
    expect(b.stateHash()).toBe(end.hash);
    expect(b.stats.diskCacheHits).toBeGreaterThan(0);
    b.destroy();
  }, 120_000);
});
