// npx tsx scripts/ft-net-check.ts: the network under FT in one Node process, no browser (as
// ft-check for the console). Primary A and backup B (real v86 engines, real protocol, a
// MessageChannel logging channel, fake-indexeddb as the shared disk) behind the page's network
// (src/cluster/client-network.ts: the switch and the client's own TCP/IP). One TCP connection
// downloads a file; A is killed in the middle (B goes live), B is cloned into C (FT VMotion)
// with the connection open, B is killed (C goes live); the download must complete on that one
// connection with the right sha256.
import { MessagePortTransport } from "../src/channel/logging-channel.ts";
import { realNow } from "../src/engine/clock.ts";
import { describeHostEvent } from "../src/host/events.ts";
import { cli } from "./lib/args.ts";
import { netRig, type NetHost } from "./lib/net-rig.ts";
import { expectedFile, sha256 } from "./lib/net-workload.ts";

const { options: args } = cli({
  usage: "npx tsx scripts/ft-net-check.ts [-- --mib N]",
  about: "One TCP download through a failover, FT VMotion and a second failover, in Node.",
  options: { mib: { type: "int", min: 1, max: 12, default: 2, help: "size of the file downloaded" } },
});

const t0 = realNow();
const log = (s: string) => console.log(`[${((realNow() - t0) / 1000).toFixed(1)}s] ${s}`);
const { statuses, network, hosts, host, pair } = await netRig("ft-net-check", (id, e) => (e.kind === "go-live" || e.kind === "halt" || e.kind === "fail-stop") && log(`${id} ${e.kind}: ${describeHostEvent(e)}`));

async function waitFor(pred: () => boolean, what: string, ms = 180_000) {
  const end = realNow() + ms;
  while (!pred()) {
    if (realNow() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const state = (id: string) => `${statuses.get(id)?.role}/${statuses.get(id)?.state}`;
const kill = (h: NetHost) => {
  h.dead = true;
  h.rt.stop();
};

const { a, b } = pair();
await waitFor(() => state("A") === "primary/recording" && state("B") === "backup/replaying", "lockstep");

const dl = (id: number) => network.view().downloads[id - 1];
// The guest's httpd starts before LOCKSTEP READY; until the VM is there the client's SYN is retransmitted.
const made = network.download(`/cgi-bin/mkfile?mib=${args.mib}`);
await waitFor(() => dl(made).state !== "running", "mkfile", 300_000);
const [path, , guestSha] = (dl(made).text ?? "").trim().split(" ");
const want = sha256(expectedFile(args.mib));
log(`mkfile: ${dl(made).text?.trim()} (${guestSha === want ? "sha256 as expected" : "WRONG sha256"})`);

const id = network.download(path);
const total = args.mib * 1048576;
await waitFor(() => dl(id).received >= total / 4, "a quarter of the file");
log(`killing primary A at ${dl(id).received} bytes`);
kill(a);
await waitFor(() => state("B") === "primary/alone", "B to go live", 30_000);
await waitFor(() => dl(id).received >= total / 2 || dl(id).state !== "running", "half of the file");
const c = host("C", { role: "standby" });
const ch2 = new MessageChannel();
b.rt.attachChannel("C", new MessagePortTransport(ch2.port1));
c.rt.attachChannel("B", new MessagePortTransport(ch2.port2));
void c.rt.start();
log(`FT VMotion B -> C at ${dl(id).received} bytes`);
b.rt.startClone("C");
await waitFor(() => state("C") === "backup/replaying" && state("B") === "primary/recording", "C to become the backup", 120_000);
if (dl(id).state === "running") {
  log(`killing primary B at ${dl(id).received} bytes`);
  kill(b);
  await waitFor(() => state("C") === "primary/alone", "C to go live", 30_000);
} else log("the download finished before the second kill (a larger --mib keeps it open)");
await waitFor(() => dl(id).state !== "running", "the download", 300_000);
const d = dl(id);
const v = network.view();
log(`download ${d.state}: ${d.received} bytes, sha256 ${d.sha256 === want ? "ok" : "WRONG"}, connections ${d.connections}; tcp ${JSON.stringify(d.tcp)}`);
log(`switch: ${JSON.stringify(v.switch)}; the VM's MAC learned on ${v.learned.filter((l) => l.port !== "client").map((l) => l.port).join(" -> ")}`);
network.stop();
for (const h of hosts) if (!h.dead) h.rt.stop();
const ok = d.state === "done" && d.sha256 === want && guestSha === want;
console.log(`ft-net-check: ${ok ? "ok" : "FAIL"}`);
process.exit(ok ? 0 : 1);
