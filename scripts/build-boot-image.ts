// npm run images:boot: boots the guest once, here, to its shell prompt and saves it as the boot
// image (src/engine/boot-image.ts): the snapshot, the data disk as the boot left it, and the console
// transcript, gzip'ed into public/images and listed in manifest.json under "boot_image".
//
// Reproducible: the boot is a pure function of the images and v86. The clock runs at pace "max"
// (virtual time from instruction counts only, never from real time), no frame is cut on a real-time
// budget, RDRAND gives a fixed sequence, and a disk completion always enters at the boundary right after its request. So two runs
// give byte-identical files (`--check` rebuilds in memory and compares with the manifest).

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { MemoryBlockDevice } from "../src/engine/block-device.ts";
import { realNow } from "../src/engine/clock.ts";
import { ConsoleLog, macrotask } from "../src/engine/drive.ts";
import { LockstepEngine } from "../src/engine/engine.ts";
import { BOOT_IMAGE_FILES, type BootImageEntry } from "../src/engine/manifest.ts";
import { imagesDir, initialDisk, loadGuest } from "../src/engine/node/host.ts";
import { makeSession } from "../src/engine/session.ts";
import { decodeSnapshot, encodeSnapshot } from "../src/engine/snapshot.ts";
import { cli } from "./lib/args.ts";

const { options } = cli({
  usage: "npm run images:boot -- [options]",
  about: "Boots the guest to its prompt (deterministically) and writes the boot image the app starts pairs from.",
  options: {
    check: { type: "flag", help: "build in memory and compare with the files manifest.json lists; write nothing" },
    "idle-ms": { type: "int", min: 0, max: 60_000, default: 1000, help: "guest ms to run idle after the prompt before saving" },
  },
});

/** The guest's wall clock at virtual time 0 in the image: 2024-01-01T00:00:00Z, fixed so the build is reproducible. */
const IMAGE_EPOCH_MS = Date.UTC(2024, 0, 1);
const FRAME_LIMIT = 2_000_000;

/**
 * RDRAND during the build: a fixed sequence (a murmur3-finalised counter), so the guest's entropy
 * pool, ext2's UUID and everything derived from them come out the same on every build. The pool
 * is public, then: a pair started from the image mixes fresh cryptographic RDRAND values into it
 * from its first frame on (the kernel reseeds its CRNG from RDRAND), and the log carries them.
 */
function fixedEntropy(seed: number): () => number {
  let n = seed >>> 0;
  return () => {
    n = (n + 0x9e3779b9) >>> 0;
    let z = Math.imul(n ^ (n >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const dir = imagesDir();
const guest = loadGuest(dir);
const { ready_line: readyLine, prompt } = guest.manifest;
const disk = new MemoryBlockDevice(initialDisk(guest));
const t0 = realNow();
const engine = await LockstepEngine.create({
  mode: "record",
  wasm: guest.wasm,
  images: guest.images,
  session: makeSession(IMAGE_EPOCH_MS),
  disk,
  frameBudgetMs: null,
  entropy: fixedEntropy(0x10c5),
});
engine.setPace("max");
const con = new ConsoleLog();

/** One frame, with every disk completion entering at the boundary right after its request. */
async function step(): Promise<void> {
  if (engine.frame > FRAME_LIMIT) throw new Error(`no shell prompt after ${FRAME_LIMIT} frames; console tail: ${JSON.stringify(con.text.slice(-300))}`);
  // MemoryBlockDevice settles at once: one macrotask lets its promise deliver the completion.
  if (engine.pendingIo().length > 0) await macrotask();
  engine.runFrame();
  engine.takeFrames();
  engine.takePackets();
  con.pull(engine);
}

const ready = () => {
  const r = con.text.indexOf(readyLine);
  return r >= 0 && con.text.indexOf(prompt, r) >= 0;
};
while (!ready()) await step();
const promptMs = engine.nowMs();
while (engine.nowMs() < promptMs + options["idle-ms"] || engine.pendingIo().length > 0 || !engine.halted) await step();
const clone = await engine.clone();
const bootMs = realNow() - t0;
const savedMs = engine.nowMs();
engine.destroy();

// The image is nobody's clone: id 0, so the first FT VMotion of a pair started from it is clone 1.
const snap = decodeSnapshot(clone.snapshot);
const snapshot = encodeSnapshot({ ...snap, meta: { ...snap.meta, cloneId: 0 } });
const transcript = con.bytes();
if (transcript.length !== snap.meta.consoleOffset) throw new Error(`console transcript has ${transcript.length} bytes, the snapshot's offset is ${snap.meta.consoleOffset}`);

const req = createRequire(import.meta.url);
const v86Version = (JSON.parse(readFileSync(req.resolve("v86/package.json"), "utf8")) as { version: string }).version;
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
// gzipSync writes mtime 0 and a fixed OS byte: the same input gives the same bytes.
const files: Record<string, Uint8Array> = {
  [BOOT_IMAGE_FILES.snapshot]: gzipSync(snapshot, { level: 9 }),
  [BOOT_IMAGE_FILES.disk]: gzipSync(disk.data, { level: 9 }),
  [BOOT_IMAGE_FILES.console]: transcript,
};
const entry: BootImageEntry = {
  ...BOOT_IMAGE_FILES,
  compression: "gzip",
  epoch_ms: IMAGE_EPOCH_MS,
  v86: v86Version,
  frame: snap.meta.frame,
  guest_ms: Math.round(savedMs),
  snapshot_bytes: snapshot.length,
  disk_sha256: sha256(disk.data),
};
console.log(
  `boot image: prompt at ${Math.round(promptMs)} guest ms, saved at frame ${entry.frame} (${entry.guest_ms} guest ms), ` +
    `${Math.round(bootMs)} ms real; snapshot ${snapshot.length} B (${files[BOOT_IMAGE_FILES.snapshot]!.length} gzip'ed), ` +
    `disk ${disk.writes} writes (${files[BOOT_IMAGE_FILES.disk]!.length} gzip'ed), console ${transcript.length} B`,
);

const manifestFile = path.join(dir, "manifest.json");
const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as Record<string, unknown> & { files: Record<string, { bytes: number; sha256: string }> };
if (options.check) {
  let same = true;
  for (const [name, data] of Object.entries(files)) {
    const listed = manifest.files[name];
    const ok = listed?.sha256 === sha256(data) && listed.bytes === data.length;
    console.log(`${ok ? "same" : "DIFFERS"}: ${name} ${sha256(data).slice(0, 16)} (manifest: ${listed?.sha256.slice(0, 16) ?? "absent"})`);
    same &&= ok;
  }
  process.exit(same ? 0 : 1);
}
for (const [name, data] of Object.entries(files)) {
  writeFileSync(path.join(dir, name), data);
  manifest.files[name] = { bytes: data.length, sha256: sha256(data) };
}
manifest.boot_image = entry;
writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + "\n");
console.log(`wrote ${Object.keys(files).join(", ")} and manifest.json's boot_image into ${dir}`);
