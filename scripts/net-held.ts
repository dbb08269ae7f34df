// npx tsx scripts/net-held.ts: where bench:net's time goes, in the same Node rig (scripts/lib/
// net-rig.ts: primary A, backup B and the client on ONE thread). For a --mib GET and --pings
// small GETs with FT on, then with B killed (A alone): how long the Output Rule held each
// transmitted packet (from the frame that produced it to the switch), the one-way delay of the
// logging channel each way (A→B: log, B→A: acks), and how long the thread spent running frames,
// recording (A) and replaying (B). Measurement only: engine methods and the channel's ports are
// wrapped here, nothing in src/ changes.
import { MessagePortTransport } from "../src/channel/logging-channel.ts";
import { realNow } from "../src/engine/clock.ts";
import { LockstepEngine } from "../src/engine/engine.ts";
import { cli } from "./lib/args.ts";
import { netRig } from "./lib/net-rig.ts";
import { percentile } from "./lib/stats.ts";

const { options: args } = cli({
  usage: "npx tsx scripts/net-held.ts [-- --mib N --pings N]",
  about: "How long transmitted packets wait for the backup's ack in the Node rig, and why.",
  options: {
    mib: { type: "int", min: 1, max: 12, default: 2, help: "size of the file downloaded" },
    pings: { type: "int", min: 5, max: 500, default: 20, help: "small GETs, one at a time" },
  },
});

// The time each transmitted packet was produced (the bytes object travels to the switch as is).
const produced = new WeakMap<Uint8Array, number>();
const takePackets = LockstepEngine.prototype.takePackets;
LockstepEngine.prototype.takePackets = function (this: LockstepEngine) {
  const r = takePackets.call(this);
  for (const p of r) produced.set(p.bytes, realNow());
  return r;
};
const busy = { record: 0, replay: 0 };
const runFrame = LockstepEngine.prototype.runFrame;
LockstepEngine.prototype.runFrame = function (this: LockstepEngine) {
  const t = realNow();
  try {
    return runFrame.call(this);
  } finally {
    busy[this.mode === "record" ? "record" : "replay"] += realNow() - t;
  }
};

const { statuses, network, host, epoch, hosts } = await netRig("net-held");
const held: number[] = [];
const fromHost = network.fromHost.bind(network);
network.fromHost = (id: string, f: Uint8Array) => {
  const t0 = produced.get(f);
  if (t0 !== undefined) held.push(realNow() - t0);
  fromHost(id, f);
};

/**
 * The logging channel as net-rig builds it (one MessageChannel, a transport on each port), with
 * each direction timed: `send` stamps a message, the other port's handler takes the stamp (a
 * port delivers in order).
 */
const oneWay = { log: [] as number[], ack: [] as number[] };
function timed(from: MessagePortTransport, toPort: MessagePort, delays: number[]): MessagePortTransport {
  const stamps: number[] = [];
  const send = from.send.bind(from);
  from.send = (bytes: Uint8Array) => {
    stamps.push(realNow());
    send(bytes);
  };
  const deliver = toPort.onmessage!;
  toPort.onmessage = function (this: MessagePort, e: MessageEvent) {
    const t = stamps.shift();
    if (t !== undefined) delays.push(realNow() - t);
    deliver.call(this, e);
  };
  return from;
}

const a = host("A", { role: "primary", epoch, backup: "B" });
const b = host("B", { role: "backup", epoch, primary: "A" });
const ch = new MessageChannel();
const atA = new MessagePortTransport(ch.port1);
const atB = new MessagePortTransport(ch.port2);
a.rt.attachChannel("B", timed(atA, ch.port2, oneWay.log));
b.rt.attachChannel("A", timed(atB, ch.port1, oneWay.ack));
void a.rt.start();
void b.rt.start();

const state = (id: string) => `${statuses.get(id)?.role}/${statuses.get(id)?.state}`;
const until = async (p: () => boolean) => {
  while (!p()) await new Promise((r) => setTimeout(r, 1));
};
async function get(path: string) {
  const id = network.download(path);
  await until(() => network.view().downloads[id - 1]!.state !== "running");
  const d = network.view().downloads[id - 1]!;
  if (d.state !== "done") throw new Error(`${path}: ${d.state} ${d.error}`);
  return d;
}
const q = (xs: number[]) => (xs.length ? `p50 ${percentile(xs, 50).toFixed(2)} p90 ${percentile(xs, 90).toFixed(2)} max ${Math.max(...xs).toFixed(1)} (n ${xs.length})` : "none");

await until(() => state("A") === "primary/recording" && state("B") === "backup/replaying");
const path = (await get(`/cgi-bin/mkfile?mib=${args.mib}`)).text!.trim().split(" ")[0]!;
await get("/");
console.log(`load: ${(await import("node:os")).loadavg().map((x) => x.toFixed(1)).join(" ")}`);
for (const what of ["tx-on", "pings-on", "tx-off", "pings-off"]) {
  if (what === "tx-off") {
    b.dead = true;
    b.rt.stop();
    await until(() => state("A") === "primary/alone");
  }
  held.length = oneWay.log.length = oneWay.ack.length = 0;
  busy.record = busy.replay = 0;
  const t = realNow();
  if (what.startsWith("tx")) await get(path);
  else for (let i = 0; i < args.pings; i++) await get("/");
  const ms = realNow() - t;
  console.log(`${what}: ${ms.toFixed(0)} ms; packets held ${q(held)} ms`);
  console.log(`  thread in frames: recording ${busy.record.toFixed(0)} ms, replaying ${busy.replay.toFixed(0)} ms; channel one-way log A→B ${q(oneWay.log)} ms, acks B→A ${q(oneWay.ack)} ms`);
}
void hosts;
process.exit(0);
