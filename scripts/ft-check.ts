// npm run ft-check: the whole FT system in one Node process, no browser. A primary and a
// backup HostRuntime (real v86 engines, real protocol) linked by a MessageChannel logging
// channel, with fake-indexeddb as the shared disk. Runs kv load, kills the primary, and
// checks that the backup goes live with every acknowledged key and an exactly-once console.
// --disk non-shared: each host keeps its own disk copy (paper 4.1), synchronised by FT VMotion.
// --start image: the pair starts from the boot image, as the page's pairs do, instead of booting
// the kernel; the clone then ships B's recording without that image, and C fills it in.
import { describeHostEvent } from "../src/host/events.ts";
import "fake-indexeddb/auto";
import { MessagePortTransport } from "../src/channel/logging-channel.ts";
import { ConsoleClient, makeConfig, WORKER_DEFAULTS, type ToClientMsg } from "../src/ft/protocol/index.ts";
import { deleteOwnDisk, diskImageHash, listOwnDisks, OwnDisk, ownDiskDbName, SharedStorage } from "../src/storage/index.ts";
import { realNow } from "../src/engine/clock.ts";
import { loadBootImage, loadGuest } from "../src/engine/node/host.ts";
import { bootImageFor } from "../src/engine/boot-image.ts";
import { makeSession } from "../src/engine/session.ts";
import { decodeRecording } from "../src/engine/recording.ts";
import { decodeBatch } from "../src/ft/log/codec.ts";
import { HostRuntime } from "../src/host/runtime.ts";
import { guestIdentity } from "../src/engine/manifest.ts";
import type { HostStatus } from "../src/host/status.ts";
import { cli } from "./lib/args.ts";

const { options: args } = cli({
  usage: "npm run ft-check -- [options]",
  about: "The whole FT system in one Node process: lockstep, failover, FT VMotion, a second failover.",
  options: {
    reads: { type: "enum", values: ["log", "backup"], default: "log", help: "disk reads in the log, or the backup reads the shared disk itself (paper 4.2)" },
    disk: { type: "enum", values: ["shared", "non-shared"], default: "shared", help: "one shared disk, or each host's own copy synchronised by FT VMotion (paper 4.1)" },
    start: { type: "enum", values: ["boot", "image"], default: "boot", help: "boot the kernel, or restore the boot image as the page's pairs do" },
    verbose: { type: "flag", help: "echo the guest's console" },
  },
});

const guest = loadGuest();
const image = args.start === "image" ? loadBootImage(guest) : null;
if (args.start === "image" && !image) throw new Error("the guest images have no boot image (npm run images:boot)");
const storage = await SharedStorage.open("ft-check");
await storage.lock.reset();
const epoch = (await storage.lock.testAndSet(0, "A")).record.epoch;
// From the boot image, the disk starts as the boot left it (the image's kernel has it mounted).
const sharedDisk = storage.disk("disk", guest.manifest.disk.size_bytes, image?.disk);
// --reads backup: the backup reads the shared disk itself instead of getting read data in the log.
const backupReads = args.reads === "backup";
const nonShared = args.disk === "non-shared";
for (const name of await listOwnDisks("ft-check")) await deleteOwnDisk(name);
const ownDisks = new Map<string, OwnDisk>();
const session = makeSession(Date.now(), { diskReads: backupReads ? "backup" : "log" });
const bootImage = image ? { snapshot: bootImageFor(image.snapshot, session), console: image.console, sha256: image.sha256 } : null;
// Both VMs share this one thread, so either can stall the other's heartbeats for the length of
// its own slow frames too: give the detector more than the worker default.
const ft = makeConfig(
  {
    failureTimeoutMs: 1.5 * WORKER_DEFAULTS.failureTimeoutMs,
    readMode: backupReads ? "backup-reads" : "log",
    diskMode: nonShared ? "non-shared" : "shared",
  },
  WORKER_DEFAULTS,
);

const client = new ConsoleClient(250);
let screen = "";
const statuses = new Map<string, HostStatus>();
const verbose = args.verbose;

function onToClient(m: ToClientMsg) {
  const fresh = client.onMessage(m);
  if (fresh) {
    const text = new TextDecoder().decode(fresh);
    screen += text;
    if (verbose) process.stdout.write(text);
  }
}

async function host(id: string, init: ConstructorParameters<typeof HostRuntime>[0]["init"]) {
  let disk = sharedDisk;
  if (nonShared) {
    const own = await OwnDisk.open(ownDiskDbName("ft-check", "disk", id), "disk", guest.manifest.disk.size_bytes, image?.disk);
    ownDisks.set(id, own);
    disk = own.store;
  }
  return new HostRuntime({
    hostId: id, init, ft, wasm: guest.wasm, images: guest.images, session, storage, disk, realNow, guest: guestIdentity(guest.manifest),
    diskName: nonShared ? ownDiskDbName("ft-check", "disk", id) : "disk",
    // Only the pair started together restores the image; the standby C has the file, for the recording.
    bootImage: init.role === "standby" ? null : bootImage,
    bootImageFile: image,
    events: {
      toClient: onToClient,
      status: (s) => statuses.set(id, s),
      event: (e) => console.log(`[${(realNow() / 1000).toFixed(2)}s] ${id} ${e.kind}: ${describeHostEvent(e)}`),
    },
  });
}

const a = await host("A", { role: "primary", epoch, backup: "B" });
const b = await host("B", { role: "backup", epoch, primary: "A" });
const ch = new MessageChannel();
a.attachChannel("B", new MessagePortTransport(ch.port1));
b.attachChannel("A", new MessagePortTransport(ch.port2));
const hosts = [a, b];
const tick = setInterval(() => {
  for (const m of client.tick(realNow())) for (const h of hosts) h.client(m);
}, 100);

function type(text: string) {
  const m = client.type(new TextEncoder().encode(text));
  for (const h of hosts) h.client(m);
}

async function waitFor(pred: () => boolean, what: string, ms = 180_000) {
  const end = realNow() + ms;
  while (!pred()) {
    if (realNow() > end) throw new Error(`timed out waiting for ${what}; screen tail: ${JSON.stringify(screen.slice(-300))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const t0 = realNow();
await Promise.all([a.start(), b.start()]);
// ash asks the terminal for the cursor position (ESC[6n) after its prompt: match the prompt, not the end.
await waitFor(() => /LOCKSTEP READY[\s\S]*lockstep# /.test(screen), "the shell prompt");
console.log(`${image ? "boot image restored, shell prompt" : "boot to prompt"} under FT: ${Math.round(realNow() - t0)} ms`);

const acked: string[] = [];
for (let i = 0; i < 5; i++) {
  const before = screen.length;
  type(`kv set k${i} v${i}\n`);
  await waitFor(() => /\nOK\r?\n/.test(screen.slice(before)), `OK for k${i}`);
  acked.push(`k${i}`);
}
console.log(`acknowledged keys: ${acked.join(" ")}`);

const before = [statuses.get("A"), statuses.get("B")].map((s) => `${s?.role}/${s?.state}`).join(" ");
if (before !== "primary/recording backup/replaying") throw new Error(`not in lockstep before the kill: ${before}`);
console.log(`in lockstep: ${before}, backup lag ${statuses.get("B")?.lagMs.toFixed(1)} ms`);

// Fail-stop of the primary: it just stops, with no goodbye on the channel.
const killedAt = realNow();
a.stop();
hosts.splice(0, 1);
await waitFor(() => statuses.get("B")?.role === "primary", "the backup to go live", 20_000);
console.log(`failover: backup live ${Math.round(realNow() - killedAt)} ms after the kill`);
if (backupReads) {
  if (b.backupReadCount === 0) throw new Error("backup-reads mode, but the backup never read the shared disk itself");
  console.log(`backup-reads mode: the backup read ${b.backupReadCount} disk requests itself, each matched the primary's hash`);
}

for (const k of acked) {
  const before = screen.length;
  type(`kv get ${k}\n`);
  await waitFor(() => screen.slice(before).includes(`\nv${k.slice(1)}`), `value of ${k}`);
}
console.log(`after failover every acknowledged key is present; console conflicts=${client.conflicts}`);

// FT VMotion: clone the lone primary B into a standby C, then fail over again.
if (nonShared) {
  // Paper 4.1: after a failure the copies may differ (A wrote without waiting for B): A's is garbage.
  ownDisks.get("A")!.close();
  await deleteOwnDisk(ownDiskDbName("ft-check", "disk", "A"));
  console.log(`non-shared disk: B continues on its own copy (${await ownDisks.get("B")!.store.blockCount()} blocks); A's copy deleted`);
}
const c = await host("C", { role: "standby" });
const ch2 = new MessageChannel();
b.attachChannel("C", new MessagePortTransport(ch2.port1));
c.attachChannel("B", new MessagePortTransport(ch2.port2));
hosts.push(c);
await c.start();
const cloneAt = realNow();
b.startClone("C");
await waitFor(() => statuses.get("C")?.state === "replaying" && statuses.get("B")?.state === "recording", "the clone to become a backup", 60_000);
console.log(`FT VMotion: C is the new backup after ${Math.round(realNow() - cloneAt)} ms`);
if (nonShared) {
  // The copies were proven equal at the clone point (hash compare in C); now C must also keep
  // its copy in step by replaying B's writes: make the guest write, then compare both copies
  // once both have applied everything (a few tries: B's copy runs ahead of C's replay).
  const before = screen.length;
  type("kv set disk-sync yes\n");
  await waitFor(() => /\nOK\r?\n/.test(screen.slice(before)), "OK for disk-sync");
  let same = false;
  for (let i = 0; i < 50 && !same; i++) {
    const [hb, hc] = await Promise.all([ownDisks.get("B")!, ownDisks.get("C")!].map(async (d) => diskImageHash(await d.store.exportBlocks())));
    same = hb === hc;
    if (!same) await new Promise((r) => setTimeout(r, 100));
  }
  if (!same) throw new Error("non-shared disk: the backup's copy never caught up with the primary's");
  console.log(`non-shared disk: B's and C's copies are identical (${await ownDisks.get("C")!.store.blockCount()} blocks each)`);
}
{
  const before = screen.length;
  type("kv set after-clone yes\n");
  await waitFor(() => /\nOK\r?\n/.test(screen.slice(before)), "OK after the clone");
}
let survivor = c;
if (nonShared) {
  // Split brain with nothing fenced (paper 4.1): cut the logging channel, both hosts keep running
  // and both try to go live. The lock record alone must pick one; the other must halt.
  b.cutChannel();
  c.cutChannel();
  const state = (id: string) => `${statuses.get(id)?.role}/${statuses.get(id)?.state}`;
  await waitFor(
    () => [state("B"), state("C")].sort().join(" ") === "backup/halted primary/alone" || [state("B"), state("C")].sort().join(" ") === "primary/alone primary/halted",
    "exactly one of B and C to go live after the cut, the other to halt",
    20_000,
  );
  survivor = state("B") === "primary/alone" ? b : c;
  const loser = survivor === b ? c : b;
  console.log(`split brain after a cut channel: ${survivor === b ? "B" : "C"} won the test-and-set, the other halted (${state("B")}, ${state("C")})`);
  loser.stop();
  hosts.splice(hosts.indexOf(loser), 1);
} else {
  b.stop();
  hosts.splice(hosts.indexOf(b), 1);
  await waitFor(() => statuses.get("C")?.role === "primary", "the clone to go live", 20_000);
}
for (const [k, v] of [...acked.map((k) => [k, `v${k.slice(1)}`]), ["after-clone", "yes"]]) {
  const before = screen.length;
  type(`kv get ${k}\n`);
  await waitFor(() => screen.slice(before).includes(`\n${v}`), `value of ${k} after the second failover`);
}
console.log(`second failover: every acknowledged key present; console conflicts=${client.conflicts}`);
{
  // The survivor's session recording covers the run from its start (boot, or the boot image): it
  // continues the recording of the host it was cloned from (which replayed A's log from there),
  // across the clone and both failovers. From the image, the clone carried B's recording without
  // the image's snapshot, and C filled it in from its own copy.
  const rec = decodeRecording(survivor.recording());
  const typed = rec.batches.flatMap((x) => decodeBatch(x)).flatMap((f) => f.entries).map((e) => (e.k === "serial" ? new TextDecoder().decode(e.bytes) : "")).join("");
  const what = `${rec.meta.hostId}'s recording: ${rec.meta.origin} frame ${rec.meta.start.frame} to ${rec.meta.end.frame}, ${rec.checkpoints.length} checkpoints`;
  const start = image ? { origin: "image", frame: guest.manifest.boot_image!.frame } : { origin: "boot", frame: 0 };
  if (rec.meta.origin !== start.origin || rec.meta.start.frame !== start.frame || !typed.includes("kv set k0 v0") || !typed.includes("kv set after-clone yes")) {
    throw new Error(`${what}: does not cover the run from its start (${start.origin} at frame ${start.frame})`);
  }
  if (image && !Buffer.from(rec.snapshot!).equals(Buffer.from(bootImage!.snapshot))) throw new Error(`${what}: its start is not the boot image`);
  console.log(`${what}: covers the run from its start, across the clone and both failovers`);
}
clearInterval(tick);
survivor.stop();
if (nonShared && (await listOwnDisks("ft-check")).length !== 2) throw new Error("expected exactly the copies of B and C");
if (client.conflicts !== 0) {
  console.error("console stream had conflicting resends");
  process.exit(1);
}
console.log("ft-check: ok");
process.exit(0);
