// npx tsx scripts/net-held.ts: where bench:net's time goes, in the same Node rig (scripts/lib/
// net-rig.ts: primary A and the client on the main thread, backup B on a thread of its own as
// bench:net runs it; --one-thread: all on one thread). For a --mib GET and --pings small GETs with
// FT on, then with B killed (A alone): how long the Output Rule held each transmitted packet, and
// of what that hold is made (scripts/lib/hold-trace.ts: the packet's frame, the log flush, the
// way to the backup, its ack, the way back, the release), the rest of the TCP round trip (the
// client's ACK back to the host and its wait for the next frame), the guest's bytes in flight,
// and how long the threads spent running frames. Measurement only: nothing in src/ changes.
import { readdirSync, readFileSync } from "node:fs";
import { realNow } from "../src/engine/clock.ts";
import { LockstepEngine } from "../src/engine/engine.ts";
import { cli } from "./lib/args.ts";
import { breakdown, emptyTrace, installHoldTrace, resetTraces, tcpFlow, traceOf, type HostTrace } from "./lib/hold-trace.ts";
import { netRig } from "./lib/net-rig.ts";
import { percentile } from "./lib/stats.ts";

const { options: args } = cli({
  usage: "npx tsx scripts/net-held.ts [-- --mib N --pings N --one-thread]",
  about: "How long transmitted packets wait for the backup's ack in the Node rig, and why.",
  options: {
    mib: { type: "int", min: 1, max: 12, default: 2, help: "size of the file downloaded" },
    pings: { type: "int", min: 5, max: 500, default: 20, help: "small GETs, one at a time" },
    "one-thread": { type: "flag", help: "the backup on the primary's thread (the rig before backups had threads of their own)" },
    "probe-tcp": { type: "flag", help: "during each GET of the file, ask the guest's console every 250 ms for its TCP socket (/proc/net/tcp: send queue, cwnd, ssthresh) and tcp_wmem" },
  },
});

installHoldTrace();
/**
 * CPU time this process's threads got, and how long they waited runnable for a core, in ms (the
 * kernel's /proc/<pid>/task/<tid>/schedstat): the main thread (primary A and the client) and the
 * others together (B's worker thread, V8's and libuv's helpers).
 */
function sched(): { mainRun: number; mainWait: number; otherRun: number; otherWait: number } {
  const r = { mainRun: 0, mainWait: 0, otherRun: 0, otherWait: 0 };
  for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
    let f: string[];
    try {
      f = readFileSync(`/proc/${process.pid}/task/${tid}/schedstat`, "utf8").trim().split(" ");
    } catch {
      continue; // a thread that ended meanwhile
    }
    const main = Number(tid) === process.pid;
    r[main ? "mainRun" : "otherRun"] += Number(f[0]) / 1e6;
    r[main ? "mainWait" : "otherWait"] += Number(f[1]) / 1e6;
  }
  return r;
}
const busy = { record: 0, replay: 0, frames: 0, cut: 0, instructions: 0 };
const runFrame = LockstepEngine.prototype.runFrame;
LockstepEngine.prototype.runFrame = function (this: LockstepEngine) {
  const t = realNow();
  const mode = this.mode;
  const r = runFrame.call(this);
  busy[mode === "record" ? "record" : "replay"] += realNow() - t;
  if (mode === "record") {
    busy.frames++;
    busy.cut += r.cut ? 1 : 0;
    busy.instructions += r.length;
  }
  return r;
};

// The guest's console as the client sees it (only A's: it is live in every pass), for --probe-tcp.
let consoleText = "";
let consoleOffset = 0;
let inputSeq = 0;
const { statuses, network, pair, threadPair, hosts } = await netRig("net-held", () => {}, (id, m) => {
  if (id !== "A" || m.t !== "console" || m.offset + m.bytes.length <= consoleOffset) return;
  consoleText += new TextDecoder().decode(m.bytes.subarray(consoleOffset - m.offset));
  consoleOffset = m.offset + m.bytes.length;
});
const typeLine = (line: string) => hosts.find((h) => h.id === "A")!.rt.client({ t: "client-input", seq: inputSeq++, bytes: new TextEncoder().encode(line + "\n") });
/** The guest's port-80 sockets in /proc/net/tcp lines: tx_queue (bytes sent or queued, not acked), cwnd and ssthresh in segments. */
function tcpLines(text: string): { txQueue: number; cwnd: number; ssthresh: number }[] {
  const out = [];
  for (const l of text.split("\n")) {
    const f = l.trim().split(/\s+/);
    if (f.length < 17 || f[1] !== "0F02000A:0050" || f[3] !== "01") continue;
    out.push({ txQueue: parseInt(f[4]!.split(":")[0]!, 16), cwnd: Number(f[15]), ssthresh: Number(f[16]) });
  }
  return out;
}
const one = args["one-thread"];
const { b } = one ? (({ b }) => ({ b: { stop: () => ((b.dead = true), b.rt.stop()), trace: async () => traceOf("B") } }))(pair()) : threadPair(true);

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
const q = (xs: number[], d = 2) =>
  xs.length ? `p50 ${percentile(xs, 50).toFixed(d)} p90 ${percentile(xs, 90).toFixed(d)} max ${Math.max(...xs).toFixed(d)} (n ${xs.length})` : "none";
const kib = (xs: number[]) => q(xs.map((x) => x / 1024), 1);

await until(() => state("A") === "primary/recording" && state("B") === "backup/replaying");
const path = (await get(`/cgi-bin/mkfile?mib=${args.mib}`)).text!.trim().split(" ")[0]!;
await get("/");
console.log(`load: ${(await import("node:os")).loadavg().map((x) => x.toFixed(1)).join(" ")}; rig: ${one ? "one thread" : "backup on its own thread"}`);
for (const what of ["tx-on", "pings-on", "tx-off", "pings-off"]) {
  if (what === "tx-off") {
    b.stop();
    await until(() => state("A") === "primary/alone");
  }
  resetTraces();
  if (!one && what.endsWith("on")) await b.trace(); // empties B's trace
  busy.record = busy.replay = busy.frames = busy.cut = busy.instructions = 0;
  const t = realNow();
  const s0 = sched();
  const probe = args["probe-tcp"] && what.startsWith("tx") ? setInterval(() => typeLine("cat /proc/net/tcp"), 250) : null;
  const text0 = consoleText.length;
  if (probe) typeLine("cat /proc/sys/net/ipv4/tcp_wmem /proc/sys/net/ipv4/tcp_congestion_control");
  if (what.startsWith("tx")) await get(path);
  else for (let i = 0; i < args.pings; i++) await get("/");
  const ms = realNow() - t;
  const s1 = sched();
  const d = (k: keyof typeof s0) => (s1[k] - s0[k]).toFixed(0);
  const cpu = `CPU: main thread (A, client) ran ${d("mainRun")} ms and waited runnable for a core ${d("mainWait")} ms; other threads${one ? "" : " (B's among them)"} ran ${d("otherRun")} ms, waited ${d("otherWait")} ms`;
  if (probe) {
    clearInterval(probe);
    const text = consoleText.slice(text0);
    const socks = tcpLines(text);
    const wmem = /(\d+\s+\d+\s+\d+)\s*\r?\n\s*(\w+)/.exec(text);
    console.log(`  guest: tcp_wmem ${wmem?.[1]?.replace(/\s+/g, " ")}, congestion control ${wmem?.[2]}; its port-80 socket in ${socks.length} looks at /proc/net/tcp: send queue (KiB) ${kib(socks.map((x) => x.txQueue))}, cwnd (segments) ${q(socks.map((x) => x.cwnd), 0)}, ssthresh ${q(socks.map((x) => x.ssthresh), 0)}`);
  }
  const a: HostTrace = traceOf("A");
  const bt = what.endsWith("on") ? (one ? traceOf("B") : { ...emptyTrace(), ...(await b.trace()) }) : emptyTrace();
  const held = [...a.produced].map((p) => (a.released.get(p.frame) ?? NaN) - p.t).filter((x) => x >= 0);
  console.log(`${what}: ${ms.toFixed(0)} ms; packets held ${q(held)} ms`);
  console.log(`  ${cpu}`);
  console.log(`  thread in frames: recording ${busy.record.toFixed(0)} ms (${busy.frames} frames, ${(busy.record / Math.max(1, busy.frames)).toFixed(2)} ms and ${(busy.instructions / Math.max(1, busy.frames) / 1000).toFixed(0)}k instructions each, ${busy.cut} cut short), replaying ${busy.replay.toFixed(0)} ms${one ? "" : " (B's thread not counted)"}`);
  if (what.endsWith("on")) {
    const h = breakdown(a, bt);
    console.log(`  hold breakdown, ms per packet (${h.held.length} of ${a.produced.length} matched):`);
    console.log(`    frame start → fed after its frame: ${q(h.frame)}   (upper bound of the wait for the frame's end; not in "held")`);
    console.log(`    fed → log with its frame-end sent: ${q(h.flush)}`);
    console.log(`    log sent → backup's agent has it:  ${q(h.toBackup)}`);
    console.log(`    backup has it → ack sent:          ${q(h.backupAck)}`);
    console.log(`    ack sent → primary's agent has it: ${q(h.toPrimary)}`);
    console.log(`    ack in → packet released:          ${q(h.release)}`);
    console.log(`    held (fed → released):             ${q(h.held)}`);
  }
  const flow = tcpFlow(a);
  console.log(`  after the release: → client's ACK at the host ${q(flow.toAck)} ms; → the frame that feeds it to the guest ${q(flow.ackToFrame)} ms`);
  console.log(`  guest TCP bytes in flight at each data segment (KiB): ${kib(flow.inflight)}; client's window (KiB): ${kib(flow.window)}`);
}
process.exit(0);
