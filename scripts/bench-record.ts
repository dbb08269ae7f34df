// npm run bench:record [-- --pairs N] [--workload FILE] [--idle-seconds S] [--loop N]
//
// Runs the same workload (default: the replay-check workload) on plain v86 (its own scheduler,
// real clock, async JIT) and on the recorder, alternating, N >= 3 pairs, both VMs booted once in
// this process. Each run starts with a CPU-bound shell loop: guest instructions per second are
// measured over it (over the whole workload they would mostly measure idle time: sleeps, the
// prompt, disk waits). Prints
//   record-overhead-ratio: R   (median over pairs of recorder / plain MIPS on the CPU-bound part)
//   log-bps-idle: X            (log bytes per second of guest time, idle shell)
//   log-bps-busy: Y            (log bytes per second of guest time over the whole workload run)
// Both count encoded log batches only (encodeBatch, 256 frames a batch: frames, entries, batch
// header and CRC), not what the logging channel adds around them (message framing, heartbeats,
// acks: bench:ft's log-mbps lines count those). The idle line is followed by what filled it.

import { readFileSync } from "node:fs";
import { encodeBatch } from "../src/ft/log/codec.ts";
import { MemoryBlockDevice } from "../src/engine/block-device.ts";
import { realDateNow, realNow } from "../src/engine/clock.ts";
import { ConsoleLog, parseWorkload, recordFor, recordUntil, runWorkload, type WorkloadLine } from "../src/engine/drive.ts";
import { LockstepEngine } from "../src/engine/engine.ts";
import { loadV86 } from "../src/engine/machine.ts";
import { initialDisk, loadGuest } from "../src/engine/node/host.ts";
import { makeSession } from "../src/engine/session.ts";
import { cli } from "./lib/args.ts";
import { DEFAULT_WORKLOAD } from "./lib/paths.ts";
import { median } from "./lib/stats.ts";

const { options: args } = cli({
  usage: "npm run bench:record -- [options]",
  about: "Recorder overhead vs plain v86 (alternating pairs, same workload) and log bytes per second of guest time.",
  options: {
    pairs: { type: "int", min: 3, default: 5, help: "plain/recorder pairs to run" },
    workload: { type: "string", metavar: "FILE", help: "the workload (default tests/workloads/default.txt)" },
    "idle-seconds": { type: "float", above: 0, default: 10, help: "real seconds of idle shell for log-bps-idle" },
    loop: { type: "int", min: 1, default: 40000, help: "iterations of the CPU-bound shell loop MIPS are measured over" },
  },
});
const pairs = args.pairs;
const workloadFile = args.workload ?? DEFAULT_WORKLOAD;
const loopN = args.loop;
const cpuLine: WorkloadLine = { delayMs: 0, text: `i=0; while [ $i -lt ${loopN} ]; do i=$((i+1)); done; echo loop $i` };
const idleSeconds = args["idle-seconds"];
const lines = parseWorkload(readFileSync(workloadFile, "utf8"));
const guest = loadGuest();
const prompt = guest.manifest.prompt;

// ---------------------------------------------------------------- recorder
const session = makeSession(realDateNow());
const rec = await LockstepEngine.create({
  mode: "record",
  wasm: guest.wasm,
  images: guest.images,
  session,
  disk: new MemoryBlockDevice(initialDisk(guest)),
});
const recCon = new ConsoleLog();
let logBytes = 0;
let pending = 0;
const flush = () => {
  const f = rec.takeFrames();
  pending = 0;
  if (f.length) logBytes += encodeBatch(f).length;
};
const onFrame = () => {
  if (++pending >= 256) flush();
};
/** While set, every frame recorded is counted here as well (what fills an idle second). */
let tally: { frames: number; empty: number; kinds: Map<string, number> } | null = null;
rec.observe({
  frames(frames) {
    if (!tally) return;
    for (const f of frames) {
      tally.frames++;
      if (f.length === 0) tally.empty++;
      for (const e of f.entries) tally.kinds.set(e.k, (tally.kinds.get(e.k) ?? 0) + 1);
    }
  },
});
let t = realNow();
await recordUntil(rec, () => (recCon.pull(rec), recCon.text.includes(prompt)), { onFrame, timeoutMs: 300_000 });
flush();
console.log(`recorder booted in ${((realNow() - t) / 1000).toFixed(1)} s`);

// ---------------------------------------------------------------- plain v86
const V86 = await loadV86();
const plain = await new Promise<any>((resolve) => {
  const e = new V86({
    wasm_fn: async (env: WebAssembly.Imports) => (await WebAssembly.instantiate(guest.wasm, env)).exports,
    bios: { buffer: guest.images.bios },
    vga_bios: { buffer: guest.images.vgaBios },
    bzimage: { buffer: guest.images.bzImage },
    initrd: { buffer: guest.images.initrd },
    cmdline: guest.images.cmdline,
    memory_size: guest.images.memoryMb * 1024 * 1024,
    vga_memory_size: 2 * 1024 * 1024,
    hda: { buffer: initialDisk(guest).buffer },
    autostart: false,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
  });
  e.add_listener("emulator-loaded", () => resolve(e));
});
let plainText = "";
plain.add_listener("serial0-output-byte", (b: number) => {
  plainText += String.fromCharCode(b);
});
// 64-bit instruction count for plain v86: accumulate the u32 counter's deltas often enough.
let plainIcount = 0;
let plainLast = 0;
const samplePlain = () => {
  const c = plain.v86.cpu.instruction_counter[0] >>> 0;
  plainIcount += (c - plainLast) >>> 0;
  plainLast = c;
};
const sampler = setInterval(samplePlain, 50);
const waitPlain = (pred: () => boolean, timeoutMs: number) =>
  new Promise<void>((resolve, reject) => {
    const end = realNow() + timeoutMs;
    const tick = () => {
      if (pred()) resolve();
      else if (realNow() > end) reject(new Error("plain v86: timeout"));
      else setTimeout(tick, 5);
    };
    tick();
  });
t = realNow();
plain.run();
await waitPlain(() => plainText.includes(prompt), 300_000);
plain.stop();
console.log(`plain v86 booted in ${((realNow() - t) / 1000).toFixed(1)} s`);

/** CPU seconds used by this process (all threads) since `from`. */
const cpuSeconds = (from: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
};
let lastCpuIps = 0;

async function plainLines(ls: WorkloadLine[]): Promise<number> {
  samplePlain();
  const i0 = plainIcount;
  const t0 = realNow();
  const c0 = process.cpuUsage();
  for (const l of ls) {
    if (l.delayMs) await new Promise((r) => setTimeout(r, l.delayMs));
    const from = plainText.length;
    plain.serial0_send(l.text + "\n");
    await waitPlain(() => plainText.indexOf(prompt, from) >= 0, 120_000);
  }
  samplePlain();
  lastCpuIps = (plainIcount - i0) / cpuSeconds(c0);
  return (plainIcount - i0) / ((realNow() - t0) / 1000);
}

async function runPlain(ls: WorkloadLine[]): Promise<{ ips: number; cpuIps: number; wholeIps: number }> {
  plain.run();
  const ips = await plainLines([cpuLine]);
  const cpuIps = lastCpuIps;
  const wholeIps = await plainLines(ls);
  plain.stop();
  return { ips, cpuIps, wholeIps };
}

async function recorderLines(ls: WorkloadLine[]): Promise<number> {
  const i0 = rec.icount;
  const t0 = realNow();
  const c0 = process.cpuUsage();
  await runWorkload(rec, recCon, ls, prompt, { onFrame });
  lastCpuIps = (rec.icount - i0) / cpuSeconds(c0);
  return (rec.icount - i0) / ((realNow() - t0) / 1000);
}

async function runRecorder(ls: WorkloadLine[]): Promise<{ ips: number; cpuIps: number; wholeIps: number; bps: number }> {
  const ips = await recorderLines([cpuLine]);
  const cpuIps = lastCpuIps;
  flush();
  const b0 = logBytes;
  const g0 = rec.nowMs();
  const wholeIps = await recorderLines(ls);
  flush();
  const bps = (logBytes - b0) / ((rec.nowMs() - g0) / 1000);
  return { ips, cpuIps, wholeIps, bps };
}

// Warm-up: one CPU-bound run on each side first, so the pairs do not measure JIT warm-up.
plain.run();
await plainLines([cpuLine]);
plain.stop();
await recorderLines([cpuLine]);
flush();

const ratios: number[] = [];
const cpuRatios: number[] = [];
const busyBps: number[] = [];
for (let p = 0; p < pairs; p++) {
  // Alternate which side goes first, so slow drifts of the machine's load cancel out.
  let pl: { ips: number; cpuIps: number; wholeIps: number };
  let r: { ips: number; cpuIps: number; wholeIps: number; bps: number };
  if (p % 2 === 0) {
    pl = await runPlain(lines);
    r = await runRecorder(lines);
  } else {
    r = await runRecorder(lines);
    pl = await runPlain(lines);
  }
  ratios.push(r.ips / pl.ips);
  cpuRatios.push(r.cpuIps / pl.cpuIps);
  busyBps.push(r.bps);
  console.log(
    `pair ${p + 1}: CPU-bound: plain ${(pl.ips / 1e6).toFixed(0)} MIPS, recorder ${(r.ips / 1e6).toFixed(0)} MIPS, ratio ${(r.ips / pl.ips).toFixed(3)} (per CPU second: ${(r.cpuIps / pl.cpuIps).toFixed(3)}); ` +
      `whole workload: plain ${(pl.wholeIps / 1e6).toFixed(0)} / recorder ${(r.wholeIps / 1e6).toFixed(0)} MIPS; log ${(r.bps / 1000).toFixed(1)} kB/s of guest time`,
  );
}
clearInterval(sampler);

// Idle shell.
flush();
const b0 = logBytes;
const g0 = rec.nowMs();
tally = { frames: 0, empty: 0, kinds: new Map() };
await recordFor(rec, idleSeconds * 1000, { onFrame });
flush();
const idleGuestS = (rec.nowMs() - g0) / 1000;
const idleBps = (logBytes - b0) / idleGuestS;
const perS = (n: number) => (n / idleGuestS).toFixed(1);
console.log(
  `idle: ${idleSeconds} s real, ${idleGuestS.toFixed(1)} s guest, ${logBytes - b0} log bytes: per guest second ${perS(tally.frames)} frames ` +
    `(${perS(tally.empty)} of 0 instructions), entries ${[...tally.kinds].map(([k, n]) => `${k} ${perS(n)}`).join(", ") || "none"}`,
);
tally = null;

console.log(
  `recorder totals: ${rec.stats.frames} frames, ${rec.stats.checkpoints} checkpoints, ${rec.stats.clockEntries} clock entries, ` +
    `${rec.stats.jitInstalls} JIT installs, ${rec.stats.rdrand} RDRAND, ${rec.stats.ioCompleted} disk I/Os ` +
    `(${rec.stats.diskCacheHits} reads, ${(rec.stats.diskCacheHitBytes / 1024).toFixed(0)} KiB, served from the disk cache)`,
);
console.log(`(per CPU second of this process, less sensitive to other load on the machine: ${median(cpuRatios).toFixed(3)})`);
console.log(`record-overhead-ratio: ${median(ratios).toFixed(3)}`);
console.log("(log-bps lines: encoded log batches only, per second of guest time; no channel framing, heartbeats or acks)");
console.log(`log-bps-idle: ${Math.round(idleBps)}`);
console.log(`log-bps-busy: ${Math.round(median(busyBps))}`);
rec.destroy();
plain.destroy?.();
process.exit(0);
