// The committed boot image (public/images, scripts/build-boot-image.ts) against the installed v86
// and engine: a pair restores it on both sides, runs a disk workload in lockstep and the backup
// replays it bit for bit; its session recording replays in the timeline's replayer. If v86 is
// upgraded or the engine's snapshot format changes without `npm run images:boot`, this fails.

import { describe, expect, it } from "vitest";
import { MemoryBlockDevice } from "../../../src/engine/block-device.ts";
import { bootImageFor, BootImageError } from "../../../src/engine/boot-image.ts";
import { ConsoleLog, replayBacklog, runWorkload } from "../../../src/engine/drive.ts";
import { LockstepEngine } from "../../../src/engine/engine.ts";
import { guestIdentity } from "../../../src/engine/manifest.ts";
import { loadBootImage, loadGuest } from "../../../src/engine/node/host.ts";
import { decodeRecording, encodeRecording, SessionRecorder, type BootImageSource } from "../../../src/engine/recording.ts";
import { continued } from "../../../src/host/v86-engines.ts";
import { SessionReplayer } from "../../../src/engine/replay/session-replayer.ts";
import { makeSession } from "../../../src/engine/session.ts";
import { decodeSnapshot } from "../../../src/engine/snapshot.ts";
import { encodeBatch } from "../../../src/ft/log/index.ts";

const guest = loadGuest();
const image = loadBootImage(guest);
const text = (b: Uint8Array) => new TextDecoder("latin1").decode(b);

describe("the boot image", () => {
  it("is listed in the manifest and its console transcript ends at the shell prompt", () => {
    expect(image, "public/images has no boot image: npm run images:boot").not.toBeNull();
    const t = text(image!.console);
    expect(t).toContain(guest.manifest.ready_line);
    expect(t.lastIndexOf(guest.manifest.prompt)).toBeGreaterThan(t.indexOf(guest.manifest.ready_line));
    expect(decodeSnapshot(image!.snapshot).meta.consoleOffset).toBe(image!.console.length);
  });

  it("refuses a session that shapes the guest differently", () => {
    expect(() => bootImageFor(image!.snapshot, makeSession(Date.now(), { ipms: 500_000 }))).toThrow(BootImageError);
  });

  it("starts a pair in lockstep: a disk workload recorded on one side replays with 0 divergences", async () => {
    // Another wall clock than the build's: it only matters from the first frame on.
    const session = makeSession(Date.now());
    const snapshot = bootImageFor(image!.snapshot, session);
    const disk = new MemoryBlockDevice(image!.disk);
    const rec = await LockstepEngine.create({ mode: "record", wasm: guest.wasm, images: guest.images, session, snapshot, bootImage: true, disk });
    const recording = new SessionRecorder(
      { hostId: "p", guest: guestIdentity(guest.manifest), session, origin: "image", start: rec.position(), consolePrefix: new TextDecoder("latin1").decode(image!.console) },
      snapshot,
    );
    rec.observe(recording);
    const start = rec.position();
    expect(start.frame).toBe(guest.manifest.boot_image!.frame);
    expect(rec.consoleBytes).toBe(image!.console.length);

    const con = new ConsoleLog();
    await runWorkload(rec, con, [{ delayMs: 0, text: "kv set warm start" }, { delayMs: 0, text: "sync; kv get warm" }], guest.manifest.prompt, {
      onFrame: () => rec.takePackets(),
      perLineTimeoutMs: 60_000,
    });
    expect(con.text).toContain("start");
    expect(disk.writes).toBeGreaterThan(0);
    const frames = rec.takeFrames();
    const end = { ...rec.position(), hash: rec.stateHash() };

    const rep = await LockstepEngine.create({ mode: "replay", wasm: guest.wasm, images: guest.images, session, snapshot, bootImage: true });
    rep.pushBatch(encodeBatch(frames));
    const replayed = new ConsoleLog();
    await replayBacklog(rep, () => {
      rep.takePackets();
      replayed.pull(rep);
    });
    expect(rep.position()).toEqual({ frame: end.frame, icount: end.icount });
    expect(rep.stateHash()).toBe(end.hash);
    expect(replayed.text).toBe(con.text);

    // The timeline replays the session recording from the image's snapshot.
    const file = decodeRecording(encodeRecording(recording.recording(Date.now())));
    expect(file.meta.origin).toBe("image");
    const timeline = new SessionReplayer(guest.wasm, guest.images, file);
    const view = await timeline.seek(end.frame, true);
    expect(view.divergence).toBeNull();
    expect(view.position.frame).toBe(end.frame);
    expect(view.stateHash).toBe(end.hash);
    // It shows the whole console: the boot transcript the recording carries, then the run.
    expect(view.console).toBe(new TextDecoder("latin1").decode(image!.console) + con.text);
    expect(view.consoleBefore).toBe(0);
    rec.destroy();
    rep.destroy();
  }, 180_000);

  it("a recording that starts at it travels without it (FT VMotion), and the new backup fills it in bit for bit", () => {
    const session = makeSession(Date.now());
    const snapshot = bootImageFor(image!.snapshot, session);
    const meta = decodeSnapshot(snapshot).meta;
    const start = { frame: meta.frame, icount: meta.icount };
    const primary = new SessionRecorder({ hostId: "A#1", guest: guestIdentity(guest.manifest), session, origin: "image", start, bootImage: image!.sha256 }, snapshot);
    primary.frames([{ frame: start.frame, startIcount: start.icount, length: 1000, entries: [] }]);
    const whole = encodeRecording(primary.recording(1));
    const sent = encodeRecording(primary.recording(1), { leaveOutBootImage: true });
    // Only the snapshot (and its blob's length prefix) is left out.
    expect(whole.length - sent.length - snapshot.length).toBeGreaterThan(0);
    expect(whole.length - sent.length - snapshot.length).toBeLessThan(8);

    // What a standby has: the image as shipped, named by its file's sha256.
    const source: BootImageSource = (sha, s) => (sha === image!.sha256 ? bootImageFor(image!.snapshot, s) : null);
    // (Buffer.equals: vitest's deep equality is far too slow on 15 MiB.)
    const same = (a: Uint8Array | null) => a !== null && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.length));
    expect(same(decodeRecording(sent, source).snapshot)).toBe(true);
    expect(() => decodeRecording(sent)).toThrow(/boot image .* which this reader does not have/);
    expect(() => decodeRecording(sent, () => null)).toThrow(/does not have/);
    const end = { frame: start.frame + 1, icount: start.icount + 1000, session };
    const backup = continued(sent, end, "B#1", source)!;
    expect(backup).not.toBeNull();
    const again = backup.recording(2);
    expect(same(again.snapshot)).toBe(true);
    expect(again.meta).toMatchObject({ origin: "image", bootImage: image!.sha256, start, end: { frame: end.frame, icount: end.icount } });
    // Without the image the backup's recording starts at its clone instead (continued gives null).
    expect(continued(sent, end, "B#1")).toBeNull();
    // A recording from boot or a clone has no boot image to leave out: encoded whole.
    const fromClone = new SessionRecorder({ hostId: "C#1", guest: guestIdentity(guest.manifest), session, origin: "clone", start }, snapshot);
    expect(encodeRecording(fromClone.recording(1), { leaveOutBootImage: true }).length).toBeGreaterThan(snapshot.length);
  });
});
