// npm run ft-check: the whole FT system in one Node process, no browser. A primary and a
// backup HostRuntime (real v86 engines, real protocol) linked by a MessageChannel logging
// channel, with fake-indexeddb as the shared disk. Runs kv load, kills the primary, and
// checks that the backup goes live with every acknowledged key and an exactly-once console.
import "fake-indexeddb/auto";
import { MessagePortTransport } from "../src/channel/logging-channel.ts";
import { ConsoleClient, makeConfig, WORKER_DEFAULTS, type ToClientMsg } from "../src/ft/protocol/index.ts";
import { SharedStorage } from "../src/storage/index.ts";
import { realNow } from "../src/workers/engine/clock.ts";
import { loadGuest } from "../src/workers/engine/node/host.ts";
import { makeSession } from "../src/workers/engine/session.ts";
import { HostRuntime } from "../src/workers/host/runtime.ts";
import type { HostStatus } from "../src/workers/host/status.ts";

const guest = loadGuest();
const storage = await SharedStorage.open("ft-check");
await storage.lock.reset();
const epoch = (await storage.lock.testAndSet("A", 0)).record.epoch;
const disk = storage.disk("disk", guest.manifest.disk.size_bytes);
// --reads backup: the backup reads the shared disk itself instead of getting read data in the log.
const backupReads = process.argv.includes("--reads") && process.argv[process.argv.indexOf("--reads") + 1] === "backup";
const session = makeSession(Date.now(), { diskReads: backupReads ? "backup" : "log" });
// Both VMs share this one thread, so either can stall the other's heartbeats for the length of
// its own slow frames too: give the detector more than the worker default.
const ft = makeConfig(
  { failureTimeoutMs: 1.5 * WORKER_DEFAULTS.failureTimeoutMs, readMode: backupReads ? "backup-reads" : "log" },
  WORKER_DEFAULTS,
);

const client = new ConsoleClient(250);
let screen = "";
const statuses = new Map<string, HostStatus>();
const verbose = process.argv.includes("--verbose");

function onToClient(m: ToClientMsg) {
  const fresh = client.onMessage(m);
  if (fresh) {
    const text = new TextDecoder().decode(fresh);
    screen += text;
    if (verbose) process.stdout.write(text);
  }
}

function host(id: string, init: ConstructorParameters<typeof HostRuntime>[0]["init"]) {
  return new HostRuntime({
    hostId: id, init, ft, wasm: guest.wasm, images: guest.images, session, storage, disk, realNow,
    events: {
      toClient: onToClient,
      status: (s) => statuses.set(id, s),
      event: (kind, text) => console.log(`[${(realNow() / 1000).toFixed(2)}s] ${id} ${kind}: ${text}`),
    },
  });
}

const a = host("A", { role: "primary", epoch, backup: "B" });
const b = host("B", { role: "backup", epoch, primary: "A" });
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
console.log(`boot to prompt under FT: ${Math.round(realNow() - t0)} ms`);

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

// FT VMotion: clone the lone primary B into a spare C, then fail over again.
const c = host("C", { role: "spare" });
const ch2 = new MessageChannel();
b.attachChannel("C", new MessagePortTransport(ch2.port1));
c.attachChannel("B", new MessagePortTransport(ch2.port2));
hosts.push(c);
await c.start();
const cloneAt = realNow();
b.startClone("C");
await waitFor(() => statuses.get("C")?.state === "replaying" && statuses.get("B")?.state === "recording", "the clone to become a backup", 60_000);
console.log(`FT VMotion: C is the new backup after ${Math.round(realNow() - cloneAt)} ms`);
{
  const before = screen.length;
  type("kv set after-clone yes\n");
  await waitFor(() => /\nOK\r?\n/.test(screen.slice(before)), "OK after the clone");
}
b.stop();
hosts.splice(hosts.indexOf(b), 1);
await waitFor(() => statuses.get("C")?.role === "primary", "the clone to go live", 20_000);
for (const [k, v] of [...acked.map((k) => [k, `v${k.slice(1)}`]), ["after-clone", "yes"]]) {
  const before = screen.length;
  type(`kv get ${k}\n`);
  await waitFor(() => screen.slice(before).includes(`\n${v}`), `value of ${k} after the second failover`);
}
console.log(`second failover: every acknowledged key present; console conflicts=${client.conflicts}`);
clearInterval(tick);
c.stop();
if (client.conflicts !== 0) {
  console.error("console stream had conflicting resends");
  process.exit(1);
}
console.log("ft-check: ok");
process.exit(0);
