// npm run bench:remus [-- --epoch-ms 100] [--idle-seconds 10] [--workload FILE] [--runs 3]
//
// Lockstep vs shipping state (paper §1 and §6; Remus, Cully et al. 2008), measured side by side in
// one run: the recorder runs the guest while the Remus meter (src/host/remus-meter.ts)
// starts a checkpoint epoch every --epoch-ms of real time (a whole RAM compare at a frame boundary;
// the browser host spreads it over boundaries instead) and counts what Remus would ship: every
// 4 KiB RAM page that changed since the previous epoch + the CPU state (device state not counted:
// a lower bound). The log is what Lockstep sends for the same execution (encoded frame batches,
// without channel framing). Both are counted over the same frames, idle shell then the busy
// workload (default: the replay-check workload), --runs times each. Prints per run, then
//   remus-vs-log-bandwidth-ratio-idle: R   (median over runs of Remus bytes / log bytes)
//   remus-vs-log-bandwidth-ratio-busy: R
//   remus-scan-ms-per-epoch: M             (the meter's own cost: compare RAM against its copy)

import { readFileSync } from "node:fs";
import { encodeBatch } from "../src/ft/log/codec.ts";
import { MemoryBlockDevice } from "../src/engine/block-device.ts";
import { realDateNow, realNow } from "../src/engine/clock.ts";
import { ConsoleLog, parseWorkload, recordFor, recordUntil, runWorkload } from "../src/engine/drive.ts";
import { LockstepEngine } from "../src/engine/engine.ts";
import { initialDisk, loadGuest } from "../src/engine/node/host.ts";
import { makeSession } from "../src/engine/session.ts";
import { RemusMeter } from "../src/host/remus-meter.ts";
import { cli } from "./lib/args.ts";
import { DEFAULT_WORKLOAD } from "./lib/paths.ts";
import { median } from "./lib/stats.ts";

const { options: args } = cli({
  usage: "npm run bench:remus -- [options]",
  about: "Lockstep vs shipping state: bytes a Remus checkpoint would ship / log bytes, over the same frames, idle and busy.",
  options: {
    "epoch-ms": { type: "float", above: 0, default: 100, help: "real milliseconds between Remus checkpoint epochs" },
    "idle-seconds": { type: "float", above: 0, default: 10, help: "real seconds of idle shell per run" },
    workload: { type: "string", metavar: "FILE", help: "the busy workload (default tests/workloads/default.txt)" },
    runs: { type: "int", min: 1, default: 3, help: "idle + busy runs the medians are taken over" },
  },
});
const epochMs = args["epoch-ms"];
const idleSeconds = args["idle-seconds"];
const runs = args.runs;
const lines = parseWorkload(readFileSync(args.workload ?? DEFAULT_WORKLOAD, "utf8"));
const guest = loadGuest();
const prompt = guest.manifest.prompt;
const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`;

const rec = await LockstepEngine.create({
  mode: "record",
  wasm: guest.wasm,
  images: guest.images,
  session: makeSession(realDateNow()),
  disk: new MemoryBlockDevice(initialDisk(guest)),
});
const con = new ConsoleLog();
let logBytes = 0;
let pending = 0;
let meter: RemusMeter | null = null;
const flush = () => {
  const f = rec.takeFrames();
  pending = 0;
  if (f.length) logBytes += encodeBatch(f).length;
};
const onFrame = () => {
  // Same cadence as the host runtime: batches go out often; epochs close at frame boundaries.
  if (++pending >= 64) flush();
  // Whole sweeps (no budget): nothing here must be kept alive, so epochs stay near --epoch-ms.
  meter?.step(rec.guestRam());
};
const t0 = realNow();
await recordUntil(rec, () => (con.pull(rec), con.text.includes(prompt)), { onFrame, timeoutMs: 300_000 });
flush();
console.log(`recorder booted in ${((realNow() - t0) / 1000).toFixed(1)} s; guest RAM ${rec.guestRam().length / 1048576} MiB, epoch ${epochMs} ms`);

async function measure(what: string, body: () => Promise<void>): Promise<{ ratio: number; scanPerEpoch: number }> {
  flush();
  meter = new RemusMeter(epochMs, rec.cpuStateBytes, realNow, logBytes);
  meter.step(rec.guestRam()); // the baseline (Remus's initial copy, like FT's clone: not counted)
  const g0 = rec.nowMs();
  await body();
  flush();
  const r = meter.report(logBytes);
  meter = null;
  const secs = r.elapsedMs / 1000;
  const ratio = r.totalBytes / Math.max(1, r.logBytes);
  const scanPerEpoch = r.scanMs / Math.max(1, r.epochs);
  console.log(
    `${what}: ${secs.toFixed(1)} s real, ${((rec.nowMs() - g0) / 1000).toFixed(1)} s guest; ` +
      `log ${kB(r.logBytes)} (${kB(r.logBytes / secs)}/s); Remus ${kB(r.totalBytes)} (${kB(r.totalBytes / secs)}/s, ` +
      `${(r.totalBytes / 4096 / Math.max(1, r.epochs)).toFixed(1)} dirty pages/epoch over ${r.epochs} epochs, ${(r.elapsedMs / Math.max(1, r.epochs)).toFixed(0)} ms each); ` +
      `ratio ${ratio.toFixed(1)}; meter cost ${scanPerEpoch.toFixed(1)} ms/epoch (${((100 * r.scanMs) / r.elapsedMs).toFixed(0)} % of the time)`,
  );
  return { ratio, scanPerEpoch };
}

const idle: number[] = [];
const busy: number[] = [];
const scans: number[] = [];
for (let i = 0; i < runs; i++) {
  const a = await measure(`run ${i + 1} idle shell`, () => recordFor(rec, idleSeconds * 1000, { onFrame }));
  const b = await measure(`run ${i + 1} busy workload`, () => runWorkload(rec, con, lines, prompt, { onFrame }));
  idle.push(a.ratio);
  busy.push(b.ratio);
  scans.push(a.scanPerEpoch, b.scanPerEpoch);
}
console.log(`remus-vs-log-bandwidth-ratio-idle: ${median(idle).toFixed(1)}`);
console.log(`remus-vs-log-bandwidth-ratio-busy: ${median(busy).toFixed(1)}`);
console.log(`remus-scan-ms-per-epoch: ${median(scans).toFixed(1)}`);
process.exit(0);
